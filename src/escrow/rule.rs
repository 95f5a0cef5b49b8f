//! The escrow rule: when a deviation report forfeits a bond.
//!
//! A pure function of what the log records and the ruling time, so anyone
//! replaying the log reaches the same outcome (`docs/escrow.md`). A report
//! forfeits when, at `now`:
//!
//! 1. the vendor's rebuttal window (`window_days` after the report) has passed;
//! 2. its verdict is not "insufficient" (missing evidence never forfeits);
//! 3. it shows at least one forfeit-worthy class (P1..P13);
//! 4. at least `quorum` distinct registered member keys signed it;
//! 5. no rebuttal was accepted by `quorum` distinct registered member keys.
//!
//! Otherwise it is dismissed, with the first reason that applies, or — while
//! the window is open — not ruled on yet.

use std::collections::BTreeSet;

use time::{Duration, OffsetDateTime};

use crate::attest::keys::KeyId;
use crate::device::diff::Class;
use crate::escrow::report::ReportVerdict;

/// Recorded in every ruling, so a later rule change never re-decides old rulings silently.
pub const RULE_VERSION: &str = "blueprint-escrow-rule/1";

/// The registry's parameters the rule depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Distinct member keys needed to sign a report, and to accept a rebuttal.
    pub quorum: usize,
    /// Days the vendor has to rebut a report.
    pub window_days: u32,
}

/// What the log records about one report, as the rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct ReportFacts<'a> {
    /// When the report was filed.
    pub filed: OffsetDateTime,
    /// Its classes (derived from its deviations).
    pub classes: &'a [Class],
    /// Its verdict.
    pub verdict: ReportVerdict,
    /// Keys whose signatures over the report verified (filing + co-signatures).
    pub signers: &'a [KeyId],
    /// For each rebuttal, the keys whose acceptances verified.
    pub rebuttal_acceptances: &'a [Vec<KeyId>],
}

/// Why a report was dismissed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DismissReason {
    /// The evidence could not support a conclusion.
    InsufficientEvidence,
    /// No forfeit-worthy class (minor deviations or none).
    MinorOnly,
    /// Fewer than the quorum of distinct member keys signed.
    BelowQuorum {
        /// Distinct member keys that signed.
        signers: usize,
        /// The quorum.
        quorum: usize,
    },
    /// A quorum of members accepted the vendor's rebuttal.
    Rebutted,
}

impl DismissReason {
    /// The short code recorded in ruling entries.
    pub fn code(self) -> &'static str {
        match self {
            DismissReason::InsufficientEvidence => "insufficient-evidence",
            DismissReason::MinorOnly => "minor-only",
            DismissReason::BelowQuorum { .. } => "below-quorum",
            DismissReason::Rebutted => "rebutted",
        }
    }
}

impl std::fmt::Display for DismissReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DismissReason::InsufficientEvidence => {
                f.write_str("insufficient evidence never forfeits")
            }
            DismissReason::MinorOnly => f.write_str("no forfeit-worthy (P) class"),
            DismissReason::BelowQuorum { signers, quorum } => write!(
                f,
                "signed by {signers} distinct member key(s), quorum is {quorum}"
            ),
            DismissReason::Rebutted => f.write_str("a quorum of members accepted the rebuttal"),
        }
    }
}

/// The rule's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The bond is forfeited for these classes, on these members' signatures.
    Forfeit {
        /// The forfeit-worthy classes shown.
        classes: Vec<Class>,
        /// The distinct member keys that signed.
        signers: Vec<KeyId>,
    },
    /// The report does not forfeit.
    Dismissed {
        /// Why.
        reason: DismissReason,
    },
    /// The rebuttal window is open; no ruling before `until`.
    NotYet {
        /// When the window closes.
        until: OffsetDateTime,
    },
}

impl Outcome {
    /// `forfeit` or `dismissed` as recorded in ruling entries; `None` while not yet decidable.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Outcome::Forfeit { .. } => Some("forfeit"),
            Outcome::Dismissed { .. } => Some("dismissed"),
            Outcome::NotYet { .. } => None,
        }
    }

    /// The reason recorded in ruling entries.
    pub fn reason(&self) -> String {
        match self {
            Outcome::Forfeit { classes, signers } => format!(
                "forfeit-worthy {} signed by {} distinct member key(s), not rebutted",
                classes
                    .iter()
                    .map(|c| c.code())
                    .collect::<Vec<_>>()
                    .join(", "),
                signers.len()
            ),
            Outcome::Dismissed { reason } => reason.code().to_owned(),
            Outcome::NotYet { .. } => "rebuttal window open".to_owned(),
        }
    }
}

/// When the rebuttal window of a report filed at `filed` closes.
pub fn window_end(filed: OffsetDateTime, window_days: u32) -> OffsetDateTime {
    filed.saturating_add(Duration::days(i64::from(window_days)))
}

/// Applies the rule. `members` is the set of registered member keys at the
/// ruling; signers and acceptances outside it, or repeated, do not count.
pub fn decide(
    params: Params,
    facts: &ReportFacts<'_>,
    members: &BTreeSet<KeyId>,
    now: OffsetDateTime,
) -> Outcome {
    let until = window_end(facts.filed, params.window_days);
    if now < until {
        return Outcome::NotYet { until };
    }
    let dismissed = |reason| Outcome::Dismissed { reason };
    if facts.verdict == ReportVerdict::Insufficient {
        return dismissed(DismissReason::InsufficientEvidence);
    }
    let classes: Vec<Class> = facts
        .classes
        .iter()
        .copied()
        .filter(|c| c.forfeit_worthy())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if classes.is_empty() || facts.verdict != ReportVerdict::Deviations {
        return dismissed(DismissReason::MinorOnly);
    }
    let signers = distinct_members(facts.signers, members);
    // A quorum of zero would let anything forfeit: at least one signer always.
    let quorum = params.quorum.max(1);
    if signers.len() < quorum {
        return dismissed(DismissReason::BelowQuorum {
            signers: signers.len(),
            quorum,
        });
    }
    if facts
        .rebuttal_acceptances
        .iter()
        .any(|a| distinct_members(a, members).len() >= quorum)
    {
        return dismissed(DismissReason::Rebutted);
    }
    Outcome::Forfeit { classes, signers }
}

/// Distinct keys of `keys` that are registered members, in first-seen order.
fn distinct_members(keys: &[KeyId], members: &BTreeSet<KeyId>) -> Vec<KeyId> {
    let mut seen = BTreeSet::new();
    keys.iter()
        .filter(|k| members.contains(k) && seen.insert(**k))
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const PARAMS: Params = Params {
        quorum: 2,
        window_days: 14,
    };
    const FILED: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);
    const LATER: OffsetDateTime = datetime!(2026-12-15 10:00 UTC);

    fn k(n: u8) -> KeyId {
        KeyId([n; 32])
    }

    fn members() -> BTreeSet<KeyId> {
        [k(1), k(2), k(3)].into_iter().collect()
    }

    fn facts<'a>(
        classes: &'a [Class],
        signers: &'a [KeyId],
        acceptances: &'a [Vec<KeyId>],
    ) -> ReportFacts<'a> {
        ReportFacts {
            filed: FILED,
            classes,
            verdict: ReportVerdict::Deviations,
            signers,
            rebuttal_acceptances: acceptances,
        }
    }

    #[test]
    fn forfeits_with_quorum_after_the_window() {
        let signers = [k(1), k(2)];
        let f = facts(&[Class::M2, Class::P3], &signers, &[]);
        assert_eq!(
            decide(PARAMS, &f, &members(), LATER),
            Outcome::Forfeit {
                classes: vec![Class::P3],
                signers: vec![k(1), k(2)],
            }
        );
    }

    #[test]
    fn window_open_until_exactly_window_days() {
        let signers = [k(1), k(2)];
        let f = facts(&[Class::P3], &signers, &[]);
        let just_before = LATER - Duration::seconds(1);
        assert_eq!(
            decide(PARAMS, &f, &members(), just_before),
            Outcome::NotYet { until: LATER }
        );
        assert_eq!(
            decide(PARAMS, &f, &members(), LATER).code(),
            Some("forfeit")
        );
    }

    #[test]
    fn duplicate_and_unregistered_signers_do_not_make_a_quorum() {
        let signers = [k(1), k(1), k(9)];
        let f = facts(&[Class::P5], &signers, &[]);
        assert_eq!(
            decide(PARAMS, &f, &members(), LATER),
            Outcome::Dismissed {
                reason: DismissReason::BelowQuorum {
                    signers: 1,
                    quorum: 2
                }
            }
        );
        // A quorum of zero is treated as one.
        let zero = Params {
            quorum: 0,
            ..PARAMS
        };
        let none = facts(&[Class::P5], &[], &[]);
        assert_eq!(
            decide(zero, &none, &members(), LATER).code(),
            Some("dismissed")
        );
    }

    #[test]
    fn minor_only_and_insufficient_never_forfeit() {
        let signers = [k(1), k(2), k(3)];
        let minor = facts(&[Class::M2, Class::M6], &signers, &[]);
        assert_eq!(
            decide(PARAMS, &minor, &members(), LATER),
            Outcome::Dismissed {
                reason: DismissReason::MinorOnly
            }
        );
        let mut insufficient = facts(&[Class::P3], &signers, &[]);
        insufficient.verdict = ReportVerdict::Insufficient;
        assert_eq!(
            decide(PARAMS, &insufficient, &members(), LATER),
            Outcome::Dismissed {
                reason: DismissReason::InsufficientEvidence
            }
        );
        let mut none = facts(&[Class::P3], &signers, &[]);
        none.verdict = ReportVerdict::None;
        assert_eq!(
            decide(PARAMS, &none, &members(), LATER).code(),
            Some("dismissed")
        );
    }

    #[test]
    fn a_rebuttal_accepted_by_a_quorum_stops_forfeiture() {
        let signers = [k(1), k(2)];
        let short = [vec![k(3), k(3)]];
        let f = facts(&[Class::P3], &signers, &short);
        assert_eq!(
            decide(PARAMS, &f, &members(), LATER).code(),
            Some("forfeit")
        );
        let enough = [vec![k(3)], vec![k(2), k(3)]];
        let f = facts(&[Class::P3], &signers, &enough);
        assert_eq!(
            decide(PARAMS, &f, &members(), LATER),
            Outcome::Dismissed {
                reason: DismissReason::Rebutted
            }
        );
    }
}
