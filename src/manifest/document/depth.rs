//! Nesting-depth pre-scan, run before the parser so that a 10,000-deep
//! document is refused in linear time without deep recursion
//! (reliability.md T32).

use super::Format;

/// Byte offset of the first bracket that opens level `max_depth + 1`,
/// ignoring brackets inside strings and comments.
pub(super) fn first_too_deep(text: &str, format: Format, max_depth: usize) -> Option<usize> {
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
}
