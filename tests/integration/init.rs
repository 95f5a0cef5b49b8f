//! `blueprint init`: the scaffold passes the schema as written, reports
//! only its placeholders until they are filled, and once they are filled no
//! profile finds a field missing.

use crate::util::{blueprint, text, write};
use blueprint::manifest::document::{self, Limits};
use blueprint::manifest::scaffold::{Choice, choices};
use blueprint::source::SourceMap;
use serde_json::Value;
use std::path::Path;

/// A fixed date, so the applicable profiles and the sample dates do not
/// move with the calendar.
const AS_OF: &str = "2026-06-01";

/// The six products of the must-show list: (name, markets, class, sensors).
fn combinations() -> Vec<(&'static str, String, &'static str, &'static str)> {
    vec![
        ("eu-consumer-camera", "EU".into(), "consumer", "camera"),
        ("us-ca-toy", "US,US-CA".into(), "toy", "gnss,microphone"),
        (
            "cn-network-equipment",
            "CN".into(),
            "network_equipment",
            "none",
        ),
        (
            "gb-eu-smart-plug",
            "GB,EU".into(),
            "consumer",
            "energy_meter",
        ),
        (
            "all-markets-camera",
            choices(Choice::Market).join(","),
            "consumer",
            "camera,microphone,gnss",
        ),
        ("us-smart-meter", "US".into(), "smart_meter", "energy_meter"),
    ]
}

fn init(markets: &str, class: &str, sensors: &str) -> String {
    let out = blueprint()
        .args([
            "init",
            "--as-of",
            AS_OF,
            "--markets",
            markets,
            "--class",
            class,
        ])
        .args(["--sensors", sensors])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// `validate --format json` of `path`: the exit code and the diagnostics.
fn validate(path: &Path, extra: &[&str]) -> (i32, Vec<Value>) {
    let out = blueprint()
        .args(["validate", "--format", "json", "--as-of", AS_OF])
        .args(extra)
        .arg(path)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stderr)));
    let diags = v["files"][0]["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    (out.status.code().unwrap_or(-1), diags)
}

fn code(d: &Value) -> &str {
    d["code"].as_str().unwrap_or("")
}

/// The test's own filler: every `# TODO` comment goes, a `true or false`
/// placeholder becomes `true`, a `"TODO"` string becomes `"sample"`; the
/// others keep the schema-valid value written there (the first allowed
/// value, a sample date, number or list).
fn fill(scaffold: &str) -> String {
    let mut out = String::new();
    for line in scaffold.lines() {
        let filled = match line.find("  # TODO") {
            None => line.to_string(),
            Some(i) => {
                let (assign, hint) = line.split_at(i);
                let (key, value) = assign.split_once(" = ").expect("key = value");
                let value = if hint.contains("true or false") {
                    "true"
                } else if value == "\"TODO\"" {
                    "\"sample\""
                } else {
                    value
                };
                format!("{key} = {value}")
            }
        };
        out.push_str(&filled);
        out.push('\n');
    }
    out
}

fn load(text: &str) -> Value {
    let mut map = SourceMap::new();
    document::load(&mut map, "m.toml", text.as_bytes(), &Limits::default())
        .unwrap_or_else(|d| panic!("{d:?}"))
        .value
}

#[test]
fn every_scaffold_reports_only_its_placeholders_until_filled() {
    let dir = tempfile::tempdir().unwrap();
    for (name, markets, class, sensors) in combinations() {
        let scaffold = init(&markets, class, sensors);
        assert!(
            scaffold.starts_with("#:schema urn:blueprint:schema:blueprint:v1\n"),
            "{name}"
        );
        let markers = scaffold.matches("  # TODO").count();
        assert!(markers > 50, "{name}: {markers} placeholders");
        let path = write(dir.path(), &format!("{name}.toml"), &scaffold);

        // The schema stage passes as written: only placeholders are reported.
        let (status, diags) = validate(&path, &["--schema-only"]);
        assert_eq!(status, 1, "{name}");
        let other: Vec<&str> = diags
            .iter()
            .map(code)
            .filter(|c| !c.starts_with("todo/"))
            .collect();
        assert!(other.is_empty(), "{name}: {other:?}");
        assert_eq!(diags.len(), markers, "{name}: one finding per placeholder");

        // The full run: still only the placeholders, each an error at its value.
        let (status, diags) = validate(&path, &[]);
        assert_eq!(status, 1, "{name}");
        assert_eq!(diags.len(), markers, "{name}");
        for d in &diags {
            assert!(code(d).starts_with("todo/"), "{name}: {d}");
            assert_eq!(d["severity"], "error", "{name}: {d}");
            let ptr = d["pointer"].as_str().unwrap_or("");
            assert_eq!(code(d), format!("todo{ptr}"), "{name}");
            let line = d["location"]["line"].as_u64().unwrap_or(0) as usize;
            let written = scaffold.lines().nth(line.saturating_sub(1)).unwrap_or("");
            assert!(
                written.contains("# TODO"),
                "{name}: {d} points at {written:?}"
            );
        }
    }
}

#[test]
fn a_filled_scaffold_lacks_no_field_any_profile_reads() {
    let dir = tempfile::tempdir().unwrap();
    for (name, markets, class, sensors) in combinations() {
        let filled = fill(&init(&markets, class, sensors));
        assert!(
            filled
                .lines()
                .all(|l| l.starts_with('#') || !l.contains("TODO")),
            "{name}"
        );
        let doc = load(&filled);
        let path = write(dir.path(), &format!("{name}.toml"), &filled);
        let (status, diags) = validate(&path, &[]);
        assert!(status == 0 || status == 1, "{name}: exit {status}");
        // Profiles ran (an unfilled or broken manifest gets none).
        assert!(
            diags.iter().any(|d| code(d).starts_with("profile/")),
            "{name}"
        );
        for d in &diags {
            let c = code(d);
            // No placeholder, shape or reference problem is left …
            assert!(
                !c.starts_with("todo/") && !c.starts_with("schema/") && !c.starts_with("ref/"),
                "{name}: {d}"
            );
            // … and no rule fails on a field that is absent: a failure on
            // an absent path is located at that path (the engine adds the
            // missing property to the pointer), so every finding's
            // pointer must name something the manifest has.
            if let Some(p) = d["pointer"].as_str() {
                assert!(
                    doc.pointer(p).is_some(),
                    "{name}: {c} points at the absent {p}: {}",
                    d["message"]
                );
            }
        }
    }
}

#[test]
fn a_rule_on_an_absent_field_points_at_the_absent_path() {
    // The absence check above relies on this: remove a field the profiles
    // read from a filled scaffold and the finding names that field.
    let dir = tempfile::tempdir().unwrap();
    let filled = fill(&init("EU", "consumer", "camera"));
    let without: String = filled
        .lines()
        .filter(|l| !l.starts_with("hardcoded_secrets = "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(without, filled);
    let path = write(dir.path(), "m.toml", &without);
    let (_, diags) = validate(&path, &[]);
    assert!(
        diags
            .iter()
            .any(|d| d["pointer"] == "/security/credentials/hardcoded_secrets"),
        "{diags:#?}"
    );
}

#[test]
fn eu_consumer_camera_scaffold() {
    insta::assert_snapshot!(init("EU", "consumer", "camera"));
}

#[test]
fn the_name_and_vendor_flags_fill_their_fields() {
    let out = blueprint()
        .args([
            "init",
            "--as-of",
            AS_OF,
            "--markets",
            "EU",
            "--class",
            "wearable",
        ])
        .args(["--sensors", "heart_rate", "--name", "Pulse Band 2"])
        .args(["--vendor", "Acme Wearables GmbH"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = load(&text(&out.stdout));
    assert_eq!(doc["blueprint"]["id"], "pulse-band-2");
    assert_eq!(doc["vendor"]["legal_name"], "Acme Wearables GmbH");
    assert_eq!(doc["sensors"][0]["type"], "heart_rate");
    assert_eq!(doc["data_items"][0]["source_sensor"], "heart_rate");
}

#[test]
fn output_file_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.toml");
    let run = || {
        blueprint()
            .args(["init", "--markets", "EU", "--class", "consumer"])
            .args(["--sensors", "camera", "-o"])
            .arg(&path)
            .output()
            .unwrap()
    };
    let first = run();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(first.stdout.is_empty());
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with("#:schema "));
    std::fs::write(&path, "# the vendor's own work\n").unwrap();
    let second = run();
    assert_eq!(second.status.code(), Some(2));
    assert!(
        text(&second.stderr).contains("already exists; init never overwrites"),
        "{}",
        text(&second.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "# the vendor's own work\n"
    );
}

#[test]
fn a_misspelt_flag_value_gets_a_suggestion() {
    let cases = [
        (
            [
                "--markets",
                "EU",
                "--class",
                "consumer",
                "--sensors",
                "camrea",
            ],
            "`camrea` is not a sensor type (did you mean `camera`?)",
        ),
        (
            [
                "--markets",
                "eu",
                "--class",
                "consumer",
                "--sensors",
                "camera",
            ],
            "`eu` is not a market (did you mean `EU`?)",
        ),
        (
            [
                "--markets",
                "EU",
                "--class",
                "consmer",
                "--sensors",
                "camera",
            ],
            "`consmer` is not a product class (did you mean `consumer`?)",
        ),
    ];
    for (args, want) in cases {
        let out = blueprint().arg("init").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains(want), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty());
    }
    // Far from every value: the list of allowed values instead.
    let out = blueprint()
        .args([
            "init",
            "--markets",
            "EU",
            "--class",
            "spaceship",
            "--sensors",
            "camera",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("allowed: consumer, toy, wearable"));
}

#[test]
fn missing_flags_without_a_terminal_are_a_usage_error() {
    let out = blueprint()
        .args(["init", "--markets", "EU"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("missing --class, --sensors"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn explain_describes_placeholders() {
    let out = blueprint()
        .args(["explain", "todo/data_items/0/consent/kind"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    assert!(t.contains("/data_items/0/consent/kind"), "{t}");
    assert!(t.contains("# TODO"), "{t}");
}

#[test]
fn an_unfilled_scaffold_cannot_be_signed() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.toml", init("EU", "consumer", "camera"));
    let prefix = dir.path().join("vendor");
    let o = blueprint()
        .arg("keygen")
        .arg("--out")
        .arg(&prefix)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let env = dir.path().join("env.json");
    let o = blueprint()
        .args(["sign", "--color", "never"])
        .arg(&m)
        .arg("--key")
        .arg(dir.path().join("vendor.key"))
        .arg("-o")
        .arg(&env)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("refusing to sign"),
        "{}",
        text(&o.stderr)
    );
    assert!(!env.exists());
}
