//! Producing a signed deposit (canonical manifest, SHA-256 digest, in-toto
//! statement, DSSE PAE, Ed25519) vs the bare minimum with the same crates
//! (serialize, `sha2` digest, `ed25519-dalek` signature over the bytes).
//!
//! `cargo bench --bench sign`; the overhead ratio is blueprint / raw.

#[path = "common/manifests.rs"]
mod manifests;

use blueprint::attest::dsse::Envelope;
use blueprint::attest::keys::SigningKeyFile;
use blueprint::attest::statement::{PAYLOAD_TYPE, ValidationSummary, deposit_payload};
use blueprint::diag::Counts;
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};
use std::hint::black_box;

fn bench(c: &mut Criterion) {
    let docs: Vec<serde_json::Value> = (0..100).map(manifests::manifest).collect();
    let summary = ValidationSummary {
        profiles: vec!["eu-gdpr".into(), "cn-pipl".into()],
        as_of: "2026-11-26".into(),
        tool_version: "0.1.0".into(),
        counts: Counts::default(),
    };
    let key = SigningKeyFile::from_seed(&[7; 32]);
    let raw_key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);

    let mut g = c.benchmark_group("hash-and-sign-100-manifests");
    g.bench_function("raw sha2 + ed25519-dalek", |b| {
        b.iter(|| {
            for d in &docs {
                let bytes = serde_json::to_vec(black_box(d)).unwrap_or_default();
                let digest = Sha256::digest(&bytes);
                black_box((digest, raw_key.sign(&bytes)));
            }
        })
    });
    g.bench_function("blueprint deposit envelope", |b| {
        b.iter(|| {
            for d in &docs {
                let payload = deposit_payload(black_box(d), &summary).unwrap_or_default();
                black_box(Envelope::sign(PAYLOAD_TYPE, &payload, &key));
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
