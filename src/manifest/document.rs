//! Loading a manifest (or any TOML/JSON document) into the JSON data model
//! with a span for every key and value.
//!
//! Parse once, share the [`Document`]: the schema stage, the profile engine,
//! canonicalization and the diff all read the same `serde_json::Value`, and
//! every finding maps its JSON pointer back to a byte span of the user's file
//! through the [`SpanIndex`].
//!
//! Input that the canonical form cannot represent exactly is refused here,
//! never coerced (RFC 8785 §3.2.2.3, I-JSON
//! RFC 7493 §2): non-finite floats, integers beyond ±(2^53−1), duplicate
//! keys, lone surrogates, invalid UTF-8. Hostile input is bounded by
//! [`Limits`] before the parser runs (reliability.md P8).

mod depth;
mod json_input;
mod pointer;
mod toml_input;

pub use pointer::{escape_token, unescape_token};

use crate::diag::{Diagnostic, Label};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use std::collections::HashMap;

/// Largest integer magnitude JSON numbers carry exactly (2^53 − 1,
/// RFC 7493 §2.2, RFC 8785 §3.2.2.3).
pub const MAX_SAFE_INTEGER: i128 = (1 << 53) - 1;

/// Which syntax a document was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML 1.0/1.1.
    Toml,
    /// JSON (RFC 8259, strict: no comments, no trailing commas).
    Json,
}

impl Format {
    /// Chooses by extension (`.toml`, `.json`), else by the first
    /// non-blank byte (`{` or `[` means JSON).
    pub fn detect(name: &str, bytes: &[u8]) -> Format {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".toml") {
            return Format::Toml;
        }
        if lower.ends_with(".json") {
            return Format::Json;
        }
        match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') | Some(b'[') => Format::Json,
            _ => Format::Toml,
        }
    }

    /// `toml` or `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Toml => "toml",
            Format::Json => "json",
        }
    }
}

/// Bounds on hostile input, checked before or during parsing.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted file, in bytes.
    pub max_bytes: usize,
    /// Deepest accepted nesting of arrays and tables/objects.
    pub max_depth: usize,
    /// Most keys + values in one document.
    pub max_nodes: usize,
}

impl Default for Limits {
    /// 16 MiB, depth 64, four million nodes: a manifest with 100,000
    /// endpoints (about 14 MB of JSON) fits; anything larger is not a
    /// device description.
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 4_000_000,
        }
    }
}

/// Spans of one node: the key that names it (absent for array elements and
/// the root) and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSpan {
    /// Span of the key, when the node is a table/object member.
    pub key: Option<Span>,
    /// Span of the value (for a TOML table header section: the header).
    pub value: Span,
}

/// JSON pointer (RFC 6901) → spans, for every node of a document.
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    map: HashMap<String, NodeSpan>,
}

impl SpanIndex {
    /// Spans of the node at `pointer` (`""` is the root).
    pub fn get(&self, pointer: &str) -> Option<&NodeSpan> {
        self.map.get(pointer)
    }

    /// The value span of `pointer`, or of its nearest ancestor that exists
    /// (a `required` error on a missing member lands on the table that
    /// lacks it).
    pub fn locate(&self, pointer: &str) -> Span {
        let mut p = pointer;
        loop {
            if p.is_empty() && !pointer.is_empty() {
                // Not even the top-level table exists: the file's first key,
                // never the whole file.
                return self.first_top_level_key().unwrap_or(0..0);
            }
            if let Some(n) = self.map.get(p) {
                return n.value.clone();
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return 0..0,
            }
        }
    }

    /// The key span of `pointer` when it has one, else its value span (or
    /// the nearest ancestor's): where an "unexpected key" points.
    pub fn locate_key(&self, pointer: &str) -> Span {
        match self.map.get(pointer) {
            Some(NodeSpan { key: Some(k), .. }) => k.clone(),
            _ => self.locate(pointer),
        }
    }

    /// The key span of the first top-level entry in the file: where a
    /// problem with the whole document points (not the whole file).
    pub fn first_top_level_key(&self) -> Option<Span> {
        self.map
            .iter()
            .filter(|(p, _)| p.len() > 1 && !p[1..].contains('/'))
            .filter_map(|(_, n)| n.key.clone())
            .min_by_key(|k| k.start)
    }

    /// Number of indexed nodes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True for an empty index.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub(crate) fn insert(&mut self, pointer: String, key: Option<Span>, value: Span) {
        self.map.insert(pointer, NodeSpan { key, value });
    }
}

/// A parsed document.
#[derive(Debug, Clone)]
pub struct Document {
    /// The source file in the run's [`SourceMap`].
    pub file: FileId,
    /// Syntax it was written in.
    pub format: Format,
    /// The JSON data model. Numbers are finite; integers are within
    /// ±(2^53−1); TOML datetimes are RFC 3339 strings.
    pub value: serde_json::Value,
    /// Spans of every key and value.
    pub spans: SpanIndex,
}

impl Document {
    /// Byte span of the value at `pointer` (nearest ancestor if absent).
    pub fn locate(&self, pointer: &str) -> Span {
        self.spans.locate(pointer)
    }
}

/// Parses `bytes` (named `name`, for display and format detection) into a
/// [`Document`], registering the text in `map`.
///
/// All problems are returned as diagnostics; a TOML file with several
/// syntax errors reports each of them.
pub fn load(
    map: &mut SourceMap,
    name: &str,
    bytes: &[u8],
    limits: &Limits,
) -> Result<Document, Vec<Diagnostic>> {
    let format = Format::detect(name, bytes);
    if bytes.len() > limits.max_bytes {
        let file = map.add(SourceFile::new(name, ""));
        return Err(vec![
            Diagnostic::error(
                "limit/size",
                format!(
                    "file is {} bytes, over the limit of {} bytes",
                    bytes.len(),
                    limits.max_bytes
                ),
            )
            .with_label(Label::primary(file, 0..0, "not parsed"))
            .with_note("help: a device manifest is far smaller; split generated data out of it"),
        ]);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let file = map.add(SourceFile::new(
                name,
                String::from_utf8_lossy(bytes).into_owned(),
            ));
            return Err(vec![
                Diagnostic::error("parse/invalid-utf8", format!("invalid UTF-8 at byte {at}"))
                    .with_label(Label::primary(file, at..at + 1, "not UTF-8"))
                    .with_note("help: save the file as UTF-8"),
            ]);
        }
    };
    let file = map.add(SourceFile::new(name, text));
    if text.starts_with('\u{feff}') {
        return Err(vec![
            Diagnostic::error("parse/bom", "file starts with a byte-order mark")
                .with_label(Label::primary(file, 0..3, "BOM"))
                .with_note("help: save the file as UTF-8 without a BOM"),
        ]);
    }
    if let Some(at) = depth::first_too_deep(text, format, limits.max_depth) {
        return Err(vec![
            Diagnostic::error(
                "limit/depth",
                format!("nesting deeper than {} levels", limits.max_depth),
            )
            .with_label(Label::primary(file, at..at + 1, "too deep"))
            .with_note("help: a manifest needs only a few levels of nesting"),
        ]);
    }
    let parsed = match format {
        Format::Toml => toml_input::parse(text, file, limits),
        Format::Json => json_input::parse(text, file, limits),
    };
    parsed.map(|(value, spans)| Document {
        file,
        format,
        value,
        spans,
    })
}

/// Counts nodes while converting and reports the limit once.
pub(crate) struct NodeBudget {
    left: usize,
    limit: usize,
    exceeded: bool,
}

impl NodeBudget {
    pub(crate) fn new(limit: usize) -> Self {
        NodeBudget {
            left: limit,
            limit,
            exceeded: false,
        }
    }

    /// Takes one node; false once the budget is spent.
    pub(crate) fn take(&mut self) -> bool {
        if self.left == 0 {
            self.exceeded = true;
            return false;
        }
        self.left -= 1;
        true
    }

    pub(crate) fn diagnostic(&self, file: FileId) -> Option<Diagnostic> {
        self.exceeded.then(|| {
            Diagnostic::error(
                "limit/nodes",
                format!("more than {} keys and values", self.limit),
            )
            .with_label(Label::primary(file, 0..0, "too many nodes"))
        })
    }
}

/// Diagnostic for an integer the canonical form cannot carry exactly.
pub(crate) fn unsafe_integer(file: FileId, span: Span, pointer: &str, raw: &str) -> Diagnostic {
    Diagnostic::error(
        "canon/unsafe-integer",
        format!("integer {raw} is outside ±(2^53−1) and cannot be represented exactly"),
    )
    .with_pointer(pointer)
    .with_label(Label::primary(file, span, "out of the exact range"))
    .with_note("help: write it as a string, or use a smaller number")
    .with_note(
        "note: RFC 8785 §3.2.2.3 and I-JSON (RFC 7493 §2.2) limit integers to ±9007199254740991",
    )
}

/// True for a finite float that RFC 8785 would write as an integer beyond
/// ±(2^53−1) (ECMAScript prints integral values below 10^21 without an
/// exponent), which could not be read back exactly.
pub(crate) fn unsafe_float(f: f64) -> bool {
    f.is_finite() && f.abs() > MAX_SAFE_INTEGER as f64 && f.abs() < 1e21
}

/// Diagnostic for NaN or an infinity.
pub(crate) fn non_finite(file: FileId, span: Span, pointer: &str, raw: &str) -> Diagnostic {
    Diagnostic::error(
        "canon/non-finite",
        format!("number `{raw}` is not finite and has no JSON representation"),
    )
    .with_pointer(pointer)
    .with_label(Label::primary(file, span, "not a finite number"))
    .with_note("help: use a finite number, or omit the field")
}

#[cfg(test)]
mod tests;
