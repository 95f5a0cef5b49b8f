//! Severities of the US profiles that the fire/silent cases cannot see:
//! the us-iot-cybersecurity-act `severity_unless` cap
//! and the COPPA 2025 compliance date.

use blueprint::diag::Severity;
use blueprint::manifest::document::{self, Limits};
use blueprint::profile::{ProfileLibrary, Selection, evaluate};
use blueprint::source::SourceMap;
use serde_json::{Value, json};
use time::macros::date;

fn base(name: &str) -> Value {
    let p = format!(
        "{}/tests/fixtures/bases/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{p}: {e}"))
}

fn set(m: &mut Value, ptr: &str, v: Value) {
    *m.pointer_mut(ptr)
        .unwrap_or_else(|| panic!("no {ptr} in the base")) = v;
}

/// Severities of every finding of `rule` on `m` as of `as_of`.
fn severities(m: &Value, rule: &str, as_of: time::Date) -> Vec<Severity> {
    let mut map = SourceMap::new();
    let lib = ProfileLibrary::builtin(&mut map).expect("shipped profiles load");
    let text = serde_json::to_string(m).expect("serializable");
    let doc = document::load(&mut map, "m.json", text.as_bytes(), &Limits::default())
        .expect("base parses");
    let code = format!("profile/{rule}");
    evaluate(&lib, &Selection::Auto, &doc, as_of)
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .map(|d| d.severity)
        .collect()
}

#[test]
fn nist_errors_are_advisory_outside_federal_procurement() {
    let mut m = base("us-camera");
    set(
        &mut m,
        "/security/identification/physical_unique",
        json!(false),
    );
    let rule = "nist.device-identification";
    let as_of = date!(2026 - 11 - 26);
    assert_eq!(severities(&m, rule, as_of), [Severity::Warning]);

    set(&mut m, "/markets", json!(["US", "US-FED"]));
    assert_eq!(severities(&m, rule, as_of), [Severity::Error]);

    set(&mut m, "/markets", json!(["US"]));
    set(&mut m, "/us/federal_procurement", json!(true));
    assert_eq!(severities(&m, rule, as_of), [Severity::Error]);
}

#[test]
fn nist_warnings_stay_warnings_for_federal_buyers() {
    let mut m = base("us-camera");
    set(&mut m, "/markets", json!(["US", "US-FED"]));
    set(
        &mut m,
        "/security/state_awareness/reports_state",
        json!(false),
    );
    let got = severities(&m, "nist.state-awareness", date!(2026 - 11 - 26));
    assert_eq!(got, [Severity::Warning]);
}

#[test]
fn coppa_2025_amendments_bind_from_the_compliance_date() {
    let mut m = base("us-kids-watch");
    set(&mut m, "/governance/security_program_written", json!(false));
    let rule = "coppa.security-program";
    assert_eq!(
        severities(&m, rule, date!(2026 - 04 - 21)),
        [Severity::Warning]
    );
    assert_eq!(
        severities(&m, rule, date!(2026 - 04 - 22)),
        [Severity::Error]
    );
}
