//! Source files and byte spans.
//!
//! Every diagnostic points into a [`SourceFile`] by byte range; line and
//! column are computed only when rendering (the approach of cargo-deny and
//! codespan-reporting).

use std::ops::Range;
use std::sync::{Arc, OnceLock};

/// A byte range into one source file.
pub type Span = Range<usize>;

/// Index of a file inside a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub usize);

/// One named text file (a manifest, a profile, a schema).
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: Arc<str>,
    /// Built the first time a line or column is asked for: a file without
    /// findings never needs it.
    index: OnceLock<LineIndex>,
}

#[derive(Debug, Clone)]
struct LineIndex {
    line_starts: Vec<usize>,
    /// Characters before each [`CHAR_STRIDE`]-byte block of a non-ASCII
    /// text (empty for ASCII text), so a column is counted from the nearest
    /// block, not from the start of a possibly very long line.
    char_marks: Vec<usize>,
}

impl LineIndex {
    fn of(text: &str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(memchr_lines(text.as_bytes()))
            .collect();
        let char_marks = if text.is_ascii() {
            Vec::new()
        } else {
            let mut marks = Vec::with_capacity(text.len() / CHAR_STRIDE + 1);
            let mut chars = 0;
            for block in text.as_bytes().chunks(CHAR_STRIDE) {
                marks.push(chars);
                chars += block.iter().filter(|b| (**b & 0xC0) != 0x80).count();
            }
            marks
        };
        LineIndex {
            line_starts,
            char_marks,
        }
    }
}

/// Bytes per block of [`SourceFile`]'s character-count marks.
const CHAR_STRIDE: usize = 4096;

impl SourceFile {
    /// Wraps `text` under the display name `name`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        SourceFile {
            name: name.into(),
            text: Arc::from(text.into()),
            index: OnceLock::new(),
        }
    }

    fn index(&self) -> &LineIndex {
        self.index.get_or_init(|| LineIndex::of(&self.text))
    }

    /// The text, shared (the loader indexes spans from it on demand).
    pub fn shared_text(&self) -> Arc<str> {
        Arc::clone(&self.text)
    }

    /// Characters (Unicode scalar values) in `text[..at]`, `at` on a char
    /// boundary: constant time for ASCII, at most one block scanned else.
    fn chars_before(&self, at: usize) -> usize {
        let marks = &self.index().char_marks;
        if marks.is_empty() {
            return at;
        }
        let block = at / CHAR_STRIDE;
        let from = block * CHAR_STRIDE;
        marks[block]
            + self.text.as_bytes()[from..at]
                .iter()
                .filter(|b| (**b & 0xC0) != 0x80)
                .count()
    }

    /// Display name (usually the path as the user gave it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Full text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Byte offsets at which each line starts.
    pub fn line_starts(&self) -> &[usize] {
        &self.index().line_starts
    }

    /// 1-based line and 1-based column (counted in Unicode scalar values) of
    /// byte offset `at`, clamped to the file.
    pub fn line_col(&self, at: usize) -> (usize, usize) {
        let at = at.min(self.text.len());
        let starts = self.line_starts();
        let line = match starts.binary_search(&at) {
            Ok(l) => l,
            Err(l) => l - 1,
        };
        let start = starts[line];
        let mut end = at;
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        let col = self.chars_before(end) - self.chars_before(start) + 1;
        (line + 1, col)
    }
}

/// Offsets just past each `\n`.
fn memchr_lines(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    b.iter()
        .enumerate()
        .filter(|(_, c)| **c == b'\n')
        .map(|(i, _)| i + 1)
}

/// All files a run refers to, so that one diagnostic can label several files
/// (the manifest value and the profile rule that fired).
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(self.files.len() - 1)
    }

    /// The file with id `id`.
    ///
    /// # Panics
    /// When `id` was not issued by this map (a programming error).
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file was added.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl<'a> codespan_reporting::files::Files<'a> for SourceMap {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, codespan_reporting::files::Error> {
        self.files
            .get(id.0)
            .map(|f| f.name.as_str())
            .ok_or(codespan_reporting::files::Error::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, codespan_reporting::files::Error> {
        self.files
            .get(id.0)
            .map(|f| &*f.text)
            .ok_or(codespan_reporting::files::Error::FileMissing)
    }

    fn line_index(
        &'a self,
        id: FileId,
        byte_index: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        let f = self
            .files
            .get(id.0)
            .ok_or(codespan_reporting::files::Error::FileMissing)?;
        Ok(match f.line_starts().binary_search(&byte_index) {
            Ok(l) => l,
            Err(l) => l - 1,
        })
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, codespan_reporting::files::Error> {
        let f = self
            .files
            .get(id.0)
            .ok_or(codespan_reporting::files::Error::FileMissing)?;
        let starts = f.line_starts();
        let start =
            *starts
                .get(line_index)
                .ok_or(codespan_reporting::files::Error::LineTooLarge {
                    given: line_index,
                    max: starts.len() - 1,
                })?;
        let end = starts.get(line_index + 1).copied().unwrap_or(f.text.len());
        Ok(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars_from_one() {
        let f = SourceFile::new("a", "ab\ncé d\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // 'é' is two bytes; 'd' is the fourth char of line 2.
        assert_eq!(f.line_col(7), (2, 4));
        assert_eq!(f.line_col(999), (3, 1));
        // Columns stay exact across the character-count blocks.
        let long = format!("{}é{}x", "a".repeat(5000), "b".repeat(5000));
        let f = SourceFile::new("b", long.clone());
        let x = long.find('x').unwrap();
        assert_eq!(f.line_col(x), (1, 10_002));
    }
}
