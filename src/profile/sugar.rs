//! Loader obligations of docs/engine.md, applied while turning a TOML
//! condition into plain JSON Schema 2020-12:
//!
//! - **path sugar**: a key starting with `/` is a JSON pointer into the
//!   evaluation document; it desugars to nested `type: object`, `required`
//!   and `properties`, so the path is *required* (absent ⇒ a `when` is
//!   false, a `require` fails; under `not` it reads "absent or not …");
//! - **strict typing**: a type-specific keyword without `type` gets one
//!   (`{minimum = 3}` would otherwise accept `null` and `"1"`);
//! - **keyword whitelist**: an unknown keyword (`cosnt`) is a load error;
//! - **path checking**: every `/derived`, `/global` path against
//!   `schemas/derived.v1.schema.json` (manifest paths are recorded and
//!   checked against the manifest schema once the whole file is read);
//! - **quoted dates only**: a TOML datetime anywhere is a load error.

use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use serde_json::{Map, Value, json};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Which part of the evaluation document a schema is positioned on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cursor {
    /// The root of the evaluation document (`{item, derived, manifest, global}`).
    Root,
    /// Inside the derived schema: `$defs/<def>` then these segments.
    Derived(String, Vec<String>),
    /// Inside the manifest: these segments from the manifest root (`*` = array element).
    Manifest(Vec<String>),
    /// Not tracked (e.g. inside `propertyNames`).
    Unknown,
}

impl Cursor {
    fn push(&self, seg: &str) -> Cursor {
        match self {
            Cursor::Derived(d, s) => {
                let mut s = s.clone();
                s.push(seg.into());
                Cursor::Derived(d.clone(), s)
            }
            Cursor::Manifest(s) => {
                let mut s = s.clone();
                s.push(seg.into());
                Cursor::Manifest(s)
            }
            _ => Cursor::Unknown,
        }
    }
}

/// A manifest path used by a rule, to be checked against the manifest schema.
#[derive(Debug, Clone)]
pub(crate) struct ManifestPath {
    pub segments: Vec<String>,
    pub span: Span,
    pub reach: Reach,
}

/// How a rule reaches a manifest path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// A path key or `for_each` (checked against the manifest schema).
    Key,
    /// A name under plain `properties` or `required` below a path: read,
    /// but not checked (a plain schema may test for names that are absent).
    Plain,
    /// A `$ref` applied here: the definition reads the whole value.
    Whole,
}

/// Context of one desugaring pass.
pub(crate) struct Sugar<'a> {
    pub file: FileId,
    pub diags: &'a mut Vec<Diagnostic>,
    pub derived_schema: &'a Value,
    /// The rule's `for_each` split in segments (`*` for wildcards); `None` for root rules.
    pub for_each: Option<Vec<String>>,
    /// Derived `$defs` entry for the element kind; `None` when the element has no facts.
    pub element_def: Option<&'static str>,
    pub manifest_paths: &'a mut Vec<ManifestPath>,
    /// Names accepted in `{"$ref" = "#/$defs/x"}`.
    pub local_defs: &'a [String],
    /// Names accepted in `{"$ref" = "urn:blueprint:shared#/$defs/x"}`; `None` while loading the shared file itself.
    pub shared_defs: Option<&'a [String]>,
}

const SCHEMA_VALUED: &[&str] = &[
    "not",
    "if",
    "then",
    "else",
    "items",
    "contains",
    "additionalProperties",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
];
const SCHEMA_MAP: &[&str] = &["properties", "patternProperties", "dependentSchemas"];
const SCHEMA_ARRAY: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
const NUMBER_KW: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
];
const COUNT_KW: &[&str] = &[
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minContains",
    "maxContains",
];
const DAYS_KW: &[&str] = &["maxAgeDays", "minDaysUntil"];
const DATE_KW: &[&str] = &["dateAfter", "dateBefore"];
const TEXT_KW: &[&str] = &["description", "title", "$comment"];
const OTHER_KW: &[&str] = &[
    "type",
    "enum",
    "const",
    "pattern",
    "required",
    "dependentRequired",
    "uniqueItems",
    "$ref",
];
const TYPES: &[&str] = &[
    "null", "boolean", "object", "array", "number", "integer", "string",
];

/// Keywords that imply a type (docs/engine.md "strict typing").
fn implied_type(kw: &str) -> Option<&'static str> {
    match kw {
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
            Some("number")
        }
        "pattern" | "minLength" | "maxLength" | "maxAgeDays" | "minDaysUntil" | "dateAfter"
        | "dateBefore" => Some("string"),
        "items" | "prefixItems" | "contains" | "minItems" | "maxItems" | "uniqueItems"
        | "minContains" | "maxContains" => Some("array"),
        "required"
        | "properties"
        | "patternProperties"
        | "additionalProperties"
        | "minProperties"
        | "maxProperties"
        | "dependentRequired"
        | "propertyNames" => Some("object"),
        _ => None,
    }
}

/// Every keyword list of the whitelist.
const KEYWORD_LISTS: [&[&str]; 9] = [
    SCHEMA_VALUED,
    SCHEMA_MAP,
    SCHEMA_ARRAY,
    NUMBER_KW,
    COUNT_KW,
    DAYS_KW,
    DATE_KW,
    TEXT_KW,
    OTHER_KW,
];

/// Is `kw` a known keyword?
pub(crate) fn is_keyword(kw: &str) -> bool {
    KEYWORD_LISTS.iter().any(|l| l.contains(&kw))
}

/// Decodes a JSON pointer into segments (`~1` → `/`, `~0` → `~`).
pub(crate) fn pointer_segments(p: &str) -> Vec<String> {
    p.split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

impl Sugar<'_> {
    fn err(&mut self, code: &str, span: Span, msg: impl Into<String>) {
        let msg = msg.into();
        self.diags.push(
            Diagnostic::error(format!("profile-load/{code}"), msg.clone())
                .with_label(crate::diag::Label::primary(self.file, span, msg)),
        );
    }

    /// Plain conversion of a TOML value to JSON, refusing datetimes.
    pub fn plain(&mut self, v: &Spanned<DeValue>) -> Value {
        match v.get_ref() {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => json!(n),
                Err(_) => {
                    self.err("bad-value", v.span(), "integer out of range");
                    Value::Null
                }
            },
            DeValue::Float(f) => match f.as_str().parse::<f64>() {
                Ok(x) if x.is_finite() => json!(x),
                _ => {
                    self.err("bad-value", v.span(), "only finite numbers are allowed");
                    Value::Null
                }
            },
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(_) => {
                self.err(
                    "unquoted-date",
                    v.span(),
                    "unquoted TOML date: write it as a quoted string (\"YYYY-MM-DD\")",
                );
                Value::Null
            }
            DeValue::Array(a) => Value::Array(a.iter().map(|x| self.plain(x)).collect()),
            DeValue::Table(t) => {
                let mut m = Map::new();
                for (k, x) in t.iter() {
                    let val = self.plain(x);
                    m.insert(k.get_ref().to_string(), val);
                }
                Value::Object(m)
            }
        }
    }

    /// Desugars a condition (`when`, `require`, `scope`, a check's `require`,
    /// a `[defs]` entry) positioned at `cursor`.
    pub fn schema(&mut self, v: &Spanned<DeValue>, cursor: &Cursor, assertion: bool) -> Value {
        match v.get_ref() {
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Table(t) => self.table(t, v.span(), cursor, assertion),
            _ => {
                self.err(
                    "bad-value",
                    v.span(),
                    "a condition must be a table (a JSON Schema) or a boolean",
                );
                Value::Null
            }
        }
    }

    fn table(&mut self, t: &DeTable, span: Span, cursor: &Cursor, assertion: bool) -> Value {
        let mut kws = Map::new();
        let mut paths: Vec<(Vec<String>, Value)> = Vec::new();
        for (k, v) in t.iter() {
            let key = k.get_ref().as_ref();
            if key.starts_with('/') {
                if let Some((segs, inner_cursor)) = self.path(key, k.span(), cursor) {
                    let derivedish =
                        matches!(segs.first().map(String::as_str), Some("derived" | "global"))
                            && *cursor == Cursor::Root;
                    let s = self.schema(v, &inner_cursor, assertion);
                    if assertion && derivedish && !has_description(&s) {
                        self.err(
                            "missing-description",
                            k.span(),
                            format!("assertion on derived fact `{key}` needs a `description` (it becomes the finding's message)"),
                        );
                    }
                    paths.push((segs, s));
                }
                continue;
            }
            if !is_keyword(key) {
                let hint = suggest(key)
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                self.err(
                    "unknown-keyword",
                    k.span(),
                    format!("unknown JSON Schema keyword `{key}`{hint}; paths must start with `/`"),
                );
                continue;
            }
            let val = self.keyword(key, v, cursor, assertion);
            kws.insert(key.to_string(), val);
        }
        if let (Cursor::Manifest(s), true) = (cursor, kws.contains_key("$ref")) {
            self.record(s.clone(), span.clone(), Reach::Whole);
        }
        // Strict typing.
        if !kws.contains_key("type") && !kws.contains_key("$ref") {
            let mut implied: Vec<&str> = kws.keys().filter_map(|k| implied_type(k)).collect();
            implied.sort_unstable();
            implied.dedup();
            match implied.as_slice() {
                [] => {}
                [one] => {
                    kws.insert("type".into(), json!(one));
                }
                many => self.err(
                    "mixed-types",
                    span,
                    format!(
                        "keywords for several types ({}); add an explicit `type`",
                        many.join(", ")
                    ),
                ),
            }
        }
        if paths.is_empty() {
            return Value::Object(kws);
        }
        let ps = render_paths(paths);
        if kws.is_empty() {
            return ps;
        }
        let clash = ["type", "required", "properties"]
            .iter()
            .any(|k| kws.contains_key(*k));
        if clash {
            json!({ "allOf": [Value::Object(kws), ps] })
        } else {
            if let Value::Object(p) = ps {
                kws.extend(p);
            }
            Value::Object(kws)
        }
    }

    fn keyword(
        &mut self,
        key: &str,
        v: &Spanned<DeValue>,
        cursor: &Cursor,
        assertion: bool,
    ) -> Value {
        if SCHEMA_VALUED.contains(&key) {
            let c = match key {
                "items" | "contains" | "unevaluatedItems" => cursor.push("*"),
                "not" | "then" | "else" => cursor.clone(),
                "if" => {
                    return self.schema(v, cursor, false);
                }
                _ => Cursor::Unknown,
            };
            return self.schema(v, &c, assertion);
        }
        if SCHEMA_MAP.contains(&key) {
            let Some(t) = v.get_ref().as_table() else {
                self.err("bad-value", v.span(), format!("`{key}` must be a table"));
                return Value::Null;
            };
            let mut m = Map::new();
            for (k, x) in t.iter() {
                let c = if key == "properties" {
                    cursor.push(k.get_ref())
                } else {
                    Cursor::Unknown
                };
                if let Cursor::Manifest(s) = &c {
                    self.record(s.clone(), k.span(), Reach::Plain);
                }
                let s = self.schema(x, &c, assertion);
                m.insert(k.get_ref().to_string(), s);
            }
            return Value::Object(m);
        }
        if SCHEMA_ARRAY.contains(&key) {
            let Some(a) = v.get_ref().as_array() else {
                self.err(
                    "bad-value",
                    v.span(),
                    format!("`{key}` must be an array of schemas"),
                );
                return Value::Null;
            };
            let c = if key == "prefixItems" {
                cursor.push("*")
            } else {
                cursor.clone()
            };
            return Value::Array(a.iter().map(|x| self.schema(x, &c, assertion)).collect());
        }
        let val = self.plain(v);
        if let (Cursor::Manifest(s), "required") = (cursor, key) {
            for name in val
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                let mut p = s.clone();
                p.push(name.to_string());
                self.record(p, v.span(), Reach::Plain);
            }
        }
        let ok = match key {
            k if NUMBER_KW.contains(&k) => val.is_number(),
            k if COUNT_KW.contains(&k) || DAYS_KW.contains(&k) => val.as_u64().is_some(),
            k if DATE_KW.contains(&k) => val
                .as_str()
                .is_some_and(|s| s.len() == 10 && crate::derived::parse_date(s).is_some()),
            k if TEXT_KW.contains(&k) => val.is_string(),
            "type" => match &val {
                Value::String(s) => TYPES.contains(&s.as_str()),
                Value::Array(a) => a
                    .iter()
                    .all(|x| x.as_str().is_some_and(|s| TYPES.contains(&s))),
                _ => false,
            },
            "enum" => val.is_array(),
            "pattern" => val.is_string(),
            "required" => val
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            "uniqueItems" => val.is_boolean(),
            "dependentRequired" => val.is_object(),
            "$ref" => return self.check_ref(val, v.span()),
            _ => true,
        };
        if !ok {
            self.err("bad-value", v.span(), format!("invalid value for `{key}`"));
        }
        val
    }

    fn check_ref(&mut self, val: Value, span: Span) -> Value {
        let Some(r) = val.as_str() else {
            self.err("bad-ref", span, "`$ref` must be a string");
            return val;
        };
        let ok = if let Some(name) = r.strip_prefix("#/$defs/") {
            self.local_defs.iter().any(|d| d == name)
        } else if let Some(name) = r.strip_prefix("urn:blueprint:shared#/$defs/") {
            self.shared_defs.is_none_or(|s| s.iter().any(|d| d == name))
        } else {
            false
        };
        if !ok {
            self.err(
                "bad-ref",
                span,
                format!("`$ref` \"{r}\" names no `[defs]` entry of this profile nor of urn:blueprint:shared"),
            );
        }
        val
    }

    fn record(&mut self, segments: Vec<String>, span: Span, reach: Reach) {
        self.manifest_paths.push(ManifestPath {
            segments,
            span,
            reach,
        });
    }

    /// Validates a path key at `cursor`; returns its segments (relative to
    /// the cursor) and the cursor below it.
    fn path(&mut self, key: &str, span: Span, cursor: &Cursor) -> Option<(Vec<String>, Cursor)> {
        let segs = pointer_segments(key);
        if segs.iter().any(String::is_empty) {
            self.err(
                "unknown-path",
                span,
                format!("empty segment in path `{key}`"),
            );
            return None;
        }
        let inner = match cursor {
            Cursor::Root => {
                let head = segs[0].as_str();
                let rest: Vec<String> = segs[1..].to_vec();
                match (head, &self.for_each) {
                    ("manifest", _) => Cursor::Manifest(rest),
                    ("global", _) => Cursor::Derived("global".into(), rest),
                    ("item", Some(fe)) => {
                        let mut s = fe.clone();
                        s.push("*".into());
                        s.extend(rest);
                        Cursor::Manifest(s)
                    }
                    ("derived", Some(_)) => match self.element_def {
                        Some(d) => Cursor::Derived(d.into(), rest),
                        None => {
                            self.err(
                                "unknown-path",
                                span,
                                format!(
                                    "`{key}`: elements of this `for_each` have no derived facts"
                                ),
                            );
                            return None;
                        }
                    },
                    ("item" | "derived", None) => {
                        self.err(
                            "unknown-path",
                            span,
                            format!("`{key}`: `/item` and `/derived` exist only in rules with `for_each`"),
                        );
                        return None;
                    }
                    _ => {
                        self.err(
                            "unknown-path",
                            span,
                            format!(
                                "`{key}` must start with /item, /derived, /manifest or /global"
                            ),
                        );
                        return None;
                    }
                }
            }
            Cursor::Derived(d, s) => {
                let mut s = s.clone();
                s.extend(segs.iter().cloned());
                Cursor::Derived(d.clone(), s)
            }
            Cursor::Manifest(s) => {
                let mut s = s.clone();
                s.extend(segs.iter().cloned());
                Cursor::Manifest(s)
            }
            Cursor::Unknown => Cursor::Unknown,
        };
        match &inner {
            Cursor::Derived(d, s) => {
                let start = &self.derived_schema["$defs"][d.as_str()];
                if let Err(bad) = schema_path(self.derived_schema, start, s) {
                    let hint = format!(
                        "`{key}`: `{bad}` is not a derived fact (see schemas/derived.v1.schema.json)"
                    );
                    self.err("unknown-path", span, hint);
                    return None;
                }
            }
            Cursor::Manifest(s) => self.manifest_paths.push(ManifestPath {
                segments: s.clone(),
                span,
                reach: Reach::Key,
            }),
            _ => {}
        }
        Some((segs, inner))
    }
}

/// Does `s` say what it asserts: a `description` (or a `$ref`, whose target
/// carries one) anywhere inside it?
fn has_description(s: &Value) -> bool {
    match s {
        Value::Object(o) => {
            o.contains_key("description")
                || o.contains_key("$ref")
                || o.values().any(has_description)
        }
        Value::Array(a) => a.iter().any(has_description),
        _ => false,
    }
}

/// Builds nested `type: object` + `required` + `properties` for path keys
/// (docs/engine.md "path sugar"), sharing common prefixes.
fn render_paths(paths: Vec<(Vec<String>, Value)>) -> Value {
    #[derive(Default)]
    struct Node {
        leaves: Vec<Value>,
        children: Vec<(String, Node)>,
    }
    fn insert(n: &mut Node, segs: &[String], s: Value) {
        match segs.split_first() {
            None => n.leaves.push(s),
            Some((h, rest)) => {
                let idx = match n.children.iter().position(|(k, _)| k == h) {
                    Some(i) => i,
                    None => {
                        n.children.push((h.clone(), Node::default()));
                        n.children.len() - 1
                    }
                };
                insert(&mut n.children[idx].1, rest, s);
            }
        }
    }
    fn render(n: Node) -> Value {
        let mut parts = n.leaves;
        if !n.children.is_empty() {
            let required: Vec<Value> = n.children.iter().map(|(k, _)| json!(k)).collect();
            let mut props = Map::new();
            for (k, c) in n.children {
                props.insert(k, render(c));
            }
            parts.push(json!({ "type": "object", "required": required, "properties": props }));
        }
        if parts.len() == 1 {
            parts.pop().unwrap_or(Value::Bool(true))
        } else {
            json!({ "allOf": parts })
        }
    }
    let mut root = Node::default();
    for (segs, s) in paths {
        insert(&mut root, &segs, s);
    }
    render(root)
}

/// Checks that `segs` names something under `node` of JSON Schema `root`.
/// Returns the first segment that does not resolve. Objects are only closed
/// when they say `additionalProperties: false`.
pub(crate) fn schema_path(root: &Value, node: &Value, segs: &[String]) -> Result<(), String> {
    /// Children of `node` named `seg`; the flag marks nodes reached through
    /// a branch (`allOf`, `then`, …): those only constrain, so an open
    /// object there never makes an unknown name valid.
    fn step<'a>(
        root: &'a Value,
        node: &'a Value,
        seg: &str,
        depth: u32,
        branch: bool,
    ) -> Vec<(&'a Value, bool)> {
        const ANY: &Value = &Value::Bool(true);
        let mut out = Vec::new();
        if depth > 32 {
            return out;
        }
        let Some(o) = node.as_object() else {
            if node == ANY && !branch {
                out.push((ANY, false));
            }
            return out;
        };
        if let Some(r) = o.get("$ref").and_then(Value::as_str) {
            match r.strip_prefix('#').and_then(|p| root.pointer(p)) {
                Some(t) => out.extend(step(root, t, seg, depth + 1, branch)),
                None => out.push((ANY, branch)),
            }
        }
        for k in ["allOf", "anyOf", "oneOf"] {
            for b in o.get(k).and_then(Value::as_array).into_iter().flatten() {
                out.extend(step(root, b, seg, depth + 1, true));
            }
        }
        for k in ["then", "else"] {
            if let Some(b) = o.get(k) {
                out.extend(step(root, b, seg, depth + 1, true));
            }
        }
        let is_index = seg == "*" || seg.parse::<usize>().is_ok();
        let ty = o.get("type").and_then(Value::as_str);
        if is_index {
            match o.get("items") {
                Some(i) => out.push((i, branch)),
                None if ty == Some("array") && !branch => out.push((ANY, false)),
                None => {}
            }
        }
        if let Some(p) = o.get("properties").and_then(|p| p.get(seg)) {
            out.push((p, branch));
        }
        if o.contains_key("patternProperties") && !branch {
            out.push((ANY, false));
        }
        let not_object =
            ty.is_some_and(|t| t != "object") || o.contains_key("enum") || o.contains_key("const");
        match o.get("additionalProperties") {
            Some(Value::Bool(false)) => {}
            Some(a @ Value::Object(_)) => out.push((a, branch)),
            Some(Value::Bool(true)) => out.push((ANY, false)),
            _ => {
                let closed = o.get("unevaluatedProperties") == Some(&Value::Bool(false));
                let indexed_object = is_index && o.contains_key("properties");
                if !(branch || closed || not_object || indexed_object) {
                    out.push((ANY, false));
                }
            }
        }
        out
    }
    let mut frontier: Vec<(&Value, bool)> = vec![(node, false)];
    for seg in segs {
        let mut next = Vec::new();
        for (n, b) in &frontier {
            next.extend(step(root, n, seg, 0, *b));
        }
        if next.is_empty() {
            return Err(seg.clone());
        }
        frontier = next;
    }
    Ok(())
}

/// A likely intended keyword for a misspelt one (`cosnt` → `const`).
fn suggest(k: &str) -> Option<String> {
    let all: Vec<String> = KEYWORD_LISTS
        .concat()
        .into_iter()
        .map(str::to_string)
        .collect();
    crate::manifest::schema::closest(k, &all)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest_schema() -> Value {
        serde_json::from_str(crate::manifest::schema::MANIFEST_SCHEMA).unwrap_or(Value::Null)
    }

    fn segs(p: &str) -> Vec<String> {
        pointer_segments(p)
    }

    #[test]
    fn manifest_paths_resolve_through_items_refs_and_branches() {
        let s = manifest_schema();
        assert_eq!(
            schema_path(&s, &s, &segs("/network_endpoints/*/tls/min_version")),
            Ok(())
        );
        assert_eq!(
            schema_path(&s, &s, &segs("/network_endpoints/*/tls/min_verison")),
            Err("min_verison".into())
        );
        assert_eq!(
            schema_path(&s, &s, &segs("/data_items/*/consent/kind")),
            Ok(())
        );
        assert_eq!(
            schema_path(&s, &s, &segs("/securty")),
            Err("securty".into())
        );
    }

    #[test]
    fn render_paths_shares_prefixes() {
        let v = render_paths(vec![
            (segs("/item/a/b"), json!({"const": 1})),
            (segs("/item/a/c"), json!({"const": 2})),
        ]);
        assert_eq!(
            v,
            json!({"type": "object", "required": ["item"], "properties": {"item":
                {"type": "object", "required": ["a"], "properties": {"a":
                    {"type": "object", "required": ["b", "c"], "properties": {"b": {"const": 1}, "c": {"const": 2}}}}}}})
        );
    }
}
