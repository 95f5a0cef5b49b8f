//! What a person reads: absent fields with the snippet to paste, the TOML
//! table trap, repeated findings merged, severity filtering and the
//! summary, `explain` of every code kind. Snapshots pin the wording.

use crate::util::{blueprint, repo_file, text, write};
use std::path::Path;

const AS_OF: &str = "2026-11-26";

fn meter() -> String {
    std::fs::read_to_string(repo_file("examples/smart-meter.toml")).unwrap()
}

/// The meter without the TOML section headed `header` (up to the next header).
fn without_section(text: &str, header: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skipping = line.trim() == header;
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert_ne!(out.len(), text.len() + 1, "{header} not found");
    out
}

/// The meter with its privacy notice in English only.
fn only_english(text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("languages = [\"bg\""))
        .expect("the notice's language list");
    lines[at] = "languages = [\"en\"]".into();
    lines.join("\n") + "\n"
}

/// `validate` run inside `dir` (relative names in the output); stdout and
/// the exit code.
fn validate(dir: &Path, name: &str, extra: &[&str]) -> (String, i32) {
    let out = blueprint()
        .current_dir(dir)
        .args(["validate", "--color", "never", "--as-of", AS_OF])
        .args(extra)
        .arg(name)
        .output()
        .unwrap();
    (text(&out.stdout), out.status.code().unwrap_or(-1))
}

#[test]
fn the_clean_meter_prints_a_few_lines_by_default_and_its_summary_with_q() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "meter.toml", meter());
    let (default, code) = validate(dir.path(), "meter.toml", &[]);
    assert_eq!(code, 0);
    assert!(default.lines().count() <= 12, "{default}");
    insta::assert_snapshot!("clean_meter_default", default);
    let (quiet, _) = validate(dir.path(), "meter.toml", &["-q"]);
    insta::assert_snapshot!("clean_meter_quiet", quiet);
    // -v shows the infos the default hides.
    let (verbose, _) = validate(dir.path(), "meter.toml", &["-v"]);
    assert!(verbose.contains("note[profile/gdpr.scope]"), "{verbose}");
    let (same, _) = validate(dir.path(), "meter.toml", &["--min-severity", "info"]);
    assert_eq!(verbose, same);
}

#[test]
fn min_severity_error_hides_warnings_and_counts_match_what_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let camera = std::fs::read_to_string(repo_file("examples/home-camera.toml")).unwrap();
    write(dir.path(), "camera.toml", camera);
    let (out, code) = validate(dir.path(), "camera.toml", &["--min-severity", "error"]);
    assert_eq!(code, 1);
    assert!(!out.contains("\nwarning["), "{out}");
    let shown = out.lines().filter(|l| l.starts_with("error[")).count();
    let summary = out
        .lines()
        .find(|l| l.starts_with("camera.toml: FAILED: "))
        .unwrap();
    assert!(
        summary.starts_with(&format!("camera.toml: FAILED: {shown} errors")),
        "{summary} vs {shown} shown"
    );
    // The summary names what failed.
    let errors = out.lines().find(|l| l.starts_with("  errors: ")).unwrap();
    assert!(errors.contains("check/EQ-SUPPORT (5 rules)"), "{errors}");
}

#[test]
fn an_absent_table_is_named_with_a_snippet_and_points_at_its_parent() {
    let dir = tempfile::tempdir().unwrap();
    let text = without_section(&meter(), "[security.credentials]");
    write(dir.path(), "meter.toml", &text);
    let (out, code) = validate(dir.path(), "meter.toml", &[]);
    assert_eq!(code, 1);
    assert!(
        out.contains("`security.credentials.hardcoded_secrets` is absent"),
        "{out}"
    );
    assert!(
        out.contains("[security.credentials]\n          hardcoded_secrets = false"),
        "{out}"
    );
    insta::assert_snapshot!("absent_table_with_snippet", out);
}

#[test]
fn an_absent_top_level_table_points_at_the_first_key_not_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = without_section(&without_section(&meter(), "[eu.data_act]"), "[eu]");
    write(dir.path(), "meter.toml", &text);
    let (out, _) = validate(dir.path(), "meter.toml", &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = v["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "profile/eu-data-act.access-on-request")
        .expect("finding about the absent eu table");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .starts_with("`eu.data_act` is absent"),
        "{d}"
    );
    let loc = &d["location"];
    assert_eq!(
        loc["line"], loc["end_line"],
        "one line, not a bracket: {loc}"
    );
    assert_eq!(d["fixes"][0]["at"], "");
}

#[test]
fn a_top_level_key_after_a_table_header_is_explained_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = meter().replacen("markets = [\"EU\"]\n", "", 1).replacen(
        "issued_at = 2026-01-19\n",
        "issued_at = 2026-01-19\nmarkets = [\"EU\"]\n",
        1,
    );
    write(dir.path(), "meter.toml", &text);
    let (out, code) = validate(dir.path(), "meter.toml", &[]);
    assert_eq!(code, 1);
    assert!(!out.contains("missing required key `markets`"), "{out}");
    assert!(out.contains("TOML puts every key written after"), "{out}");
    insta::assert_snapshot!("toml_table_trap", out);
}

#[test]
fn one_rule_failing_for_many_countries_is_one_finding() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "meter.toml", only_english(&meter()));
    let (out, _) = validate(dir.path(), "meter.toml", &[]);
    assert_eq!(
        out.matches("[profile/gdpr.notice-content]").count(),
        1,
        "{out}"
    );
    insta::assert_snapshot!("grouped_per_country", out);
    // Machines keep one result per country, marked with the shown finding.
    let (json, _) = validate(dir.path(), "meter.toml", &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let marked: Vec<&serde_json::Value> = v["files"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "profile/gdpr.notice-content")
        .collect();
    assert!(marked.len() > 20);
    assert!(marked.iter().all(|d| d["shown_as"]["size"] == marked.len()));
}

#[test]
fn the_json_report_with_fixes_and_groups_matches_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let text = only_english(&without_section(&meter(), "[security.credentials]"));
    write(dir.path(), "meter.toml", &text);
    let (out, _) = validate(dir.path(), "meter.toml", &["--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        out.contains("\"shown_as\"") && out.contains("\"fixes\""),
        "{out}"
    );
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("schemas/report.v1.schema.json")).unwrap(),
    )
    .unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&report).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn pager_runs_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "meter.toml", meter());
    let run = |extra: &[&str]| {
        let out = blueprint()
            .current_dir(dir.path())
            .env("PAGER", "sed s/^/paged:/")
            .args(["validate", "--color", "never", "--as-of", AS_OF])
            .args(extra)
            .arg("meter.toml")
            .output()
            .unwrap();
        text(&out.stdout)
    };
    assert!(!run(&[]).contains("paged:"));
    let paged = run(&["--pager"]);
    assert!(paged.starts_with("paged:meter.toml: ok"), "{paged}");
}

fn explain(code: &str) -> (String, String, i32) {
    let out = blueprint().args(["explain", code]).output().unwrap();
    (
        text(&out.stdout),
        text(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn explain_accepts_every_code_as_printed() {
    for (name, code) in [
        ("profile", "profile/gdpr.dpia"),
        ("bare_rule", "gdpr.dpia"),
        ("check", "check/EQ-SUPPORT"),
        ("bare_check", "EQ-SECRETS"),
        ("conflict", "conflict/legal-basis"),
        ("schema", "schema/additionalProperties"),
        ("ref", "ref/dangling"),
        ("todo", "todo/device/model"),
    ] {
        let (out, err, status) = explain(code);
        assert_eq!(status, 0, "{code}: {err}");
        insta::assert_snapshot!(format!("explain_{name}"), out);
    }
    // The same text for a code with and without its prefix.
    assert_eq!(explain("profile/gdpr.dpia").0, explain("gdpr.dpia").0);
}

#[test]
fn explain_suggests_the_nearest_ids_on_a_typo() {
    let (out, err, status) = explain("gdpr.dpai");
    assert_eq!(status, 1);
    assert!(out.is_empty());
    assert!(err.contains("did you mean gdpr.dpia"), "{err}");
    let (_, err, _) = explain("check/EQ-SUPORT");
    assert!(err.contains("EQ-SUPPORT"), "{err}");
}

#[test]
fn a_field_absent_in_every_alternative_is_called_absent_not_disagreeing() {
    let dir = tempfile::tempdir().unwrap();
    let camera = std::fs::read_to_string(repo_file("examples/home-camera.toml")).unwrap();
    let first_item = camera.find("[[data_items]]").unwrap();
    let at = first_item + camera[first_item..].find("sale_or_share = ").unwrap();
    let end = at + camera[at..].find('\n').unwrap() + 1;
    let edited = format!("{}{}", &camera[..at], &camera[end..]);
    write(dir.path(), "camera.toml", edited);
    let (out, _) = validate(dir.path(), "camera.toml", &[]);
    let head = out
        .lines()
        .find(|l| l.starts_with("error[profile/rb.lifecycle-declared]"))
        .unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        head,
        "error[profile/rb.lifecycle-declared]: `data_items[0].sale_or_share` is absent; rb.lifecycle-declared requires it"
    );
    assert!(!out.contains("disagrees"), "{out}");
}
