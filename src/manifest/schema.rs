//! The schema stage: `schemas/blueprint.v1.schema.json` (JSON Schema
//! 2020-12), compiled once per process, every error turned into a
//! diagnostic that points at the key or value in the user's file.
//!
//! Codes are `schema/<keyword>` (`schema/required`, `schema/type`,
//! `schema/additionalProperties` …). A `required` error points at the table
//! that lacks the key; an unknown key at the key itself (docs/style.md).

use crate::diag::{Diagnostic, Label, Severity};
use crate::manifest::document::{Document, unescape_token};
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::Value;
use std::sync::OnceLock;

/// `$id` of the manifest schema.
pub const MANIFEST_SCHEMA_ID: &str = "urn:blueprint:schema:blueprint:v1";

/// Text of the manifest schema (`blueprint schema` prints it).
pub const MANIFEST_SCHEMA: &str = include_str!("../../schemas/blueprint.v1.schema.json");

/// A compiled schema plus its JSON (to look up descriptions and the names
/// an unknown key could have meant).
pub struct SchemaChecker {
    schema: Value,
    validator: Validator,
}

/// Why a schema could not be compiled (a defect of a shipped or user file).
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The schema text is not JSON.
    #[error("schema is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON is not a valid JSON Schema 2020-12.
    #[error("schema does not compile: {0}")]
    Compile(String),
}

impl SchemaChecker {
    /// Compiles `schema` (draft 2020-12, formats asserted).
    pub fn compile(schema: Value) -> Result<Self, SchemaError> {
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .map_err(|e| SchemaError::Compile(e.to_string()))?;
        Ok(SchemaChecker { schema, validator })
    }

    /// The shipped manifest schema, compiled on first use.
    pub fn manifest() -> &'static SchemaChecker {
        static CHECKER: OnceLock<SchemaChecker> = OnceLock::new();
        CHECKER.get_or_init(|| {
            let value = serde_json::from_str(MANIFEST_SCHEMA)
                .unwrap_or_else(|e| panic!("shipped manifest schema is not JSON: {e}"));
            SchemaChecker::compile(value)
                .unwrap_or_else(|e| panic!("shipped manifest schema does not compile: {e}"))
        })
    }

    /// True when `value` has no schema error (fast path).
    pub fn is_valid(&self, value: &Value) -> bool {
        self.validator.is_valid(value)
    }

    /// Every schema error in `doc`, as diagnostics.
    pub fn check(&self, doc: &Document) -> Vec<Diagnostic> {
        if self.validator.is_valid(&doc.value) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for e in self.validator.iter_errors(&doc.value) {
            self.convert(doc, &e, &mut out);
        }
        self.explain_table_traps(doc, &mut out);
        out
    }

    /// The TOML table trap: a key meant for an enclosing table (most often
    /// the top level) written after a `[table]` header lands in that table.
    /// The unknown-key finding then says where the key belongs and how to
    /// move it, and the enclosing table's "missing required key" for the
    /// same key is dropped: one cause, one finding.
    fn explain_table_traps(&self, doc: &Document, out: &mut Vec<Diagnostic>) {
        let mut moved: Vec<(String, String)> = Vec::new();
        for d in out.iter_mut() {
            if d.code != "schema/additionalProperties" {
                continue;
            }
            let Some(ptr) = d.pointer.clone() else {
                continue;
            };
            let Some((table, key)) = ptr.rsplit_once('/') else {
                continue;
            };
            let key = unescape_token(key).into_owned();
            // Nearest enclosing table (up to the top level) that has `key`.
            let mut up = table;
            let home = loop {
                let Some((parent, _)) = up.rsplit_once('/') else {
                    break None;
                };
                up = parent;
                let declares = self
                    .schema_for(up)
                    .and_then(|s| s.get("properties"))
                    .is_some_and(|p| p.get(&key).is_some());
                let present = doc.value.pointer(up).is_some_and(|v| v.get(&key).is_some());
                if declares && !present {
                    break Some(up.to_string());
                }
            };
            let Some(home) = home else { continue };
            let header = toml_header(table);
            let place = if home.is_empty() {
                "a top-level key".to_string()
            } else {
                format!("a key of `{}`", toml_header(&home))
            };
            d.message = format!("`{key}` is {place}, but here it is inside `{header}`");
            d.notes
                .retain(|n| !n.starts_with("help: allowed keys here"));
            if doc.format == crate::manifest::document::Format::Toml {
                let value = doc.value.pointer(&ptr);
                let own_header = match value {
                    Some(Value::Object(_)) => format!(", or write it as its own `[{key}]` table"),
                    Some(Value::Array(a)) if a.iter().all(Value::is_object) && !a.is_empty() => {
                        format!(", or write each entry under its own `[[{key}]]` header")
                    }
                    _ => String::new(),
                };
                let fix = if home.is_empty() {
                    format!("move `{key}` above the first table header{own_header}")
                } else {
                    format!("move `{key}` under the `{}` header", toml_header(&home))
                };
                d.notes.insert(
                    0,
                    format!(
                        "note: TOML puts every key written after the `{header}` header into that table, up to the next header"
                    ),
                );
                d.notes.insert(1, format!("help: {fix}"));
            } else {
                d.notes
                    .insert(0, format!("help: move `{key}` out of this object"));
            }
            moved.push((home, key));
        }
        out.retain(|d| {
            d.code != "schema/required"
                || !moved.iter().any(|(home, key)| {
                    d.pointer.as_deref() == Some(home.as_str())
                        && d.message == format!("missing required key `{key}`")
                })
        });
    }

    /// The schema node that describes the manifest value at `pointer`
    /// (following `properties`, `items` and local `$ref`s).
    fn schema_for(&self, pointer: &str) -> Option<&Value> {
        let mut node = self.deref(&self.schema)?;
        for seg in pointer.split('/').skip(1) {
            let seg = unescape_token(seg);
            let next = node
                .get("properties")
                .and_then(|p| p.get(seg.as_ref()))
                .or_else(|| seg.parse::<usize>().ok().and_then(|_| node.get("items")))
                .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?;
            node = self.deref(next)?;
        }
        Some(node)
    }

    fn deref<'a>(&'a self, mut node: &'a Value) -> Option<&'a Value> {
        for _ in 0..16 {
            match node.get("$ref").and_then(Value::as_str) {
                Some(r) => node = self.schema.pointer(r.strip_prefix('#')?)?,
                None => return Some(node),
            }
        }
        None
    }

    fn convert(&self, doc: &Document, e: &ValidationError<'_>, out: &mut Vec<Diagnostic>) {
        let ptr = e.instance_path().as_str().to_string();
        let keyword = e.kind().keyword().to_string();
        let code = format!("schema/{keyword}");
        let schema_path = e.schema_path().as_str().to_string();
        match e.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                let known = self.sibling_properties(&schema_path);
                for key in unexpected {
                    let key_ptr = format!("{ptr}/{}", crate::manifest::document::escape_token(key));
                    let mut d =
                        Diagnostic::error(code.clone(), format!("unknown key `{}`", excerpt(key)))
                            .with_pointer(key_ptr.clone())
                            .with_label(Label::primary(
                                doc.file,
                                doc.spans.locate_key(&key_ptr),
                                "not a field of this table",
                            ));
                    if let Some(s) = closest(key, &known) {
                        d = d.with_note(format!("help: did you mean `{s}`?"));
                    } else if !known.is_empty() {
                        d = d.with_note(format!(
                            "help: allowed keys here: {}",
                            list(&known, MAX_LISTED)
                        ));
                    }
                    out.push(d);
                }
            }
            ValidationErrorKind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                // At the root, point at the first key rather than the whole file.
                let root_key = ptr
                    .is_empty()
                    .then(|| doc.spans.first_top_level_key())
                    .flatten();
                let (span, label) = match root_key {
                    Some(first) => (first, format!("`{name}` is required at the top level")),
                    None => (
                        doc.spans.locate(&ptr),
                        format!("`{name}` is required in this table"),
                    ),
                };
                let mut d = Diagnostic::error(code, format!("missing required key `{name}`"))
                    .with_pointer(ptr.clone())
                    .with_label(Label::primary(doc.file, span, label));
                let parent = schema_path.trim_end_matches("/required");
                if let Some(desc) = self.description(&format!("{parent}/properties/{name}")) {
                    d = d.with_note(format!("note: `{name}`: {desc}"));
                }
                out.push(d);
            }
            ValidationErrorKind::AnyOf { context }
            | ValidationErrorKind::OneOfNotValid { context } => {
                let mut d = Diagnostic::error(code, self.message(e))
                    .with_pointer(ptr.clone())
                    .with_label(Label::primary(
                        doc.file,
                        doc.spans.locate(&ptr),
                        "no alternative matches",
                    ));
                for (i, alt) in context.iter().enumerate().take(6) {
                    if let Some(first) = alt.first() {
                        d = d.with_note(format!(
                            "alternative {}: {} at `{}`",
                            i + 1,
                            bounded(first),
                            first.instance_path().as_str()
                        ));
                    }
                }
                out.push(d);
            }
            _ => {
                let mut d = Diagnostic::error(code, self.message(e))
                    .with_pointer(ptr.clone())
                    .with_label(Label::primary(
                        doc.file,
                        doc.spans.locate(&ptr),
                        label_for(e.kind()),
                    ));
                if let ValidationErrorKind::Enum { options } = e.kind()
                    && let (Some(opts), Some(got)) = (options.as_array(), e.instance().as_str())
                {
                    let names: Vec<String> = opts
                        .iter()
                        .filter_map(|o| o.as_str().map(str::to_string))
                        .collect();
                    if let Some(s) = closest(got, &names) {
                        d = d.with_note(format!("help: did you mean `{s}`?"));
                    }
                }
                let prop_schema = schema_path.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
                if let Some(desc) = self.description(prop_schema) {
                    d = d.with_note(format!("note: {desc}"));
                }
                out.push(d);
            }
        }
    }

    fn message(&self, e: &ValidationError<'_>) -> String {
        let inst = short(e.instance());
        match e.kind() {
            ValidationErrorKind::Type { kind } => {
                format!(
                    "expected {}, found {}",
                    type_words(kind),
                    json_type(e.instance())
                )
            }
            ValidationErrorKind::Enum { options } => {
                let opts: Vec<String> = options
                    .as_array()
                    .map(|a| a.iter().map(|o| o.to_string()).collect())
                    .unwrap_or_default();
                format!(
                    "{inst} is not one of the allowed values ({})",
                    list(&opts, MAX_LISTED)
                )
            }
            ValidationErrorKind::Constant { expected_value } => {
                format!("expected {expected_value}, found {inst}")
            }
            ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } => {
                format!("{inst} matches none of the allowed shapes")
            }
            _ => bounded(e),
        }
    }

    /// The `description` of the schema node at `schema_path` (a JSON
    /// pointer into the schema, `$ref`s not followed).
    fn description(&self, schema_path: &str) -> Option<String> {
        self.schema
            .pointer(schema_path)
            .and_then(|s| s.get("description"))
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    /// Property names declared beside the `additionalProperties` keyword at
    /// `schema_path`.
    fn sibling_properties(&self, schema_path: &str) -> Vec<String> {
        let parent = schema_path
            .rsplit_once('/')
            .map(|(p, _)| p)
            .unwrap_or_default();
        self.schema
            .pointer(&format!("{parent}/properties"))
            .and_then(Value::as_object)
            .map(|m| m.keys().map(|k| unescape_token(k).into_owned()).collect())
            .unwrap_or_default()
    }
}

/// `/data_items/0` → `[[data_items]]`, `/security/credentials` →
/// `[security.credentials]`.
fn toml_header(pointer: &str) -> String {
    let segs: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| unescape_token(s).into_owned())
        .collect();
    let names: Vec<&str> = segs
        .iter()
        .filter(|s| s.parse::<usize>().is_err())
        .map(String::as_str)
        .collect();
    if segs.last().is_some_and(|s| s.parse::<usize>().is_ok()) {
        format!("[[{}]]", names.join("."))
    } else {
        format!("[{}]", names.join("."))
    }
}

/// Severity of every schema diagnostic: the manifest cannot be judged
/// until it has the right shape.
pub const SCHEMA_SEVERITY: Severity = Severity::Error;

fn label_for(kind: &ValidationErrorKind) -> String {
    match kind {
        ValidationErrorKind::Type { .. } => "wrong type".into(),
        ValidationErrorKind::Enum { .. } => "not an allowed value".into(),
        ValidationErrorKind::Pattern { .. } => "does not match the expected pattern".into(),
        ValidationErrorKind::Format { format } => format!("not a valid {format}"),
        ValidationErrorKind::Minimum { .. } | ValidationErrorKind::ExclusiveMinimum { .. } => {
            "too small".into()
        }
        ValidationErrorKind::Maximum { .. } | ValidationErrorKind::ExclusiveMaximum { .. } => {
            "too large".into()
        }
        ValidationErrorKind::MinItems { .. } => "too few entries".into(),
        ValidationErrorKind::MaxItems { .. } => "too many entries".into(),
        ValidationErrorKind::Constant { .. } => "unexpected value".into(),
        _ => "here".into(),
    }
}

fn type_words(kind: &jsonschema::error::TypeKind) -> String {
    match kind {
        jsonschema::error::TypeKind::Single(t) => article(&t.to_string()),
        jsonschema::error::TypeKind::Multiple(ts) => {
            let v: Vec<String> = ts.iter().map(|t| t.to_string()).collect();
            v.join(" or ")
        }
    }
}

fn article(t: &str) -> String {
    match t {
        "integer" | "array" | "object" => format!("an {t}"),
        "null" => "null".into(),
        _ => format!("a {t}"),
    }
}

fn json_type(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "a boolean".into(),
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer".into(),
        Value::Number(_) => "a float".into(),
        Value::String(_) => "a string".into(),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "a table".into(),
    }
}

fn short(v: &Value) -> String {
    match v {
        Value::Object(_) => return "the table".into(),
        Value::Array(a) if a.len() > 6 => return format!("the list of {} values", a.len()),
        _ => {}
    }
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(57).collect::<String>())
    } else {
        s
    }
}

/// Most values listed in one message; longer lists say how to see them all.
const MAX_LISTED: usize = 60;

/// Every item, or the first `max` and where to read the rest.
fn list(items: &[String], max: usize) -> String {
    let v: Vec<&str> = items.iter().map(String::as_str).take(max).collect();
    let mut s = v.join(", ");
    if items.len() > max {
        s.push_str(&format!(
            ", and {} more (all of them: `blueprint schema`)",
            items.len() - max
        ));
    }
    s
}

/// A jsonschema error's text without a quoted table or long list: the
/// value is named by its kind instead (a message never quotes a manifest).
fn bounded(e: &ValidationError<'_>) -> String {
    let text = e.to_string();
    let inst = e.instance();
    let whole = inst.to_string();
    if whole.chars().count() <= 60 {
        return text;
    }
    text.replace(&whole, &short(inst))
}

/// Longest word (in characters) a typo is looked for in: a longer one is
/// not a misspelt name, and comparing it would cost its length times each
/// candidate's.
const MAX_TYPO_CHARS: usize = 64;

/// Most characters of a user's value or key quoted in a message.
const MAX_QUOTED_CHARS: usize = 60;

/// `s`, or its first characters and "…" when it is long: a message quotes
/// at most a short excerpt of what the user wrote.
pub(crate) fn excerpt(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(MAX_QUOTED_CHARS) {
        None => s.into(),
        Some(_) => {
            let cut = s
                .char_indices()
                .nth(MAX_QUOTED_CHARS - 3)
                .map_or(s.len(), |(i, _)| i);
            format!("{}…", &s[..cut]).into()
        }
    }
}

/// The candidate nearest to `word` by edit distance, when close enough to
/// be a typo (at most a third of the word's length, and at most 3).
pub(crate) fn closest(word: &str, candidates: &[String]) -> Option<String> {
    let chars = word.chars().take(MAX_TYPO_CHARS + 1).count();
    if chars > MAX_TYPO_CHARS {
        return None;
    }
    let limit = (chars / 3).clamp(1, 3);
    candidates
        .iter()
        .filter_map(|c| within(word, c, limit).map(|d| (d, c)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone())
}

/// Up to `n` candidates nearest to `word` by edit distance, nearest first,
/// within the same typo bound as [`closest`] (at least one edit allowed per
/// three characters, and never fewer than 3). A word longer than
/// [`MAX_TYPO_CHARS`] has no suggestion.
pub fn nearest(word: &str, candidates: &[String], n: usize) -> Vec<String> {
    let chars = word.chars().take(MAX_TYPO_CHARS + 1).count();
    if chars > MAX_TYPO_CHARS {
        return Vec::new();
    }
    let limit = (chars / 3).max(3);
    let mut scored: Vec<(usize, &String)> = candidates
        .iter()
        .filter_map(|c| within(word, c, limit).map(|d| (d, c)))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(n).map(|(_, c)| c.clone()).collect()
}

/// The edit distance of `a` and `b` when at most `limit`. Candidates whose
/// length alone is too far off, or longer than [`MAX_TYPO_CHARS`], are not
/// compared.
fn within(a: &str, b: &str, limit: usize) -> Option<usize> {
    let lb = b.chars().take(MAX_TYPO_CHARS + 1).count();
    if lb > MAX_TYPO_CHARS || lb.abs_diff(a.chars().count()) > limit {
        return None;
    }
    Some(levenshtein(a, b)).filter(|d| *d <= limit)
}

/// Edit distance counting an adjacent transposition as one edit (optimal
/// string alignment), so `kidn` is one step from `kind`. Three rows, so
/// memory is linear in the shorter input.
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0usize; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::document::{Limits, load};
    use crate::source::SourceMap;
    use serde_json::json;

    fn checker() -> SchemaChecker {
        SchemaChecker::compile(json!({
            "type": "object",
            "required": ["name"],
            "additionalProperties": false,
            "properties": {
                "name": {"type": "string", "description": "Display name."},
                "kind": {"enum": ["camera", "meter"]},
                "port": {"type": "integer", "minimum": 1}
            }
        }))
        .unwrap()
    }

    #[test]
    fn errors_point_at_the_right_place() {
        let text = "kidn = \"camera\"\nport = \"80\"\n";
        let mut map = SourceMap::new();
        let doc = load(&mut map, "a.toml", text.as_bytes(), &Limits::default()).unwrap();
        let diags = checker().check(&doc);
        let mut codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
        codes.sort();
        assert_eq!(
            codes,
            [
                "schema/additionalProperties",
                "schema/required",
                "schema/type"
            ]
        );
        let unknown = diags
            .iter()
            .find(|d| d.code == "schema/additionalProperties")
            .unwrap();
        assert_eq!(&text[unknown.primary().unwrap().span.clone()], "kidn");
        assert!(
            unknown
                .notes
                .iter()
                .any(|n| n.contains("did you mean `kind`"))
        );
        let ty = diags.iter().find(|d| d.code == "schema/type").unwrap();
        assert_eq!(&text[ty.primary().unwrap().span.clone()], "\"80\"");
        assert_eq!(ty.message, "expected an integer, found a string");
    }

    #[test]
    fn enum_suggests_the_nearest_value() {
        let mut map = SourceMap::new();
        let doc = load(
            &mut map,
            "a.json",
            br#"{"name":"x","kind":"camrea"}"#,
            &Limits::default(),
        )
        .unwrap();
        let d = checker().check(&doc);
        assert_eq!(d.len(), 1);
        assert!(
            d[0].notes
                .iter()
                .any(|n| n.contains("did you mean `camera`")),
            "{:?}",
            d[0]
        );
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(
            closest("markts", &["markets".into(), "vendor".into()]).as_deref(),
            Some("markets")
        );
        assert_eq!(closest("zzzz", &["markets".into()]), None);
        assert_eq!(levenshtein("kidn", "kind"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("ca", "abc"), 3);
    }

    #[test]
    fn long_words_are_neither_compared_nor_quoted_whole() {
        let long = "x".repeat(1_000_000);
        assert_eq!(closest(&long, &["markets".into()]), None);
        assert!(nearest(&long, &["markets".into()], 3).is_empty());
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), MAX_QUOTED_CHARS - 2);
        assert!(e.ends_with('…'));
        assert_eq!(excerpt("short"), "short");
    }
}
