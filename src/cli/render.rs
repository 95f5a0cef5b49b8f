//! Renderers for validation reports: human (caret diagnostics), JSON
//! (`schemas/report.v1.schema.json`), SARIF 2.1.0 and JUnit XML.

use blueprint::diag::{Counts, Diagnostic, Label, Severity};
use blueprint::source::{FileId, SourceMap};
use blueprint::validate::FileReport;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Caret diagnostics for people.
    Human,
    /// Stable JSON (schemas/report.v1.schema.json).
    Json,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
    /// JUnit XML for CI test dashboards.
    Junit,
}

/// Static facts about the run shared by every renderer.
pub struct RunInfo<'a> {
    pub as_of: &'a str,
    pub color: bool,
}

fn cs_severity(s: Severity) -> cs::Severity {
    match s {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
        Severity::Info => cs::Severity::Note,
    }
}

fn cs_label(l: &Label) -> cs::Label<FileId> {
    let style = if l.primary {
        cs::LabelStyle::Primary
    } else {
        cs::LabelStyle::Secondary
    };
    cs::Label::new(style, l.file, l.span.clone()).with_message(l.message.clone())
}

/// One diagnostic as codespan renders it.
pub fn human_diagnostic(map: &SourceMap, d: &Diagnostic, color: bool) -> Vec<u8> {
    // codespan prefixes every note with "= ".
    let mut notes: Vec<String> = d
        .notes
        .iter()
        .map(|n| n.strip_prefix("= ").unwrap_or(n).to_string())
        .collect();
    if let Some(r) = &d.rule
        && let Some(until) = &r.not_in_force_until
    {
        notes.push(format!("note: not yet in force (applies from {until})"));
    }
    let diag = cs::Diagnostic::new(cs_severity(d.severity))
        .with_code(d.code.clone())
        .with_message(d.message.clone())
        .with_labels(
            d.labels
                .iter()
                .map(|l| {
                    // A primary label that repeats the headline adds nothing.
                    let mut cl = cs_label(l);
                    if l.primary && l.message == d.message {
                        cl.message = String::new();
                    }
                    cl
                })
                .collect(),
        )
        .with_notes(notes);
    let mut buf = if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    let config = term::Config::default();
    if term::emit_to_write_style(&mut buf, &config, map, &diag).is_err() {
        // A label outside its file is a defect; still show the message.
        return format!("{}[{}]: {}\n", d.severity.as_str(), d.code, d.message).into_bytes();
    }
    buf.into_inner()
}

/// Findings of several rules that failed the same shared check (an `EQ-*` of
/// `profiles/_shared.toml`) at the same place read as one finding with every rule's label and
/// citation. JSON and SARIF keep one result per rule, marked with the group.
pub fn group_shared_checks(diags: &[Diagnostic]) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::with_capacity(diags.len());
    let mut index: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let mut members: Vec<Vec<&Diagnostic>> = Vec::new();
    for d in diags {
        let key = match (&d.rule, &d.pointer) {
            (Some(rr), Some(ptr)) => rr
                .group
                .as_ref()
                .map(|g| (g.clone(), ptr.clone(), d.message.clone())),
            _ => None,
        };
        match key.as_ref().and_then(|k| index.get(k).copied()) {
            Some(i) => members[i].push(d),
            None => {
                if let Some(k) = key {
                    index.insert(k, out.len());
                }
                out.push(d.clone());
                members.push(vec![d]);
            }
        }
    }
    for (merged, group) in out.iter_mut().zip(&members) {
        if group.len() < 2 {
            continue;
        }
        let first = group[0];
        let rr = first
            .rule
            .as_ref()
            .expect("grouped findings come from rules");
        let rules: Vec<&str> = group
            .iter()
            .filter_map(|d| d.rule.as_ref().map(|r| r.rule.as_str()))
            .collect();
        merged.code = format!("check/{}", rr.group.clone().unwrap_or_default());
        merged.severity = group
            .iter()
            .map(|d| d.severity)
            .max()
            .unwrap_or(first.severity);
        merged.message = format!(
            "{} ({} rules: {})",
            first.message,
            rules.len(),
            rules.join(", ")
        );
        merged.labels = first
            .labels
            .iter()
            .filter(|l| l.primary)
            .map(|l| Label {
                message: String::new(),
                ..l.clone()
            })
            .collect();
        merged.labels.extend(
            group
                .iter()
                .flat_map(|d| d.labels.iter().filter(|l| !l.primary).cloned()),
        );
        merged.notes = vec![format!("help: {}", rr.hint)];
        for d in group {
            if let Some(r) = &d.rule {
                merged.notes.push(format!(
                    "citation: {} ({}): {}",
                    r.rule, r.profile, r.citation
                ));
            }
        }
    }
    out
}

/// Human output: every diagnostic (shared-check groups merged), then a
/// summary line per file.
pub fn human(map: &SourceMap, reports: &[FileReport], info: &RunInfo<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    for r in reports {
        for d in &group_shared_checks(&r.diagnostics) {
            out.extend(human_diagnostic(map, d, info.color));
        }
        out.extend(summary_line(r).into_bytes());
        out.push(b'\n');
    }
    out
}

/// `camera.toml: 2 errors, 1 warning, 0 infos (eu-gdpr: 1 error; …)`.
pub fn summary_line(r: &FileReport) -> String {
    let verdict = if r.passed() { "ok" } else { "FAILED" };
    let mut per: BTreeMap<String, Counts> = BTreeMap::new();
    for d in &r.diagnostics {
        let key = match &d.rule {
            Some(rule) => rule.profile.clone(),
            None => d.code.split('/').next().unwrap_or("other").to_string(),
        };
        let c = per.entry(key).or_default();
        match d.severity {
            Severity::Error => c.error += 1,
            Severity::Warning => c.warning += 1,
            Severity::Info => c.info += 1,
        }
    }
    let groups: Vec<String> = per
        .iter()
        .map(|(k, c)| format!("{k}: {}", counts_words(c)))
        .collect();
    let profiles = if r.profiles.is_empty() {
        String::new()
    } else {
        format!("; profiles: {}", r.profiles.join(", "))
    };
    let detail = if groups.is_empty() {
        String::new()
    } else {
        format!(" ({})", groups.join("; "))
    };
    format!(
        "{}: {verdict}: {}{detail}{profiles}",
        r.name,
        counts_words(&r.counts)
    )
}

fn counts_words(c: &Counts) -> String {
    let p = |n: usize, w: &str| {
        if n == 1 {
            format!("1 {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    format!(
        "{}, {}, {}",
        p(c.error, "error"),
        p(c.warning, "warning"),
        p(c.info, "info")
    )
}

fn location(map: &SourceMap, l: &Label) -> Value {
    let f = map.get(l.file);
    let (line, column) = f.line_col(l.span.start);
    let (end_line, end_column) = f.line_col(l.span.end);
    json!({
        "file": f.name(),
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "byte_start": l.span.start,
        "byte_end": l.span.end,
    })
}

fn diagnostic_json(map: &SourceMap, d: &Diagnostic) -> Value {
    let primary = d.primary().map(|l| location(map, l));
    json!({
        "code": d.code,
        "severity": d.severity.as_str(),
        "message": d.message,
        "pointer": d.pointer,
        "location": primary,
        "labels": d.labels.iter().map(|l| {
            let mut v = location(map, l);
            v["message"] = json!(l.message);
            v["primary"] = json!(l.primary);
            v
        }).collect::<Vec<_>>(),
        "notes": d.notes,
        "rule": d.rule,
    })
}

/// JSON report (`schemas/report.v1.schema.json`).
pub fn json_report(map: &SourceMap, reports: &[FileReport], info: &RunInfo<'_>) -> Value {
    let mut total = Counts::default();
    let files: Vec<Value> = reports
        .iter()
        .map(|r| {
            total.error += r.counts.error;
            total.warning += r.counts.warning;
            total.info += r.counts.info;
            json!({
                "path": r.name,
                "format": r.format.as_str(),
                "passed": r.passed(),
                "profiles": r.profiles,
                "counts": r.counts,
                "diagnostics": r.diagnostics.iter().map(|d| diagnostic_json(map, d)).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "report_format": "blueprint/report/v1",
        "tool": {"name": "blueprint", "version": env!("CARGO_PKG_VERSION")},
        "as_of": info.as_of,
        "passed": total.error == 0,
        "counts": total,
        "files": files,
    })
}

/// SARIF 2.1.0 log: one run, rules with their citation and fix hint,
/// results with line/column regions.
pub fn sarif(map: &SourceMap, reports: &[FileReport]) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for r in reports {
        for d in &r.diagnostics {
            rules.entry(d.code.clone()).or_insert_with(|| {
                let mut rule = json!({
                    "id": d.code,
                    "shortDescription": {"text": d.message},
                    "defaultConfiguration": {"level": sarif_level(d.severity)},
                });
                if let Some(rr) = &d.rule {
                    rule["name"] = json!(rr.rule);
                    rule["help"] = json!({"text": rr.hint});
                    rule["fullDescription"] =
                        json!({"text": format!("{} ({})", d.message, rr.citation)});
                    rule["properties"] =
                        json!({"profile": rr.profile, "citation": rr.citation, "group": rr.group});
                }
                rule
            });
            let mut result = json!({
                "ruleId": d.code,
                "level": sarif_level(d.severity),
                "message": {"text": d.message},
            });
            if let Some(l) = d.primary() {
                let f = map.get(l.file);
                let (sl, sc) = f.line_col(l.span.start);
                let (el, ec) = f.line_col(l.span.end);
                result["locations"] = json!([{
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.name()},
                        "region": {"startLine": sl, "startColumn": sc, "endLine": el, "endColumn": ec}
                    },
                    "logicalLocations": d.pointer.as_ref().map(|p| vec![json!({"fullyQualifiedName": p, "kind": "member"})]).unwrap_or_default(),
                }]);
            }
            if let Some(rr) = &d.rule {
                result["properties"] =
                    json!({"citation": rr.citation, "profile": rr.profile, "group": rr.group});
            }
            results.push(result);
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "blueprint",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }]
    })
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// JUnit XML: one test suite per file; one test case for the schema stage
/// and one per applied profile, failing on error-level findings.
pub fn junit(map: &SourceMap, reports: &[FileReport]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"blueprint validate\">\n",
    );
    for r in reports {
        let mut cases: BTreeMap<String, Vec<&Diagnostic>> = BTreeMap::new();
        cases.entry("schema".into()).or_default();
        for p in &r.profiles {
            cases.entry(format!("profile {p}")).or_default();
        }
        for d in &r.diagnostics {
            let key = match &d.rule {
                Some(rr) => format!("profile {}", rr.profile),
                None => "schema".to_string(),
            };
            cases.entry(key).or_default().push(d);
        }
        let failures = cases
            .values()
            .filter(|ds| ds.iter().any(|d| d.severity == Severity::Error))
            .count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\">\n",
            xml(&r.name),
            cases.len()
        ));
        for (name, ds) in &cases {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\">\n",
                xml(&r.name),
                xml(name)
            ));
            let errors: Vec<&&Diagnostic> = ds
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .collect();
            if !errors.is_empty() {
                let body: Vec<String> = errors.iter().map(|d| one_line(map, d)).collect();
                out.push_str(&format!(
                    "      <failure message=\"{} error-level finding(s)\">{}</failure>\n",
                    errors.len(),
                    xml(&body.join("\n"))
                ));
            }
            let others: Vec<String> = ds
                .iter()
                .filter(|d| d.severity != Severity::Error)
                .map(|d| one_line(map, d))
                .collect();
            if !others.is_empty() {
                out.push_str(&format!(
                    "      <system-out>{}</system-out>\n",
                    xml(&others.join("\n"))
                ));
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn one_line(map: &SourceMap, d: &Diagnostic) -> String {
    let at = d
        .primary()
        .map(|l| {
            let f = map.get(l.file);
            let (line, col) = f.line_col(l.span.start);
            format!("{}:{line}:{col}: ", f.name())
        })
        .unwrap_or_default();
    format!("{at}{}[{}]: {}", d.severity.as_str(), d.code, d.message)
}

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
