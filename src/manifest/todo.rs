//! Placeholders left in a manifest: a value followed on its line by a
//! `# TODO` comment (what `blueprint init` writes), or the string `"TODO"`.
//!
//! A scaffold must pass the schema as written, so its placeholders are
//! values of the right type (`false`, the first allowed value, `"TODO"`);
//! the comment is what marks them undecided. Each one is an error of its
//! own, `todo/<pointer>`, so an unfilled manifest can never pass or be
//! signed; and the profiles are not evaluated while one is left, since
//! their findings would be about guesses.

use crate::diag::{Diagnostic, Label};
use crate::manifest::document::{Document, Format};
use crate::source::Span;
use serde_json::Value;

/// The comment that marks a placeholder.
pub const MARKER: &str = "# TODO";

/// The string value that is a placeholder wherever it appears.
pub const PLACEHOLDER_STRING: &str = "TODO";

/// Code prefix of placeholder findings.
pub const CODE_PREFIX: &str = "todo/";

/// Every placeholder in `doc` (whose source text is `text`), in file order.
pub fn placeholders(doc: &Document, text: &str) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut ptr = String::new();
    // A `# TODO` comment needs the word in the text: without it no node's
    // span is looked up (a manifest without findings needs no span index).
    let text = if text.contains(PLACEHOLDER_STRING) {
        Some(text)
    } else if !holds_placeholder_string(&doc.value) {
        // No marker and no "TODO" value (even one written with escapes):
        // nothing to find, so no pointer is built.
        return out;
    } else {
        None
    };
    walk(doc, text, &doc.value, &mut ptr, &mut out);
    out.sort_by_key(|d| d.primary().map(|l| l.span.start));
    out
}

/// What `blueprint explain todo/<pointer>` says; `None` for other codes.
pub fn explain(code: &str) -> Option<String> {
    let ptr = code.strip_prefix(CODE_PREFIX)?;
    Some(format!(
        "{code} (error)\n  `/{ptr}` still holds a placeholder\n\n\
         `blueprint init` writes every value the vendor must decide as a placeholder:\n\
         a value of the right type (so the file passes the schema check) followed by\n\
         a `{MARKER}` comment on its line; the string \"{PLACEHOLDER_STRING}\" counts as one\n\
         anywhere. Each placeholder left is an error, so the manifest can neither\n\
         pass nor be signed, and the profiles are evaluated only once none is left\n\
         (their findings would be about guesses).\n\n\
         Fix: set `/{ptr}` to the value the device really has (the comment\n\
         lists the allowed values), then delete the `{MARKER}` comment.\n"
    ))
}

fn walk(
    doc: &Document,
    text: Option<&str>,
    v: &Value,
    ptr: &mut String,
    out: &mut Vec<Diagnostic>,
) {
    if !ptr.is_empty() {
        if let Some(span) = text.and_then(|text| marked(doc, text, ptr)) {
            out.push(finding(doc, ptr, span, true));
            return;
        }
        if v.as_str() == Some(PLACEHOLDER_STRING) {
            let span = doc.spans.get(ptr).map_or(0..0, |n| n.value.clone());
            out.push(finding(doc, ptr, span, false));
            return;
        }
    }
    let len = ptr.len();
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                ptr.push('/');
                if k.contains(['~', '/']) {
                    ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                } else {
                    ptr.push_str(k);
                }
                walk(doc, text, x, ptr, out);
                ptr.truncate(len);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                ptr.push('/');
                ptr.push_str(&i.to_string());
                walk(doc, text, x, ptr, out);
                ptr.truncate(len);
            }
        }
        _ => {}
    }
}

/// Whether any string value in `v` is the placeholder string.
fn holds_placeholder_string(v: &Value) -> bool {
    match v {
        Value::String(s) => s == PLACEHOLDER_STRING,
        Value::Array(a) => a.iter().any(holds_placeholder_string),
        Value::Object(o) => o.values().any(holds_placeholder_string),
        _ => false,
    }
}

/// The value span of `ptr` when the value is written inline (`key = …`,
/// or an element of an inline array) and its line goes on with the marker.
fn marked(doc: &Document, text: &str, ptr: &str) -> Option<Span> {
    if doc.format != Format::Toml {
        return None;
    }
    let span = doc.spans.get(ptr)?.value.clone();
    let before = text.get(..span.start)?.trim_end_matches([' ', '\t']);
    if !before.ends_with(['=', '[', ',']) || before.ends_with("[[") {
        return None;
    }
    let rest = text.get(span.end..)?;
    let line = rest.split('\n').next().unwrap_or("");
    let after = line.trim_start_matches([' ', '\t', ',', ']', '}']);
    let comment = after.strip_prefix('#')?.trim_start();
    comment
        .strip_prefix(PLACEHOLDER_STRING)
        .filter(|r| !r.starts_with(|c: char| c.is_ascii_alphanumeric()))
        .map(|_| span)
}

fn finding(doc: &Document, ptr: &str, span: Span, comment: bool) -> Diagnostic {
    let (msg, help) = if comment {
        (
            format!("`{ptr}` is a placeholder: decide its value"),
            "help: set the value this device really has, then delete the `# TODO` comment",
        )
    } else {
        (
            format!("`{ptr}` is the placeholder \"TODO\": decide its value"),
            "help: replace \"TODO\" with the value this device really has",
        )
    };
    Diagnostic::error(format!("{CODE_PREFIX}{}", ptr.trim_start_matches('/')), msg)
        .with_pointer(ptr)
        .with_label(Label::primary(doc.file, span, "placeholder"))
        .with_note(help)
        .with_note("note: the profiles are evaluated once no placeholder is left")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::document::{self, Limits};
    use crate::source::SourceMap;

    fn find(text: &str, name: &str) -> Vec<(String, String)> {
        let mut map = SourceMap::new();
        let doc = document::load(&mut map, name, text.as_bytes(), &Limits::default())
            .unwrap_or_else(|d| panic!("{d:?}"));
        placeholders(&doc, text)
            .into_iter()
            .map(|d| {
                let s = d.primary().map(|l| l.span.clone()).unwrap_or(0..0);
                (d.code, text[s].to_string())
            })
            .collect()
    }

    #[test]
    fn a_marker_after_a_value_makes_it_a_placeholder() {
        let t = "a = false  # TODO: true or false\nb = 3 # not a todo\n\n[t]\nc = [\"x\", \"y\"] # TODO\nd = 2026-01-02 #TODO\ne = \"TODOS\"\n";
        assert_eq!(
            find(t, "m.toml"),
            [
                ("todo/a".to_string(), "false".to_string()),
                ("todo/t/c".to_string(), "[\"x\", \"y\"]".to_string()),
                ("todo/t/d".to_string(), "2026-01-02".to_string()),
            ]
        );
    }

    #[test]
    fn table_headers_and_other_comments_are_not_placeholders() {
        let t = "[t] # TODO\nx = 1\n\n[[u]] # TODO\ny = 2 # TODOs are elsewhere\n";
        assert!(find(t, "m.toml").is_empty());
    }

    #[test]
    fn the_todo_string_is_a_placeholder_in_json_too() {
        let t = r#"{"a": {"b": "TODO"}, "c": ["x", "TODO"]}"#;
        assert_eq!(
            find(t, "m.json"),
            [
                ("todo/a/b".to_string(), "\"TODO\"".to_string()),
                ("todo/c/1".to_string(), "\"TODO\"".to_string()),
            ]
        );
        // Written with an escape, and under a key that needs one in a pointer.
        let t = r#"{"a/b": {"~c": "\u0054ODO"}}"#;
        assert_eq!(
            find(t, "m.json"),
            [("todo/a~1b/~0c".to_string(), "\"\\u0054ODO\"".to_string())]
        );
    }
}
