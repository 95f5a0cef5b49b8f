//! Table-driven fire/silent cases for every shipped rule (docs/engine.md).
//!
//! Each `tests/fixtures/cases/<profile-id>.toml` lists `[[case]]`s: a base
//! manifest (`tests/fixtures/bases/<name>.json`), pointers to `remove`, then
//! values to `set` (`set_null` writes JSON null, which TOML cannot), an
//! expectation (`fire` | `silent`) for one rule, and optionally the exact
//! manifest pointer a finding must carry (`at`) and an evaluation date. The
//! patched manifest must pass the schema stage and the reference resolver;
//! it is then evaluated with every shipped profile whose scope matches.
//! Every shipped rule needs at least one fire and one silent case, and so
//! does every `[[conflict]]` of `profiles/_shared.toml` (cases in
//! `conflicts.toml` with `rule = "conflict.<slug>"`, finding code
//! `conflict/<slug>`). A case may give
//! `previous = { base, set, remove, set_null }`, the previous deposit
//! of the same blueprint, for rules over `global.diff` and item `diff`.
//! `profiles = [ids]` chooses profiles as `--profile` does (each still
//! gated by its scope) and `force = [ids]` as `--force-profile` (a what-if).

use blueprint::diag::Severity;
use blueprint::manifest::document::{self, Limits};
use blueprint::manifest::refs;
use blueprint::manifest::schema::SchemaChecker;
use blueprint::profile::{Extra, ProfileLibrary, Selection, evaluate_with};
use blueprint::source::SourceMap;
use serde::Deserialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const DEFAULT_AS_OF: time::Date = time::macros::date!(2026 - 11 - 26);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CaseFile {
    #[serde(default, rename = "case")]
    pub(crate) cases: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Case {
    pub(crate) rule: String,
    pub(crate) expect: String,
    pub(crate) base: String,
    #[serde(default)]
    pub(crate) set: BTreeMap<String, toml::Value>,
    #[serde(default)]
    pub(crate) set_null: Vec<String>,
    #[serde(default)]
    pub(crate) remove: Vec<String>,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    pub(crate) as_of: Option<String>,
    #[serde(default)]
    note: Option<String>,
    /// The previous deposit of the same blueprint (feeds `global.diff`).
    #[serde(default)]
    pub(crate) previous: Option<Previous>,
    /// Deviations of a shipped device (`[{at, class}]`), for diff-mode rules.
    #[serde(default)]
    pub(crate) deviations: Option<Vec<toml::Value>>,
    /// Profiles chosen by id (`--profile`); default: every matching profile.
    #[serde(default)]
    pub(crate) profiles: Vec<String>,
    /// Profiles evaluated whatever their scope (`--force-profile`).
    #[serde(default)]
    pub(crate) force: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Previous {
    base: String,
    #[serde(default)]
    set: BTreeMap<String, toml::Value>,
    #[serde(default)]
    set_null: Vec<String>,
    #[serde(default)]
    remove: Vec<String>,
}

pub(crate) fn patched(
    base: &str,
    remove_: &[String],
    set_: &BTreeMap<String, toml::Value>,
    set_null: &[String],
    bases: &mut BTreeMap<String, Value>,
) -> Result<Value, String> {
    let mut m = load_base(base, bases)?;
    for p in remove_ {
        remove(&mut m, p)?;
    }
    for (p, v) in set_ {
        set(&mut m, p, toml_to_json(v)?)?;
    }
    for p in set_null {
        set(&mut m, p, Value::Null)?;
    }
    Ok(m)
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn toml_to_json(v: &toml::Value) -> Result<Value, String> {
    Ok(match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => serde_json::Number::from_f64(*f)
            .map(Value::Number)
            .ok_or("non-finite float")?,
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => {
            return Err(format!("unquoted TOML date {d}: quote it"));
        }
        toml::Value::Array(a) => {
            Value::Array(a.iter().map(toml_to_json).collect::<Result<_, _>>()?)
        }
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), toml_to_json(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

fn split(ptr: &str) -> Result<(String, String), String> {
    let i = ptr
        .rfind('/')
        .ok_or_else(|| format!("`{ptr}` is not a JSON pointer"))?;
    let last = ptr[i + 1..].replace("~1", "/").replace("~0", "~");
    Ok((ptr[..i].to_string(), last))
}

fn remove(m: &mut Value, ptr: &str) -> Result<(), String> {
    let (parent, last) = split(ptr)?;
    let p = m
        .pointer_mut(&parent)
        .ok_or_else(|| format!("remove {ptr}: no parent {parent}"))?;
    match p {
        Value::Object(o) => o
            .remove(&last)
            .map(|_| ())
            .ok_or_else(|| format!("remove {ptr}: no such key")),
        Value::Array(a) => {
            let i: usize = last
                .parse()
                .map_err(|_| format!("remove {ptr}: bad index"))?;
            if i < a.len() {
                a.remove(i);
                Ok(())
            } else {
                Err(format!("remove {ptr}: index out of range"))
            }
        }
        _ => Err(format!("remove {ptr}: parent is not a container")),
    }
}

fn set(m: &mut Value, ptr: &str, v: Value) -> Result<(), String> {
    let (parent, last) = split(ptr)?;
    let p = m
        .pointer_mut(&parent)
        .ok_or_else(|| format!("set {ptr}: no parent {parent}"))?;
    match p {
        Value::Object(o) => {
            o.insert(last, v);
            Ok(())
        }
        Value::Array(a) if last == "-" => {
            a.push(v);
            Ok(())
        }
        Value::Array(a) => {
            let i: usize = last.parse().map_err(|_| format!("set {ptr}: bad index"))?;
            let slot = a
                .get_mut(i)
                .ok_or_else(|| format!("set {ptr}: index out of range"))?;
            *slot = v;
            Ok(())
        }
        _ => Err(format!("set {ptr}: parent is not a container")),
    }
}

fn load_base(name: &str, cache: &mut BTreeMap<String, Value>) -> Result<Value, String> {
    if let Some(v) = cache.get(name) {
        return Ok(v.clone());
    }
    let dir = root().join("bases");
    let path = ["json", "toml"]
        .iter()
        .map(|e| dir.join(format!("{name}.{e}")))
        .find(|p| p.exists())
        .ok_or_else(|| format!("no base tests/fixtures/bases/{name}.json"))?;
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut map = SourceMap::new();
    let doc = document::load(
        &mut map,
        &path.display().to_string(),
        &bytes,
        &Limits::default(),
    )
    .map_err(|d| {
        format!(
            "base {name} does not parse: {:?}",
            d.first().map(|d| &d.message)
        )
    })?;
    cache.insert(name.to_string(), doc.value.clone());
    Ok(doc.value)
}

pub(crate) fn case_files() -> Vec<PathBuf> {
    let dir = root().join("cases");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs one case; `Err` says why it failed.
fn run_case(
    lib: &ProfileLibrary,
    c: &Case,
    bases: &mut BTreeMap<String, Value>,
) -> Result<(), String> {
    let is_conflict = lib.conflicts().iter().any(|x| x.id == c.rule);
    if lib.find_rule(&c.rule).is_none() && !is_conflict {
        return Err(format!("no shipped rule or conflict `{}`", c.rule));
    }
    let m = patched(&c.base, &c.remove, &c.set, &c.set_null, bases)?;
    let previous = match &c.previous {
        Some(p) => Some(patched(&p.base, &p.remove, &p.set, &p.set_null, bases)?),
        None => None,
    };
    let as_of = match &c.as_of {
        Some(s) => time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|e| format!("as_of {s}: {e}"))?,
        None => DEFAULT_AS_OF,
    };
    let text = serde_json::to_string_pretty(&m).map_err(|e| e.to_string())?;
    let mut map = SourceMap::new();
    let doc = document::load(&mut map, "case.json", text.as_bytes(), &Limits::default()).map_err(
        |d| {
            format!(
                "patched manifest does not parse: {:?}",
                d.first().map(|d| &d.message)
            )
        },
    )?;
    let schema: Vec<String> = SchemaChecker::manifest()
        .check(&doc)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            format!(
                "{} {}: {}",
                d.code,
                d.pointer.unwrap_or_default(),
                d.message
            )
        })
        .chain(
            refs::check_references(&doc.value)
                .into_iter()
                .map(|p| format!("{}: {}", p.code, p.message)),
        )
        .collect();
    if !schema.is_empty() {
        return Err(format!(
            "patched manifest is not schema-valid: {}",
            schema.join("; ")
        ));
    }
    let extra = Extra {
        previous: previous.as_ref(),
        deviations: c
            .deviations
            .as_ref()
            .map(|d| d.iter().filter_map(|v| toml_to_json(v).ok()).collect()),
    };
    let selection = match (c.profiles.is_empty(), c.force.is_empty()) {
        (true, true) => Selection::Auto,
        (_, true) => Selection::Explicit(c.profiles.clone()),
        _ => Selection::WhatIf {
            selected: c.profiles.clone(),
            forced: c.force.clone(),
        },
    };
    let e = evaluate_with(lib, &selection, &doc, &extra, as_of);
    // A `[[conflict]]` `conflict.<slug>` reports as `conflict/<slug>`, info.
    let code = match c.rule.strip_prefix("conflict.") {
        Some(slug) if is_conflict => format!("conflict/{slug}"),
        _ => format!("profile/{}", c.rule),
    };
    let hits: Vec<&str> = e
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .map(|d| d.pointer.as_deref().unwrap_or(""))
        .collect();
    match c.expect.as_str() {
        "fire" => {
            if hits.is_empty() {
                return Err(format!(
                    "expected to fire, silent (profiles applied: {:?})",
                    e.profiles_applied
                ));
            }
            if let Some(at) = &c.at {
                if !hits.contains(&at.as_str()) {
                    return Err(format!("fired at {hits:?}, expected at {at}"));
                }
            }
            Ok(())
        }
        "silent" => {
            if hits.is_empty() {
                Ok(())
            } else {
                Err(format!("expected silent, fired at {hits:?}"))
            }
        }
        other => Err(format!("expect must be fire or silent, not `{other}`")),
    }
}

#[test]
fn every_shipped_rule_fires_and_stays_silent_as_its_cases_say() {
    let mut map = SourceMap::new();
    let lib = ProfileLibrary::builtin(&mut map).unwrap_or_else(|d| {
        let msgs: Vec<String> = d
            .iter()
            .map(|d| {
                let at = d
                    .primary()
                    .map(|l| {
                        let f = map.get(l.file);
                        let (line, col) = f.line_col(l.span.start);
                        format!("{}:{line}:{col}: ", f.name())
                    })
                    .unwrap_or_default();
                format!("{at}{}: {}", d.code, d.message)
            })
            .collect();
        panic!("shipped profiles do not load:\n{}", msgs.join("\n"))
    });
    let compile = lib.compile_all(DEFAULT_AS_OF);
    assert!(compile.is_empty(), "{compile:#?}");

    let mut failures = Vec::new();
    let mut fire: BTreeSet<String> = BTreeSet::new();
    let mut silent: BTreeSet<String> = BTreeSet::new();
    let mut bases = BTreeMap::new();
    for path in case_files() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let file: CaseFile = match toml::from_str(&text) {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        for (i, c) in file.cases.iter().enumerate() {
            let label = format!(
                "{name} case #{} ({} {}{})",
                i + 1,
                c.rule,
                c.expect,
                c.note
                    .as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            );
            match run_case(&lib, c, &mut bases) {
                Ok(()) => {
                    if c.expect == "fire" {
                        fire.insert(c.rule.clone());
                    } else {
                        silent.insert(c.rule.clone());
                    }
                }
                Err(e) => failures.push(format!("{label}: {e}")),
            }
        }
    }
    let mut uncovered = Vec::new();
    for p in lib.profiles() {
        for r in &p.rules {
            let mut lacks = Vec::new();
            if !fire.contains(&r.id) {
                lacks.push("fire");
            }
            if !silent.contains(&r.id) {
                lacks.push("silent");
            }
            if !lacks.is_empty() {
                uncovered.push(format!(
                    "{} ({}): no passing {} case",
                    r.id,
                    p.id,
                    lacks.join(" or ")
                ));
            }
        }
    }
    for x in lib.conflicts() {
        let mut lacks = Vec::new();
        if !fire.contains(&x.id) {
            lacks.push("fire");
        }
        if !silent.contains(&x.id) {
            lacks.push("silent");
        }
        if !lacks.is_empty() {
            uncovered.push(format!(
                "{} (conflict): no passing {} case",
                x.id,
                lacks.join(" or ")
            ));
        }
    }
    let mut report = failures;
    report.extend(uncovered);
    assert!(
        report.is_empty(),
        "{} problem(s):\n{}",
        report.len(),
        report.join("\n")
    );
}

#[test]
fn case_patching_follows_json_pointer_rules() {
    let mut m = serde_json::json!({ "a": [1, 2], "b": { "c~d/e": 1 } });
    assert!(set(&mut m, "/a/-", Value::from(3)).is_ok());
    assert!(set(&mut m, "/a/0", Value::from(0)).is_ok());
    assert!(remove(&mut m, "/b/c~0d~1e").is_ok());
    assert!(set(&mut m, "/x/y", Value::Null).is_err());
    assert_eq!(m, serde_json::json!({ "a": [0, 2, 3], "b": {} }));
    assert!(Path::new(&root()).join("bases").exists());
}
