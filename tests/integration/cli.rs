//! The command line as a user meets it: exit codes, bad input, formats.

use crate::util::{blueprint, text, write};
use serde_json::Value;

#[test]
fn unreadable_file_is_an_operational_error() {
    let out = blueprint()
        .args(["validate", "no/such/file.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read no/such/file.toml"));
}

#[test]
fn bad_arguments_exit_2() {
    let out = blueprint()
        .args(["validate", "--as-of", "yesterday", "x.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("YYYY-MM-DD"));
    let out = blueprint().args(["no-such-command"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_toml_syntax_error_is_reported_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "broken.toml",
        "a = \nb = \"ok\"\nc = [1,\nd = }\n",
    );
    let out = blueprint()
        .args(["validate", "--color", "never"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let s = text(&out.stdout);
    let count = s.matches("error[parse/toml-syntax]").count();
    assert!(count >= 2, "{s}");
    assert!(s.contains("broken.toml:1:"), "{s}");
}

#[test]
fn hostile_input_gets_a_diagnostic_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("nan.toml", b"x = nan\n".to_vec(), "canon/non-finite"),
        ("inf.json", br#"{"x": 1e999}"#.to_vec(), "canon/non-finite"),
        (
            "big.json",
            br#"{"x": 9007199254740993}"#.to_vec(),
            "canon/unsafe-integer",
        ),
        (
            "big.toml",
            b"x = 18446744073709551615\n".to_vec(),
            "canon/unsafe-integer",
        ),
        (
            "dup.json",
            br#"{"x": 1, "x": 2}"#.to_vec(),
            "parse/duplicate-key",
        ),
        (
            "dup.toml",
            b"x = 1\nx = 2\n".to_vec(),
            "parse/duplicate-key",
        ),
        ("deep.json", "[".repeat(5000).into_bytes(), "limit/depth"),
        (
            "deep.toml",
            format!("x = {}", "[".repeat(5000)).into_bytes(),
            "limit/depth",
        ),
        (
            "utf8.toml",
            b"x = \"\xc3\x28\"\n".to_vec(),
            "parse/invalid-utf8",
        ),
        (
            "surrogate.json",
            br#"{"x": "\udc00"}"#.to_vec(),
            "parse/json-syntax",
        ),
        (
            "trailing.json",
            br#"{"x": 1,}"#.to_vec(),
            "parse/json-syntax",
        ),
    ];
    for (name, bytes, code) in cases {
        let f = write(dir.path(), name, &bytes);
        let out = blueprint()
            .args(["validate", "--format", "json"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let codes: Vec<&str> = report["files"][0]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap())
            .collect();
        assert!(
            codes.contains(&code),
            "{name}: expected {code}, got {codes:?}"
        );
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("huge.json");
    let file = std::fs::File::create(&f).unwrap();
    file.set_len(64 * 1024 * 1024).unwrap();
    let out = blueprint().arg("validate").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("over the limit"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn schema_command_prints_the_manifest_schema() {
    let out = blueprint().arg("schema").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["$id"], "urn:blueprint:schema:blueprint:v1");
}

#[test]
fn demo_validates_signs_and_verifies_the_bundled_example() {
    let dir = tempfile::tempdir().unwrap();
    let out = blueprint()
        .args(["demo", "--color", "never", "--as-of", "2026-11-26", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("examples/smart-meter.toml: ok: 0 errors"), "{s}");
    assert!(s.contains("3. verify:"), "{s}");
    // What the demo wrote verifies with the ordinary commands.
    let verify = blueprint()
        .arg("verify")
        .arg(dir.path().join("smart-meter.dsse.json"))
        .arg("--pubkey")
        .arg(dir.path().join("demo.pub"))
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(0), "{}", text(&verify.stderr));
    // A second run refuses to overwrite the key.
    let again = blueprint()
        .args(["demo", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
}

/// One requirement in several laws: one finding for people,
/// one result per rule for machines.
#[test]
fn a_shared_check_failing_under_several_laws_reads_as_one_finding() {
    let dir = tempfile::tempdir().unwrap();
    let camera =
        std::fs::read_to_string(crate::util::repo_file("examples/home-camera.toml")).unwrap();
    let needle = "password_scheme = \"user_set_on_first_use\"";
    assert!(camera.contains(needle));
    let f = write(
        dir.path(),
        "camera.toml",
        camera.replace(needle, "password_scheme = \"universal_default\""),
    );
    let human = blueprint()
        .args(["validate", "--color", "never", "--as-of", "2026-11-26"])
        .arg(&f)
        .output()
        .unwrap();
    let s = text(&human.stdout);
    assert_eq!(s.matches("[check/EQ-PASSWORD]").count(), 1, "{s}");
    let block = &s[s.find("[check/EQ-PASSWORD]").unwrap()..];
    let block = &block[..block.find("\n\n").unwrap()];
    for rule in ["etsi.5.1-1", "sb327.reasonable-security"] {
        assert!(
            block.contains(&format!("citation: {rule} (")),
            "{rule} missing in\n{block}"
        );
    }
    let json = blueprint()
        .args(["validate", "--format", "json", "--as-of", "2026-11-26"])
        .arg(&f)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&json.stdout).unwrap();
    let grouped: Vec<&str> = report["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"]["group"] == "EQ-PASSWORD")
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(grouped.contains(&"profile/etsi.5.1-1"), "{grouped:?}");
    assert!(
        grouped.contains(&"profile/sb327.reasonable-security"),
        "{grouped:?}"
    );
}
