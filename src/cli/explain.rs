//! `blueprint explain CODE`: every code exactly as `validate` prints it
//! (`profile/gdpr.dpia`, `check/EQ-SUPPORT`, `conflict/legal-basis`,
//! `schema/required`, `ref/dangling`, `todo/…`) or bare (`gdpr.dpia`,
//! `EQ-SECRETS`), with the nearest ids suggested on a miss.

use super::profiles::{ListFormat, conflict_text, explain_text, finish, json_text, rule_json};
use super::{EXIT_FINDINGS, output};
use blueprint::manifest::refs::codes as ref_codes;
use blueprint::profile::{Check, ProfileLibrary};
use serde_json::{Value, json};

/// What `schema/<keyword>` findings mean and how to fix them.
const SCHEMA_KEYWORDS: &[(&str, &str)] = &[
    (
        "required",
        "A key the table must have is missing. The finding points at the table; add the key there (see its description with `blueprint schema`).",
    ),
    (
        "additionalProperties",
        "A key that the table does not have. Usually a typo (the finding suggests the nearest key) or, in TOML, a key written after a `[table]` header: TOML puts every key after a header into that table, so a top-level key must come before the first header.",
    ),
    (
        "unevaluatedProperties",
        "A key that no part of the table's schema accepts; as for additionalProperties.",
    ),
    (
        "type",
        "The value has the wrong type (a string where a number or boolean is expected, a table where a list is expected …).",
    ),
    (
        "enum",
        "The value is not one of the allowed values. The finding lists them all and suggests the nearest; `blueprint schema` prints every enumeration.",
    ),
    (
        "const",
        "The value must be exactly the one shown (for example `format = \"blueprint/v1\"`).",
    ),
    (
        "pattern",
        "The string does not have the expected form (an id, a URL, a date, a country code …).",
    ),
    (
        "format",
        "The string is not a valid instance of its format (date, e-mail, URI …).",
    ),
    ("minimum", "The number is below the smallest allowed value."),
    ("maximum", "The number is above the largest allowed value."),
    (
        "exclusiveMinimum",
        "The number must be greater than the bound shown.",
    ),
    (
        "exclusiveMaximum",
        "The number must be less than the bound shown.",
    ),
    ("minItems", "The list has fewer entries than required."),
    ("maxItems", "The list has more entries than allowed."),
    ("uniqueItems", "The list repeats an entry; keep each once."),
    (
        "minLength",
        "The string is shorter than allowed (often: empty).",
    ),
    ("maxLength", "The string is longer than allowed."),
    (
        "not",
        "The value is one the schema excludes here (for example a purpose that cannot be combined with this category).",
    ),
    (
        "anyOf",
        "The value matches none of the allowed shapes; the notes say what each shape lacked.",
    ),
    (
        "oneOf",
        "The value must match exactly one of the allowed shapes; the notes say what each lacked.",
    ),
    (
        "if",
        "A conditional requirement: because of another value in the same table, this one is required or restricted.",
    ),
];

/// Codes of the reading and reference stages.
const OTHER_CODES: &[(&str, &str)] = &[
    (
        ref_codes::DANGLING,
        "A reference names an id (or host) that is not declared in the manifest. Declare it, or fix the spelling (the finding suggests the nearest id).",
    ),
    (
        ref_codes::DUPLICATE_ID,
        "Two entries of one list share an id. Ids must be unique within their list.",
    ),
    (
        ref_codes::SENSOR_NOT_PRODUCING,
        "A data item's `source_sensor` names a sensor whose `produces` does not list the item. Add the item to the sensor's `produces`.",
    ),
    (
        ref_codes::ITEM_MARKET_OUTSIDE,
        "A data item names a market outside the device's `markets`. Add the market, or remove it from the item.",
    ),
    (
        ref_codes::CHILD_AGE_ORDER,
        "`child_age_min` is greater than `child_age_max`: min is the youngest age concerned, max the oldest.",
    ),
    (
        "parse/toml-syntax",
        "The file is not valid TOML; the finding points at the first character that does not parse.",
    ),
    (
        "parse/json-syntax",
        "The file is not valid JSON; the finding points at the first character that does not parse.",
    ),
    (
        "parse/invalid-utf8",
        "The file is not UTF-8; save it as UTF-8.",
    ),
    (
        "parse/bom",
        "The file starts with a byte-order mark; save it as UTF-8 without one.",
    ),
    (
        "limit/size",
        "The file is larger than a device manifest can be; split generated data out of it.",
    ),
];

/// Explains `code`; exit 1 (with suggestions) when nothing has that id.
pub fn explain(lib: &ProfileLibrary, code: &str, format: ListFormat) -> u8 {
    let code = code.trim();
    let (kind, id) = match code.split_once('/') {
        Some((k, rest)) => (Some(k), rest),
        None => (None, code),
    };
    let text = match (kind, id) {
        (Some("schema"), kw) => fixed("schema", kw, lookup(SCHEMA_KEYWORDS, kw), format),
        (Some("ref" | "parse" | "limit"), _) => {
            fixed(kind.unwrap_or(""), id, lookup(OTHER_CODES, code), format)
        }
        (Some("todo"), pointer) => Some(todo_text(pointer, format)),
        (Some("check"), id) => check_text(lib, id, format),
        (Some("conflict"), id) => conflict(lib, id, format),
        (Some("profile"), id) => rule(lib, id, format),
        (Some(_), _) => None,
        (None, id) => rule(lib, id, format)
            .or_else(|| conflict(lib, id, format))
            .or_else(|| check_text(lib, id, format)),
    };
    match text {
        Some(t) => finish(&t),
        None => {
            miss(lib, code);
            EXIT_FINDINGS
        }
    }
}

fn lookup(table: &[(&str, &'static str)], key: &str) -> Option<&'static str> {
    table.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

fn fixed(kind: &str, id: &str, what: Option<&str>, format: ListFormat) -> Option<String> {
    let what = what?;
    let code = if id.contains('/') {
        id.to_string()
    } else {
        format!("{kind}/{id}")
    };
    Some(match format {
        ListFormat::Json => json_text(&json!({"code": code, "explanation": what})),
        ListFormat::Human => format!("{code}\n\n{what}\n"),
    })
}

fn todo_text(pointer: &str, format: ListFormat) -> String {
    let code = format!("todo/{pointer}");
    let what = blueprint::manifest::todo::explain(&code).unwrap_or_default();
    match format {
        ListFormat::Json => json_text(&json!({"code": code, "explanation": what})),
        ListFormat::Human => what,
    }
}

fn rule(lib: &ProfileLibrary, id: &str, format: ListFormat) -> Option<String> {
    let (p, r) = lib.find_rule(id)?;
    Some(match format {
        ListFormat::Json => {
            let mut v = rule_json(r);
            v["profile"] = json!(p.id);
            json_text(&v)
        }
        ListFormat::Human => explain_text(p, r),
    })
}

fn conflict(lib: &ProfileLibrary, id: &str, format: ListFormat) -> Option<String> {
    let c = lib
        .conflicts()
        .iter()
        .find(|c| c.id == id || c.id.strip_prefix("conflict.") == Some(id))?;
    Some(match format {
        ListFormat::Json => json_text(&json!({
            "id": c.id,
            "title": c.title,
            "citation": c.citation,
            "profiles": c.profiles,
            "for_each": c.for_each,
            "when": c.when,
            "explanation": c.explanation,
        })),
        ListFormat::Human => conflict_text(c),
    })
}

/// A shared check: what it requires and which rules use it.
fn check_text(lib: &ProfileLibrary, id: &str, format: ListFormat) -> Option<String> {
    let c: &Check = lib.shared().checks.get(id)?;
    let def = lib.shared().defs.get(id).cloned().unwrap_or(Value::Null);
    // Checks that include this one (EQ-BACKDOOR includes EQ-SECRETS), to
    // any depth: their rules use it too.
    let mut via: Vec<String> = vec![c.id.clone()];
    loop {
        let more: Vec<String> = lib
            .shared()
            .checks
            .keys()
            .filter(|k| !via.contains(k))
            .filter(|k| {
                let d = lib.shared().defs.get(k.as_str());
                via.iter().any(|v| mentions(d, v))
            })
            .cloned()
            .collect();
        if more.is_empty() {
            break;
        }
        via.extend(more);
    }
    let users: Vec<(String, String)> = lib
        .profiles()
        .flat_map(|p| p.rules.iter().map(move |r| (p, r)))
        .filter_map(|(p, r)| {
            let through = via
                .iter()
                .find(|v| r.check.contains(v) || mentions(r.require.as_ref(), v))?;
            let profile = if *through == c.id {
                p.id.clone()
            } else {
                format!("{}, through {through}", p.id)
            };
            Some((r.id.clone(), profile))
        })
        .collect();
    Some(match format {
        ListFormat::Json => json_text(&json!({
            "id": c.id,
            "title": c.title,
            "for_each": c.for_each,
            "requires": def,
            "rules": users.iter().map(|(r, p)| json!({"rule": r, "profile": p})).collect::<Vec<_>>(),
        })),
        ListFormat::Human => {
            let mut s = format!(
                "{} (shared check, reported as check/{} when several laws fail it at once)\n  {}\n\n",
                c.id, c.id, c.title
            );
            match &c.for_each {
                Some(fe) => s.push_str(&format!("Checked for each element of: {fe}\n")),
                None => s.push_str("Checked once per manifest.\n"),
            }
            let req = blueprint::profile::words::describe(&def);
            if !req.is_empty() {
                s.push_str("Requires:\n");
                for l in req {
                    s.push_str(&format!("  - {l}\n"));
                }
            }
            if users.is_empty() {
                s.push_str("Used by: no rule directly (part of other checks)\n");
            } else {
                s.push_str(&format!("Used by {} rules:\n", users.len()));
                for (r, p) in &users {
                    s.push_str(&format!("  - {r} ({p})\n"));
                }
                s.push_str("\n`blueprint explain RULE` shows each law's citation and hint.\n");
            }
            s
        }
    })
}

/// True when `v` refers to the shared check `id` (a `$ref` ending in it).
fn mentions(v: Option<&Value>, id: &str) -> bool {
    match v {
        Some(Value::String(s)) => s.ends_with(&format!("/{id}")),
        Some(Value::Object(o)) => o.values().any(|x| mentions(Some(x), id)),
        Some(Value::Array(a)) => a.iter().any(|x| mentions(Some(x), id)),
        _ => false,
    }
}

/// Every id `explain` accepts, as printed in findings.
fn known_codes(lib: &ProfileLibrary) -> Vec<String> {
    let mut all: Vec<String> = lib
        .profiles()
        .flat_map(|p| p.rules.iter().map(|r| r.id.clone()))
        .collect();
    all.extend(lib.shared().checks.keys().cloned());
    all.extend(lib.conflicts().iter().map(|c| {
        c.id.strip_prefix("conflict.")
            .map(|s| format!("conflict/{s}"))
            .unwrap_or_else(|| c.id.clone())
    }));
    all.extend(SCHEMA_KEYWORDS.iter().map(|(k, _)| format!("schema/{k}")));
    all.extend(OTHER_CODES.iter().map(|(k, _)| k.to_string()));
    all
}

fn miss(lib: &ProfileLibrary, code: &str) {
    output::error(&format!("no rule, check or code `{code}`"));
    let all = known_codes(lib);
    // Compare like with like: `profile/gdpr.dpai` against `gdpr.dpia`.
    let bare = ["profile/", "check/"]
        .iter()
        .find_map(|p| code.strip_prefix(p))
        .unwrap_or(code);
    let mut near = blueprint::manifest::schema::nearest(bare, &all, 5);
    if near.is_empty() {
        let prefix = bare.split(['.', '/', '-']).next().unwrap_or("");
        near = all
            .iter()
            .filter(|id| !prefix.is_empty() && id.starts_with(prefix))
            .take(8)
            .cloned()
            .collect();
    }
    if near.is_empty() {
        output::stderr_line(
            "help: `blueprint profiles list` and `blueprint profiles show ID` list every rule",
        );
    } else {
        output::stderr_line(&format!("help: did you mean {}?", near.join(", ")));
    }
}
