//! `--profile` chooses a profile but never forces it past its scope;
//! `--force-profile` evaluates it anyway, as a what-if.

use crate::util::{blueprint, repo_file, text};

fn validate(args: &[&str]) -> (String, Option<i32>) {
    let out = blueprint()
        .arg("validate")
        .arg(repo_file("examples/smart-meter.toml"))
        .args(["--as-of", "2026-11-26", "--format", "json"])
        .args(args)
        .output()
        .expect("runs");
    (text(&out.stdout), out.status.code())
}

fn codes(json: &str) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_str(json).expect("json report");
    let mut out = Vec::new();
    let mut stack = vec![&v];
    while let Some(x) = stack.pop() {
        match x {
            serde_json::Value::Object(o) => {
                if let (Some(c), Some(s)) = (
                    o.get("code").and_then(|c| c.as_str()),
                    o.get("severity").and_then(|s| s.as_str()),
                ) {
                    out.push((c.to_string(), s.to_string()));
                }
                stack.extend(o.values());
            }
            serde_json::Value::Array(a) => stack.extend(a),
            _ => {}
        }
    }
    out
}

#[test]
fn a_chosen_profile_that_does_not_apply_is_reported_once_and_stays_silent() {
    // The EU-only smart meter: no US market, no CI operator, no country of concern.
    for id in ["us-coppa", "us-circia", "us-doj-dsp"] {
        let (out, code) = validate(&["--profile", id]);
        let c = codes(&out);
        let notices: Vec<_> = c
            .iter()
            .filter(|(k, _)| k == "profile/not-applicable")
            .collect();
        assert_eq!(notices.len(), 1, "{id}: {out}");
        assert_eq!(notices[0].1, "info", "{id}");
        assert!(
            !c.iter()
                .any(|(k, _)| k.starts_with("profile/") && k != "profile/not-applicable"),
            "{id}: rules ran: {c:?}"
        );
        assert!(out.contains(id) && out.contains("does not apply"), "{out}");
        assert_eq!(code, Some(0), "{id}: {out}");
    }
}

#[test]
fn a_forced_profile_is_evaluated_as_a_what_if() {
    let (out, code) = validate(&["--force-profile", "us-coppa"]);
    let c = codes(&out);
    assert!(
        c.iter()
            .any(|(k, s)| k == "profile/coppa.online-notice" && s == "error"),
        "{c:?}"
    );
    assert!(out.contains("what-if"), "{out}");
    assert_eq!(code, Some(1));
}

#[test]
fn an_applicable_chosen_profile_runs_without_a_notice() {
    let (out, _) = validate(&["--profile", "eu-gdpr"]);
    let c = codes(&out);
    assert!(
        !c.iter().any(|(k, _)| k == "profile/not-applicable"),
        "{c:?}"
    );
    assert!(c.iter().any(|(k, _)| k == "profile/gdpr.scope"), "{c:?}");
}
