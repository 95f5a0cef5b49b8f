//! RFC 8785 canonicalization vs plain `serde_json::to_vec` on the same
//! manifests (docs/performance.md: the target is at least 0.7× the plain
//! serializer's throughput).
//!
//! `cargo bench --bench canon`; the ratio is to_vec time / canonicalize time.

#[path = "common/manifests.rs"]
mod manifests;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let docs: Vec<serde_json::Value> = (0..100).map(manifests::manifest).collect();
    let bytes: u64 = docs
        .iter()
        .map(|d| serde_json::to_vec(d).map_or(0, |v| v.len() as u64))
        .sum();
    eprintln!(
        "{} manifests, {} bytes of JSON on average",
        docs.len(),
        bytes / docs.len() as u64
    );
    let mut g = c.benchmark_group("serialize-100-manifests");
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("serde_json::to_vec", |b| {
        b.iter(|| {
            for d in &docs {
                black_box(serde_json::to_vec(black_box(d)).ok());
            }
        })
    });
    g.bench_function("canon::canonicalize", |b| {
        b.iter(|| {
            for d in &docs {
                black_box(blueprint::attest::canon::canonicalize(black_box(d)).ok());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
