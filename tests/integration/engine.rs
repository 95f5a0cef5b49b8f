//! Profile engine: loader traps (docs/engine.md) and evaluation
//! features with the small profiles of `tests/fixtures/profiles/`.

use blueprint::diag::{Diagnostic, Severity};
use blueprint::manifest::document::{self, Limits};
use blueprint::profile::{Evaluation, ProfileLibrary, Selection, evaluate};
use blueprint::source::SourceMap;
use serde_json::{Value, json};
use time::macros::date;

fn fixture(name: &str) -> String {
    let p = format!(
        "{}/tests/fixtures/profiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn base() -> Value {
    let p = format!(
        "{}/tests/fixtures/bases/engine-camera.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let t = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    serde_json::from_str(&t).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn lib_with(map: &mut SourceMap, files: &[&str]) -> ProfileLibrary {
    let mut lib = ProfileLibrary::empty(map).unwrap_or_else(|d| panic!("{d:#?}"));
    for f in files {
        lib.add_file(map, &format!("tests/fixtures/profiles/{f}"), &fixture(f))
            .unwrap_or_else(|d| panic!("{f}: {d:#?}"));
    }
    lib
}

fn load_err(file: &str) -> Vec<Diagnostic> {
    let mut map = SourceMap::new();
    let mut lib = ProfileLibrary::empty(&mut map).unwrap_or_else(|d| panic!("{d:#?}"));
    match lib.add_file(&mut map, file, &fixture(file)) {
        Ok(_) => panic!("{file} loaded but must not"),
        Err(d) => d,
    }
}

fn run(lib: &ProfileLibrary, map: &mut SourceMap, m: &Value, as_of: time::Date) -> Evaluation {
    let text = serde_json::to_string_pretty(m).unwrap_or_default();
    let doc = document::load(map, "m.json", text.as_bytes(), &Limits::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    evaluate(lib, &Selection::Auto, &doc, as_of)
}

fn of<'a>(e: &'a Evaluation, rule: &str) -> Vec<&'a Diagnostic> {
    let code = format!("profile/{rule}");
    e.diagnostics.iter().filter(|d| d.code == code).collect()
}

#[test]
fn builtin_library_loads_and_compiles() {
    let mut map = SourceMap::new();
    let lib = ProfileLibrary::builtin(&mut map).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(lib.compile_all(date!(2026 - 11 - 26)).is_empty());
    assert!(lib.shared().checks.contains_key("EQ-BASELINE"));
}

#[test]
fn misspelt_keyword_is_a_load_error() {
    let d = load_err("bad-keyword.toml");
    assert!(
        d.iter()
            .any(|d| d.code == "profile-load/unknown-keyword" && d.message.contains("const")),
        "{d:#?}"
    );
}

#[test]
fn unquoted_toml_date_is_a_load_error() {
    let d = load_err("bad-date.toml");
    assert!(
        d.iter().any(|d| d.code == "profile-load/unquoted-date"),
        "{d:#?}"
    );
}

#[test]
fn misspelt_derived_and_manifest_paths_are_load_errors() {
    let d = load_err("bad-path.toml");
    assert!(
        d.iter()
            .any(|d| d.code == "profile-load/unknown-path" && d.message.contains("gpdr9")),
        "{d:#?}"
    );
    assert!(
        d.iter()
            .any(|d| d.code == "profile-load/unknown-path" && d.message.contains("min_verison")),
        "{d:#?}"
    );
}

#[test]
fn strict_typing_rejects_wrong_types() {
    // `{minimum = 3}` alone would accept a string; the loader adds `type`.
    let text = r#"
[profile]
id = "test-typing"
title = "t"
instrument = "t"
version = "2026-01-01"

[[rule]]
id = "test.min"
severity = "error"
title = "at least 3 days"
citation = "t"
hint = "t"
require = { "/manifest/security/vuln_disclosure/ack_days" = { minimum = 3 } }
"#;
    let mut map = SourceMap::new();
    let mut lib = ProfileLibrary::empty(&mut map).unwrap_or_else(|d| panic!("{d:#?}"));
    lib.add_file(&mut map, "typing.toml", text)
        .unwrap_or_else(|d| panic!("{d:#?}"));
    let mut m = base();
    m["security"]["vuln_disclosure"]["ack_days"] = json!("30");
    let src_locate = |_: &str| 0..0;
    let src = blueprint::profile::ManifestSource {
        file: blueprint::source::FileId(0),
        locate: &src_locate,
    };
    let e = blueprint::profile::evaluate_value(
        &lib,
        &Selection::Auto,
        &m,
        &blueprint::profile::Extra::default(),
        &src,
        date!(2026 - 11 - 26),
    );
    assert_eq!(of(&e, "test.min").len(), 1, "{:#?}", e.diagnostics);
    m["security"]["vuln_disclosure"]["ack_days"] = json!(30);
    let e = blueprint::profile::evaluate_value(
        &lib,
        &Selection::Auto,
        &m,
        &blueprint::profile::Extra::default(),
        &src,
        date!(2026 - 11 - 26),
    );
    assert!(of(&e, "test.min").is_empty());
}

#[test]
fn transit_rule_fires_at_the_field_and_labels_both_files() {
    let mut map = SourceMap::new();
    let lib = lib_with(&mut map, &["transit.toml"]);
    let mut m = base();
    let e = run(&lib, &mut map, &m, date!(2026 - 11 - 26));
    assert!(e.profiles_applied.contains(&"test-transit".to_string()));
    assert!(
        of(&e, "test.security-in-transit").is_empty(),
        "{:#?}",
        e.diagnostics
    );
    m["network_endpoints"][0]["tls"]["min_version"] = json!("1.1");
    let e = run(&lib, &mut map, &m, date!(2026 - 11 - 26));
    let f = of(&e, "test.security-in-transit");
    assert_eq!(f.len(), 1, "{f:#?}");
    let d = f[0];
    assert_eq!(
        d.pointer.as_deref(),
        Some("/network_endpoints/0/tls/min_version")
    );
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.message, "TLS minimum version must be 1.2 or higher");
    assert_eq!(d.labels.len(), 2);
    let primary = d
        .primary()
        .map(|l| map.get(l.file).text()[l.span.clone()].to_string());
    assert_eq!(primary.as_deref(), Some("\"1.1\""));
    let secondary = d
        .labels
        .iter()
        .find(|l| !l.primary)
        .map(|l| map.get(l.file).text()[l.span.clone()].to_string());
    assert_eq!(secondary.as_deref(), Some("\"test.security-in-transit\""));
    assert!(d.notes.iter().any(|n| n == "help: Enforce TLS 1.2+."));
    assert!(
        d.notes
            .iter()
            .any(|n| n.starts_with("citation: GDPR Art. 32"))
    );
    // An endpoint carrying only US items is not an EEA flow.
    let mut m = base();
    m["network_endpoints"][3]["tls"]["min_version"] = json!("1.1");
    let e = run(&lib, &mut map, &m, date!(2026 - 11 - 26));
    assert!(of(&e, "test.security-in-transit").is_empty());
}

#[test]
fn effective_from_gates_to_warning_not_yet_in_force() {
    let mut map = SourceMap::new();
    let lib = lib_with(&mut map, &["transit.toml"]);
    let e = run(&lib, &mut map, &base(), date!(2026 - 11 - 26));
    let f = of(&e, "test.future");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, Severity::Warning);
    assert!(f[0].notes.iter().any(|n| n.contains("not yet in force")));
    assert_eq!(f[0].message, "updates must not be supported (test)");
    let e = run(&lib, &mut map, &base(), date!(2028 - 01 - 01));
    assert_eq!(of(&e, "test.future")[0].severity, Severity::Error);
    // A pending named date is never in force.
    let e = run(&lib, &mut map, &base(), date!(2099 - 01 - 01));
    let p = of(&e, "test.pending");
    assert_eq!(p[0].severity, Severity::Warning);
    // No description: the headline states the problem, not the rule's title.
    assert_eq!(
        p[0].message,
        "`security.update.supported` is true; test.pending requires false"
    );
    assert!(
        p[0].rule
            .as_ref()
            .and_then(|r| r.not_in_force_until.clone())
            .is_some()
    );
}

#[test]
fn shared_check_any_of_alternatives_and_point_at() {
    let mut map = SourceMap::new();
    let lib = lib_with(&mut map, &["transit.toml"]);
    let mut m = base();
    let e = run(&lib, &mut map, &m, date!(2026 - 11 - 26));
    assert!(of(&e, "test.check-password").is_empty());
    m["security"]["authentication"]["password_scheme"] = json!("universal_default");
    let e = run(&lib, &mut map, &m, date!(2026 - 11 - 26));
    let f = of(&e, "test.check-password");
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].pointer.as_deref(),
        Some("/security/authentication/password_scheme")
    );
    assert_eq!(
        f[0].rule.as_ref().and_then(|r| r.group.clone()).as_deref(),
        Some("EQ-PASSWORD")
    );
    assert_eq!(f[0].severity, Severity::Warning);
    let a = of(&e, "test.any-of");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].pointer.as_deref(), Some("/vendor"));
    assert!(
        a[0].notes
            .iter()
            .any(|n| n
                .starts_with("alternative 1: the DPO must be nobody (at `vendor.contacts.dpo`)")),
        "{:#?}",
        a[0].notes
    );
    assert!(
        a[0].notes
            .iter()
            .any(|n| n.starts_with("alternative 2: `vendor.eu_representative` is absent")),
        "{:#?}",
        a[0].notes
    );
}

#[test]
fn dedupe_reports_a_manifest_flag_once() {
    let mut map = SourceMap::new();
    let lib = lib_with(&mut map, &["transit.toml"]);
    let e = run(&lib, &mut map, &base(), date!(2026 - 11 - 26));
    let f = of(&e, "test.dedupe");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].pointer.as_deref(), Some("/security/update/supported"));
}

#[test]
fn located_arrays_and_mirrors_map_to_the_manifest() {
    let mut map = SourceMap::new();
    let lib = lib_with(&mut map, &["transit.toml"]);
    let mut m = base();
    let e = run(&lib, &mut map, &m, date!(2026 - 11 - 26));
    assert!(of(&e, "test.shortening").is_empty());
    m["security"]["support_period"]["end_date"] = json!("2030-01-01");
    let e = run(&lib, &mut map, &m, date!(2026 - 11 - 26));
    let f = of(&e, "test.shortening");
    assert_eq!(f.len(), 1);
    assert_eq!(
        f[0].pointer.as_deref(),
        Some("/security/support_period/end_date")
    );
    // nimbus-eu (recipients/0) is not DPF-certified: a mirror maps the field.
    let r = of(&e, "test.recipient-mirror");
    assert!(
        r.iter()
            .any(|d| d.pointer.as_deref() == Some("/recipients/0/dpf_certified")),
        "{r:#?}"
    );
}

#[test]
fn max_age_days_uses_the_as_of_date() {
    let mut map = SourceMap::new();
    let lib = lib_with(&mut map, &["transit.toml"]);
    let e = run(&lib, &mut map, &base(), date!(2026 - 06 - 01));
    assert!(of(&e, "test.age").is_empty());
    let e = run(&lib, &mut map, &base(), date!(2026 - 11 - 26));
    let f = of(&e, "test.age");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].pointer.as_deref(), Some("/assessments/dpia/date"));
}

#[test]
fn severity_unless_caps_and_groups_guard() {
    let mut map = SourceMap::new();
    let lib = lib_with(&mut map, &["gated.toml"]);
    let mut m = base();
    let e = run(&lib, &mut map, &m, date!(2026 - 11 - 26));
    assert_eq!(of(&e, "test.capped")[0].severity, Severity::Warning);
    // Only personal items pass the group guard; all items here are personal.
    let g = of(&e, "test.grouped");
    assert_eq!(g.len(), 13, "{g:#?}");
    m["markets"] = json!(["US", "US-FED"]);
    for it in m["data_items"].as_array_mut().into_iter().flatten() {
        it["markets"] = json!(["US"]);
    }
    m["data_items"][0]["category"] = json!("system.operations");
    let e = run(&lib, &mut map, &m, date!(2026 - 11 - 26));
    assert_eq!(of(&e, "test.capped")[0].severity, Severity::Error);
    assert_eq!(of(&e, "test.grouped").len(), 12);
}

#[test]
fn scope_selects_profiles() {
    let mut map = SourceMap::new();
    let lib = lib_with(&mut map, &["transit.toml", "gated.toml"]);
    let mut m = base();
    m["markets"] = json!(["CN"]);
    let e = run(&lib, &mut map, &m, date!(2026 - 11 - 26));
    assert!(e.profiles_applied.is_empty(), "{:?}", e.profiles_applied);
    let text = serde_json::to_string(&m).unwrap_or_default();
    let doc = document::load(&mut map, "m.json", text.as_bytes(), &Limits::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    // Chosen by id, the profile still needs its scope: one info notice.
    let e = evaluate(
        &lib,
        &Selection::Explicit(vec!["test-gated".into()]),
        &doc,
        date!(2026 - 11 - 26),
    );
    assert!(e.profiles_applied.is_empty(), "{:?}", e.profiles_applied);
    let notices: Vec<_> = e
        .diagnostics
        .iter()
        .filter(|d| d.code == "profile/not-applicable")
        .collect();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].severity, Severity::Info);
    assert!(e.diagnostics.iter().all(|d| d.rule.is_none()));
    // Forced, it runs as a what-if.
    let e = evaluate(
        &lib,
        &Selection::WhatIf {
            selected: vec![],
            forced: vec!["test-gated".into()],
        },
        &doc,
        date!(2026 - 11 - 26),
    );
    assert_eq!(e.profiles_applied, vec!["test-gated".to_string()]);
    assert!(e.diagnostics.iter().any(|d| d.rule.is_some()));
}

#[test]
fn evaluate_mut_lends_the_manifest_and_matches_evaluate() {
    let mut map = SourceMap::new();
    let lib = lib_with(&mut map, &["transit.toml"]);
    let mut m = base();
    m["data_items"][0]["category"] = json!("user.biometric.face");
    m["network_endpoints"][0]["tls"]["min_version"] = json!("1.1");
    let text = serde_json::to_string_pretty(&m).unwrap_or_default();
    let mut doc = document::load(&mut map, "m.json", text.as_bytes(), &Limits::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    let before = doc.value.clone();
    let a = evaluate(&lib, &Selection::Auto, &doc, date!(2026 - 11 - 26));
    let b = blueprint::profile::evaluate_mut(
        &lib,
        &Selection::Auto,
        &mut doc,
        &blueprint::profile::Extra::default(),
        date!(2026 - 11 - 26),
    );
    assert_eq!(doc.value, before, "the deprecated category is restored");
    assert_eq!(a.diagnostics, b.diagnostics);
    assert!(!of(&b, "test.security-in-transit").is_empty());
}
