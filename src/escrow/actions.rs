//! The registry's state changes as requests: each takes what its signer
//! signed (a vendor's deposit envelope, a member's report envelope or
//! co-signature, the vendor's rebuttal) and appends the event it
//! authorises. The CLI (signing locally, writing to a directory) and the
//! HTTP server (receiving signed requests) call these same functions, so a
//! request is checked the same way whichever door it came in by;
//! [`crate::escrow::ledger::apply`] still verifies every signature inside
//! the append transaction.

use serde::{Deserialize, Serialize};

use crate::attest::canon::{self, Digest};
use crate::attest::dsse::Envelope;
use crate::attest::keys::KeyId;
use crate::attest::statement;
use crate::diag::Diagnostic;
use crate::escrow::event::{
    CosignEvent, Event, EventKind, EventTime, Outcome as EventOutcome, RebuttalAcceptEvent,
    RebuttalEvent, ReleaseEvent, ReportEvent, SignatureBytes,
};
use crate::escrow::ledger::{DepositRecord, ReportRecord, State};
use crate::escrow::registry::{Appended, Registry, RegistryError};
use crate::escrow::report::{self, BlueprintRef, ReportError};
use crate::escrow::rule::{self, Outcome};
use crate::escrow::state::{self as escrow_state, EscrowRefusal};
use crate::manifest::document::Limits;
use crate::profile::{ProfileLibrary, Selection};
use crate::source::SourceMap;
use crate::validate::{ValidateOptions, validate_for_signing};
use crate::validated::ValidatedManifest;

/// Why a request was not recorded. [`ActionError::is_refusal`] tells a
/// refusal on the merits (exit 1, HTTP 4xx) from an operational failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ActionError {
    /// The registry refused or failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// No report with this id.
    #[error("no report {0} in this registry")]
    NoReport(Digest),
    /// No deposit with this manifest digest.
    #[error("no deposit with digest {0} in this registry")]
    NoDepositDigest(Digest),
    /// No deposit of this blueprint id.
    #[error("no deposit of {0}")]
    NoDeposit(String),
    /// The report has no rebuttal to accept.
    #[error("report {0} has no rebuttal")]
    NoRebuttal(Digest),
    /// The report was ruled on already.
    #[error("report {id} was ruled on at entry {index} ({outcome:?})")]
    AlreadyRuled {
        /// The report.
        id: Digest,
        /// The ruling's entry.
        index: u64,
        /// Its outcome.
        outcome: EventOutcome,
    },
    /// The rebuttal window is still open.
    #[error("not yet: the rebuttal window of {id} is open until {until}")]
    WindowOpen {
        /// The report.
        id: Digest,
        /// When the window closes.
        until: EventTime,
    },
    /// A signed statement does not parse or check.
    #[error(transparent)]
    Statement(#[from] ReportError),
    /// The escrow checks could not compute a ruling.
    #[error(transparent)]
    Escrow(EscrowRefusal),
    /// The registry's derived state lacks something every registry has.
    #[error("the registry state is incomplete: {0}")]
    Incomplete(&'static str),
}

impl ActionError {
    /// True when the request was refused on its merits.
    pub fn is_refusal(&self) -> bool {
        match self {
            ActionError::Registry(e) => e.is_refusal(),
            ActionError::Escrow(_) | ActionError::Incomplete(_) => false,
            _ => true,
        }
    }
}

/// Why a deposit envelope's manifest cannot be deposited today.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RevalidateError {
    /// The payload is not a blueprint deposit statement.
    #[error("not a blueprint deposit: {0}")]
    NotDeposit(String),
    /// The manifest has error-level findings as of the deposit date.
    #[error("refusing the deposit: the manifest has {errors} error-level finding(s) as of {as_of}")]
    Findings {
        /// How many.
        errors: usize,
        /// The deposit date.
        as_of: time::Date,
        /// The findings (labels refer to the caller's source map).
        diagnostics: Vec<Diagnostic>,
    },
}

/// Re-validates the manifest a deposit envelope carries as of `now`'s
/// date, against `library` (whose sources are in `map`). `name` labels the
/// manifest in diagnostics.
pub fn revalidate(
    map: &mut SourceMap,
    library: &ProfileLibrary,
    name: &str,
    envelope: &Envelope,
    now: EventTime,
) -> Result<ValidatedManifest, RevalidateError> {
    let payload = envelope
        .payload_bytes()
        .map_err(|e| RevalidateError::NotDeposit(e.to_string()))?;
    let deposit = statement::parse_deposit(&payload)
        .map_err(|e| RevalidateError::NotDeposit(e.to_string()))?;
    let bytes = canon::canonicalize(&deposit.manifest)
        .map_err(|e| RevalidateError::NotDeposit(e.to_string()))?;
    let options = ValidateOptions {
        schema_only: false,
        as_of: now.date(),
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    let (report, validated) = validate_for_signing(map, library, name, &bytes, &options);
    validated.ok_or(RevalidateError::Findings {
        errors: report.counts.error,
        as_of: now.date(),
        diagnostics: report.diagnostics,
    })
}

/// What filing a report recorded (the CLI's `--format json` output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filed {
    /// The report id (`sha256:…`).
    pub report_id: String,
    /// Its entry.
    pub index: u64,
    /// The blueprint reported on.
    pub blueprint_id: String,
    /// Its version.
    pub version: u64,
    /// Deviation classes.
    pub classes: Vec<String>,
    /// The verdict.
    pub verdict: String,
    /// End of the vendor's rebuttal window (RFC 3339).
    pub window_until: String,
}

/// What a co-signature recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cosigned {
    /// Its entry.
    pub index: u64,
    /// The report.
    pub report_id: String,
    /// Distinct member keys that have signed the report now.
    pub signers: usize,
    /// Keys a report needs.
    pub quorum: u32,
}

/// What a rebuttal recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rebutted {
    /// Its entry.
    pub index: u64,
    /// The report.
    pub report_id: String,
}

/// What a rebuttal acceptance recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// Its entry.
    pub index: u64,
    /// The report.
    pub report_id: String,
    /// Distinct member keys that have accepted the rebuttal now.
    pub accepted_by: usize,
    /// Keys a report needs.
    pub quorum: u32,
}

/// What a ruling recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ruled {
    /// Its entry.
    pub index: u64,
    /// The report.
    pub report_id: String,
    /// `forfeit` or `dismissed`.
    pub outcome: String,
    /// The rule's reason.
    pub reason: String,
    /// The rule version that decided.
    pub decided_by: String,
    /// One line for people: what happened to the bond.
    pub detail: String,
}

/// What a release recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Released {
    /// Its entry.
    pub index: u64,
    /// The blueprint id.
    pub blueprint_id: String,
    /// The released version.
    pub version: u64,
}

/// A report with the digest of the deposit it concerns: what a member
/// needs to co-sign it and the vendor to rebut it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportView {
    /// The report id.
    pub report_id: String,
    /// The manifest digest of the reported deposit.
    pub blueprint_digest: String,
    /// The report's record.
    pub report: ReportRecord,
}

fn report_of(state: &State, id: &Digest) -> Result<ReportRecord, ActionError> {
    state
        .reports
        .get(id)
        .cloned()
        .ok_or(ActionError::NoReport(*id))
}

fn quorum_of(state: &State) -> Result<u32, ActionError> {
    Ok(state
        .config
        .as_ref()
        .ok_or(ActionError::Incomplete("no init entry"))?
        .quorum)
}

fn append(r: &mut Registry, now: EventTime, kind: EventKind) -> Result<Appended, ActionError> {
    Ok(r.append(Event { time: now, kind })?)
}

/// The deposit whose manifest digest is `digest`.
pub fn deposit_by_digest(state: &State, digest: &Digest) -> Result<DepositRecord, ActionError> {
    state
        .deposits
        .values()
        .find(|d| d.digest == *digest)
        .cloned()
        .ok_or(ActionError::NoDepositDigest(*digest))
}

/// The reference a report or rebuttal names for a deposit.
pub fn blueprint_ref(d: &DepositRecord) -> BlueprintRef {
    BlueprintRef {
        id: d.blueprint_id.clone(),
        version: d.version,
        digest: d.digest,
    }
}

/// A report with its deposit's digest.
pub fn report_view(r: &mut Registry, id: &Digest) -> Result<ReportView, ActionError> {
    let state = r.stored_state()?;
    let report = report_of(&state, id)?;
    let deposit = state
        .deposits
        .get(&(report.blueprint_id.clone(), report.version))
        .ok_or(ActionError::Incomplete("the reported deposit is missing"))?;
    Ok(ReportView {
        report_id: id.to_string(),
        blueprint_digest: deposit.digest.to_string(),
        report,
    })
}

/// Files a signed deviation report: the envelope's statement names the
/// deposit; its member signatures are checked when the entry is applied.
pub fn file_report(
    r: &mut Registry,
    envelope: Envelope,
    now: EventTime,
) -> Result<Filed, ActionError> {
    let payload = envelope
        .payload_bytes()
        .map_err(|e| ActionError::Statement(ReportError::from(e)))?;
    let report = report::parse_report(&payload)?;
    let id = report::report_id(&payload);
    let state = r.stored_state()?;
    let window_days = state
        .config
        .as_ref()
        .ok_or(ActionError::Incomplete("no init entry"))?
        .window_days;
    let deposit = deposit_by_digest(&state, &report.blueprint.digest)?;
    let classes: Vec<String> = report.classes.iter().map(|c| c.code().to_owned()).collect();
    let appended = append(
        r,
        now,
        EventKind::Report(Box::new(ReportEvent {
            report_id: id,
            blueprint_id: deposit.blueprint_id.clone(),
            version: deposit.version,
            blueprint_digest: deposit.digest,
            evidence_digests: report.evidence.iter().map(|e| e.digest).collect(),
            classes: classes.clone(),
            verdict: escrow_state::verdict_of(report.verdict),
            envelope,
        })),
    )?;
    let filed = report_of(&r.stored_state()?, &id)?;
    Ok(Filed {
        report_id: id.to_string(),
        index: appended.index,
        blueprint_id: deposit.blueprint_id,
        version: deposit.version,
        classes,
        verdict: report.verdict.as_str().to_owned(),
        window_until: escrow_state::window_end(&filed, window_days).to_string(),
    })
}

/// Records a member's co-signature (Ed25519 over the report envelope's
/// PAE, by the registered key `keyid`).
pub fn cosign(
    r: &mut Registry,
    report_id: Digest,
    keyid: KeyId,
    signature: SignatureBytes,
    now: EventTime,
) -> Result<Cosigned, ActionError> {
    let state = r.stored_state()?;
    let quorum = quorum_of(&state)?;
    report_of(&state, &report_id)?;
    let appended = append(
        r,
        now,
        EventKind::Cosign(CosignEvent {
            report_id,
            keyid,
            signature,
        }),
    )?;
    let signers = report_of(&r.stored_state()?, &report_id)?.signers.len();
    Ok(Cosigned {
        index: appended.index,
        report_id: report_id.to_string(),
        signers,
        quorum,
    })
}

/// Records the vendor's rebuttal envelope (signed by the pinned vendor key).
pub fn rebut(
    r: &mut Registry,
    report_id: Digest,
    envelope: Envelope,
    now: EventTime,
) -> Result<Rebutted, ActionError> {
    report_of(&r.stored_state()?, &report_id)?;
    let appended = append(
        r,
        now,
        EventKind::Rebuttal(RebuttalEvent {
            report_id,
            envelope,
        }),
    )?;
    Ok(Rebutted {
        index: appended.index,
        report_id: report_id.to_string(),
    })
}

/// Records a member's acceptance of the rebuttal (Ed25519 over the
/// rebuttal envelope's PAE).
pub fn accept_rebuttal(
    r: &mut Registry,
    report_id: Digest,
    keyid: KeyId,
    signature: SignatureBytes,
    now: EventTime,
) -> Result<Accepted, ActionError> {
    let state = r.stored_state()?;
    let quorum = quorum_of(&state)?;
    let rep = report_of(&state, &report_id)?;
    if rep.rebuttal_envelope.is_none() {
        return Err(ActionError::NoRebuttal(report_id));
    }
    let appended = append(
        r,
        now,
        EventKind::RebuttalAccept(RebuttalAcceptEvent {
            report_id,
            keyid,
            signature,
        }),
    )?;
    let accepted_by = report_of(&r.stored_state()?, &report_id)?
        .rebuttal_accepted_by
        .len();
    Ok(Accepted {
        index: appended.index,
        report_id: report_id.to_string(),
        accepted_by,
        quorum,
    })
}

/// Appends the ruling the escrow rule computes for the report at `now`.
pub fn rule_report(
    r: &mut Registry,
    report_id: Digest,
    now: EventTime,
) -> Result<Ruled, ActionError> {
    let state = r.stored_state()?;
    let config = state
        .config
        .as_ref()
        .ok_or(ActionError::Incomplete("no init entry"))?;
    let rep = report_of(&state, &report_id)?;
    if let Some((index, outcome)) = rep.ruling {
        return Err(ActionError::AlreadyRuled {
            id: report_id,
            index,
            outcome,
        });
    }
    let (event, outcome) = match escrow_state::ruling_event(config, report_id, &rep, now) {
        Ok(x) => x,
        Err(EscrowRefusal::WindowOpen { until }) => {
            return Err(ActionError::WindowOpen {
                id: report_id,
                until,
            });
        }
        Err(e) => return Err(ActionError::Escrow(e)),
    };
    let appended = append(r, now, EventKind::Ruling(event))?;
    let (word, detail) = match &outcome {
        Outcome::Forfeit { classes, signers } => (
            "forfeit",
            format!(
                "bond of {} version {} forfeited: {} signed by {} member key(s)",
                rep.blueprint_id,
                rep.version,
                classes
                    .iter()
                    .map(|c| c.code())
                    .collect::<Vec<_>>()
                    .join(", "),
                signers.len()
            ),
        ),
        Outcome::Dismissed { reason } => ("dismissed", format!("dismissed: {reason}")),
        Outcome::NotYet { .. } => ("not-yet", String::new()),
    };
    Ok(Ruled {
        index: appended.index,
        report_id: report_id.to_string(),
        outcome: word.to_owned(),
        reason: outcome.reason(),
        decided_by: rule::RULE_VERSION.to_owned(),
        detail,
    })
}

/// Releases the bond of `blueprint_id` at `version` (default: the latest
/// deposited version); the ledger checks that the support period is over
/// and no report is pending.
pub fn release(
    r: &mut Registry,
    blueprint_id: &str,
    version: Option<u64>,
    now: EventTime,
) -> Result<Released, ActionError> {
    let version = match version {
        Some(v) => v,
        None => r
            .history(blueprint_id)?
            .iter()
            .map(|d| d.version)
            .max()
            .ok_or_else(|| ActionError::NoDeposit(blueprint_id.to_owned()))?,
    };
    let appended = append(
        r,
        now,
        EventKind::Release(ReleaseEvent {
            blueprint_id: blueprint_id.to_owned(),
            version,
        }),
    )?;
    Ok(Released {
        index: appended.index,
        blueprint_id: blueprint_id.to_owned(),
        version,
    })
}
