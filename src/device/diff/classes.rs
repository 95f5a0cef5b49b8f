//! The deviation classes of docs/deviations.md (P1–P13, forfeit-worthy) and M1–M9
//! (M1–M9, minor), with the title, severity and rationale each finding carries.

use serde::{Serialize, Serializer};

/// One deviation class of docs/deviations.md
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Class {
    P1,
    P2,
    P3,
    P4,
    P5,
    P6,
    P7,
    P8,
    P9,
    P10,
    P11,
    P12,
    P13,
    M1,
    M2,
    M3,
    M4,
    M5,
    M6,
    M7,
    M8,
    M9,
}

/// How a class is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Handling {
    /// Recorded; no action beyond refreshing the blueprint.
    Info,
    /// Warning, then correction within the cure window.
    Warning,
    /// Privacy-jeopardizing: forfeit-worthy (docs/deviations.md).
    Forfeit,
}

impl Class {
    /// Every class in the order of docs/deviations.md.
    pub const ALL: [Class; 22] = [
        Class::P1,
        Class::P2,
        Class::P3,
        Class::P4,
        Class::P5,
        Class::P6,
        Class::P7,
        Class::P8,
        Class::P9,
        Class::P10,
        Class::P11,
        Class::P12,
        Class::P13,
        Class::M1,
        Class::M2,
        Class::M3,
        Class::M4,
        Class::M5,
        Class::M6,
        Class::M7,
        Class::M8,
        Class::M9,
    ];

    /// The class code, e.g. `P3`.
    pub fn code(self) -> &'static str {
        self.info().0
    }

    /// The class title.
    pub fn title(self) -> &'static str {
        self.info().1
    }

    /// Why a deviation of this class matters.
    pub fn rationale(self) -> &'static str {
        self.info().2
    }

    /// Parses a code such as `P3` or `M2`.
    pub fn parse(code: &str) -> Option<Class> {
        Class::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Every P class is forfeit-worthy; M classes never are unless escalated (docs/deviations.md).
    pub fn forfeit_worthy(self) -> bool {
        self < Class::M1
    }

    /// Handling (docs/deviations.md).
    pub fn handling(self) -> Handling {
        match self {
            c if c.forfeit_worthy() => Handling::Forfeit,
            Class::M2 | Class::M3 | Class::M6 | Class::M7 | Class::M9 => Handling::Warning,
            _ => Handling::Info,
        }
    }

    /// The class weight of the forfeiture score (docs/deviations.md).
    pub fn weight(self) -> u32 {
        match self {
            Class::P5 | Class::P8 | Class::P11 => 10,
            Class::P13 => 4,
            c if c.forfeit_worthy() => 6,
            _ => 1,
        }
    }

    fn info(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Class::P1 => (
                "P1",
                "Undeclared personal data collection or transmission",
                "Widens what personal data is collected (dimension 1); no consent, DPIA or PIPIA covers it.",
            ),
            Class::P2 => (
                "P2",
                "Undeclared sensor or sensing capability",
                "A latent collection capability under vendor control is a hidden capacity to widen what is collected; concealment aggravates it.",
            ),
            Class::P3 => (
                "P3",
                "Undeclared recipient or endpoint receiving personal data",
                "Widens who can access the data (dimension 2) and breaks separate-consent and contract duties.",
            ),
            Class::P4 => (
                "P4",
                "Jurisdiction shift",
                "Changes where the data is stored or sent (dimension 3) and, through it, which states can compel access.",
            ),
            Class::P5 => (
                "P5",
                "Undisclosed remote access or backdoor",
                "Widens who can access the device without limit and defeats every other control; full forfeiture is recommended.",
            ),
            Class::P6 => (
                "P6",
                "Confidentiality downgrade",
                "Weakens how well the data is protected (dimension 4): any on-path attacker can read it, not just the vendor.",
            ),
            Class::P7 => (
                "P7",
                "Authentication downgrade",
                "Universal or derivable credentials expose every unit at once, the classic mass-compromise vector.",
            ),
            Class::P8 => (
                "P8",
                "Update-integrity downgrade",
                "Whoever controls updates controls collection; equivalent to a backdoor in effect.",
            ),
            Class::P9 => (
                "P9",
                "Purpose or basis creep",
                "Removes user control (dimension 5) and expands use beyond the original purpose.",
            ),
            Class::P10 => (
                "P10",
                "Rights and retention failure",
                "Removes user control (dimension 5); a declared deletion or export promise that is not kept is deceptive.",
            ),
            Class::P11 => (
                "P11",
                "Undisclosed variant divergence",
                "Per-market builds are where hidden functions ride along; an undeclared build defeats blueprint review entirely.",
            ),
            Class::P12 => (
                "P12",
                "False lawfulness attestation",
                "The blueprint was accepted because of its attestations; without them the lawfulness of every flow relying on them falls.",
            ),
            Class::P13 => (
                "P13",
                "Commitment reduction",
                "Weakens protection over time (dimension 4): vulnerabilities found later stay unfixed.",
            ),
            Class::M1 => (
                "M1",
                "Protective deviation",
                "All five dimensions are unchanged or improved; the accepted risk envelope shrank. Refresh the blueprint.",
            ),
            Class::M2 => (
                "M2",
                "Endpoint churn inside the declared envelope",
                "Same operator, countries, protocol, TLS posture and carried items: who, where, what and how well are unchanged.",
            ),
            Class::M3 => (
                "M3",
                "Non-personal telemetry change",
                "No personal data is involved, so no privacy dimension moves.",
            ),
            Class::M4 => (
                "M4",
                "Documentation or metadata drift",
                "Accuracy only; no change of substance.",
            ),
            Class::M5 => (
                "M5",
                "Over-declaration",
                "A declared capability is not used; the blueprint over-states risk but should still be kept accurate.",
            ),
            Class::M6 => (
                "M6",
                "Parameter change",
                "A non-personal parameter changed; escalates if it materially increases the granularity of personal data.",
            ),
            Class::M7 => (
                "M7",
                "LAN-only service change",
                "The service stays authenticated and unreachable from the WAN; attack surface and access model are unchanged.",
            ),
            Class::M8 => (
                "M8",
                "Commitment improvement",
                "Protective: a support or disclosure commitment got stronger.",
            ),
            Class::M9 => (
                "M9",
                "Performance lag within legal limits",
                "No legal line crossed; the declared service level was missed.",
            ),
        }
    }
}

impl Serialize for Class {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// An escalation rule of docs/deviations.md that this tool applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum EscalationRule {
    /// E1: the deviation touches sensitive (`SENS_ANY`) or children's data.
    E1,
    /// E2: evidence of concealment.
    E2,
}

impl EscalationRule {
    /// Short statement of the rule.
    pub fn title(self) -> &'static str {
        match self {
            EscalationRule::E1 => "Sensitivity: the deviation touches sensitive or children's data",
            EscalationRule::E2 => {
                "Concealment: the deviation is hidden from the user or the notice"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for c in Class::ALL {
            assert_eq!(Class::parse(c.code()), Some(c));
            assert!(seen.insert(c.code()));
            assert!(!c.title().is_empty() && !c.rationale().is_empty());
        }
        assert_eq!(Class::parse("P14"), None);
    }

    #[test]
    fn only_p_classes_forfeit() {
        for c in Class::ALL {
            assert_eq!(c.forfeit_worthy(), c.code().starts_with('P'), "{c:?}");
            assert_eq!(c.handling() == Handling::Forfeit, c.forfeit_worthy());
        }
        assert_eq!(Class::P5.weight(), 10);
        assert_eq!(Class::M2.handling(), Handling::Warning);
        assert_eq!(Class::M5.handling(), Handling::Info);
    }
}
