//! Filing and checking a deviation report: building and signing the
//! statement, then what the registry does on every append and every
//! replay — strict signature checks, re-deriving classes and verdict from
//! the embedded deviations — for a report of 1,000 deviations, and the
//! rule itself.
//!
//! `cargo bench --bench escrow`.

use blueprint::attest::canon::Digest;
use blueprint::attest::keys::{KeyId, SigningKeyFile};
use blueprint::device::diff::{Class, Deviation, Mode, Report, Subject};
use blueprint::escrow::report::{self, BlueprintRef, DeviationReport, EvidenceDigest};
use blueprint::escrow::rule::{self, Params, ReportFacts};
use criterion::{Criterion, criterion_group, criterion_main};
use std::collections::BTreeSet;
use std::hint::black_box;
use time::macros::datetime;

fn deviations(n: usize) -> serde_json::Value {
    let list = (0..n)
        .map(|i| Deviation::new(Class::ALL[i % Class::ALL.len()], format!("/data_items/{i}")))
        .collect();
    let subject = Subject {
        blueprint_id: Some("acme-cam".into()),
        blueprint_version: Some(3.into()),
        source: "acme-cam.dsse.json".into(),
        against: vec!["capture.pcap".into()],
    };
    serde_json::to_value(Report::new(Mode::Evidence, subject, list, Vec::new())).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let blueprint = BlueprintRef {
        id: "acme-cam".into(),
        version: 3,
        digest: Digest::of_bytes(b"manifest"),
    };
    let doc = deviations(1000);
    let evidence = vec![EvidenceDigest::of("capture.pcap", b"pcap")];
    let (a, b) = (
        SigningKeyFile::from_seed(&[1; 32]),
        SigningKeyFile::from_seed(&[2; 32]),
    );
    let Ok(built) = DeviationReport::new(blueprint.clone(), doc.clone(), evidence.clone()) else {
        return;
    };
    let Ok((mut envelope, _)) = built.sign(&a) else {
        return;
    };
    if let Ok(sig) = report::cosign(&envelope, &b) {
        envelope.signatures.push(sig);
    }
    let members = [a.public(), b.public()];

    let mut g = c.benchmark_group("deviation-report-1000");
    g.bench_function("build and sign", |bench| {
        bench.iter(|| {
            DeviationReport::new(blueprint.clone(), black_box(doc.clone()), evidence.clone())
                .and_then(|r| r.sign(&a))
        })
    });
    g.bench_function("verify (2 signatures, re-derive classes)", |bench| {
        bench.iter(|| report::verify_report(black_box(&envelope), &members))
    });
    g.finish();

    let signers: Vec<KeyId> = (0..32u8).map(|n| KeyId([n; 32])).collect();
    let member_set: BTreeSet<KeyId> = signers.iter().copied().collect();
    let acceptances = vec![signers[..16].to_vec()];
    let classes = [Class::P3, Class::M2];
    let facts = ReportFacts {
        filed: datetime!(2026-12-01 10:00 UTC),
        classes: &classes,
        verdict: report::ReportVerdict::Deviations,
        signers: &signers,
        rebuttal_acceptances: &acceptances,
    };
    let params = Params {
        quorum: 20,
        window_days: 14,
    };
    c.bench_function("rule: 32 signers, 16 acceptances", |bench| {
        bench.iter(|| {
            rule::decide(
                params,
                black_box(&facts),
                &member_set,
                datetime!(2026-12-20 10:00 UTC),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
