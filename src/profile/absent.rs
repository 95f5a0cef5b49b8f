//! Findings about something absent: which field, where it belongs, and a
//! value to paste. A rule's `require` over a path desugars to `required`,
//! so an absent field fails as a `required` error whose property schema
//! says what the rule wants there (`const`, `enum`, nested tables).

use super::compile::SHARED_URI;
use crate::diag::Fix;
use serde_json::{Map, Value};

/// Deepest nesting of an example value (guards against recursive `$ref`s).
const MAX_DEPTH: usize = 8;

/// Stand-in when the rule does not say which value it wants.
const PLACEHOLDER: &str = "<value>";

/// The schema node at `eval_path` (a JSON pointer through `schema`, with
/// `$ref` segments followed into the profile's defs and the shared
/// library), and the document it lives in.
pub(crate) fn node_at<'a>(
    shared: &'a Value,
    schema: &'a Value,
    eval_path: &str,
) -> Option<(&'a Value, &'a Value)> {
    let mut root = schema;
    let mut node = schema;
    for tok in super::sugar::pointer_segments(eval_path) {
        node = if tok == "$ref" {
            let r = node.get("$ref").and_then(Value::as_str)?;
            let (doc, frag) = resolve(shared, root, r)?;
            root = doc;
            frag
        } else {
            match node {
                Value::Object(o) => o.get(&tok)?,
                Value::Array(a) => a.get(tok.parse::<usize>().ok()?)?,
                _ => return None,
            }
        };
    }
    Some((root, node))
}

fn resolve<'a>(shared: &'a Value, root: &'a Value, r: &str) -> Option<(&'a Value, &'a Value)> {
    if let Some(frag) = r.strip_prefix(&format!("{SHARED_URI}#")) {
        Some((shared, shared.pointer(frag)?))
    } else if let Some(frag) = r.strip_prefix('#') {
        Some((root, root.pointer(frag)?))
    } else {
        None
    }
}

/// A value that satisfies `s` as far as can be told: its `const`, the
/// first of its `enum`, a table of its required keys; a placeholder else.
pub(crate) fn example(shared: &Value, root: &Value, s: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::String(PLACEHOLDER.into());
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str)
        && let Some((doc, node)) = resolve(shared, root, r)
    {
        return example(shared, doc, node, depth + 1);
    }
    if let Some(c) = s.get("const") {
        return c.clone();
    }
    if let Some(first) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
    {
        return first.clone();
    }
    if let Some(all) = s.get("allOf").and_then(Value::as_array) {
        let mut merged = Map::new();
        for x in all {
            if let Value::Object(o) = example(shared, root, x, depth + 1) {
                merged.extend(o);
            }
        }
        if !merged.is_empty() {
            return Value::Object(merged);
        }
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(first) = s.get(key).and_then(Value::as_array).and_then(|a| a.first()) {
            return example(shared, root, first, depth + 1);
        }
    }
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !required.is_empty() {
        let props = s.get("properties");
        let mut o = Map::new();
        for k in required {
            let v = match props.and_then(|p| p.get(k)) {
                Some(ps) => example(shared, root, ps, depth + 1),
                None => Value::String(PLACEHOLDER.into()),
            };
            o.insert(k.to_string(), v);
        }
        return Value::Object(o);
    }
    if let Some(c) = s.get("contains") {
        return Value::Array(vec![example(shared, root, c, depth + 1)]);
    }
    match s.get("type").and_then(Value::as_str) {
        Some("boolean") => Value::String("<true|false>".into()),
        Some("integer" | "number") => s
            .get("minimum")
            .cloned()
            .unwrap_or_else(|| Value::String("<number>".into())),
        Some("string") => Value::String("<text>".into()),
        Some("array") => Value::Array(Vec::new()),
        Some("object") => Value::Object(Map::new()),
        _ => Value::String(PLACEHOLDER.into()),
    }
}

/// The fix for an absent `property` of the table at `at` (a manifest
/// pointer), given the property's schema in the rule.
pub(crate) fn fix(
    shared: &Value,
    root: &Value,
    prop_schema: Option<&Value>,
    at: &str,
    property: &str,
) -> Fix {
    let v = match prop_schema {
        Some(s) => example(shared, root, s, 0),
        None => Value::String(PLACEHOLDER.into()),
    };
    let mut add = Map::new();
    add.insert(property.to_string(), v);
    Fix {
        at: at.to_string(),
        add: Value::Object(add),
    }
}

/// The full path of the field a fix adds: down through single-key tables
/// (`/security` + `{credentials: {unique_per_device: true}}` →
/// `/security/credentials/unique_per_device`).
pub(crate) fn field_pointer(f: &Fix) -> String {
    let mut p = f.at.clone();
    let mut v = &f.add;
    while let Value::Object(o) = v {
        if o.len() != 1 {
            break;
        }
        let (k, next) = o.iter().next().expect("one key");
        p.push('/');
        p.push_str(&k.replace('~', "~0").replace('/', "~1"));
        v = next;
    }
    p
}

/// `/data_items/0/lifecycle` → `data_items[0].lifecycle`.
pub fn dotted(pointer: &str) -> String {
    let mut s = String::new();
    for seg in pointer.split('/').skip(1) {
        let seg = seg.replace("~1", "/").replace("~0", "~");
        if seg.parse::<usize>().is_ok() {
            s.push_str(&format!("[{seg}]"));
        } else {
            if !s.is_empty() {
                s.push('.');
            }
            s.push_str(&seg);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn examples_follow_const_enum_and_required_tables() {
        let s = json!({"type": "object", "required": ["a", "b"], "properties": {
            "a": {"const": true}, "b": {"enum": ["x", "y"]}}});
        assert_eq!(example(&json!({}), &s, &s, 0), json!({"a": true, "b": "x"}));
    }

    #[test]
    fn field_pointer_descends_single_key_tables() {
        let f = Fix {
            at: "/security".into(),
            add: json!({"credentials": {"unique_per_device": true}}),
        };
        assert_eq!(field_pointer(&f), "/security/credentials/unique_per_device");
        assert_eq!(
            dotted(&field_pointer(&f)),
            "security.credentials.unique_per_device"
        );
    }
}
