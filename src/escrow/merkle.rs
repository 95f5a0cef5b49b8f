//! RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.
//!
//! The log is a Merkle tree over its entries (RFC 9162 §2.1.1):
//!
//! * [`leaf_hash`]: `SHA-256(0x00 ‖ entry)`;
//! * [`node_hash`]: `SHA-256(0x01 ‖ left ‖ right)`;
//! * [`empty_root`]: the root of the empty tree, `SHA-256("")`.
//!
//! A store keeps only the hashes of *complete* subtrees, addressed by
//! `(level, index)`: the node at level `l`, index `i` covers the leaves
//! `[i << l, (i + 1) << l)`. [`nodes_completed_by_append`] says which nodes an
//! append completes (the leaf itself plus one node per level it closes), so a
//! store persists at most `1 + log2(n)` hashes per entry. A store exposes
//! them through [`NodeReader`]; [`root`], [`inclusion_proof`] and
//! [`consistency_proof`] combine the complete subtrees that cover an
//! incomplete right edge on the fly, so each call costs `O(log n)` reads.
//!
//! Verification ([`verify_inclusion`], [`verify_consistency`]) is pure and
//! follows RFC 9162 §2.1.3.2 and §2.1.4.2; the expected proof length is
//! checked first so that a padded or truncated proof is reported as such.
//!
//! Consistency from size 0: RFC 9162 defines proofs only for
//! `0 < size1 < size2`. This module's policy is that the empty tree is a
//! prefix of every tree, so `(0, n)` is consistent with an *empty* proof, but
//! only if `root1` is the empty-tree root `SHA-256("")` (and, when `n` is 0
//! too, `root2` as well). A non-empty proof from size 0 is refused. See
//! `docs/log.md`.
//!
//! [`MemoryTree`] is an in-memory store for tests, benchmarks and offline
//! tools.

use sha2::{Digest as _, Sha256};

/// A SHA-256 hash: a leaf hash, an interior node or a root.
pub type Hash = [u8; 32];

/// Length in bytes of every hash in the tree.
pub const HASH_LEN: usize = 32;

/// RFC 9162 §2.1.1: the hash of a leaf, `SHA-256(0x00 ‖ entry)`.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(entry);
    h.finalize().into()
}

/// RFC 9162 §2.1.1: the hash of an interior node, `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// RFC 9162 §2.1.1: the root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Lower-case hex of a hash.
pub fn hash_to_hex(h: &Hash) -> String {
    crate::attest::canon::hex_lower(h)
}

/// A string that is not the hex of a 32-byte hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashHexError {
    /// Not 64 hex digits long (the hash is not 32 bytes).
    #[error("a hash is 64 hex digits (32 bytes), found {0} characters")]
    Length(usize),
    /// A character that is not a hex digit.
    #[error("not a hex digit at position {0}")]
    NotHex(usize),
}

/// Parses 64 hex digits (either case) into a hash.
pub fn hash_from_hex(s: &str) -> Result<Hash, HashHexError> {
    let b = s.as_bytes();
    if b.len() != 2 * HASH_LEN {
        return Err(HashHexError::Length(b.len()));
    }
    let mut out = [0u8; HASH_LEN];
    for (i, o) in out.iter_mut().enumerate() {
        let digit = |j: usize| {
            (b[j] as char)
                .to_digit(16)
                .map(|d| d as u8)
                .ok_or(HashHexError::NotHex(j))
        };
        *o = digit(2 * i)? << 4 | digit(2 * i + 1)?;
    }
    Ok(out)
}

/// Read access to the stored hashes of complete subtrees.
///
/// `node(level, index)` is the hash of the leaves
/// `[index << level, (index + 1) << level)`; level 0 holds the leaf hashes.
pub trait NodeReader {
    /// The store's own error (missing node, I/O, corruption).
    type Error;
    /// The hash of the complete subtree at `(level, index)`.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// Why a root or proof could not be computed from a store.
#[derive(Debug, thiserror::Error)]
pub enum TreeError<E> {
    /// The leaf index is not below the tree size.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A consistency proof was asked from a larger tree to a smaller one.
    #[error("size1 {size1} is larger than size2 {size2}")]
    SizeOrder {
        /// The older tree size.
        size1: u64,
        /// The newer tree size.
        size2: u64,
    },
    /// The store could not return a node.
    #[error("reading node (level {level}, index {index}): {source}")]
    Store {
        /// The node's level.
        level: u8,
        /// The node's index at that level.
        index: u64,
        /// The store's error.
        #[source]
        source: E,
    },
}

/// Why a proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not below the tree size (RFC 9162 §2.1.3.2 step 1).
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The claimed leaf index.
        index: u64,
        /// The claimed tree size.
        size: u64,
    },
    /// size1 is larger than size2: a log never shrinks.
    #[error("size1 {size1} is larger than size2 {size2}")]
    SizeOrder {
        /// The claimed older size.
        size1: u64,
        /// The claimed newer size.
        size2: u64,
    },
    /// The proof has more or fewer hashes than the sizes call for.
    #[error("proof has {got} hashes, expected {expected}")]
    WrongLength {
        /// Hashes the sizes call for.
        expected: usize,
        /// Hashes given.
        got: usize,
    },
    /// The inclusion proof leads to a root other than the one given.
    #[error("the proof does not lead to the given root")]
    RootMismatch,
    /// The consistency proof does not reproduce the older root.
    #[error("the proof does not reproduce root1 of the tree of size {size1}")]
    Root1Mismatch {
        /// The older size.
        size1: u64,
    },
    /// The consistency proof does not reproduce the newer root.
    #[error("the proof does not reproduce root2 of the tree of size {size2}")]
    Root2Mismatch {
        /// The newer size.
        size2: u64,
    },
    /// Two roots for the same tree size differ.
    #[error("root1 and root2 differ for the same tree size {size}")]
    SameSizeDifferentRoots {
        /// The common size.
        size: u64,
    },
    /// A tree of size 0 must have the empty-tree root `SHA-256("")`.
    #[error("a tree of size 0 has root SHA-256(\"\"), not the given root")]
    NotEmptyRoot,
}

/// The nodes that appending leaf number `index` (with hash `leaf`) completes:
/// the leaf at level 0, then one node per level while the new node is a
/// right child. Each element is `(level, index, hash)`, bottom-up.
///
/// Reads the left siblings (`O(log n)` reads), all of which must be stored.
pub fn nodes_completed_by_append<R: NodeReader>(
    r: &R,
    index: u64,
    leaf: Hash,
) -> Result<Vec<(u8, u64, Hash)>, R::Error> {
    let mut out = vec![(0u8, index, leaf)];
    let (mut level, mut i, mut h) = (0u8, index, leaf);
    while i & 1 == 1 {
        let left = r.node(level, i - 1)?;
        h = node_hash(&left, &h);
        i >>= 1;
        level += 1;
        out.push((level, i, h));
    }
    Ok(out)
}

fn read<R: NodeReader>(r: &R, level: u8, index: u64) -> Result<Hash, TreeError<R::Error>> {
    r.node(level, index).map_err(|source| TreeError::Store {
        level,
        index,
        source,
    })
}

/// MTH of the leaves `[start, start + len)`, `len > 0`, where `start` is a
/// multiple of the smallest power of two `>= len` (true of every range the
/// RFC 9162 recursion visits). Combines the complete subtrees of `len`'s
/// binary decomposition right to left: `popcount(len)` reads.
fn range_hash<R: NodeReader>(r: &R, start: u64, len: u64) -> Result<Hash, TreeError<R::Error>> {
    debug_assert!(len > 0);
    let mut acc: Option<Hash> = None;
    let mut rest = len;
    while rest != 0 {
        // Lowest set bit: the rightmost complete subtree.
        let level = rest.trailing_zeros() as u8;
        rest &= rest - 1;
        let sub_start = start + rest;
        let h = read(r, level, sub_start >> level)?;
        acc = Some(match acc {
            None => h,
            Some(right) => node_hash(&h, &right),
        });
    }
    Ok(acc.unwrap_or_else(empty_root))
}

/// Largest power of two strictly below `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The root of the tree of the first `size` leaves (RFC 9162 §2.1.1).
pub fn root<R: NodeReader>(r: &R, size: u64) -> Result<Hash, TreeError<R::Error>> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(r, 0, size)
}

/// RFC 9162 §2.1.3.1: the inclusion proof of leaf `index` in the tree of
/// the first `size` leaves, bottom-up.
pub fn inclusion_proof<R: NodeReader>(
    r: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size });
    }
    // Walk top-down over the range [start, start + n), collecting siblings.
    let mut path = Vec::new();
    let (mut start, mut n, mut m) = (0u64, size, index);
    while n > 1 {
        let k = split_point(n);
        if m < k {
            path.push(range_hash(r, start + k, n - k)?);
            n = k;
        } else {
            path.push(read(r, k.trailing_zeros() as u8, start / k)?);
            start += k;
            m -= k;
            n -= k;
        }
    }
    path.reverse();
    Ok(path)
}

/// RFC 9162 §2.1.4.1: the consistency proof from the tree of `size1` leaves
/// to the tree of `size2` leaves. Empty when `size1` is 0 or equals `size2`
/// (see the module documentation for the size-0 policy).
pub fn consistency_proof<R: NodeReader>(
    r: &R,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, TreeError<R::Error>> {
    if size1 > size2 {
        return Err(TreeError::SizeOrder { size1, size2 });
    }
    if size1 == 0 || size1 == size2 {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[start:start+n], b), iteratively, top-down.
    let mut path = Vec::new();
    let (mut start, mut n, mut m, mut whole) = (0u64, size2, size1, true);
    loop {
        if m == n {
            if !whole {
                path.push(range_hash(r, start, n)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            path.push(range_hash(r, start + k, n - k)?);
            n = k;
        } else {
            path.push(read(r, k.trailing_zeros() as u8, start / k)?);
            start += k;
            m -= k;
            n -= k;
            whole = false;
        }
    }
    path.reverse();
    Ok(path)
}

/// Number of hashes in an inclusion proof for `index` in a tree of `size`
/// (`index < size`): the inner part below the point where the paths to
/// `index` and to the last leaf diverge, plus one hash per complete left
/// subtree on the border above it.
fn inclusion_len(index: u64, size: u64) -> usize {
    let inner = 64 - (index ^ (size - 1)).leading_zeros();
    // `inner` is 64 when the paths diverge at the top bit (size > 2^63).
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// RFC 9162 §2.1.3.2: checks that `leaf` is number `index` in the tree of
/// `size` leaves with root `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_len(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            expected,
            got: proof.len(),
        });
    }
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength {
                expected,
                got: proof.len(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::WrongLength {
            expected,
            got: proof.len(),
        });
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Number of hashes in a consistency proof for `0 < size1 < size2`.
fn consistency_len(size1: u64, size2: u64) -> usize {
    let level = size1.trailing_zeros();
    let index = (size1 - 1) >> level;
    let size = ((size2 - 1) >> level) + 1;
    let seed = usize::from(index != 0);
    seed + inclusion_len(index, size)
}

/// RFC 9162 §2.1.4.2: checks that the tree of `size1` leaves with root
/// `root1` is a prefix of the tree of `size2` leaves with root `root2`.
///
/// Equal sizes need an empty proof and equal roots. Size 0 follows the
/// policy in the module documentation.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizeOrder { size1, size2 });
    }
    let wrong_len = |expected: usize| ProofError::WrongLength {
        expected,
        got: proof.len(),
    };
    if size1 == 0 || size1 == size2 {
        if !proof.is_empty() {
            return Err(wrong_len(0));
        }
        if size1 == 0 && *root1 != empty_root() {
            return Err(ProofError::NotEmptyRoot);
        }
        if size1 == size2 && root1 != root2 {
            return Err(ProofError::SameSizeDifferentRoots { size: size1 });
        }
        return Ok(());
    }
    let expected = consistency_len(size1, size2);
    if proof.len() != expected {
        return Err(wrong_len(expected));
    }
    // Step 2: when size1 is a power of two, root1 itself seeds the walk.
    let mut path = proof.iter();
    let seed = if size1.is_power_of_two() {
        *root1
    } else {
        match path.next() {
            Some(h) => *h,
            None => return Err(wrong_len(expected)),
        }
    };
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let (mut fr, mut sr) = (seed, seed);
    for c in path {
        if snode == 0 {
            return Err(wrong_len(expected));
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(wrong_len(expected));
    }
    if fr != *root1 {
        return Err(ProofError::Root1Mismatch { size1 });
    }
    if sr != *root2 {
        return Err(ProofError::Root2Mismatch { size2 });
    }
    Ok(())
}

/// A node the [`MemoryTree`] does not hold (beyond its size, or incomplete).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no complete node at level {level}, index {index}")]
pub struct MissingNode {
    /// The requested level.
    pub level: u8,
    /// The requested index.
    pub index: u64,
}

/// An in-memory Merkle tree holding every complete subtree hash.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the node at `(l, i)`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends an entry (hashed with [`leaf_hash`]); returns its index.
    pub fn push_entry(&mut self, entry: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(entry))
    }

    /// Appends a leaf hash; returns its index.
    pub fn push_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.size();
        // Every left sibling of a completed node is stored, so this cannot fail.
        let nodes = match nodes_completed_by_append(self, index, leaf) {
            Ok(nodes) => nodes,
            Err(e) => unreachable!("left sibling missing in a complete tree: {e}"),
        };
        for (level, _, hash) in nodes {
            let level = level as usize;
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(hash);
        }
        index
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        match root(self, self.size()) {
            Ok(h) => h,
            Err(e) => unreachable!("complete tree lacks a node: {e}"),
        }
    }
}

impl NodeReader for MemoryTree {
    type Error = MissingNode;
    fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
        self.levels
            .get(level as usize)
            .and_then(|l| usize::try_from(index).ok().and_then(|i| l.get(i)))
            .copied()
            .ok_or(MissingNode { level, index })
    }
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
