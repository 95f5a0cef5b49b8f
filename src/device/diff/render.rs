//! Renderings of a deviation report that the binary writes out: a human
//! summary grouped by class (forfeit-worthy first), SARIF 2.1.0 and JUnit XML.

use super::{Class, Report, Verdict};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// Human-readable text, grouped by class, forfeit-worthy classes first.
pub fn human(r: &Report) -> String {
    let mut s = String::new();
    let subject = match (&r.subject.blueprint_id, &r.subject.blueprint_version) {
        (Some(id), Some(v)) => format!("{id} v{v}"),
        (Some(id), None) => id.clone(),
        _ => r.subject.source.clone(),
    };
    let _ = writeln!(
        s,
        "blueprint {subject} ({}) against {}",
        r.subject.source,
        r.subject.against.join(", ")
    );
    let mut current: Option<Class> = None;
    for d in &r.deviations {
        if current != Some(d.class) {
            current = Some(d.class);
            let tag = if d.forfeit_worthy {
                "FORFEIT-WORTHY"
            } else {
                "minor"
            };
            let _ = writeln!(s, "\n{} {} [{}]", d.class.code(), d.title, tag);
        }
        let ids = if d.ids.is_empty() {
            String::new()
        } else {
            format!(" [{}]", d.ids.join(", "))
        };
        let _ = writeln!(
            s,
            "  - {}{}",
            if d.path.is_empty() { "/" } else { &d.path },
            ids
        );
        if d.before.is_some() || d.after.is_some() {
            let show = |v: &Option<Value>| {
                v.as_ref().map_or("(absent)".to_owned(), |v| {
                    let t = v.to_string();
                    if t.len() > 120 {
                        format!(
                            "{}…",
                            &t[..t.char_indices().nth(117).map_or(t.len(), |(i, _)| i)]
                        )
                    } else {
                        t
                    }
                })
            };
            let _ = writeln!(s, "      before: {}", show(&d.before));
            let _ = writeln!(s, "      after:  {}", show(&d.after));
        }
        if let Some(e) = &d.escalation {
            let _ = writeln!(
                s,
                "      escalated from {} by {:?}: {}",
                e.from.code(),
                e.rule,
                e.reason
            );
        }
        let _ = writeln!(s, "      why: {}", d.rationale);
        if !d.evidence.is_empty() {
            let _ = writeln!(
                s,
                "      evidence: {} item(s) from {}",
                d.evidence.len(),
                sources(d)
            );
        }
    }
    if !r.insufficient_evidence.is_empty() {
        let _ = writeln!(
            s,
            "\nINSUFFICIENT EVIDENCE (the result cannot be \"matches\")"
        );
        for g in &r.insufficient_evidence {
            let _ = writeln!(
                s,
                "  - {}: {}",
                if g.source.is_empty() {
                    "(none)"
                } else {
                    &g.source
                },
                g.reason
            );
        }
    }
    let verdict = match r.verdict {
        Verdict::Matches => "matches the blueprint",
        Verdict::MinorOnly => "minor deviations only",
        Verdict::ForfeitWorthy => "FORFEIT-WORTHY deviations",
        Verdict::InsufficientEvidence => "insufficient evidence",
    };
    let n = |count: usize, one: &str, many: &str| {
        format!("{count} {}", if count == 1 { one } else { many })
    };
    let _ = writeln!(
        s,
        "\n{verdict}: {} forfeit-worthy, {}, {} ({} escalated)",
        r.summary.forfeit_worthy,
        n(r.summary.warning, "warning", "warnings"),
        n(r.summary.info, "info", "infos"),
        r.summary.escalated
    );
    s
}

fn sources(d: &super::Deviation) -> String {
    let mut v: Vec<&str> = d.evidence.iter().map(|e| e.source.as_str()).collect();
    v.sort();
    v.dedup();
    v.join(", ")
}

/// SARIF 2.1.0 log with one rule per class that occurs. It serializes
/// straight to its writer: each result is built, written and dropped in
/// turn, so the log is never held whole (`serde_json::to_writer_pretty`).
pub fn sarif(r: &Report) -> Sarif<'_> {
    let mut classes: Vec<Class> = r.deviations.iter().map(|d| d.class).collect();
    classes.sort();
    classes.dedup();
    Sarif { r, classes }
}

/// A deviation report as a SARIF log (see [`sarif`]).
pub struct Sarif<'a> {
    r: &'a Report,
    classes: Vec<Class>,
}

impl Sarif<'_> {
    fn rules(&self) -> Vec<Value> {
        let mut rules: Vec<Value> = self
            .classes
            .iter()
            .map(|c| {
                json!({
                    "id": format!("diff/{}", c.code()),
                    "name": c.title(),
                    "shortDescription": {"text": c.title()},
                    "fullDescription": {"text": c.rationale()},
                    "properties": {"forfeit_worthy": c.forfeit_worthy(), "classes": "docs/deviations.md"}
                })
            })
            .collect();
        if !self.r.insufficient_evidence.is_empty() {
            rules.push(json!({
                "id": "diff/insufficient-evidence",
                "name": "Insufficient evidence",
                "shortDescription": {"text": "Missing, truncated or unparsable evidence"},
                "fullDescription": {"text": "The comparison cannot conclude that the device matches its blueprint."}
            }));
        }
        rules
    }

    fn result(&self, d: &super::Deviation) -> Value {
        let level = match d.handling {
            super::Handling::Forfeit => "error",
            super::Handling::Warning => "warning",
            super::Handling::Info => "note",
        };
        json!({
            "ruleId": format!("diff/{}", d.class.code()),
            "ruleIndex": self.classes.iter().position(|c| *c == d.class),
            "level": level,
            "message": {"text": d.rationale},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": self.r.subject.source}},
                "logicalLocations": [{"fullyQualifiedName": d.path, "kind": "member"}]
            }],
            "properties": {
                "ids": d.ids,
                "before": d.before,
                "after": d.after,
                "forfeit_worthy": d.forfeit_worthy,
                "escalation": d.escalation,
                "evidence": d.evidence
            }
        })
    }
}

/// Results, made one at a time as they are written.
struct Results<'a>(&'a Sarif<'a>);

impl serde::Serialize for Results<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let sarif = self.0;
        let gaps = sarif.r.insufficient_evidence.iter().map(|g| {
            json!({
                "ruleId": "diff/insufficient-evidence",
                "level": "error",
                "message": {"text": format!("Insufficient evidence: {}", g.reason)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": g.source}}}]
            })
        });
        s.collect_seq(
            sarif
                .r
                .deviations
                .iter()
                .map(|d| sarif.result(d))
                .chain(gaps),
        )
    }
}

impl serde::Serialize for Sarif<'_> {
    /// Members in the order a `serde_json::Value` would write them (sorted).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Run<'a>(&'a Sarif<'a>);
        impl serde::Serialize for Run<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(3))?;
                m.serialize_entry(
                    "properties",
                    &json!({"verdict": self.0.r.verdict, "summary": self.0.r.summary}),
                )?;
                m.serialize_entry("results", &Results(self.0))?;
                m.serialize_entry(
                    "tool",
                    &json!({"driver": {
                        "name": "blueprint",
                        "informationUri": "https://example.invalid/blueprint",
                        "version": env!("CARGO_PKG_VERSION"),
                        "rules": self.0.rules()
                    }}),
                )?;
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("$schema", "https://json.schemastore.org/sarif-2.1.0.json")?;
        m.serialize_entry("runs", &[Run(self)])?;
        m.serialize_entry("version", "2.1.0")?;
        m.end()
    }
}

/// JUnit XML for CI dashboards: one test case per deviation class (so the
/// names stay stable from run to run) plus one for the evidence. A class
/// fails when a forfeit-worthy deviation of it was found; minor deviations
/// are listed as output of a passing case. The evidence case fails when the
/// evidence was too incomplete to conclude.
pub fn junit(r: &Report) -> String {
    let suite = &r.subject.source;
    let mut cases = String::new();
    let mut failures = 0usize;
    for class in Class::ALL {
        let found: Vec<&super::Deviation> =
            r.deviations.iter().filter(|d| d.class == class).collect();
        let _ = writeln!(
            cases,
            "    <testcase classname=\"{}\" name=\"{} {}\">",
            xml(suite),
            class.code(),
            xml(class.title())
        );
        let lines: Vec<String> = found.iter().map(|d| deviation_line(d)).collect();
        let forfeit = found.iter().filter(|d| d.forfeit_worthy).count();
        if forfeit > 0 {
            failures += 1;
            let _ = writeln!(
                cases,
                "      <failure message=\"{forfeit} forfeit-worthy deviation{}\">{}</failure>",
                if forfeit == 1 { "" } else { "s" },
                xml(&lines.join("\n"))
            );
        } else if !lines.is_empty() {
            let _ = writeln!(
                cases,
                "      <system-out>{}</system-out>",
                xml(&lines.join("\n"))
            );
        }
        cases.push_str("    </testcase>\n");
    }
    let _ = writeln!(
        cases,
        "    <testcase classname=\"{}\" name=\"evidence\">",
        xml(suite)
    );
    if !r.insufficient_evidence.is_empty() {
        failures += 1;
        let gaps: Vec<String> = r
            .insufficient_evidence
            .iter()
            .map(|g| format!("{}: {}", g.source, g.reason))
            .collect();
        let _ = writeln!(
            cases,
            "      <failure message=\"insufficient evidence\">{}</failure>",
            xml(&gaps.join("\n"))
        );
    }
    cases.push_str("    </testcase>\n");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"blueprint diff\">\n  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">\n{cases}  </testsuite>\n</testsuites>\n",
        xml(suite),
        Class::ALL.len() + 1
    )
}

/// `P6 /network_endpoints/0/tls/enabled: <rationale>`.
fn deviation_line(d: &super::Deviation) -> String {
    let at = if d.path.is_empty() {
        "(whole blueprint)"
    } else {
        d.path.as_str()
    };
    format!("{} {at}: {}", d.class.code(), d.rationale)
}

/// XML 1.0 text: markup characters escaped, other control characters dropped.
fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => o.push(c),
        }
    }
    o
}
