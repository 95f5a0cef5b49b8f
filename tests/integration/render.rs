//! Rendered diagnostics as a user sees them: caret output for every class
//! of schema keyword and for rules of every shipped profile, written in TOML
//! and in JSON. Snapshots pin message, code, line:column and labels.

use crate::profile_cases::{CaseFile, case_files, patched};
use crate::util::{blueprint, repo_file, text};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Runs `blueprint validate` on `name` inside `dir` (so output paths are
/// relative) and returns stdout.
fn validate(dir: &Path, name: &str, extra: &[&str]) -> String {
    let out = blueprint()
        .current_dir(dir)
        .args(["validate", "--color", "never", "--as-of", "2026-11-26"])
        .args(extra)
        .arg(name)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{name}: exit {:?}: {}",
        out.status.code(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// One schema-stage (or reference) problem per keyword class: (snapshot
/// name, example file, text to replace, replacement, expected code).
const SCHEMA_CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "required",
        "smart-meter.toml",
        "version = 2\n",
        "",
        "schema/required",
    ),
    (
        "additional_properties",
        "smart-meter.toml",
        "placed_on_market =",
        "placed_on_markte =",
        "schema/additionalProperties",
    ),
    (
        "type",
        "smart-meter.toml",
        "ack_days = 2",
        "ack_days = \"2\"",
        "schema/type",
    ),
    (
        "enum",
        "smart-meter.toml",
        "min_version = \"1.3\"",
        "min_version = \"1.4\"",
        "schema/enum",
    ),
    (
        "const",
        "smart-meter.toml",
        "format = \"blueprint/v1\"",
        "format = \"blueprint/v2\"",
        "schema/const",
    ),
    (
        "pattern",
        "smart-meter.toml",
        "policy_url = \"https://voltaris.example/security\"",
        "policy_url = \"voltaris.example/security\"",
        "schema/pattern",
    ),
    (
        "minimum",
        "smart-meter.toml",
        "period_days = 90,",
        "period_days = -90,",
        "schema/minimum",
    ),
    (
        "maximum",
        "smart-meter.toml",
        "port = 443\n",
        "port = 70000\n",
        "schema/maximum",
    ),
    (
        "min_length",
        "smart-meter.toml",
        "criteria = \"Ring buffer of 90 days on the meter.\"",
        "criteria = \"\"",
        "schema/minLength",
    ),
    (
        "min_items",
        "smart-meter.toml",
        "markets = [\"EU\"]",
        "markets = []",
        "schema/minItems",
    ),
    (
        "unique_items",
        "smart-meter.toml",
        "markets = [\"EU\"]",
        "markets = [\"EU\", \"EU\"]",
        "schema/uniqueItems",
    ),
    (
        "not",
        "smart-meter.toml",
        "id = \"supplier\"",
        "id = \"first_party\"",
        "schema/not",
    ),
    (
        "format",
        "smart-meter.toml",
        "placed_on_market = 2025-06-02",
        "placed_on_market = \"2025-02-30\"",
        "schema/format",
    ),
    (
        "if_then",
        "smart-meter.toml",
        "markets = [\"EU\"]",
        "markets = [\"EU\", \"CN\"]",
        "schema/required",
    ),
    (
        "ref_dangling",
        "smart-meter.toml",
        "carries_items = [\"",
        "carries_items = [\"meter_readings\", \"",
        "ref/dangling",
    ),
    (
        "json_required",
        "home-camera.json",
        "    \"version\": 3,\n",
        "",
        "schema/required",
    ),
    (
        "json_additional_properties",
        "home-camera.json",
        "\"placed_on_market\"",
        "\"placed_on_markte\"",
        "schema/additionalProperties",
    ),
    (
        "json_type",
        "home-camera.json",
        "\"version\": 3,",
        "\"version\": \"3\",",
        "schema/type",
    ),
    (
        "json_enum",
        "home-camera.json",
        "\"min_version\": \"1.2\"",
        "\"min_version\": \"1.1.9\"",
        "schema/enum",
    ),
    (
        "json_const",
        "home-camera.json",
        "\"format\": \"blueprint/v1\"",
        "\"format\": \"blueprint\"",
        "schema/const",
    ),
    (
        "json_format",
        "home-camera.json",
        "\"placed_on_market\": \"2025-10-15\"",
        "\"placed_on_market\": \"2025-10-32\"",
        "schema/format",
    ),
    (
        "json_ref_dangling",
        "home-camera.json",
        "\"carries_items\": [\n",
        "\"carries_items\": [\n        \"no_such_item\",\n",
        "ref/dangling",
    ),
];

#[test]
fn schema_keyword_diagnostics_render_with_carets() {
    let dir = tempfile::tempdir().unwrap();
    for (name, example, from, to, code) in SCHEMA_CASES {
        let original = std::fs::read_to_string(repo_file(&format!("examples/{example}"))).unwrap();
        assert!(original.contains(from), "{name}: `{from}` not in {example}");
        let mutated = original.replacen(from, to, 1);
        let ext = Path::new(example).extension().unwrap().to_str().unwrap();
        let file = format!("{name}.{ext}");
        std::fs::write(dir.path().join(&file), mutated).unwrap();
        let out = validate(dir.path(), &file, &[]);
        assert!(
            out.contains(&format!("[{code}]")),
            "{name}: no {code} in\n{out}"
        );
        insta::assert_snapshot!(format!("schema_{name}"), out);
    }
}

/// Keeps the rendered diagnostic blocks whose code is `code`.
fn blocks_with_code(out: &str, code: &str) -> String {
    let head = format!("[{code}]:");
    let mut kept = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in out.lines() {
        let starts = ["error[", "warning[", "note["]
            .iter()
            .any(|p| line.starts_with(p));
        if (starts || (current.is_some() && line.is_empty()))
            && let Some(block) = current.take()
            && block[0].contains(&head)
        {
            kept.push(block.join("\n"));
        }
        if starts {
            current = Some(vec![line]);
        } else if let Some(b) = current.as_mut() {
            b.push(line);
        }
    }
    if let Some(block) = current
        && block[0].contains(&head)
    {
        kept.push(block.join("\n"));
    }
    kept.join("\n\n")
}

/// TOML has no null: drop nulls (an absent key reads the same to rules).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// The profiles a `[[conflict]]` needs, or `None` for a profile rule.
fn conflict_profiles(id: &str) -> Option<Vec<String>> {
    let mut map = blueprint::source::SourceMap::new();
    let lib = blueprint::profile::ProfileLibrary::builtin(&mut map).ok()?;
    lib.conflicts()
        .iter()
        .find(|c| c.id == id)
        .map(|c| c.profiles.clone())
}

/// The first fire case of rules of every profile, rendered from a JSON and
/// a TOML file with the same data.
#[test]
fn rule_diagnostics_render_in_toml_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let mut bases = BTreeMap::new();
    let mut rendered = BTreeSet::new();
    let mut per_profile: BTreeMap<String, usize> = BTreeMap::new();
    for path in case_files() {
        let profile = path.file_stem().unwrap().to_str().unwrap().to_string();
        let file: CaseFile = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for case in file.cases {
            let taken = per_profile.get(&profile).copied().unwrap_or(0);
            if case.expect != "fire"
                || rendered.contains(&case.rule)
                || taken >= 5
                || !case.set_null.is_empty()
                || case.previous.is_some()
                || case.deviations.is_some()
                || case.as_of.is_some()
                || !case.profiles.is_empty()
                || !case.force.is_empty()
            {
                continue;
            }
            let manifest = patched(
                &case.base,
                &case.remove,
                &case.set,
                &case.set_null,
                &mut bases,
            )
            .unwrap();
            // `conflicts.toml`: a `[[conflict]]` of the shared library,
            // reported as `conflict/<slug>` when all its profiles apply.
            let (code, profiles) = match conflict_profiles(&case.rule) {
                Some(ps) => (
                    format!("conflict/{}", case.rule.trim_start_matches("conflict.")),
                    ps,
                ),
                None => (format!("profile/{}", case.rule), vec![profile.clone()]),
            };
            // `-v`: scope notices are info-level, hidden by default.
            let mut args: Vec<&str> = profiles
                .iter()
                .flat_map(|p| ["--profile", p.as_str()])
                .collect();
            args.push("-v");
            let stem = case.rule.replace('.', "_");
            let json_name = format!("{stem}.json");
            std::fs::write(
                dir.path().join(&json_name),
                serde_json::to_string_pretty(&manifest).unwrap(),
            )
            .unwrap();
            let Ok(toml_text) = toml::to_string(&without_nulls(&manifest)) else {
                continue;
            };
            let toml_name = format!("{stem}.toml");
            std::fs::write(dir.path().join(&toml_name), toml_text).unwrap();
            let json_out = blocks_with_code(&validate(dir.path(), &json_name, &args), &code);
            let toml_out = blocks_with_code(&validate(dir.path(), &toml_name, &args), &code);
            if json_out.is_empty() || toml_out.is_empty() {
                continue;
            }
            insta::assert_snapshot!(format!("rule_{stem}_json"), json_out);
            insta::assert_snapshot!(format!("rule_{stem}_toml"), toml_out);
            rendered.insert(case.rule.clone());
            *per_profile.entry(profile.clone()).or_default() += 1;
        }
    }
    assert!(
        rendered.len() >= 20,
        "only {} rules rendered: {rendered:?}",
        rendered.len()
    );
}
