//! `validate` over directories and globs: JSON Lines in input order, the
//! closing summary, and what an unreadable file does to the batch.

use crate::util::{blueprint, repo_file, text, write};
use serde_json::Value;

/// A directory with two passing manifests (one nested) and a broken one.
fn batch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let meter = std::fs::read(repo_file("examples/smart-meter.toml")).unwrap();
    std::fs::create_dir(dir.path().join("nested")).unwrap();
    write(dir.path(), "a-meter.toml", &meter);
    write(&dir.path().join("nested"), "c-meter.toml", &meter);
    write(
        dir.path(),
        "b-broken.json",
        "{\"format\": \"blueprint/v1\"}",
    );
    write(dir.path(), "notes.txt", "not a manifest");
    dir
}

#[test]
fn jsonl_gives_one_report_per_file_in_sorted_order_on_any_number_of_threads() {
    let dir = batch();
    for jobs in ["1", "3"] {
        let out = blueprint()
            .args([
                "validate",
                "--as-of",
                "2026-11-26",
                "--format",
                "jsonl",
                "-j",
                jobs,
            ])
            .arg(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "one file fails");
        let lines: Vec<Value> = text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let paths: Vec<String> = lines
            .iter()
            .map(|l| {
                let p = l["path"].as_str().unwrap();
                p.strip_prefix(dir.path().to_str().unwrap())
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            paths,
            ["/a-meter.toml", "/b-broken.json", "/nested/c-meter.toml"]
        );
        let passed: Vec<bool> = lines
            .iter()
            .map(|l| l["passed"].as_bool().unwrap())
            .collect();
        assert_eq!(passed, [true, false, true]);
        // The same entry as in the whole JSON report.
        for key in ["format", "profiles", "counts", "diagnostics"] {
            assert!(lines[0].get(key).is_some(), "{key}");
        }
        let summary = text(&out.stderr);
        assert!(summary.contains("3 files: 2 passed, 1 failed"), "{summary}");
        assert!(
            summary.contains("  eu-gdpr: 2 files, 0 failed"),
            "{summary}"
        );
    }
}

#[test]
fn json_over_a_directory_is_one_report_with_every_file() {
    let dir = batch();
    let out = blueprint()
        .args(["validate", "--schema-only", "--format", "json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["files"].as_array().unwrap().len(), 3);
    assert_eq!(v["passed"], false);
    assert!(v["counts"]["error"].as_u64().unwrap() > 0);
}

#[test]
fn a_glob_is_expanded_when_the_shell_left_it_alone() {
    let dir = batch();
    let pattern = dir.path().join("*.toml");
    let out = blueprint()
        .args(["validate", "--as-of", "2026-11-26", "-q"])
        .arg(&pattern)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("a-meter.toml: ok"), "{shown}");
    assert!(
        !shown.contains("c-meter"),
        "a glob is not recursive: {shown}"
    );
}

#[test]
fn an_unreadable_file_is_reported_and_the_batch_goes_on_with_exit_2() {
    let dir = batch();
    let missing = dir.path().join("missing.toml");
    let out = blueprint()
        .args(["validate", "--as-of", "2026-11-26", "--format", "jsonl"])
        .arg(&missing)
        .arg(dir.path().join("a-meter.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["error"].as_str().unwrap().contains("cannot read"));
    assert_eq!(lines[1]["passed"], true);
    let err = text(&out.stderr);
    assert!(
        err.contains("2 files: 1 passed, 0 failed, 1 unreadable"),
        "{err}"
    );
}

#[test]
fn human_output_of_a_batch_ends_with_the_summary() {
    let dir = batch();
    let out = blueprint()
        .args([
            "validate",
            "--as-of",
            "2026-11-26",
            "-q",
            "--color",
            "never",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let shown = text(&out.stdout);
    assert!(
        shown.ends_with("report-baseline: 2 files, 0 failed\n"),
        "{shown}"
    );
    assert!(shown.contains("3 files: 2 passed, 1 failed\n"), "{shown}");
    // No progress bar when stderr is not a terminal.
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}
