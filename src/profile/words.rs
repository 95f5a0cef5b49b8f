//! Rule conditions in words, for `blueprint explain` and the generated
//! reference (`profiles doc`): a profile's `when` and `require` are JSON
//! Schema with path keys (docs/engine.md); this turns the common keywords into
//! sentences and falls back to compact JSON.

use serde_json::Value;

/// One line per condition (conjuncts of `schema`).
pub fn describe(schema: &Value) -> Vec<String> {
    if schema == &Value::Bool(true) {
        return vec!["always".into()];
    }
    let mut out = Vec::new();
    walk(schema, None, Subject::Document, &mut out);
    out
}

/// What an unqualified condition talks about.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Subject {
    /// The rule's evaluation document: no pronoun ("the shared condition … holds").
    Document,
    /// An array entry inside `contains`/`items` ("it equals …").
    Entry,
}

/// `/item/tls/min_version` → "the element's tls.min_version".
fn path_words(p: &str) -> String {
    let dotted = |rest: &str| rest.trim_start_matches('/').replace('/', ".");
    if let Some(rest) = p.strip_prefix("/item") {
        if rest.is_empty() {
            "the element".into()
        } else {
            format!("the element's {}", dotted(rest))
        }
    } else if let Some(rest) = p.strip_prefix("/manifest") {
        format!("manifest {}", dotted(rest))
    } else if let Some(rest) = p.strip_prefix("/derived") {
        format!("derived fact {}", dotted(rest))
    } else if let Some(rest) = p.strip_prefix("/global") {
        format!("global fact {}", dotted(rest))
    } else {
        dotted(p)
    }
}

fn ref_name(v: &Value) -> &str {
    v.as_str().and_then(|r| r.rsplit('/').next()).unwrap_or("?")
}

/// Reference tables (`EEA`, `ADEQUATE`, …) are named in capitals.
fn is_set(v: &Value) -> bool {
    let n = ref_name(v);
    n.chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// `{"$ref": …}` alone, or `{"anyOf": […]}` alone.
fn only<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let o = v.as_object()?;
    (o.len() == 1).then(|| o.get(key)).flatten()
}

fn list(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// `contains`/`items` over one value: "contains \"x\"" rather than
/// "contains an entry where it equals \"x\"".
fn entry_words(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    let keys: Vec<&str> = o
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "type" && *k != "description")
        .collect();
    match keys.as_slice() {
        ["const"] => Some(o["const"].to_string()),
        ["enum"] => Some(format!("one of {}", list(&o["enum"]))),
        ["$ref"] if is_set(&o["$ref"]) => Some(format!(
            "an entry of the shared set `{}`",
            ref_name(&o["$ref"])
        )),
        ["$ref"] => Some(format!(
            "an entry matching the shared definition `{}`",
            ref_name(&o["$ref"])
        )),
        _ => None,
    }
}

fn walk(s: &Value, subject: Option<&str>, default: Subject, out: &mut Vec<String>) {
    let Some(obj) = s.as_object() else {
        return;
    };
    let who = match (subject, default) {
        (Some(p), _) => path_words(p),
        (None, Subject::Entry) => "it".into(),
        (None, Subject::Document) => String::new(),
    };
    let mut said = false;
    let props = obj.get("properties").and_then(Value::as_object);
    let keys = obj
        .iter()
        .filter(|(k, _)| k.starts_with('/'))
        .map(|(k, v)| (k.clone(), v))
        .chain(
            props
                .into_iter()
                .flat_map(|p| p.iter().map(|(k, v)| (format!("/{k}"), v))),
        );
    for (k, v) in keys {
        let path = match subject {
            Some(p) => format!("{p}{k}"),
            None => k,
        };
        walk(v, Some(&path), default, out);
        said = true;
    }
    if let Some(d) = obj.get("description").and_then(Value::as_str) {
        out.push(if who.is_empty() || who == "it" {
            d.to_string()
        } else {
            format!("{who}: {d}")
        });
        return;
    }
    let doc = who.is_empty();
    let only_type = obj
        .keys()
        .all(|k| k == "type" || k == "required" || (k == "properties" && said));
    let mut parts = Vec::new();
    for (k, v) in obj {
        let text = match k.as_str() {
            "const" if v == &Value::Bool(true) => "is true".to_string(),
            "const" if v == &Value::Bool(false) => "is false".to_string(),
            "const" => format!("equals {v}"),
            "enum" => format!("is one of {}", list(v)),
            "minItems" if v.as_u64() == Some(1) => "is not empty".to_string(),
            "minItems" => format!("has at least {v} entries"),
            "maxItems" if v.as_u64() == Some(0) => "is empty".to_string(),
            "maxItems" => format!("has at most {v} entries"),
            "minimum" => match obj.get("maximum") {
                Some(max) => format!("is between {v} and {max}"),
                None => format!("is at least {v}"),
            },
            "maximum" if obj.contains_key("minimum") => continue,
            "maximum" => format!("is at most {v}"),
            "exclusiveMinimum" => format!("is more than {v}"),
            "exclusiveMaximum" => format!("is less than {v}"),
            "minLength" => "is set".to_string(),
            "pattern" => format!("matches {v}"),
            "maxAgeDays" => format!("is at most {v} days old"),
            "minDaysUntil" => format!("is at least {v} days away"),
            "dateAfter" => format!("is after {v}"),
            "dateBefore" => format!("is before {v}"),
            "type" if only_type && !said => match v.as_str() {
                Some("null") => "is null".to_string(),
                Some(t @ "object" | t @ "integer" | t @ "array") => format!("is an {t}"),
                Some(t) => format!("is a {t}"),
                None => format!("has type {v}"),
            },
            "$ref" if doc => format!("the shared condition `{}` holds", ref_name(v)),
            "$ref" if is_set(v) => format!("is in the shared set `{}`", ref_name(v)),
            "$ref" => format!("satisfies the shared definition `{}`", ref_name(v)),
            "contains" => match entry_words(v) {
                Some(e) => format!("contains {e}"),
                None => format!("contains an entry where {}", inline(v)),
            },
            "items" => format!("has every entry where {}", inline(v)),
            "not" if doc => format!("not: {}", inline_doc(v)),
            "not" => match (only(v, "$ref"), only(v, "anyOf").and_then(Value::as_array)) {
                (Some(r), _) if is_set(r) => format!("is not in the shared set `{}`", ref_name(r)),
                (Some(r), _) => format!("does not satisfy the shared definition `{}`", ref_name(r)),
                (_, Some(alts)) => format!(
                    "satisfies none of: {}",
                    alts.iter().map(inline).collect::<Vec<_>>().join(" | ")
                ),
                _ => format!("does not satisfy: {}", inline(v)),
            },
            "anyOf" | "oneOf" => format!(
                "{}: {}",
                if doc {
                    "at least one of"
                } else {
                    "satisfies one of"
                },
                v.as_array()
                    .map(|a| a
                        .iter()
                        .map(inline_doc_or_entry(doc))
                        .collect::<Vec<_>>()
                        .join(" | "))
                    .unwrap_or_default()
            ),
            "allOf" => {
                if let Some(a) = v.as_array() {
                    for x in a {
                        walk(x, subject, default, out);
                    }
                }
                continue;
            }
            "if" => {
                let f = inline_doc_or_entry(doc);
                out.push(format!(
                    "if {} then {}",
                    f(v),
                    obj.get("then").map(f).unwrap_or_default()
                ));
                continue;
            }
            "type" | "then" | "else" | "required" | "properties" | "description" => continue,
            k if k.starts_with('/') => continue,
            _ => format!("{k} {v}"),
        };
        parts.push(text);
    }
    if !parts.is_empty() {
        let text = parts.join(" and ");
        out.push(if doc { text } else { format!("{who} {text}") });
    }
}

fn inline_doc_or_entry(doc: bool) -> fn(&Value) -> String {
    if doc { inline_doc } else { inline }
}

/// A sub-condition of the evaluation document, on one line.
fn inline_doc(v: &Value) -> String {
    let lines = describe(v);
    if lines.is_empty() {
        compact(v)
    } else {
        lines.join("; ")
    }
}

/// A sub-condition of an array entry, on one line.
fn inline(v: &Value) -> String {
    let mut lines = Vec::new();
    walk(v, None, Subject::Entry, &mut lines);
    if lines.is_empty() {
        compact(v)
    } else {
        lines.join("; ")
    }
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn path_conditions_read_as_sentences() {
        let lines = describe(&json!({
            "/derived/carries/personal_eea": {"const": true},
            "/item/tls/min_version": {"enum": ["1.2", "1.3"]},
            "/manifest/markets": {"minItems": 1},
        }));
        assert_eq!(
            lines,
            [
                "derived fact carries.personal_eea is true",
                "the element's tls.min_version is one of \"1.2\", \"1.3\"",
                "manifest markets is not empty",
            ]
        );
        let lines = describe(
            &json!({"/item/legal_basis/gdpr_art9": {"type": "string", "description": "needs an Art. 9(2) condition"}}),
        );
        assert_eq!(
            lines,
            ["the element's legal_basis.gdpr_art9: needs an Art. 9(2) condition"]
        );

        let lines = describe(&json!({
            "/derived/flows": {"items": {"properties": {"country": {"not": {"$ref": "urn:blueprint:shared#/$defs/EEA"}}}}},
            "/manifest/vendor/established_in": {"contains": {"const": "CN"}},
            "/item/child_age_min": {"minimum": 13, "maximum": 15},
            "anyOf": [{"$ref": "urn:blueprint:shared#/$defs/declares_etsi"}, {"/global/mkt/GB": {"const": true}}],
        }));
        assert_eq!(
            lines,
            [
                "derived fact flows has every entry where country is not in the shared set `EEA`",
                "the element's child_age_min is between 13 and 15",
                "manifest vendor.established_in contains \"CN\"",
                "at least one of: the shared condition `declares_etsi` holds | global fact mkt.GB is true",
            ]
        );
    }
}
