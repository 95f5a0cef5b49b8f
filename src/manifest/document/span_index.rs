//! JSON pointer → byte spans, built only when a span is first asked for.
//!
//! A manifest without findings never needs a span, so the loader parses on
//! a fast path that records none. The first lookup re-parses the text on
//! the spanned path once and keeps a compact tree: one fixed-size record
//! per node (no pointer strings, no hashing), children in one array, the
//! members of each object sorted by name for binary search. A lookup costs
//! one step per pointer token, so locating n findings is O(n log k).

use super::{Format, Limits, NodeSpan};
use crate::source::{FileId, Span};
use std::sync::{Arc, OnceLock};

/// Marks "no key" / "no name" in a [`Node`].
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    parent: u32,
    /// Member name (unescaped) in the names arena; `NONE` for array
    /// elements and the root.
    name: (u32, u32),
    key: (u32, u32),
    value: (u32, u32),
    /// This node's children in `kids`.
    kids: (u32, u32),
}

/// The compact tree (module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
    kids: Vec<u32>,
    names: String,
}

/// Collects nodes in document (pre-)order from the spanned converters.
#[derive(Debug, Default)]
pub(crate) struct TreeBuilder {
    tree: Tree,
    /// Ancestors of the next node: (pointer length, node id).
    path: Vec<(usize, u32)>,
}

fn pack(s: &Span) -> (u32, u32) {
    (
        u32::try_from(s.start).unwrap_or(NONE - 1),
        u32::try_from(s.end).unwrap_or(NONE - 1),
    )
}

impl TreeBuilder {
    /// Records the node at `pointer`; its parent must have been recorded
    /// before it (document order).
    pub(crate) fn insert(&mut self, pointer: &str, key: Option<Span>, value: Span) {
        let id = self.tree.nodes.len() as u32;
        let (parent, name) = match pointer.rfind('/') {
            None => (NONE, (NONE, 0)),
            Some(cut) => {
                while self.path.last().is_some_and(|(len, _)| *len > cut) {
                    self.path.pop();
                }
                let parent = self.path.last().map_or(NONE, |(_, id)| *id);
                let name = match key {
                    Some(_) => {
                        let start = self.tree.names.len() as u32;
                        self.tree
                            .names
                            .push_str(&super::unescape_token(&pointer[cut + 1..]));
                        (start, self.tree.names.len() as u32 - start)
                    }
                    None => (NONE, 0),
                };
                (parent, name)
            }
        };
        self.tree.nodes.push(Node {
            parent,
            name,
            key: key.as_ref().map_or((NONE, NONE), pack),
            value: pack(&value),
            kids: (0, 0),
        });
        self.path.push((pointer.len(), id));
    }

    /// Records a node under `parent` (`None` for the root) whose value
    /// starts at `start`; [`TreeBuilder::close`] sets where it ends. For a
    /// scanner that knows each node's parent and never builds pointers.
    pub(crate) fn open(
        &mut self,
        parent: Option<u32>,
        name: Option<&str>,
        key: Option<(usize, usize)>,
        start: usize,
    ) -> u32 {
        let id = self.tree.nodes.len() as u32;
        let name = match name {
            Some(n) => {
                let s = self.tree.names.len() as u32;
                self.tree.names.push_str(n);
                (s, self.tree.names.len() as u32 - s)
            }
            None => (NONE, 0),
        };
        self.tree.nodes.push(Node {
            parent: parent.unwrap_or(NONE),
            name,
            key: key.map_or((NONE, NONE), |(s, e)| pack(&(s..e))),
            value: pack(&(start..start)),
            kids: (0, 0),
        });
        id
    }

    /// Sets where the value of node `id` ends.
    pub(crate) fn close(&mut self, id: u32, end: usize) {
        self.tree.nodes[id as usize].value.1 = pack(&(end..end)).1;
    }

    /// Links children to parents (a counting sort by parent, so array
    /// elements keep their order) and sorts object members by name.
    pub(crate) fn finish(self) -> Tree {
        let mut t = self.tree;
        let n = t.nodes.len();
        let mut count = vec![0u32; n + 1];
        for node in &t.nodes {
            if node.parent != NONE {
                count[node.parent as usize] += 1;
            }
        }
        let mut start = 0u32;
        for (i, c) in count.iter().take(n).enumerate() {
            t.nodes[i].kids = (start, 0);
            start += c;
        }
        t.kids = vec![0; start as usize];
        for id in 0..n {
            let p = t.nodes[id].parent;
            if p != NONE {
                let (s, len) = t.nodes[p as usize].kids;
                t.kids[(s + len) as usize] = id as u32;
                t.nodes[p as usize].kids.1 += 1;
            }
        }
        for id in 0..n {
            let (s, len) = t.nodes[id].kids;
            let slice = &mut t.kids[s as usize..(s + len) as usize];
            if slice
                .first()
                .is_some_and(|k| t.nodes[*k as usize].name.0 != NONE)
            {
                let (nodes, names) = (&t.nodes, &t.names);
                slice.sort_by(|a, b| name_of(nodes, names, *a).cmp(name_of(nodes, names, *b)));
            }
        }
        t
    }
}

fn name_of<'a>(nodes: &[Node], names: &'a str, id: u32) -> &'a str {
    let (s, len) = nodes[id as usize].name;
    &names[s as usize..(s + len) as usize]
}

fn unpack((s, e): (u32, u32)) -> Span {
    s as usize..e as usize
}

impl Tree {
    #[cfg(test)]
    pub(crate) fn nodes_len(&self) -> usize {
        self.nodes.len()
    }

    fn find(&self, pointer: &str) -> Option<u32> {
        if self.nodes.is_empty() {
            return None;
        }
        let mut at = 0u32;
        if pointer.is_empty() {
            return Some(at);
        }
        let rest = pointer.strip_prefix('/')?;
        for token in rest.split('/') {
            let (s, len) = self.nodes[at as usize].kids;
            let kids = &self.kids[s as usize..(s + len) as usize];
            let first = *kids.first()?;
            at = if self.nodes[first as usize].name.0 == NONE {
                // Array: canonical decimal index only, as written in pointers.
                if token.is_empty()
                    || !token.bytes().all(|b| b.is_ascii_digit())
                    || (token.len() > 1 && token.starts_with('0'))
                {
                    return None;
                }
                *kids.get(token.parse::<usize>().ok()?)?
            } else {
                let name = super::unescape_token(token);
                let i = kids
                    .binary_search_by(|k| name_of(&self.nodes, &self.names, *k).cmp(&name))
                    .ok()?;
                kids[i]
            };
        }
        Some(at)
    }

    fn span(&self, id: u32) -> NodeSpan {
        let n = &self.nodes[id as usize];
        NodeSpan {
            key: (n.key.0 != NONE).then(|| unpack(n.key)),
            value: unpack(n.value),
        }
    }
}

/// What the index is built from on first use.
#[derive(Debug, Clone)]
struct Origin {
    text: Arc<str>,
    file: FileId,
    format: Format,
    limits: Limits,
}

/// JSON pointer (RFC 6901) → spans, for every node of a document, built
/// on first use (module docs).
#[derive(Debug, Clone, Default)]
pub struct SpanIndex {
    origin: Option<Origin>,
    tree: OnceLock<Tree>,
}

impl SpanIndex {
    /// An index of `text` (already parsed without error), built on first use.
    pub(crate) fn lazy(text: Arc<str>, file: FileId, format: Format, limits: Limits) -> Self {
        SpanIndex {
            origin: Some(Origin {
                text,
                file,
                format,
                limits,
            }),
            tree: OnceLock::new(),
        }
    }

    fn tree(&self) -> &Tree {
        self.tree.get_or_init(|| match &self.origin {
            // JSON the loader accepted takes the one-pass scanner; TOML (and
            // anything the scanner does not expect) the spanned path.
            Some(o) => (o.format == Format::Json)
                .then(|| super::json_spans::tree(&o.text))
                .flatten()
                .unwrap_or_else(|| super::spanned_tree(&o.text, o.file, o.format, &o.limits)),
            None => Tree::default(),
        })
    }

    /// Spans of the node at `pointer` (`""` is the root).
    pub fn get(&self, pointer: &str) -> Option<NodeSpan> {
        let t = self.tree();
        t.find(pointer).map(|id| t.span(id))
    }

    /// The value span of `pointer`, or of its nearest ancestor that exists
    /// (a `required` error on a missing member lands on the table that
    /// lacks it).
    pub fn locate(&self, pointer: &str) -> Span {
        let t = self.tree();
        let mut p = pointer;
        loop {
            if p.is_empty() && !pointer.is_empty() {
                // Not even the top-level table exists: the file's first key,
                // never the whole file.
                return self.first_top_level_key().unwrap_or(0..0);
            }
            if let Some(id) = t.find(p) {
                return unpack(t.nodes[id as usize].value);
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
        match self.get(pointer) {
            Some(NodeSpan { key: Some(k), .. }) => k,
            _ => self.locate(pointer),
        }
    }

    /// The key span of the first top-level entry in the file: where a
    /// problem with the whole document points (not the whole file).
    pub fn first_top_level_key(&self) -> Option<Span> {
        let t = self.tree();
        let (s, len) = t.nodes.first()?.kids;
        t.kids[s as usize..(s + len) as usize]
            .iter()
            .map(|k| t.nodes[*k as usize].key)
            .filter(|k| k.0 != NONE)
            .min_by_key(|k| k.0)
            .map(unpack)
    }

    /// Number of indexed nodes.
    pub fn len(&self) -> usize {
        self.tree().nodes.len()
    }

    /// True for an empty index.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
