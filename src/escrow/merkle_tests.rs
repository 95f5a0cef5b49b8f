use super::*;
use std::collections::HashMap;

fn h(hex: &str) -> Hash {
    assert_eq!(hex.len(), 64, "{hex}");
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

/// The eight leaves of the RFC 6962 reference test tree (certificate-transparency).
fn rfc_leaves() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0x00],
        vec![0x10],
        vec![0x20, 0x21],
        vec![0x30, 0x31],
        vec![0x40, 0x41, 0x42, 0x43],
        vec![0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        (0x60..=0x6f).collect(),
    ]
}

fn rfc_tree() -> MemoryTree {
    let mut t = MemoryTree::new();
    for l in rfc_leaves() {
        t.push_entry(&l);
    }
    t
}

const RFC_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn hashes_round_trip_through_hex() {
    let e = empty_root();
    assert_eq!(hash_from_hex(&hash_to_hex(&e)), Ok(e));
    assert_eq!(hash_from_hex(&hash_to_hex(&e).to_uppercase()), Ok(e));
    assert_eq!(hash_from_hex(""), Err(HashHexError::Length(0)));
    assert_eq!(
        hash_from_hex(&"a".repeat(62)),
        Err(HashHexError::Length(62))
    );
    assert_eq!(
        hash_from_hex(&format!("{}g", "a".repeat(63))),
        Err(HashHexError::NotHex(63))
    );
    assert!(hash_from_hex(&"é".repeat(32)).is_err());
}

#[test]
fn empty_tree_root_is_sha256_of_nothing() {
    assert_eq!(
        empty_root(),
        h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(root(&MemoryTree::new(), 0).unwrap(), empty_root());
    assert_eq!(MemoryTree::new().root(), empty_root());
}

#[test]
fn rfc6962_leaf_hashes_and_roots() {
    assert_eq!(
        leaf_hash(b""),
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    );
    assert_eq!(
        leaf_hash(&[0x00]),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7")
    );
    let t = rfc_tree();
    for (i, want) in RFC_ROOTS.iter().enumerate() {
        assert_eq!(root(&t, i as u64 + 1).unwrap(), h(want), "size {}", i + 1);
    }
    assert_eq!(t.root(), h(RFC_ROOTS[7]));
}

#[test]
fn rfc6962_known_inclusion_proofs() {
    let t = rfc_tree();
    let cases: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    let leaves = rfc_leaves();
    for (index, size, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        let got = inclusion_proof(&t, index, size).unwrap();
        assert_eq!(got, want, "leaf {index} in {size}");
        let leaf = leaf_hash(&leaves[index as usize]);
        let r = h(RFC_ROOTS[size as usize - 1]);
        verify_inclusion(&leaf, index, size, &got, &r).unwrap();
    }
}

#[test]
fn rfc6962_known_consistency_proofs() {
    let t = rfc_tree();
    let cases: [(u64, u64, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (m, n, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        let got = consistency_proof(&t, m, n).unwrap();
        assert_eq!(got, want, "{m} -> {n}");
        let (r1, r2) = (h(RFC_ROOTS[m as usize - 1]), h(RFC_ROOTS[n as usize - 1]));
        verify_consistency(m, n, &r1, &r2, &got).unwrap();
    }
}

#[test]
fn leaf_and_node_hashes_are_domain_separated() {
    // RFC 6962 §2.1: a leaf whose bytes are two hashes is not their parent.
    let (a, b) = (leaf_hash(b"a"), leaf_hash(b"b"));
    let mut concat = a.to_vec();
    concat.extend_from_slice(&b);
    assert_ne!(leaf_hash(&concat), node_hash(&a, &b));
    // Size 3 and size 4 with the last leaf duplicated differ.
    let mut t = MemoryTree::new();
    for e in [b"x", b"y", b"z"] {
        t.push_entry(e);
    }
    let three = t.root();
    t.push_entry(b"z");
    assert_ne!(three, t.root());
}

#[test]
fn size_zero_consistency_policy() {
    let e = empty_root();
    let t = rfc_tree();
    let r8 = t.root();
    // The empty tree is a prefix of every tree, with an empty proof ...
    assert_eq!(consistency_proof(&t, 0, 8).unwrap(), Vec::<Hash>::new());
    verify_consistency(0, 8, &e, &r8, &[]).unwrap();
    verify_consistency(0, 0, &e, &e, &[]).unwrap();
    // ... but only from the empty-tree root, and never with a proof.
    assert_eq!(
        verify_consistency(0, 8, &r8, &r8, &[]),
        Err(ProofError::NotEmptyRoot)
    );
    assert_eq!(
        verify_consistency(0, 0, &r8, &r8, &[]),
        Err(ProofError::NotEmptyRoot)
    );
    assert!(matches!(
        verify_consistency(0, 8, &e, &r8, &[e]),
        Err(ProofError::WrongLength {
            expected: 0,
            got: 1
        })
    ));
    assert!(matches!(
        verify_consistency(0, 0, &e, &r8, &[]),
        Err(ProofError::SameSizeDifferentRoots { size: 0 })
    ));
}

#[test]
fn malformed_requests_are_typed_errors() {
    let t = rfc_tree();
    let r = t.root();
    assert!(matches!(
        inclusion_proof(&t, 8, 8),
        Err(TreeError::IndexOutOfRange { index: 8, size: 8 })
    ));
    assert!(matches!(
        consistency_proof(&t, 5, 4),
        Err(TreeError::SizeOrder { .. })
    ));
    // The store's error carries the node it could not read.
    assert!(matches!(
        root(&t, 9),
        Err(TreeError::Store {
            level: 0,
            index: 8,
            ..
        })
    ));
    assert_eq!(
        verify_inclusion(&r, 0, 0, &[], &r),
        Err(ProofError::IndexOutOfRange { index: 0, size: 0 })
    );
    assert_eq!(
        verify_consistency(5, 4, &r, &r, &[]),
        Err(ProofError::SizeOrder { size1: 5, size2: 4 })
    );
    assert_eq!(
        verify_consistency(3, 8, &r, &r, &[]),
        Err(ProofError::WrongLength {
            expected: 4,
            got: 0
        })
    );
    assert_eq!(
        verify_consistency(4, 4, &r, &empty_root(), &[]),
        Err(ProofError::SameSizeDifferentRoots { size: 4 })
    );
    assert!(matches!(
        verify_consistency(4, 4, &r, &r, &[r]),
        Err(ProofError::WrongLength { .. })
    ));
}

#[test]
fn append_completes_one_node_per_closed_level() {
    let mut t = MemoryTree::new();
    for i in 0..7u64 {
        t.push_entry(&i.to_be_bytes());
    }
    // Leaf 7 closes levels 1, 2 and 3.
    let leaf = leaf_hash(&7u64.to_be_bytes());
    let nodes = nodes_completed_by_append(&t, 7, leaf).unwrap();
    let coords: Vec<(u8, u64)> = nodes.iter().map(|&(l, i, _)| (l, i)).collect();
    assert_eq!(coords, vec![(0, 7), (1, 3), (2, 1), (3, 0)]);
    t.push_leaf_hash(leaf);
    assert_eq!(nodes[3].2, t.root());
    // Leaf 8 closes nothing.
    let n8 = nodes_completed_by_append(&t, 8, leaf_hash(b"8")).unwrap();
    assert_eq!(n8.len(), 1);
}

// --- Cross-check against the RFC 6962 §2.1 reference definitions. ---

fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

fn naive_path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = split_point(n as u64) as usize;
    if m < k {
        let mut p = naive_path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = naive_path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

fn naive_subproof(m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole { vec![] } else { vec![mth(leaves)] };
    }
    let k = split_point(n as u64) as usize;
    if m <= k {
        let mut p = naive_subproof(m, &leaves[..k], whole);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = naive_subproof(m - k, &leaves[k..], false);
        p.push(mth(&leaves[..k]));
        p
    }
}

/// SplitMix64: a small deterministic generator for sampling.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The left/right pattern the verifier follows for an inclusion proof:
/// two (index, size) pairs with the same shape accept the same proofs, so a
/// size change is only a detectable mutation when the shape changes.
fn inclusion_shape(index: u64, size: u64) -> Option<Vec<bool>> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut out = Vec::new();
    while s != 0 {
        if f & 1 == 1 || f == s {
            out.push(true);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            out.push(false);
        }
        f >>= 1;
        s >>= 1;
    }
    Some(out)
}

struct Reference {
    leaves: Vec<Hash>,
    tree: MemoryTree,
    roots: HashMap<u64, Hash>,
    /// Also compare proofs hash by hash with the recursive definitions
    /// (`O(n)` each, so only for small trees).
    compare_proofs: bool,
}

impl Reference {
    fn new(n: usize, compare_proofs: bool) -> Self {
        let leaves: Vec<Hash> = (0..n as u64).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        let mut tree = MemoryTree::new();
        for l in &leaves {
            tree.push_leaf_hash(*l);
        }
        Reference {
            leaves,
            tree,
            roots: HashMap::new(),
            compare_proofs,
        }
    }
    fn root(&mut self, size: u64) -> Hash {
        let leaves = &self.leaves;
        *self
            .roots
            .entry(size)
            .or_insert_with(|| mth(&leaves[..size as usize]))
    }

    fn check_inclusion(&mut self, index: u64, size: u64, rng: &mut Rng) {
        let want_root = self.root(size);
        assert_eq!(root(&self.tree, size).unwrap(), want_root, "root {size}");
        let proof = inclusion_proof(&self.tree, index, size).unwrap();
        if self.compare_proofs {
            assert_eq!(
                proof,
                naive_path(index as usize, &self.leaves[..size as usize]),
                "PATH({index}, {size})"
            );
        }
        let leaf = self.leaves[index as usize];
        verify_inclusion(&leaf, index, size, &proof, &want_root).unwrap();

        let mut mutants: Vec<Vec<Hash>> = Vec::new();
        if !proof.is_empty() {
            let mut p = proof.clone();
            let i = rng.below(p.len() as u64) as usize;
            p[i][rng.below(32) as usize] ^= 1 << rng.below(8);
            mutants.push(p);
            mutants.push(proof[..proof.len() - 1].to_vec());
            mutants.push(proof[1..].to_vec());
        }
        let mut longer = proof.clone();
        longer.push(leaf);
        mutants.push(longer);
        let mut front = vec![empty_root()];
        front.extend_from_slice(&proof);
        mutants.push(front);
        for p in &mutants {
            assert!(verify_inclusion(&leaf, index, size, p, &want_root).is_err());
        }
        assert!(verify_inclusion(&self.leaves[0], index, size, &proof, &empty_root()).is_err());
        let mut other = leaf;
        other[0] ^= 0x80;
        assert!(verify_inclusion(&other, index, size, &proof, &want_root).is_err());
        for wrong in [
            index ^ 1,
            index.wrapping_add(1),
            index.wrapping_sub(1),
            index ^ 2,
        ] {
            if wrong != index {
                assert!(verify_inclusion(&leaf, wrong, size, &proof, &want_root).is_err());
            }
        }
        let shape = inclusion_shape(index, size);
        for wrong in [size + 1, size - 1, size * 2, size / 2] {
            if wrong != size && inclusion_shape(index, wrong) != shape {
                assert!(
                    verify_inclusion(&leaf, index, wrong, &proof, &want_root).is_err(),
                    "leaf {index}: size {size} proof accepted for size {wrong}"
                );
            }
        }
    }

    fn check_consistency(&mut self, m: u64, n: u64, rng: &mut Rng) {
        let (r1, r2) = (self.root(m), self.root(n));
        let proof = consistency_proof(&self.tree, m, n).unwrap();
        if m > 0 && self.compare_proofs {
            assert_eq!(
                proof,
                naive_subproof(m as usize, &self.leaves[..n as usize], true),
                "PROOF({m}, {n})"
            );
        }
        verify_consistency(m, n, &r1, &r2, &proof).unwrap();

        let mut mutants: Vec<Vec<Hash>> = Vec::new();
        if !proof.is_empty() {
            let mut p = proof.clone();
            let i = rng.below(p.len() as u64) as usize;
            p[i][rng.below(32) as usize] ^= 1 << rng.below(8);
            mutants.push(p);
            mutants.push(proof[..proof.len() - 1].to_vec());
            mutants.push(proof[1..].to_vec());
        }
        let mut longer = proof.clone();
        longer.push(r1);
        mutants.push(longer);
        let mut front = vec![r1];
        front.extend_from_slice(&proof);
        mutants.push(front);
        for p in &mutants {
            assert!(verify_consistency(m, n, &r1, &r2, p).is_err());
        }
        if m != n {
            assert!(verify_consistency(m, n, &r2, &r1, &proof).is_err());
        }
        // From size 0 nothing binds root2 (see the size-0 policy).
        if m > 0 {
            let mut bad = r2;
            bad[31] ^= 1;
            assert!(verify_consistency(m, n, &r1, &bad, &proof).is_err());
        }
        let mut bad = r1;
        bad[0] ^= 1;
        assert!(verify_consistency(m, n, &bad, &r2, &proof).is_err());
    }
}

#[test]
fn proofs_match_reference_for_every_pair_up_to_64() {
    let mut rf = Reference::new(64, true);
    let mut rng = Rng(1);
    for n in 1..=64u64 {
        for i in 0..n {
            rf.check_inclusion(i, n, &mut rng);
        }
        for m in 0..=n {
            rf.check_consistency(m, n, &mut rng);
        }
    }
}

#[test]
fn proofs_match_reference_for_random_sizes_up_to_4096() {
    let mut rf = Reference::new(4096, false);
    let mut rng = Rng(0x5eed);
    for _ in 0..24 {
        let n = 1 + rng.below(4096);
        for _ in 0..6 {
            let i = rng.below(n);
            rf.check_inclusion(i, n, &mut rng);
            let m = 1 + rng.below(n);
            rf.check_consistency(m, n, &mut rng);
        }
        // The edges: first and last leaf, sizes one apart, powers of two.
        rf.check_inclusion(0, n, &mut rng);
        rf.check_inclusion(n - 1, n, &mut rng);
        rf.check_consistency(n - 1, n, &mut rng);
        let p = 1u64 << (63 - n.leading_zeros());
        rf.check_consistency(p, n, &mut rng);
    }
}

#[test]
fn proofs_read_logarithmically_many_nodes() {
    use std::cell::Cell;
    struct Counting<'a>(&'a MemoryTree, Cell<usize>);
    impl NodeReader for Counting<'_> {
        type Error = MissingNode;
        fn node(&self, level: u8, index: u64) -> Result<Hash, MissingNode> {
            self.1.set(self.1.get() + 1);
            self.0.node(level, index)
        }
    }
    let mut t = MemoryTree::new();
    for i in 0..3000u64 {
        t.push_entry(&i.to_le_bytes());
    }
    let c = Counting(&t, Cell::new(0));
    // log2(3000) < 12: a proof needs at most about two reads per level.
    for (i, n) in [(0u64, 2999u64), (1234, 3000), (2998, 2999)] {
        c.1.set(0);
        inclusion_proof(&c, i, n).unwrap();
        assert!(c.1.get() <= 24, "inclusion {i}/{n}: {} reads", c.1.get());
        c.1.set(0);
        consistency_proof(&c, i + 1, n).unwrap();
        assert!(
            c.1.get() <= 24,
            "consistency {}/{n}: {} reads",
            i + 1,
            c.1.get()
        );
    }
    c.1.set(0);
    root(&c, 2999).unwrap();
    assert!(c.1.get() <= 12);
}

/// Found by the `proof_verify` fuzz target: for trees of more than 2^63
/// leaves the proof length shifted a u64 by 64 bits (a panic in debug
/// builds, a wrong expected length in release).
#[test]
fn inclusion_proof_length_holds_for_trees_above_2_pow_63() {
    assert_eq!(inclusion_len(0, (1 << 63) + 1), 64);
    assert_eq!(inclusion_len(1 << 63, (1 << 63) + 1), 1);
    // The last leaf of 2^64 − 1: one sibling per complete subtree to its left.
    assert_eq!(inclusion_len(u64::MAX - 1, u64::MAX), 63);
    let leaf = leaf_hash(b"x");
    let got = verify_inclusion(&leaf, 0xfff7_0000, 0xfff6_0000_0000_0001, &[], &leaf);
    assert!(
        matches!(
            got,
            Err(ProofError::WrongLength {
                expected: 64,
                got: 0
            })
        ),
        "{got:?}"
    );
}
