//! Loading a manifest (or any TOML/JSON document) into the JSON data model,
//! with a span for every key and value on demand.
//!
//! Parse once, share the [`Document`]: the schema stage, the profile engine,
//! canonicalization and the diff all read the same `serde_json::Value`, and
//! every finding maps its JSON pointer back to a byte span of the user's file
//! through the [`SpanIndex`]. The document is parsed on a fast path that
//! records no spans; the spans are indexed the first time one is asked for
//! (a manifest without findings never needs them), and a document the
//! strict rules refuse is parsed again on the spanned path, which reports
//! it.
//!
//! Input that the canonical form cannot represent exactly is refused here,
//! never coerced (RFC 8785 §3.2.2.3, I-JSON
//! RFC 7493 §2): non-finite floats, integers beyond ±(2^53−1), duplicate
//! keys, lone surrogates, invalid UTF-8. Hostile input is bounded by
//! [`Limits`] before the parser runs (`docs/limits.md`).

mod depth;
mod json_fast;
mod json_input;
mod json_spans;
mod pointer;
mod span_index;
mod toml_input;

pub use pointer::{escape_token, unescape_token};
pub use span_index::SpanIndex;

use crate::diag::{Diagnostic, Label};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use json_fast::Stop;

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
    /// Most elements in one array.
    pub max_array_items: usize,
}

impl Default for Limits {
    /// 16 MiB, depth 64, four million nodes, 200,000 elements per array: a
    /// manifest with 100,000 endpoints (about 14 MB of JSON) fits; anything
    /// larger is not a device description (docs/limits.md).
    fn default() -> Self {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 64,
            max_nodes: 4_000_000,
            max_array_items: 200_000,
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
    let over = depth::scan(
        text,
        format,
        limits.max_depth,
        limits.max_array_items,
        limits.max_nodes,
    );
    match over {
        Some(depth::Over::Depth(at)) => {
            return Err(vec![
                Diagnostic::error(
                    "limit/depth",
                    format!("nesting deeper than {} levels", limits.max_depth),
                )
                .with_label(Label::primary(file, at..at + 1, "too deep"))
                .with_note("help: a manifest needs only a few levels of nesting"),
            ]);
        }
        Some(depth::Over::Items(at)) => {
            return Err(vec![too_many_items(
                file,
                at..at + 1,
                "",
                limits.max_array_items,
            )]);
        }
        Some(depth::Over::Nodes) => return Err(vec![too_many_nodes(file, limits.max_nodes)]),
        None => {}
    }
    let fast = match format {
        Format::Toml => toml_input::parse_fast(text, limits),
        Format::Json => json_fast::parse(text, limits),
    };
    let value = match fast {
        Ok(value) => value,
        Err(Stop::Nodes) => return Err(vec![too_many_nodes(file, limits.max_nodes)]),
        Err(Stop::Spanned) => spanned(text, file, format, limits)?.0,
    };
    Ok(Document {
        file,
        format,
        value,
        spans: SpanIndex::lazy(map.get(file).shared_text(), file, format, *limits),
    })
}

/// The spanned path: the value with every node's spans, or every problem
/// with its place.
fn spanned(
    text: &str,
    file: FileId,
    format: Format,
    limits: &Limits,
) -> Result<(serde_json::Value, span_index::TreeBuilder), Vec<Diagnostic>> {
    match format {
        Format::Toml => toml_input::parse(text, file, limits),
        Format::Json => json_input::parse(text, file, limits),
    }
}

/// Spans of a document the fast path accepted (so the spanned path accepts
/// it too); empty if it does not.
fn spanned_tree(text: &str, file: FileId, format: Format, limits: &Limits) -> span_index::Tree {
    spanned(text, file, format, limits)
        .map(|(_, t)| t.finish())
        .unwrap_or_default()
}

fn too_many_nodes(file: FileId, limit: usize) -> Diagnostic {
    Diagnostic::error("limit/nodes", format!("more than {limit} keys and values"))
        .with_label(Label::primary(file, 0..0, "too many nodes"))
}

/// Diagnostic for an array over [`Limits::max_array_items`].
pub(crate) fn too_many_items(file: FileId, span: Span, pointer: &str, limit: usize) -> Diagnostic {
    let d = Diagnostic::error(
        "limit/array-items",
        format!("array with more than {limit} elements"),
    )
    .with_label(Label::primary(file, span, "too many elements"))
    .with_note("help: a device manifest is far smaller; split generated data out of it");
    if pointer.is_empty() {
        d
    } else {
        d.with_pointer(pointer)
    }
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
        self.exceeded.then(|| too_many_nodes(file, self.limit))
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
