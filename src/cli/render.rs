//! Renderers for validation reports: human (caret diagnostics), JSON
//! (`schemas/report.v1.schema.json`), SARIF 2.1.0 and JUnit XML.

use super::{findings, long_lines, snippet};
use blueprint::diag::{Counts, Diagnostic, Label, Severity};
use blueprint::source::{FileId, SourceMap};
use blueprint::validate::FileReport;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor};
use serde_json::{Value, json};
use std::cell::Cell;
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
    /// Human output: the least severe finding shown.
    pub min_severity: Severity,
    /// Human output: summaries only.
    pub quiet: bool,
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
        && !notes.iter().any(|n| n.starts_with("not yet in force"))
    {
        notes.push(format!("note: not yet in force (applies from {until})"));
    }
    let json = d
        .primary()
        .is_some_and(|l| map.get(l.file).name().ends_with(".json"));
    // The snippet goes first: it is the fix.
    for (i, f) in d.fixes.iter().enumerate() {
        if let Some(n) = snippet::help(f, json) {
            notes.insert(i, n);
        }
    }
    // Labels on very long lines are drawn from windows of those lines.
    let excerpts =
        long_lines::needed(map, &d.labels).then(|| long_lines::Excerpts::new(map, &d.labels));
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
                    if let Some(ex) = &excerpts {
                        cl.range = ex.span(l);
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
    let drawn = match &excerpts {
        Some(ex) => term::emit_to_write_style(&mut buf, &config, ex, &diag),
        None => term::emit_to_write_style(&mut buf, &config, map, &diag),
    };
    if drawn.is_err() {
        // A label outside its file is a defect; still show the message.
        return format!("{}[{}]: {}\n", d.severity.as_str(), d.code, d.message).into_bytes();
    }
    buf.into_inner()
}

/// Human output: the findings at or above `info.min_severity` (repeats
/// merged, see [`findings`]), then a summary per file. With `info.quiet`
/// only the summaries.
pub fn human(map: &SourceMap, reports: &[FileReport], info: &RunInfo<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    for r in reports {
        let shown = findings::group(&r.diagnostics, r.document.as_ref().map(|d| &d.value));
        if !info.quiet {
            for s in shown
                .iter()
                .filter(|s| s.diag.severity >= info.min_severity)
            {
                out.extend(human_diagnostic(map, &s.diag, info.color));
            }
        }
        out.extend(summary(r, &shown, info.min_severity).into_bytes());
    }
    out
}

/// The summary of one file, counting findings as shown:
///
/// ```text
/// camera.toml: FAILED: 4 errors, 2 warnings, 23 infos (infos not shown; -v shows them)
///   errors: check/EQ-SUPPORT (5 rules), gdpr.dpia, …
///   warnings: gdpr.by-design (2 places)
///   profiles: eu-gdpr, …
/// ```
pub fn summary(r: &FileReport, shown: &[findings::Shown], min: Severity) -> String {
    let verdict = if r.passed() { "ok" } else { "FAILED" };
    let c = Counts::of(shown.iter().map(|s| &s.diag));
    let hidden: Vec<&str> = [Severity::Warning, Severity::Info]
        .into_iter()
        .filter(|s| *s < min && c.get(*s) > 0)
        .map(|s| match s {
            Severity::Warning => "warnings",
            _ => "infos",
        })
        .collect();
    let hidden = if hidden.is_empty() {
        String::new()
    } else {
        format!(
            " ({} not shown; {} shows them)",
            hidden.join(" and "),
            if min == Severity::Error {
                "--min-severity warning|info"
            } else {
                "-v"
            }
        )
    };
    let mut s = format!("{}: {verdict}: {}{hidden}\n", r.name, counts_words(&c));
    for (sev, word) in [(Severity::Error, "errors"), (Severity::Warning, "warnings")] {
        let names: Vec<String> = shown
            .iter()
            .filter(|x| x.diag.severity == sev)
            .map(|x| {
                let code = x.diag.code.strip_prefix("profile/").unwrap_or(&x.diag.code);
                let mut what = Vec::new();
                for (n, word) in [(x.rules, "rules"), (x.cases, "cases"), (x.places, "places")] {
                    if n > 1 {
                        what.push(format!("{n} {word}"));
                    }
                }
                if what.is_empty() {
                    code.to_string()
                } else {
                    format!("{code} ({})", what.join(", "))
                }
            })
            .collect();
        // One rule with several different findings: named once, with its count.
        let mut listed: Vec<(String, usize)> = Vec::new();
        for n in names {
            match listed.iter_mut().find(|(x, _)| *x == n) {
                Some((_, c)) => *c += 1,
                None => listed.push((n, 1)),
            }
        }
        if !listed.is_empty() {
            // A summary stays one readable line: a fresh scaffold has
            // hundreds of `todo/` codes, all of them shown above.
            const LISTED_MAX: usize = 12;
            let more = listed.len().saturating_sub(LISTED_MAX);
            let mut words: Vec<String> = listed
                .into_iter()
                .take(LISTED_MAX)
                .map(|(n, c)| if c == 1 { n } else { format!("{n} ×{c}") })
                .collect();
            if more > 0 {
                words.push(format!("and {more} more"));
            }
            s.push_str(&format!("  {word}: {}\n", words.join(", ")));
        }
    }
    if !r.profiles.is_empty() {
        s.push_str(&format!("  profiles: {}\n", r.profiles.join(", ")));
    }
    if shown.len() < r.diagnostics.len() {
        s.push_str(&format!(
            "  (counted as shown: repeats are merged; {} findings in all with --format json)\n",
            r.diagnostics.len()
        ));
    }
    s
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
    let mut v = json!({
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
    });
    if !d.fixes.is_empty() {
        v["fixes"] = json!(d.fixes);
    }
    v
}

/// The `shown_as` of every diagnostic that human output merges with others:
/// the shown finding (its index, code and message) and how many results it
/// stands for, so a tool can group them the same way. Kept as one entry per
/// merged finding and an index per diagnostic, not a copy per diagnostic.
struct ShownAs {
    groups: Vec<Value>,
    of: Vec<Option<usize>>,
}

impl ShownAs {
    fn of(r: &FileReport) -> Self {
        let mut out = ShownAs {
            groups: Vec::new(),
            of: vec![None; r.diagnostics.len()],
        };
        let shown = findings::group(&r.diagnostics, r.document.as_ref().map(|d| &d.value));
        for (n, s) in shown.iter().enumerate() {
            if s.members.len() < 2 {
                continue;
            }
            let g = out.groups.len();
            out.groups.push(json!({
                "index": n,
                "code": s.diag.code,
                "message": s.diag.message,
                "size": s.members.len(),
            }));
            for &i in &s.members {
                if let Some(slot) = out.of.get_mut(i) {
                    *slot = Some(g);
                }
            }
        }
        out
    }
}

/// One file's entry of the JSON report (`files[i]`), serialized as it is
/// written: each diagnostic is a small tree only while it is being written,
/// so a report of many findings never exists in memory as a whole. Keys
/// come in sorted order, as a `serde_json::Map` writes them.
struct FileEntry<'a> {
    map: &'a SourceMap,
    report: &'a FileReport,
    shown: ShownAs,
}

impl serde::Serialize for FileEntry<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.report;
        let diagnostics = r.diagnostics.iter().enumerate().map(|(i, d)| {
            let mut v = diagnostic_json(self.map, d);
            if let Some(&Some(g)) = self.shown.of.get(i) {
                v["shown_as"] = self.shown.groups[g].clone();
            }
            v
        });
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("counts", &json!(r.counts))?;
        m.serialize_entry("diagnostics", &Lazy(Cell::new(Some(diagnostics))))?;
        m.serialize_entry("format", r.format.as_str())?;
        m.serialize_entry("passed", &r.passed())?;
        m.serialize_entry("path", &r.name)?;
        m.serialize_entry("profiles", &r.profiles)?;
        m.end()
    }
}

/// A sequence produced while it is serialized (once).
struct Lazy<I>(Cell<Option<I>>);

impl<I: Iterator<Item = Value>> serde::Serialize for Lazy<I> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.take().into_iter().flatten())
    }
}

/// One file's entry of the JSON report (`schemas/report.v1.schema.json`,
/// `files[i]`): pretty, as [`json_report`] embeds it, or on one line for
/// JSON Lines.
pub fn file_entry(map: &SourceMap, report: &FileReport, pretty: bool) -> Vec<u8> {
    let entry = FileEntry {
        map,
        report,
        shown: ShownAs::of(report),
    };
    let written = if pretty {
        serde_json::to_vec_pretty(&entry)
    } else {
        serde_json::to_vec(&entry)
    };
    // Writing values and strings into a Vec does not fail.
    written.unwrap_or_default()
}

/// Writes the JSON report (`schemas/report.v1.schema.json`) around file
/// entries that [`file_entry`] rendered pretty; `total` sums their counts.
/// Ends with a newline.
pub fn json_report(
    info: &RunInfo<'_>,
    total: Counts,
    entries: &[Vec<u8>],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let frame = json!({
        "report_format": "blueprint/report/v1",
        "tool": {"name": "blueprint", "version": env!("CARGO_PKG_VERSION")},
        "as_of": info.as_of,
        "passed": total.error == 0,
        "counts": total,
        "files": [],
    });
    let mut frame = serde_json::to_vec_pretty(&frame).unwrap_or_default();
    frame.push(b'\n');
    const EMPTY: &[u8] = b"\"files\": []";
    let at = match frame.windows(EMPTY.len()).position(|w| w == EMPTY) {
        Some(at) if !entries.is_empty() => at,
        _ => return out.write_all(&frame),
    };
    // Split between `[` and `]`, and put the entries in between.
    let (head, tail) = frame.split_at(at + EMPTY.len() - 1);
    out.write_all(head)?;
    for (i, e) in entries.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        // Each line of the entry is indented to its depth in `files`
        // (strings never hold a raw newline: JSON escapes it).
        for (n, line) in e.split(|b| *b == b'\n').enumerate() {
            if n > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(INDENT)?;
            out.write_all(line)?;
        }
    }
    out.write_all(b"\n  ")?;
    out.write_all(tail)
}

/// The depth of an entry of `files` in the pretty report.
const INDENT: &[u8] = b"    ";

/// SARIF 2.1.0 log: one run, rules with their citation and fix hint,
/// results with line/column regions.
pub fn sarif(map: &SourceMap, reports: &[FileReport]) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for r in reports {
        let mut shown_as: BTreeMap<usize, (usize, String)> = BTreeMap::new();
        for (n, s) in findings::group(&r.diagnostics, r.document.as_ref().map(|d| &d.value))
            .iter()
            .enumerate()
        {
            if s.members.len() > 1 {
                for &i in &s.members {
                    shown_as.insert(i, (n, s.diag.code.clone()));
                }
            }
        }
        for (i, d) in r.diagnostics.iter().enumerate() {
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
            if let Some((n, code)) = shown_as.get(&i) {
                // Results that human output shows as one finding.
                result["properties"]["shownAs"] = json!({"index": n, "code": code});
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
