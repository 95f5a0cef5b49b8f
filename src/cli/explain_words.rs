//! Rule conditions in words, for `blueprint explain`: a profile's `when`
//! and `require` are JSON Schema with path keys (engine.md §2); this turns
//! the common keywords into sentences and falls back to compact JSON.

use serde_json::Value;

/// One line per condition (conjuncts of `schema`).
pub fn describe(schema: &Value) -> Vec<String> {
    if schema == &Value::Bool(true) {
        return vec!["always".into()];
    }
    let mut out = Vec::new();
    walk(schema, None, &mut out);
    out
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

fn walk(s: &Value, subject: Option<&str>, out: &mut Vec<String>) {
    let Some(obj) = s.as_object() else {
        return;
    };
    let who = subject.map(path_words).unwrap_or_else(|| "it".into());
    let mut said = false;
    for (k, v) in obj {
        if k.starts_with('/') {
            let path = match subject {
                Some(p) => format!("{p}{k}"),
                None => k.clone(),
            };
            walk(v, Some(&path), out);
            said = true;
        }
    }
    if let Some(d) = obj.get("description").and_then(Value::as_str) {
        out.push(format!("{who}: {d}"));
        return;
    }
    let mut parts = Vec::new();
    for (k, v) in obj {
        let text = match k.as_str() {
            "const" if v == &Value::Bool(true) => "is true".to_string(),
            "const" if v == &Value::Bool(false) => "is false".to_string(),
            "const" => format!("equals {v}"),
            "enum" => format!(
                "is one of {}",
                v.as_array()
                    .map(|a| a
                        .iter()
                        .map(Value::to_string)
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default()
            ),
            "minItems" if v.as_u64() == Some(1) => "is not empty".to_string(),
            "minItems" => format!("has at least {v} entries"),
            "maxItems" if v.as_u64() == Some(0) => "is empty".to_string(),
            "maxItems" => format!("has at most {v} entries"),
            "minimum" => format!("is at least {v}"),
            "maximum" => format!("is at most {v}"),
            "exclusiveMinimum" => format!("is more than {v}"),
            "exclusiveMaximum" => format!("is less than {v}"),
            "minLength" => "is set".to_string(),
            "pattern" => format!("matches {v}"),
            "maxAgeDays" => format!("is at most {v} days old"),
            "minDaysUntil" => format!("is at least {v} days away"),
            "dateAfter" => format!("is after {v}"),
            "dateBefore" => format!("is before {v}"),
            "$ref" => format!(
                "satisfies the shared definition `{}`",
                v.as_str().and_then(|r| r.rsplit('/').next()).unwrap_or("?")
            ),
            "contains" => format!("contains an entry where {}", inline(v)),
            "items" => format!("has every entry where {}", inline(v)),
            "not" => format!("does not satisfy: {}", inline(v)),
            "anyOf" | "oneOf" => format!(
                "satisfies one of: {}",
                v.as_array()
                    .map(|a| a.iter().map(inline).collect::<Vec<_>>().join(" | "))
                    .unwrap_or_default()
            ),
            "allOf" => {
                if let Some(a) = v.as_array() {
                    for x in a {
                        walk(x, subject, out);
                    }
                }
                continue;
            }
            "if" => {
                out.push(format!(
                    "if {} then {}",
                    inline(v),
                    obj.get("then").map(inline).unwrap_or_default()
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
        out.push(format!("{who} {}", parts.join(" and ")));
    } else if !said && obj.contains_key("properties") {
        out.push(format!("{who} matches {}", compact(s)));
    }
}

fn inline(v: &Value) -> String {
    let lines = describe(v);
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
    }
}
