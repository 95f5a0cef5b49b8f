//! RFC 9162 inclusion and consistency proof verification on arbitrary
//! sizes, indices and proof lengths: an answer, never a panic or a loop.
#![no_main]

use blueprint::escrow::merkle::{self, Hash};
use libfuzzer_sys::fuzz_target;

fn u64_at(d: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    for (i, x) in d.iter().skip(at).take(8).enumerate() {
        b[i] = *x;
    }
    u64::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 80 {
        return;
    }
    let (a, b) = (u64_at(data, 0), u64_at(data, 8));
    let h = |at: usize| -> Hash { data[at..at + 32].try_into().unwrap() };
    let (leaf, root) = (h(16), h(48));
    let proof: Vec<Hash> = data[80..]
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap())
        .collect();
    let _ = merkle::verify_inclusion(&leaf, a, b, &proof, &root);
    let _ = merkle::verify_consistency(a, b, &leaf, &root, &proof);
    // Small trees: a proof the tree itself produced always verifies.
    let size = (a % 300) + 1;
    let index = b % size;
    let mut tree = merkle::MemoryTree::new();
    for i in 0..size {
        tree.push_entry(&i.to_le_bytes());
    }
    let root = tree.root();
    let proof = merkle::inclusion_proof(&tree, index, size).unwrap();
    let leaf = merkle::leaf_hash(&index.to_le_bytes());
    merkle::verify_inclusion(&leaf, index, size, &proof, &root).unwrap();
});
