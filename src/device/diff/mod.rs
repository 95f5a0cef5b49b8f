//! Deviation engine: compares a blueprint with a newer blueprint
//! ([`manifest`]) or with observations of a shipped unit ([`evidence`]) and
//! classifies every difference as P1–P13 (forfeit-worthy) or M1–M9 (minor).
//!
//! Everything here returns data; rendering lives in [`render`] and the binary.

pub mod classes;
pub mod evidence;
pub mod fast_json;
pub mod manifest;
pub mod render;
mod rules;
pub mod sensitivity;

pub use classes::{Class, EscalationRule, Handling};

use serde::Serialize;
use serde_json::Value;

/// The `format` tag of a deviation report (`schemas/deviations.v1.schema.json`).
pub const REPORT_FORMAT: &str = "blueprint-deviations/v1";

/// One classified difference between the blueprint and what was compared with it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Deviation {
    /// Final class after escalation.
    pub class: Class,
    /// Title of the final class.
    pub title: String,
    /// Whether the final class forfeits (docs/deviations.md).
    pub forfeit_worthy: bool,
    /// Handling of the final class.
    pub handling: Handling,
    /// RFC 6901 pointer of the blueprint value concerned (into the newer
    /// manifest for additions and changes, the older one for removals), or
    /// `""` when no single value is concerned.
    pub path: String,
    /// Ids (or hosts) of the manifest objects involved, outermost first.
    pub ids: Vec<String>,
    /// Declared value, if any.
    pub before: Option<Value>,
    /// New or observed value, if any.
    pub after: Option<Value>,
    /// What supports the finding.
    pub evidence: Vec<Evidence>,
    /// Why this class applies.
    pub rationale: String,
    /// Set when an escalation rule raised the class.
    pub escalation: Option<Escalation>,
}

/// An escalation (docs/deviations.md) applied to a deviation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Escalation {
    /// The rule applied.
    pub rule: EscalationRule,
    /// The class before escalation.
    pub from: Class,
    /// What triggered it (item ids, the concealing field).
    pub reason: String,
}

/// One piece of evidence behind a deviation.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Evidence {
    /// `manifest`, `flow`, `dns`, `firmware` or `coverage`.
    pub kind: String,
    /// The file or side the evidence comes from (`old`, `new`, a file name).
    pub source: String,
    /// The evidence itself (a flow record, a component, a manifest value).
    pub detail: Value,
}

/// A reason why the comparison cannot conclude "matches" (`docs/deviations.md`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gap {
    /// The evidence file concerned.
    pub source: String,
    /// What is missing or unusable.
    pub reason: String,
}

/// Overall outcome of a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// No deviation at all and the evidence was sufficient.
    Matches,
    /// Only minor (M) deviations.
    MinorOnly,
    /// At least one forfeit-worthy deviation.
    ForfeitWorthy,
    /// No forfeit-worthy deviation, but the evidence cannot support "matches".
    InsufficientEvidence,
}

/// Counts per handling.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub forfeit_worthy: usize,
    pub warning: usize,
    pub info: usize,
    pub escalated: usize,
}

/// What was compared.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Subject {
    /// `blueprint.id` of the reference blueprint, when set.
    pub blueprint_id: Option<String>,
    /// `blueprint.version` of the reference blueprint, when set.
    pub blueprint_version: Option<Value>,
    /// The reference file.
    pub source: String,
    /// `manifest` or `observation` inputs it was compared against.
    pub against: Vec<String>,
}

/// A complete deviation report (`schemas/deviations.v1.schema.json`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub format: &'static str,
    pub mode: Mode,
    pub subject: Subject,
    pub verdict: Verdict,
    pub summary: Summary,
    /// Sorted: forfeit-worthy first, then by class, then by path.
    pub deviations: Vec<Deviation>,
    pub insufficient_evidence: Vec<Gap>,
}

/// Which comparison produced the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Blueprint against a newer blueprint.
    Manifest,
    /// Blueprint against observations of a shipped unit.
    Evidence,
}

impl Deviation {
    /// A deviation of `class` with the class's own title and rationale.
    pub fn new(class: Class, path: impl Into<String>) -> Self {
        Deviation {
            class,
            title: class.title().to_owned(),
            forfeit_worthy: class.forfeit_worthy(),
            handling: class.handling(),
            path: path.into(),
            ids: Vec::new(),
            before: None,
            after: None,
            evidence: Vec::new(),
            rationale: class.rationale().to_owned(),
            escalation: None,
        }
    }

    /// Adds the specific reason in front of the class rationale.
    pub fn because(mut self, why: impl AsRef<str>) -> Self {
        self.rationale = format!("{} {}", why.as_ref(), self.class.rationale());
        self
    }

    /// Raises the class under an escalation rule (no-op when already forfeit-worthy).
    pub fn escalate(&mut self, rule: EscalationRule, to: Class, reason: impl Into<String>) {
        if self.class.forfeit_worthy() || !to.forfeit_worthy() {
            return;
        }
        let reason = reason.into();
        self.escalation = Some(Escalation {
            rule,
            from: self.class,
            reason: reason.clone(),
        });
        self.class = to;
        self.title = to.title().to_owned();
        self.forfeit_worthy = true;
        self.handling = to.handling();
        self.rationale = format!(
            "Escalated by {} ({}): {}. {}",
            match rule {
                EscalationRule::E1 => "E1",
                EscalationRule::E2 => "E2",
            },
            rule.title(),
            reason,
            to.rationale()
        );
    }
}

/// Most deviations of one class listed one by one at one place (a list's
/// elements count as one place): beyond it they are counted in a single
/// deviation, so a list of 100,000 new elements is a report of bounded
/// size, with the same verdict.
pub const MAX_PER_PLACE: usize = 1000;

/// Keeps at most [`MAX_PER_PLACE`] deviations per class and place, in the
/// order given, and counts the rest.
#[derive(Default)]
pub(crate) struct Capper {
    kept: Vec<Deviation>,
    seen: std::collections::HashMap<(Class, String), usize>,
}

impl Capper {
    /// Keeps `d` unless its class and place are full.
    pub(crate) fn push(&mut self, d: Deviation) {
        let n = self.seen.entry((d.class, place(&d.path))).or_insert(0);
        *n += 1;
        if *n <= MAX_PER_PLACE {
            self.kept.push(d);
        }
    }

    /// The deviations kept, plus one per full class and place that says
    /// how many more there are.
    pub(crate) fn finish(mut self) -> Vec<Deviation> {
        let mut full: Vec<((Class, String), usize)> = self
            .seen
            .into_iter()
            .filter(|(_, n)| *n > MAX_PER_PLACE)
            .collect();
        full.sort();
        for ((class, place), n) in full {
            let parent = place.split("/*").next().unwrap_or("").to_owned();
            self.kept.push(Deviation::new(class, parent).because(format!(
                "{} more deviations of this class at `{place}` are not listed one by one (at most {MAX_PER_PLACE} are).",
                n - MAX_PER_PLACE
            )));
        }
        self.kept
    }
}

/// A pointer with its list positions elided: `/markets/7` → `/markets/*`.
fn place(path: &str) -> String {
    path.split('/')
        .map(|t| {
            if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                t
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl Report {
    /// Builds a report: bounds the deviations listed per class and place
    /// ([`MAX_PER_PLACE`]), sorts them and derives the summary and verdict.
    pub fn new(
        mode: Mode,
        subject: Subject,
        deviations: Vec<Deviation>,
        insufficient_evidence: Vec<Gap>,
    ) -> Self {
        let mut capper = Capper::default();
        for d in deviations {
            capper.push(d);
        }
        let mut deviations = capper.finish();
        deviations.sort_by(|a, b| {
            b.forfeit_worthy
                .cmp(&a.forfeit_worthy)
                .then(a.class.cmp(&b.class))
                .then(a.path.cmp(&b.path))
                .then(a.ids.cmp(&b.ids))
        });
        let mut summary = Summary::default();
        for d in &deviations {
            match d.handling {
                Handling::Forfeit => summary.forfeit_worthy += 1,
                Handling::Warning => summary.warning += 1,
                Handling::Info => summary.info += 1,
            }
            if d.escalation.is_some() {
                summary.escalated += 1;
            }
        }
        let verdict = if summary.forfeit_worthy > 0 {
            Verdict::ForfeitWorthy
        } else if !insufficient_evidence.is_empty() {
            Verdict::InsufficientEvidence
        } else if deviations.is_empty() {
            Verdict::Matches
        } else {
            Verdict::MinorOnly
        };
        Report {
            format: REPORT_FORMAT,
            mode,
            subject,
            verdict,
            summary,
            deviations,
            insufficient_evidence,
        }
    }
}

/// Reads `blueprint.id` / `blueprint.version` for the report subject.
pub(crate) fn subject_of(manifest: &Value, source: &str, against: Vec<String>) -> Subject {
    Subject {
        blueprint_id: manifest
            .pointer("/blueprint/id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        blueprint_version: manifest.pointer("/blueprint/version").cloned(),
        source: source.to_owned(),
        against,
    }
}

/// Escapes one RFC 6901 reference token.
pub(crate) fn escape_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}
