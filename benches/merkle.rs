//! Merkle proofs over an in-memory tree of 1,000 and 1,000,000 entries:
//! inclusion and consistency proof generation (reads of stored complete
//! subtrees, `O(log n)`) and their verification, plus appends.
//!
//! `cargo bench --bench merkle`

use blueprint::escrow::merkle::{
    MemoryTree, consistency_proof, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion,
};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn tree(n: u64) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.push_entry(&i.to_le_bytes());
    }
    t
}

fn bench(c: &mut Criterion) {
    let sizes = [1_000u64, 1_000_000];
    let trees: Vec<(u64, MemoryTree)> = sizes.iter().map(|&n| (n, tree(n))).collect();

    let mut g = c.benchmark_group("merkle-inclusion");
    for (n, t) in &trees {
        let n = *n;
        // A size that is not a power of two, so the right edge is combined.
        let size = n - 3;
        let index = size / 3;
        g.bench_with_input(BenchmarkId::new("prove", n), &n, |b, _| {
            b.iter(|| inclusion_proof(t, black_box(index), black_box(size)).unwrap_or_default())
        });
        let proof = inclusion_proof(t, index, size).unwrap_or_default();
        let r = root(t, size).unwrap_or_default();
        let leaf = leaf_hash(&index.to_le_bytes());
        g.bench_with_input(BenchmarkId::new("verify", n), &n, |b, _| {
            b.iter(|| {
                verify_inclusion(black_box(&leaf), index, size, black_box(&proof), &r).is_ok()
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("merkle-consistency");
    for (n, t) in &trees {
        let n = *n;
        let (m, size) = (n / 3 + 1, n - 3);
        g.bench_with_input(BenchmarkId::new("prove", n), &n, |b, _| {
            b.iter(|| consistency_proof(t, black_box(m), black_box(size)).unwrap_or_default())
        });
        let proof = consistency_proof(t, m, size).unwrap_or_default();
        let (r1, r2) = (
            root(t, m).unwrap_or_default(),
            root(t, size).unwrap_or_default(),
        );
        g.bench_with_input(BenchmarkId::new("verify", n), &n, |b, _| {
            b.iter(|| verify_consistency(m, size, &r1, &r2, black_box(&proof)).is_ok())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("merkle-append");
    g.bench_function("append 1000 entries", |b| {
        b.iter(|| black_box(tree(1_000)).root())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
