//! The span tree of a JSON document the strict loader already accepted, in
//! one pass over its bytes.
//!
//! Locating a finding needs only byte ranges: where each key and value
//! starts and ends. The spanned path builds them as a side effect of a full
//! parse (an AST, a `Value`, a pointer string per node), which is several
//! times the cost of parsing once more. This scanner records the same
//! ranges straight into the compact tree and builds nothing else. It relies
//! on the text being valid RFC 8259 JSON; on anything it does not expect it
//! gives up and the caller takes the spanned path, so a wrong guess costs
//! time, never a wrong span.

use super::span_index::{Tree, TreeBuilder};

/// Deeper than any document the loader accepts (its depth limit is far
/// lower); past it the scanner gives up rather than recurse further.
const MAX_DEPTH: usize = 512;

/// The span tree of `text`, or `None` when the text is not the valid JSON
/// the scanner expects.
pub(super) fn tree(text: &str) -> Option<Tree> {
    let mut s = Scanner {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        out: TreeBuilder::default(),
    };
    s.value(None, None, None, 0)?;
    s.skip_ws();
    (s.pos == s.bytes.len()).then(|| s.out.finish())
}

struct Scanner<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    out: TreeBuilder,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// One value and everything inside it, as a child of `parent` (the
    /// root has none), named `name` with its key at `key` in an object.
    fn value(
        &mut self,
        parent: Option<u32>,
        name: Option<&str>,
        key: Option<(usize, usize)>,
        depth: usize,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        let start = self.pos;
        let id = self.out.open(parent, name, key, start);
        match self.peek()? {
            b'{' => self.object(id, depth)?,
            b'[' => self.array(id, depth)?,
            b'"' => {
                self.string()?;
            }
            b't' => self.literal(b"true")?,
            b'f' => self.literal(b"false")?,
            b'n' => self.literal(b"null")?,
            b'-' | b'0'..=b'9' => self.number(),
            _ => return None,
        }
        self.out.close(id, self.pos);
        Some(())
    }

    fn object(&mut self, id: u32, depth: usize) -> Option<()> {
        self.pos += 1;
        self.skip_ws();
        if self.peek()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.skip_ws();
            let kstart = self.pos;
            let escaped = self.string()?;
            let kend = self.pos;
            let raw = &self.text[kstart..kend];
            let unescaped;
            let name = if escaped {
                unescaped = serde_json::from_str::<String>(raw).ok()?;
                unescaped.as_str()
            } else {
                &raw[1..raw.len() - 1]
            };
            self.skip_ws();
            if self.peek()? != b':' {
                return None;
            }
            self.pos += 1;
            self.value(Some(id), Some(name), Some((kstart, kend)), depth + 1)?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, id: u32, depth: usize) -> Option<()> {
        self.pos += 1;
        self.skip_ws();
        if self.peek()? == b']' {
            self.pos += 1;
            return Some(());
        }
        loop {
            self.value(Some(id), None, None, depth + 1)?;
            self.skip_ws();
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Skips a string literal (quotes included); says whether it holds an
    /// escape.
    fn string(&mut self) -> Option<bool> {
        if self.peek()? != b'"' {
            return None;
        }
        self.pos += 1;
        let mut escaped = false;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(escaped);
                }
                b'\\' => {
                    escaped = true;
                    self.pos += 2;
                }
                _ => self.pos += 1,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    fn number(&mut self) {
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.peek() {
            self.pos += 1;
        }
    }
}
