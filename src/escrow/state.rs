//! The escrow part of the registry's state transition: what a report, a
//! rebuttal and a ruling must satisfy against the state the log's earlier
//! entries built.
//!
//! The registry has one apply function (`escrow::ledger::apply`), run
//! inside the append transaction before an entry is written and again by
//! `registry replay` over every entry from index 0; for these events it
//! calls the checks here, which are pure — no clock (times come from the
//! entries), no files — so the live registry and every replay agree
//! (`docs/escrow.md`).

use std::collections::BTreeSet;

use crate::attest::canon::Digest;
use crate::attest::keys::{KeyId, PublicKey};
use crate::device::diff::Class;
use crate::escrow::event::{
    self, EventTime, Outcome as EventOutcome, RebuttalEvent, ReportEvent, RulingEvent, Verdict,
};
use crate::escrow::ledger::{BondState, Config, DepositRecord, ReportRecord};
use crate::escrow::report::{self, ReportError, ReportVerdict};
use crate::escrow::rule::{self, Outcome, Params, ReportFacts};

/// Why a report, rebuttal or ruling is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EscrowRefusal {
    /// The report statement is invalid or not signed by a member.
    #[error("report refused: {0}")]
    Report(#[source] ReportError),
    /// The rebuttal statement is invalid or not signed by the pinned vendor key.
    #[error("rebuttal refused: {0}")]
    Rebuttal(#[source] ReportError),
    /// A field of the event disagrees with the signed statement it carries.
    #[error("event field `{field}` is {event}, but the signed statement says {signed}")]
    Mismatch {
        /// The event field.
        field: &'static str,
        /// What the event says.
        event: String,
        /// What the signed statement says.
        signed: String,
    },
    /// The bond of the reported deposit is no longer held.
    #[error("the bond of {blueprint_id} version {version} is {state}, not held")]
    BondNotHeld {
        /// The blueprint id.
        blueprint_id: String,
        /// The version.
        version: u64,
        /// Its state.
        state: &'static str,
    },
    /// The rebuttal window has closed.
    #[error("the rebuttal window closed at {until}")]
    WindowClosed {
        /// When it closed.
        until: EventTime,
    },
    /// The rebuttal window is still open: no ruling yet.
    #[error("the rebuttal window is open until {until}; no ruling before then")]
    WindowOpen {
        /// When it closes.
        until: EventTime,
    },
    /// A ruling that is not what the rule computes.
    #[error("the ruling says {event}, but the rule ({version}) computes {computed}")]
    Ruling {
        /// What the event says.
        event: String,
        /// What the rule computes.
        computed: String,
        /// The rule version.
        version: &'static str,
    },
    /// The log's state holds a value the rule cannot read.
    #[error("recorded {what} {value:?} is not valid")]
    Record {
        /// What was read.
        what: &'static str,
        /// The value.
        value: String,
    },
}

fn mismatch(field: &'static str, event: impl ToString, signed: impl ToString) -> EscrowRefusal {
    EscrowRefusal::Mismatch {
        field,
        event: event.to_string(),
        signed: signed.to_string(),
    }
}

/// The registry's verdict type and the report's are the same three words.
pub fn verdict_of(v: ReportVerdict) -> Verdict {
    match v {
        ReportVerdict::Deviations => Verdict::Deviations,
        ReportVerdict::Insufficient => Verdict::Insufficient,
        ReportVerdict::None => Verdict::None,
    }
}

fn report_verdict(v: Verdict) -> ReportVerdict {
    match v {
        Verdict::Deviations => ReportVerdict::Deviations,
        Verdict::Insufficient => ReportVerdict::Insufficient,
        Verdict::None => ReportVerdict::None,
    }
}

/// A `report` event: the envelope must verify under at least one of
/// `members` (the registered keys its signatures name) and carry a valid
/// report statement about `deposit`, whose bond must be held; every event
/// field must be what was signed (classes and verdict as derived from the
/// signed deviations). Returns the distinct member keys that signed.
pub fn check_report(
    r: &ReportEvent,
    members: &[PublicKey],
    deposit: &DepositRecord,
) -> Result<Vec<KeyId>, EscrowRefusal> {
    let verified = report::verify_report(&r.envelope, members).map_err(EscrowRefusal::Report)?;
    let signed = &verified.report;
    if verified.id != r.report_id {
        return Err(mismatch("report_id", r.report_id, verified.id));
    }
    if signed.blueprint.id != r.blueprint_id {
        return Err(mismatch(
            "blueprint_id",
            &r.blueprint_id,
            &signed.blueprint.id,
        ));
    }
    if signed.blueprint.version != r.version {
        return Err(mismatch("version", r.version, signed.blueprint.version));
    }
    if signed.blueprint.digest != r.blueprint_digest {
        return Err(mismatch(
            "blueprint_digest",
            r.blueprint_digest,
            signed.blueprint.digest,
        ));
    }
    let evidence: Vec<Digest> = signed.evidence.iter().map(|e| e.digest).collect();
    if evidence != r.evidence_digests {
        return Err(mismatch(
            "evidence_digests",
            format!("{:?}", r.evidence_digests),
            format!("{evidence:?}"),
        ));
    }
    let classes: Vec<&str> = signed.classes.iter().map(|c| c.code()).collect();
    if classes != r.classes {
        return Err(mismatch("classes", r.classes.join(","), classes.join(",")));
    }
    if verdict_of(signed.verdict) != r.verdict {
        return Err(mismatch(
            "verdict",
            format!("{:?}", r.verdict),
            signed.verdict.as_str(),
        ));
    }
    if deposit.bond_state != BondState::Held {
        return Err(EscrowRefusal::BondNotHeld {
            blueprint_id: deposit.blueprint_id.clone(),
            version: deposit.version,
            state: deposit.bond_state.as_str(),
        });
    }
    Ok(verified.signers)
}

/// When the rebuttal window of a report closes.
pub fn window_end(report: &ReportRecord, window_days: u32) -> EventTime {
    let end = report
        .time
        .unix()
        .saturating_add(i64::from(window_days) * 86_400);
    EventTime::from_unix(end).unwrap_or(report.time)
}

/// A `rebuttal` event at `time`: within the window, signed by the pinned
/// vendor key, a rebuttal statement naming this report and its deposit
/// (id, version and digest).
pub fn check_rebuttal(
    r: &RebuttalEvent,
    time: EventTime,
    report: &ReportRecord,
    deposit: &DepositRecord,
    vendor: &PublicKey,
    window_days: u32,
) -> Result<(), EscrowRefusal> {
    let until = window_end(report, window_days);
    if time >= until {
        return Err(EscrowRefusal::WindowClosed { until });
    }
    let rebuttal = report::verify_rebuttal(&r.envelope, vendor).map_err(EscrowRefusal::Rebuttal)?;
    if rebuttal.report_id != r.report_id {
        return Err(mismatch("report_id", r.report_id, rebuttal.report_id));
    }
    if rebuttal.blueprint.id != report.blueprint_id
        || rebuttal.blueprint.version != report.version
        || rebuttal.blueprint.digest != deposit.digest
    {
        return Err(mismatch(
            "blueprint",
            format!("{} version {}", report.blueprint_id, report.version),
            format!(
                "{} version {}",
                rebuttal.blueprint.id, rebuttal.blueprint.version
            ),
        ));
    }
    Ok(())
}

fn keyids(what: &'static str, ids: &[String]) -> Result<Vec<KeyId>, EscrowRefusal> {
    ids.iter()
        .map(|s| {
            event::parse_keyid(s).ok_or_else(|| EscrowRefusal::Record {
                what,
                value: s.clone(),
            })
        })
        .collect()
}

/// What the rule decides for `report` at `now`, from the state the log built.
pub fn outcome(
    config: &Config,
    report: &ReportRecord,
    now: EventTime,
) -> Result<Outcome, EscrowRefusal> {
    let classes = report
        .classes
        .iter()
        .map(|c| {
            Class::parse(c).ok_or_else(|| EscrowRefusal::Record {
                what: "class",
                value: c.clone(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let signers = keyids("signer", &report.signers)?;
    let accepted = keyids("rebuttal acceptance", &report.rebuttal_accepted_by)?;
    // Both lists hold only keys verified as registered members when their
    // entries were applied (members are never removed).
    let members: BTreeSet<KeyId> = signers.iter().chain(&accepted).copied().collect();
    let acceptances = if report.rebuttal.is_some() {
        vec![accepted]
    } else {
        Vec::new()
    };
    let filed = time::OffsetDateTime::from_unix_timestamp(report.time.unix()).map_err(|_| {
        EscrowRefusal::Record {
            what: "report time",
            value: report.time.to_string(),
        }
    })?;
    let at = time::OffsetDateTime::from_unix_timestamp(now.unix()).unwrap_or(filed);
    let facts = ReportFacts {
        filed,
        classes: &classes,
        verdict: report_verdict(report.verdict),
        signers: &signers,
        rebuttal_acceptances: &acceptances,
    };
    let params = Params {
        quorum: config.quorum as usize,
        window_days: config.window_days,
    };
    Ok(rule::decide(params, &facts, &members, at))
}

/// The ruling event the rule produces for `report` at `now`, or why there
/// is none yet.
pub fn ruling_event(
    config: &Config,
    report_id: Digest,
    report: &ReportRecord,
    now: EventTime,
) -> Result<(RulingEvent, Outcome), EscrowRefusal> {
    let decided = outcome(config, report, now)?;
    let kind = match &decided {
        Outcome::NotYet { .. } => {
            return Err(EscrowRefusal::WindowOpen {
                until: window_end(report, config.window_days),
            });
        }
        Outcome::Forfeit { .. } => EventOutcome::Forfeit,
        Outcome::Dismissed { .. } => EventOutcome::Dismissed,
    };
    let text = |s: &str, what| {
        event::Text::parse(s).ok_or_else(|| EscrowRefusal::Record {
            what,
            value: s.to_owned(),
        })
    };
    Ok((
        RulingEvent {
            report_id,
            outcome: kind,
            reason: text(&decided.reason(), "ruling reason")?,
            decided_by: text(rule::RULE_VERSION, "rule version")?,
        },
        decided,
    ))
}

/// A `ruling` event at `time` must be exactly what the rule computes.
pub fn check_ruling(
    r: &RulingEvent,
    time: EventTime,
    config: &Config,
    report: &ReportRecord,
) -> Result<(), EscrowRefusal> {
    let (expected, _) = ruling_event(config, r.report_id, report, time)?;
    if *r != expected {
        return Err(EscrowRefusal::Ruling {
            event: format!("{:?} ({}) by {}", r.outcome, r.reason, r.decided_by),
            computed: format!("{:?} ({})", expected.outcome, expected.reason),
            version: rule::RULE_VERSION,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
