//! Drawing findings on very long source lines (minified JSON).
//!
//! codespan draws every labelled line whole, so a one-line 400 KB file with
//! a thousand findings would print 400 MB. When a label falls on a line
//! longer than [`MAX_DRAWN_LINE`] bytes, the diagnostic is drawn from
//! [`Excerpts`] instead: a small stand-in source holding, per label, a
//! window of its line around the span (cut ends marked `…`), which reports
//! the original line numbers and columns. Output per finding is bounded;
//! short lines are drawn exactly as before.

use blueprint::diag::Label;
use blueprint::source::{FileId, SourceMap};
use codespan_reporting::files::{Error, Files};
use std::collections::BTreeMap;
use std::ops::Range;

/// Longest line drawn whole.
pub const MAX_DRAWN_LINE: usize = 400;
/// Bytes of context kept on each side of a span on a long line.
const CONTEXT: usize = 60;
/// Most bytes of one span drawn on a long line.
const MAX_DRAWN_SPAN: usize = 120;
const ELLIPSIS: &str = "…";

/// True when one of `labels` lies on a line longer than [`MAX_DRAWN_LINE`].
pub fn needed(map: &SourceMap, labels: &[Label]) -> bool {
    labels.iter().any(|l| {
        let r = line_of(map, l.file, l.span.start);
        r.end - r.start > MAX_DRAWN_LINE
    })
}

/// Byte range of the line holding `at`, without its line break.
fn line_of(map: &SourceMap, file: FileId, at: usize) -> Range<usize> {
    let f = map.get(file);
    let text = f.text();
    let at = at.min(text.len());
    let starts = f.line_starts();
    let i = match starts.binary_search(&at) {
        Ok(i) => i,
        Err(i) => i - 1,
    };
    let end = starts.get(i + 1).map_or(text.len(), |e| e - 1);
    let end = if end > starts[i] && text.as_bytes().get(end - 1) == Some(&b'\r') {
        end - 1
    } else {
        end
    };
    starts[i]..end.max(starts[i])
}

/// (the whole line, the part of it drawn)
type LineWindow = (Range<usize>, Range<usize>);

#[derive(Debug)]
struct Window {
    /// The drawn part of the original line.
    orig: Range<usize>,
    /// Where this window's line starts in the stand-in text.
    at: usize,
    /// Bytes of the leading `…` (0 when the window starts the line).
    lead: usize,
    line_number: usize,
    /// Characters of the original line before `orig.start`.
    chars_before: usize,
}

#[derive(Debug, Default)]
struct Excerpt {
    text: String,
    windows: Vec<Window>,
}

/// The stand-in source of one diagnostic (module docs).
pub struct Excerpts<'m> {
    map: &'m SourceMap,
    files: BTreeMap<FileId, Excerpt>,
}

fn floor_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl<'m> Excerpts<'m> {
    /// Windows around every label of one diagnostic.
    pub fn new(map: &'m SourceMap, labels: &[Label]) -> Self {
        let mut wanted: BTreeMap<FileId, Vec<LineWindow>> = BTreeMap::new();
        for l in labels {
            let text = map.get(l.file).text();
            let line = line_of(map, l.file, l.span.start);
            let orig = if line.end - line.start <= MAX_DRAWN_LINE {
                line.clone()
            } else {
                let start = l.span.start.clamp(line.start, line.end);
                let end = l
                    .span
                    .end
                    .clamp(start, line.end)
                    .min(start + MAX_DRAWN_SPAN);
                floor_char(text, start.saturating_sub(CONTEXT).max(line.start))
                    ..ceil_char(text, (end + CONTEXT).min(line.end))
            };
            wanted.entry(l.file).or_default().push((line, orig));
        }
        let mut files = BTreeMap::new();
        for (file, mut ws) in wanted {
            ws.sort_by_key(|(_, o)| (o.start, o.end));
            // Overlapping windows of one line become one.
            let mut merged: Vec<LineWindow> = Vec::new();
            for (line, o) in ws {
                match merged.last_mut() {
                    Some((l, m)) if *l == line && o.start <= m.end => m.end = m.end.max(o.end),
                    _ => merged.push((line, o)),
                }
            }
            let f = map.get(file);
            let mut ex = Excerpt::default();
            for (line, o) in merged {
                let (line_number, col) = f.line_col(o.start);
                let at = ex.text.len();
                let lead = if o.start > line.start {
                    ex.text.push_str(ELLIPSIS);
                    ELLIPSIS.len()
                } else {
                    0
                };
                ex.text.push_str(&f.text()[o.clone()]);
                if o.end < line.end {
                    ex.text.push_str(ELLIPSIS);
                }
                ex.text.push('\n');
                ex.windows.push(Window {
                    orig: o,
                    at,
                    lead,
                    line_number,
                    chars_before: col - 1,
                });
            }
            files.insert(file, ex);
        }
        Excerpts { map, files }
    }

    /// `l`'s span in the stand-in source (cut to its window).
    pub fn span(&self, l: &Label) -> Range<usize> {
        let Some(ex) = self.files.get(&l.file) else {
            return 0..0;
        };
        let i = ex
            .windows
            .partition_point(|w| w.orig.start <= l.span.start)
            .saturating_sub(1);
        let Some(w) = ex.windows.get(i) else {
            return 0..0;
        };
        let map = |b: usize| w.at + w.lead + (b.clamp(w.orig.start, w.orig.end) - w.orig.start);
        map(l.span.start)..map(l.span.end)
    }

    fn excerpt(&self, id: FileId) -> Result<&Excerpt, Error> {
        self.files.get(&id).ok_or(Error::FileMissing)
    }
}

impl<'a> Files<'a> for Excerpts<'_> {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, Error> {
        self.map.name(id)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, Error> {
        Ok(&self.excerpt(id)?.text)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, Error> {
        let ex = self.excerpt(id)?;
        Ok(ex
            .windows
            .partition_point(|w| w.at <= byte_index)
            .saturating_sub(1))
    }

    fn line_range(&'a self, id: FileId, line_index: usize) -> Result<Range<usize>, Error> {
        let ex = self.excerpt(id)?;
        let w = ex.windows.get(line_index).ok_or(Error::LineTooLarge {
            given: line_index,
            max: ex.windows.len().saturating_sub(1),
        })?;
        let end = ex
            .windows
            .get(line_index + 1)
            .map_or(ex.text.len(), |n| n.at);
        Ok(w.at..end)
    }

    fn line_number(&'a self, id: FileId, line_index: usize) -> Result<usize, Error> {
        let ex = self.excerpt(id)?;
        ex.windows
            .get(line_index)
            .map(|w| w.line_number)
            .ok_or(Error::LineTooLarge {
                given: line_index,
                max: ex.windows.len().saturating_sub(1),
            })
    }

    fn column_number(
        &'a self,
        id: FileId,
        line_index: usize,
        byte_index: usize,
    ) -> Result<usize, Error> {
        let ex = self.excerpt(id)?;
        let w = ex.windows.get(line_index).ok_or(Error::LineTooLarge {
            given: line_index,
            max: ex.windows.len().saturating_sub(1),
        })?;
        let from = w.at + w.lead;
        let to = byte_index.clamp(from, ex.text.len());
        Ok(w.chars_before + ex.text[from..floor_char(&ex.text, to)].chars().count() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use blueprint::source::SourceFile;

    #[test]
    fn a_long_line_is_drawn_as_a_window_with_its_true_place() {
        let mut map = SourceMap::new();
        let text = format!(
            "{{\n{}\"port\": \"80\"{}\n}}\n",
            "é".repeat(300),
            "x".repeat(300)
        );
        let file = map.add(SourceFile::new("a.json", text.clone()));
        let at = text.find("\"80\"").unwrap();
        let label = Label::primary(file, at..at + 4, "wrong type");
        assert!(needed(&map, std::slice::from_ref(&label)));
        let ex = Excerpts::new(&map, std::slice::from_ref(&label));
        let span = ex.span(&label);
        let src = ex.source(file).unwrap();
        assert_eq!(&src[span.clone()], "\"80\"");
        assert!(src.starts_with('…') && src.ends_with("…\n"), "{src}");
        assert!(src.len() < 2 * (CONTEXT * 2 + MAX_DRAWN_SPAN));
        assert_eq!(ex.line_number(file, 0).unwrap(), 2);
        assert_eq!(
            ex.location(file, span.start).unwrap().column_number,
            map.get(file).line_col(at).1
        );
    }
}
