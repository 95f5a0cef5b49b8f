//! The escrow registry's write and replay paths on the SQLite store:
//! appends one at a time (each its own transaction, fsynced commit and
//! signed checkpoint) and in batches (one transaction and checkpoint for
//! many entries), bytes stored per entry, and replaying 100,000 entries.
//!
//! Entries are synthetic deposit events (a small signed manifest, checked
//! by the same `apply` as live deposits, without the profile re-validation
//! `registry deposit` adds) and member registrations.
//!
//! `cargo bench --bench registry`

use blueprint::attest::canon::Digest;
use blueprint::attest::dsse::Envelope;
use blueprint::attest::keys::SigningKeyFile;
use blueprint::attest::statement::{PAYLOAD_TYPE, ValidationSummary, deposit_payload};
use blueprint::diag::Counts;
use blueprint::escrow::event::{
    Amount, Bond, Currency, Day, DepositEvent, DepositValidation, Event, EventKind, EventTime,
    MemberEvent, MemberRole, Text,
};
use blueprint::escrow::registry::{InitOptions, Registry};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::time::Duration;

const NOW: &str = "2026-12-03T10:00:00Z";

fn now() -> EventTime {
    EventTime::parse(NOW).unwrap()
}

fn new_registry(dir: &std::path::Path) -> Registry {
    Registry::init(
        dir,
        &InitOptions {
            origin: "bench.example/escrow".into(),
            quorum: 2,
            window_days: 30,
        },
        now(),
    )
    .unwrap()
}

/// A deposit of blueprint id `b{i}` version 1, signed by `key`.
fn deposit(i: u64, key: &SigningKeyFile) -> Event {
    let manifest = json!({
        "format": "blueprint/v1",
        "blueprint": {"id": format!("b{i}"), "version": 1},
        "vendor": {"legal_name": "Bench GmbH", "hq_country": "DE"},
        "device": {"model": format!("Model {i}")},
    });
    let summary = ValidationSummary {
        profiles: vec!["eu-gdpr".into()],
        as_of: "2026-12-03".into(),
        tool_version: "0.1.0".into(),
        counts: Counts::default(),
    };
    let payload = deposit_payload(&manifest, &summary).unwrap();
    let envelope = Envelope::sign(PAYLOAD_TYPE, &payload, key);
    Event {
        time: now(),
        kind: EventKind::Deposit(Box::new(DepositEvent {
            blueprint_id: format!("b{i}"),
            version: 1,
            digest: Digest::of_value(&manifest).unwrap(),
            subject: format!("Bench GmbH/Model {i}"),
            vendor_keyid: key.id(),
            vendor_public_key: key.public(),
            envelope,
            bond: Bond {
                amount: Amount::parse("50000").unwrap(),
                currency: Currency::parse("EUR").unwrap(),
            },
            support_end: None,
            supersedes: None,
            validation: DepositValidation {
                as_of: Day::parse("2026-12-03").unwrap(),
                errors: 0,
                warnings: 0,
                profiles: vec!["eu-gdpr".into()],
            },
        })),
    }
}

/// A member registration with a key derived from `i`.
fn member(i: u64) -> Event {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&i.to_le_bytes());
    seed[31] = 1;
    let k = SigningKeyFile::from_seed(&seed).public();
    Event {
        time: now(),
        kind: EventKind::Member(MemberEvent {
            name: Text::parse(&format!("Lab {i}")).unwrap(),
            role: MemberRole::Lab,
            public_key: k,
            keyid: k.id(),
        }),
    }
}

fn db_bytes(dir: &std::path::Path) -> u64 {
    ["registry.db", "registry.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}

fn bench(c: &mut Criterion) {
    let key = SigningKeyFile::from_seed(&[7; 32]);
    let mut g = c.benchmark_group("registry");
    g.sample_size(10).measurement_time(Duration::from_secs(10));

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("one");
    let mut reg = new_registry(&dir);
    let mut next = 0u64;
    g.bench_function("deposit one per transaction", |b| {
        b.iter(|| {
            next += 1;
            reg.append(deposit(next, &key)).unwrap()
        })
    });
    let size = reg.size().unwrap();
    drop(reg);
    let one_dir = dir.clone();

    let dir = tmp.path().join("batch");
    let mut reg = new_registry(&dir);
    let mut next = 0u64;
    g.bench_function("deposit batch of 100 per transaction", |b| {
        b.iter_batched(
            || {
                (0..100)
                    .map(|_| {
                        next += 1;
                        deposit(next, &key)
                    })
                    .collect::<Vec<_>>()
            },
            |events| reg.append_batch(events).unwrap(),
            criterion::BatchSize::PerIteration,
        )
    });
    drop(reg);
    let reg = Registry::open(&one_dir).unwrap();
    drop(reg);
    eprintln!(
        "bytes stored per deposit entry: {} ({} bytes for {size} entries, one checkpoint each)",
        db_bytes(&one_dir) / size.max(1),
        db_bytes(&one_dir)
    );

    // 100,000 entries: one deposit in ten, the rest member registrations.
    let dir = tmp.path().join("replay");
    let mut reg = new_registry(&dir);
    let mut i = 0u64;
    while i < 100_000 {
        let batch: Vec<Event> = (i..i + 10_000)
            .map(|n| {
                if n % 10 == 0 {
                    deposit(n, &key)
                } else {
                    member(n)
                }
            })
            .collect();
        reg.append_batch(batch).unwrap();
        i += 10_000;
    }
    let entries = reg.size().unwrap();
    eprintln!(
        "replay registry: {entries} entries, {} bytes on disk ({} per entry)",
        db_bytes(&dir),
        db_bytes(&dir) / entries
    );
    g.bench_function("replay 100,000 entries", |b| {
        b.iter(|| {
            let report = reg.replay().unwrap();
            assert!(report.differences.is_empty());
            report.entries
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
