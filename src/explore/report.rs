//! The report a vendor hands to a lab or a regulator: one self-contained
//! HTML page (its own CSS, no scripts, no remote resources) saying what the
//! device is, what it collects, where each item goes (with the data-flow
//! map inline), which profiles apply and what validation found under each.
//!
//! Every string from the manifest is escaped ([`super::escape`]); lists are
//! bounded so a manifest with 100,000 endpoints gives a page of bounded
//! size. The markup is also well-formed XML (void elements self-closed, no
//! named entities), so XML tools can read it.

use super::escape;
use super::flow::{FlowOptions, Zone, flow_map};
use crate::derived::RefData;
use crate::diag::{Diagnostic, Severity};
use crate::profile::ProfileLibrary;
use crate::source::SourceMap;
use crate::validate::FileReport;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Rows shown per table or list before "and N more".
pub const LIST_MAX: usize = 200;

/// What the report is made from.
#[derive(Debug, Clone, Copy)]
pub struct ReportInput<'a> {
    /// The manifest as loaded.
    pub manifest: &'a Value,
    /// The file name as given (shown, escaped).
    pub source_name: &'a str,
    /// `sha256:<hex>` of the canonical manifest (what `blueprint hash` prints).
    pub digest: &'a str,
    /// The validation of the manifest.
    pub validation: &'a FileReport,
    /// The source map of that validation (for line numbers).
    pub map: &'a SourceMap,
    /// The profiles it was validated against (for titles).
    pub library: &'a ProfileLibrary,
    /// Evaluation date of the validation.
    pub as_of: time::Date,
}

fn arr(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn text_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// A scalar as text (strings bare, numbers and booleans as JSON).
fn scalar(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
        other => Some(other.to_string()),
    }
}

fn strs(v: Option<&Value>) -> Vec<&str> {
    arr(v).iter().filter_map(Value::as_str).collect()
}

/// `a, b, c` of escaped items, at most [`LIST_MAX`], or `none`.
fn joined<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let all: Vec<&str> = items.into_iter().collect();
    if all.is_empty() {
        return "<span class=\"none\">none</span>".into();
    }
    let mut out = all
        .iter()
        .take(LIST_MAX)
        .map(|s| escape(s))
        .collect::<Vec<_>>()
        .join(", ");
    if all.len() > LIST_MAX {
        let _ = write!(out, " and {} more", all.len() - LIST_MAX);
    }
    out
}

/// Renders the report as a complete HTML document.
pub fn render(input: &ReportInput<'_>, options: &FlowOptions) -> String {
    let m = input.manifest;
    let refs = input.library.reference();
    let vendor = text_at(m, "/vendor/legal_name").unwrap_or("Unknown vendor");
    let model = text_at(m, "/device/model").unwrap_or("unknown model");
    let device = format!("{vendor} {model}");
    let map = flow_map(m, refs, options);
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\" />\n\
         <meta name=\"generator\" content=\"blueprint {}\" />\n\
         <title>Privacy blueprint: {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&device)
    );
    let _ = write!(
        o,
        "<header>\n<p class=\"kicker\">Privacy blueprint report</p>\n<h1>{}</h1>\n<p class=\"lede\">{}</p>\n</header>\n<main>\n",
        escape(&device),
        status_line(input)
    );
    identity(&mut o, input);
    validation(&mut o, input);
    collection(&mut o, m);
    let _ = write!(
        o,
        "<section aria-labelledby=\"flow\">\n<h2 id=\"flow\">Data-flow map</h2>\n\
         <p>Sensors produce data items; items go to recipients and network endpoints, which are in countries. \
         Boxes group the countries by protective zone. Dashed red links are declared cross-border transfers; \
         grey dashed items are not transferred.</p>\n\
         <figure>\n<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Data-flow map (scrolls sideways)\">\n{}</div>\n\
         <figcaption>Data-flow map of {}. On a narrow screen it scrolls sideways; the tables below say the same in words.</figcaption>\n</figure>\n</section>\n",
        map.to_svg(&device),
        escape(&device)
    );
    destinations(&mut o, m, refs);
    zones(&mut o, m, refs);
    o.push_str("</main>\n<footer>\n<p>");
    let _ = write!(
        o,
        "Made by blueprint {} from <code>{}</code> ({}). The digest identifies the manifest: \
         <code>blueprint hash</code> on the same file prints it. This page describes the manifest and \
         its validation only; it is not a deposit in an escrow registry and says nothing about a bond.",
        env!("CARGO_PKG_VERSION"),
        escape(input.source_name),
        escape(input.digest)
    );
    o.push_str("</p>\n</footer>\n</body>\n</html>\n");
    o
}

fn status_line(input: &ReportInput<'_>) -> String {
    let c = input.validation.counts;
    let verdict = if c.error == 0 {
        "<strong class=\"ok\">Passes</strong>"
    } else {
        "<strong class=\"bad\">Does not pass</strong>"
    };
    let against = match input.validation.profiles.len() {
        0 => "the schema and reference checks".to_owned(),
        1 => "the 1 profile that applies".to_owned(),
        n => format!("the {n} profiles that apply"),
    };
    format!(
        "{verdict} {against}, as of {}: {}, {}.",
        input.as_of,
        plural(c.error, "error", "errors"),
        plural(c.warning, "warning", "warnings")
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn identity(o: &mut String, input: &ReportInput<'_>) {
    let m = input.manifest;
    o.push_str("<section aria-labelledby=\"identity\">\n<h2 id=\"identity\">Device and digest</h2>\n<dl class=\"facts\">\n");
    let rows: [(&str, Option<String>); 10] = [
        ("Vendor", scalar(m.pointer("/vendor/legal_name"))),
        ("Headquarters", scalar(m.pointer("/vendor/hq_country"))),
        ("Model", scalar(m.pointer("/device/model"))),
        ("Hardware version", scalar(m.pointer("/device/hw_version"))),
        ("Firmware", scalar(m.pointer("/device/firmware/version"))),
        ("Product class", scalar(m.pointer("/device/product_class"))),
        ("Blueprint id", scalar(m.pointer("/blueprint/id"))),
        ("Blueprint version", scalar(m.pointer("/blueprint/version"))),
        ("Issued", scalar(m.pointer("/blueprint/issued_at"))),
        ("Sold in", Some(strs(m.get("markets")).join(", "))),
    ];
    for (k, v) in rows {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            let _ = writeln!(o, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
        }
    }
    let _ = writeln!(
        o,
        "<dt>Digest</dt><dd><code class=\"digest\">{}</code></dd>",
        escape(input.digest)
    );
    o.push_str("</dl>\n</section>\n");
}

/// Findings of one profile (or of the schema stage, `None`).
type Groups<'a> = BTreeMap<Option<&'a str>, Vec<&'a Diagnostic>>;

fn validation(o: &mut String, input: &ReportInput<'_>) {
    let v = input.validation;
    let mut groups: Groups<'_> = BTreeMap::new();
    for d in &v.diagnostics {
        groups
            .entry(d.rule.as_ref().map(|r| r.profile.as_str()))
            .or_default()
            .push(d);
    }
    o.push_str("<section aria-labelledby=\"validation\">\n<h2 id=\"validation\">Profiles and validation</h2>\n");
    let _ = writeln!(o, "<p>{}</p>", status_line(input));
    if v.profiles.is_empty() {
        o.push_str("<p>No profile was evaluated: the manifest must first pass the schema and reference checks below.</p>\n");
    } else {
        o.push_str("<div class=\"scroll\"><table class=\"cards\">\n<caption>Profiles that apply (from the markets the device is sold in)</caption>\n<thead><tr><th scope=\"col\">Profile</th><th scope=\"col\">Law or standard</th><th scope=\"col\">Errors</th><th scope=\"col\">Warnings</th></tr></thead>\n<tbody>\n");
        for id in &v.profiles {
            let title = input.library.profile(id).map_or("", |p| p.title.as_str());
            let found = groups.get(&Some(id.as_str()));
            let n = |s: Severity| found.map_or(0, |g| g.iter().filter(|d| d.severity == s).count());
            let _ = writeln!(
                o,
                "<tr><th scope=\"row\" data-label=\"Profile\"><code>{}</code></th><td data-label=\"Law or standard\">{}</td><td data-label=\"Errors\" class=\"{}\">{}</td><td data-label=\"Warnings\">{}</td></tr>",
                escape(id),
                escape(title),
                if n(Severity::Error) > 0 { "bad" } else { "ok" },
                n(Severity::Error),
                n(Severity::Warning)
            );
        }
        o.push_str("</tbody>\n</table></div>\n");
    }
    for (profile, diags) in &groups {
        let shown: Vec<&&Diagnostic> = diags
            .iter()
            .filter(|d| d.severity != Severity::Info)
            .collect();
        if shown.is_empty() {
            continue;
        }
        let heading = match profile {
            Some(id) => {
                let title = input.library.profile(id).map_or("", |p| p.title.as_str());
                format!("<code>{}</code> {}", escape(id), escape(title))
            }
            None => "Schema and references".to_owned(),
        };
        let _ = writeln!(o, "<h3>{heading}</h3>\n<ul class=\"findings\">");
        for d in shown.iter().take(LIST_MAX) {
            finding(o, input, d);
        }
        if shown.len() > LIST_MAX {
            let _ = writeln!(
                o,
                "<li>and {} more (<code>blueprint validate</code> lists them all)</li>",
                shown.len() - LIST_MAX
            );
        }
        o.push_str("</ul>\n");
    }
    let infos = v.counts.info;
    if infos > 0 {
        let _ = writeln!(
            o,
            "<p class=\"note\">{} not shown (<code>blueprint validate -v</code> shows them).</p>",
            plural(infos, "notice", "notices")
        );
    }
    o.push_str("</section>\n");
}

fn finding(o: &mut String, input: &ReportInput<'_>, d: &Diagnostic) {
    let sev = d.severity.as_str();
    let code = d.rule.as_ref().map_or(d.code.as_str(), |r| r.rule.as_str());
    let _ = write!(
        o,
        "<li><span class=\"sev {sev}\">{sev}</span> <code>{}</code> {}",
        escape(code),
        escape(&d.message)
    );
    let place = d
        .primary()
        .filter(|l| l.file == input.validation.file)
        .map(|l| {
            let (line, col) = input.map.get(l.file).line_col(l.span.start);
            format!("{}:{line}:{col}", input.source_name)
        });
    let mut meta = Vec::new();
    if let Some(p) = place {
        meta.push(format!("at <code>{}</code>", escape(&p)));
    }
    if let Some(p) = d.pointer.as_deref().filter(|p| !p.is_empty()) {
        meta.push(format!("<code>{}</code>", escape(p)));
    }
    if let Some(r) = &d.rule {
        if !r.citation.is_empty() {
            meta.push(format!("cites {}", escape(&r.citation)));
        }
        if let Some(until) = &r.not_in_force_until {
            meta.push(format!("not in force until {}", escape(until)));
        }
    }
    if !meta.is_empty() {
        let _ = write!(o, "<br /><span class=\"meta\">{}</span>", meta.join("; "));
    }
    if let Some(hint) = d
        .rule
        .as_ref()
        .map(|r| r.hint.as_str())
        .filter(|h| !h.is_empty())
    {
        let _ = write!(o, "<br /><span class=\"meta\">Fix: {}</span>", escape(hint));
    }
    o.push_str("</li>\n");
}

fn retention(item: &Value) -> String {
    let days = item
        .pointer("/retention/period_days")
        .and_then(Value::as_u64);
    let criteria = text_at(item, "/retention/criteria");
    match (days, criteria) {
        (Some(d), Some(c)) => format!("{} ({})", plural(d as usize, "day", "days"), c),
        (Some(d), None) => plural(d as usize, "day", "days"),
        (None, Some(c)) => c.to_owned(),
        (None, None) => "not stated".to_owned(),
    }
}

fn collection(o: &mut String, m: &Value) {
    let items = arr(m.get("data_items"));
    o.push_str(
        "<section aria-labelledby=\"collects\">\n<h2 id=\"collects\">What it collects</h2>\n",
    );
    let sensors = arr(m.get("sensors"));
    let _ = writeln!(
        o,
        "<p>{} from {}.</p>",
        plural(items.len(), "data item", "data items"),
        plural(sensors.len(), "sensor", "sensors")
    );
    o.push_str("<div class=\"scroll\"><table class=\"cards\">\n<caption>Data items, their categories, purposes and retention</caption>\n<thead><tr><th scope=\"col\">Data item</th><th scope=\"col\">Category</th><th scope=\"col\">Purposes</th><th scope=\"col\">Source</th><th scope=\"col\">Retention</th></tr></thead>\n<tbody>\n");
    for item in items.iter().take(LIST_MAX) {
        let id = text_at(item, "/id").unwrap_or("?");
        let name = text_at(item, "/name").unwrap_or("");
        let source = match (text_at(item, "/source"), text_at(item, "/source_sensor")) {
            (_, Some(sensor)) => format!("sensor {sensor}"),
            (Some(s), None) => s.replace('_', " "),
            (None, None) => String::new(),
        };
        let _ = writeln!(
            o,
            "<tr><th scope=\"row\" data-label=\"Data item\"><code>{}</code><br /><span class=\"meta\">{}</span></th><td data-label=\"Category\">{}</td><td data-label=\"Purposes\">{}</td><td data-label=\"Source\">{}</td><td data-label=\"Retention\">{}</td></tr>",
            escape(id),
            escape(name),
            escape(text_at(item, "/category").unwrap_or("")),
            joined(strs(item.get("purposes"))),
            escape(&source),
            escape(&retention(item)),
        );
    }
    o.push_str("</tbody>\n</table></div>\n");
    if items.len() > LIST_MAX {
        let _ = writeln!(o, "<p>and {} more data items.</p>", items.len() - LIST_MAX);
    }
    o.push_str("</section>\n");
}

fn zone_name(cc: &str, refs: &RefData) -> String {
    match Zone::of(cc, refs) {
        Some(z) => format!("{cc} ({})", z.label()),
        None => cc.to_owned(),
    }
}

fn destinations(o: &mut String, m: &Value, refs: &RefData) {
    let recipients: BTreeMap<&str, &Value> = arr(m.get("recipients"))
        .iter()
        .filter_map(|r| Some((text_at(r, "/id")?, r)))
        .collect();
    // Item id → endpoints carrying it (bounded per item below).
    let mut carriers: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for e in arr(m.get("network_endpoints")) {
        for id in strs(e.get("carries_items")) {
            carriers.entry(id).or_default().push(e);
        }
    }
    o.push_str(
        "<section aria-labelledby=\"goes\">\n<h2 id=\"goes\">Where each data item goes</h2>\n",
    );
    o.push_str("<div class=\"scroll\"><table class=\"cards\">\n<caption>Recipients, endpoints, cross-border transfers and storage of each data item</caption>\n<thead><tr><th scope=\"col\">Data item</th><th scope=\"col\">Recipients</th><th scope=\"col\">Endpoints</th><th scope=\"col\">Cross-border transfers</th><th scope=\"col\">Stored in</th></tr></thead>\n<tbody>\n");
    let items = arr(m.get("data_items"));
    for item in items.iter().take(LIST_MAX) {
        let id = text_at(item, "/id").unwrap_or("?");
        let to: Vec<String> = strs(item.get("recipients"))
            .iter()
            .map(|r| match recipients.get(r) {
                Some(rec) => {
                    let name = text_at(rec, "/name").unwrap_or(r);
                    match text_at(rec, "/country") {
                        Some(cc) => format!("{name} in {}", zone_name(cc, refs)),
                        None => name.to_owned(),
                    }
                }
                None => (*r).to_owned(),
            })
            .collect();
        let eps: Vec<String> = carriers
            .get(id)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|e| {
                let host = text_at(e, "/host").unwrap_or("?");
                match text_at(e, "/country") {
                    Some(cc) => format!("{host} in {}", zone_name(cc, refs)),
                    None => host.to_owned(),
                }
            })
            .collect();
        let xb: Vec<String> = arr(item.get("cross_border"))
            .iter()
            .map(|x| {
                format!(
                    "{} to {} ({})",
                    text_at(x, "/from_market").unwrap_or("?"),
                    zone_name(text_at(x, "/to_country").unwrap_or("?"), refs),
                    text_at(x, "/mechanism").unwrap_or("no mechanism stated")
                )
            })
            .collect();
        let stored: Vec<String> = strs(item.get("storage_regions"))
            .iter()
            .map(|cc| zone_name(cc, refs))
            .collect();
        let local = to.is_empty() && eps.is_empty() && xb.is_empty();
        let recipients_cell = if local {
            match text_at(item, "/processing_location") {
                Some("device") => "<span class=\"none\">none: stays on the device</span>".into(),
                _ => "<span class=\"none\">none</span>".into(),
            }
        } else {
            joined(to.iter().map(String::as_str))
        };
        let _ = writeln!(
            o,
            "<tr><th scope=\"row\" data-label=\"Data item\"><code>{}</code></th><td data-label=\"Recipients\">{}</td><td data-label=\"Endpoints\">{}</td><td data-label=\"Cross-border transfers\">{}</td><td data-label=\"Stored in\">{}</td></tr>",
            escape(id),
            recipients_cell,
            joined(eps.iter().map(String::as_str)),
            joined(xb.iter().map(String::as_str)),
            joined(stored.iter().map(String::as_str)),
        );
    }
    o.push_str("</tbody>\n</table></div>\n");
    if items.len() > LIST_MAX {
        let _ = writeln!(o, "<p>and {} more data items.</p>", items.len() - LIST_MAX);
    }
    o.push_str("</section>\n");
}

/// Every country the manifest sends or stores data in.
fn countries(m: &Value) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    for r in arr(m.get("recipients")) {
        out.extend(text_at(r, "/country"));
    }
    for e in arr(m.get("network_endpoints")) {
        out.extend(text_at(e, "/country"));
    }
    for item in arr(m.get("data_items")) {
        out.extend(strs(item.get("storage_regions")));
        for x in arr(item.get("cross_border")) {
            out.extend(text_at(x, "/to_country"));
        }
    }
    out
}

fn zones(o: &mut String, m: &Value, refs: &RefData) {
    let mut by_zone: BTreeMap<Option<Zone>, Vec<&str>> = BTreeMap::new();
    for cc in countries(m) {
        by_zone.entry(Zone::of(cc, refs)).or_default().push(cc);
    }
    o.push_str("<section aria-labelledby=\"zones\">\n<h2 id=\"zones\">Countries and protective zones</h2>\n");
    o.push_str("<p>Data crossing the border of one of these zones is a transfer under its law (GDPR Chapter V in the EEA, UK GDPR, China's PIPL Art. 38-40, the US rules on countries of concern).</p>\n<ul class=\"zones\">\n");
    if by_zone.is_empty() {
        o.push_str("<li>No data leaves the device for any country.</li>\n");
    }
    for (zone, list) in &by_zone {
        let name = zone.map_or("Outside these zones", Zone::label);
        let _ = writeln!(
            o,
            "<li><strong>{name}</strong>: {}</li>",
            joined(list.iter().copied())
        );
    }
    o.push_str("</ul>\n</section>\n");
}

/// Our own style sheet: readable from 320 px up, WCAG AA contrast, tables
/// turn into cards on narrow screens, printable.
const CSS: &str = r#"
:root{--fg:#1a1a1a;--muted:#4a4a4a;--line:#c9c9c9;--bg:#ffffff;--band:#f4f5f7;--ok:#1d6b2f;--bad:#a4161a;--warn:#7a4d00;--link:#0b57d0}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header,main,footer{max-width:62rem;margin:0 auto;padding:0 1rem}
header{padding-top:1.5rem;border-bottom:1px solid var(--line)}
.kicker{margin:0;text-transform:uppercase;letter-spacing:.06em;font-size:.8rem;color:var(--muted)}
h1{margin:.2rem 0 .4rem;font-size:1.7rem;line-height:1.2;overflow-wrap:anywhere}
h2{margin:2rem 0 .6rem;font-size:1.3rem;border-bottom:2px solid var(--band);padding-bottom:.2rem}
h3{margin:1.4rem 0 .4rem;font-size:1.05rem;overflow-wrap:anywhere}
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.digest{font-size:.85em}
.lede{font-size:1.05rem}
.ok{color:var(--ok)}.bad{color:var(--bad)}
td.bad,td.ok{font-weight:700}
.none{color:var(--muted);font-style:italic}
.meta,.note{color:var(--muted);font-size:.9rem;font-weight:400}
dl.facts{display:grid;grid-template-columns:minmax(6rem,max-content) minmax(0,1fr);gap:.25rem 1rem;margin:0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}
.scroll:focus{outline:2px solid var(--link);outline-offset:2px}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.95rem}
caption{text-align:left;color:var(--muted);font-size:.9rem;padding-bottom:.3rem}
thead th{white-space:nowrap}
th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
thead th{background:var(--band)}
figure{margin:0}
figcaption{color:var(--muted);font-size:.9rem;margin-top:.3rem}
svg.flow{display:block;max-width:none;height:auto}
ul.findings{padding-left:1.2rem}
ul.findings li{margin:.45rem 0;overflow-wrap:anywhere}
.sev{display:inline-block;min-width:4.2rem;text-align:center;border-radius:.25rem;padding:0 .3rem;font-size:.8rem;font-weight:700;color:#fff}
.sev.error{background:var(--bad)}.sev.warning{background:var(--warn)}.sev.info{background:#3b4a5c}
footer{margin-top:2.5rem;padding-bottom:2rem;border-top:1px solid var(--line);color:var(--muted);font-size:.9rem}
@media (max-width:40rem){
 h1{font-size:1.4rem}
 table.cards caption{display:block;width:100%}
 table.cards thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
 table.cards,table.cards tbody,table.cards tr,table.cards th,table.cards td{display:block;width:100%}
 table.cards tr{border:1px solid var(--line);border-radius:.4rem;margin:0 0 .8rem;padding:.3rem .2rem}
 table.cards th,table.cards td{border:0;padding:.2rem .5rem}
 table.cards td::before,table.cards th[data-label]::before{content:attr(data-label);display:block;font-size:.78rem;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
}
@media print{.scroll{overflow:visible}a{color:inherit}}
"#;
