//! Pre-scan, run before the parser: a 10,000-deep document, one with
//! millions of values or an array of millions of elements is refused in
//! linear time, without deep recursion and before any tree is built
//! (docs/limits.md).

use super::Format;

/// What the pre-scan found over a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Over {
    /// Offset of the bracket that opens level `max_depth + 1`.
    Depth(usize),
    /// Offset of the bracket of an array with more than the allowed
    /// number of elements.
    Items(usize),
    /// The document holds more keys and values than allowed.
    Nodes,
}

/// One linear pass over `text` that never undercounts: every `:` (JSON) or
/// `=` (TOML) outside strings and comments is a member, every `,` directly
/// inside an array separates two elements. So a document refused here
/// would also be refused by the exact counts after parsing.
pub(super) fn scan(
    text: &str,
    format: Format,
    max_depth: usize,
    max_items: usize,
    max_nodes: usize,
) -> Option<Over> {
    let b = text.as_bytes();
    let member = if format == Format::Toml { b'=' } else { b':' };
    // Open brackets: (is an array, offset, commas seen directly inside).
    let mut open: Vec<(bool, usize, usize)> = Vec::new();
    let mut nodes = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c @ (b'[' | b'{') => {
                if open.len() >= max_depth {
                    return Some(Over::Depth(i));
                }
                open.push((c == b'[', i, 0));
            }
            b']' | b'}' => {
                open.pop();
            }
            b',' => {
                if let Some((true, at, commas)) = open.last_mut() {
                    *commas += 1;
                    nodes += 1;
                    // n commas separate at least n elements (TOML allows a
                    // trailing comma): n + 1 when one follows.
                    if *commas > max_items {
                        return Some(Over::Items(*at));
                    }
                }
            }
            c if c == member => nodes += 1,
            b'"' => i = skip_string(b, i, b'"', true),
            b'\'' if format == Format::Toml => i = skip_string(b, i, b'\'', false),
            b'#' if format == Format::Toml => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            _ => {}
        }
        if nodes > max_nodes {
            return Some(Over::Nodes);
        }
        i += 1;
    }
    None
}

/// Byte offset of the first bracket that opens level `max_depth + 1`,
/// ignoring brackets inside strings and comments.
#[cfg(test)]
fn first_too_deep(text: &str, format: Format, max_depth: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'[' | b'{' => {
                depth += 1;
                if depth > max_depth {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' => i = skip_string(b, i, b'"', true),
            b'\'' if format == Format::Toml => i = skip_string(b, i, b'\'', false),
            b'#' if format == Format::Toml => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Index of the closing quote of the string opening at `start` (or the end
/// of input). Handles TOML's triple-quoted forms.
fn skip_string(b: &[u8], start: usize, q: u8, escapes: bool) -> usize {
    let triple = b.len() >= start + 3 && b[start + 1] == q && b[start + 2] == q;
    let mut i = if triple { start + 3 } else { start + 1 };
    while i < b.len() {
        if escapes && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == q {
            if !triple {
                return i;
            }
            if b.len() >= i + 3 && b[i + 1] == q && b[i + 2] == q {
                // Up to two extra quotes may close a triple string ("""a"""").
                let mut end = i + 2;
                while end + 1 < b.len() && b[end + 1] == q && end < i + 4 {
                    end += 1;
                }
                return end;
            }
        }
        if !triple && b[i] == b'\n' {
            return i;
        }
        i += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nesting_outside_strings() {
        assert_eq!(first_too_deep("[[[1]]]", Format::Json, 3), None);
        assert_eq!(first_too_deep("[[[[1]]]]", Format::Json, 3), Some(3));
        assert_eq!(first_too_deep(r#"{"a":"[[[[[["}"#, Format::Json, 2), None);
        assert_eq!(
            first_too_deep("a = '[[[['\n# [[[[\nb = \"\"\"[[[[\"\"\"", Format::Toml, 1),
            None
        );
        let deep = "[".repeat(10_000);
        assert_eq!(first_too_deep(&deep, Format::Json, 64), Some(64));
    }

    #[test]
    fn scan_never_undercounts() {
        let scan = |t: &str, f, items, nodes| scan(t, f, 64, items, nodes);
        assert_eq!(scan("[[[1]]]", Format::Json, 9, 9), None);
        assert_eq!(scan("[1,2,3]", Format::Json, 3, 9), None);
        assert_eq!(scan("[[1,2,3,4]]", Format::Json, 3, 9), None);
        assert_eq!(
            scan("[0, [1,2,3,4,5]]", Format::Json, 3, 99),
            Some(Over::Items(4))
        );
        assert_eq!(scan(r#"{"a": "1,2,3,4,5"}"#, Format::Json, 1, 9), None);
        assert_eq!(
            scan(r#"{"a":1,"b":2,"c":3}"#, Format::Json, 9, 2),
            Some(Over::Nodes)
        );
        assert_eq!(
            scan("a = [1,2,]\n# = = =\nb = 'x = y'", Format::Toml, 2, 4),
            None
        );
        assert_eq!(scan("a = {x = 1, y = 2}", Format::Toml, 0, 3), None);
        assert_eq!(
            scan("a = {x = 1, y = 2}", Format::Toml, 0, 2),
            Some(Over::Nodes)
        );
    }
}
