//! `diff` of two manifests with 100,000 endpoints each, next to the time to
//! parse them, and the RFC 8520 MUD file of the first one, written out.
//! Peak memory of the same diff through the CLI is measured by
//! `scripts/bench-diff.sh`. Also the other shapes that once blew up: a list
//! of 100,000 markets (repeated, and distinct, with its SARIF log), and a
//! CycloneDX SBOM of 60,000 components.

use blueprint::device::diff::fast_json;
use blueprint::device::diff::manifest::{diff_manifests, report};
use blueprint::device::diff::render;
use blueprint::device::mud::{MudOptions, mud};
use blueprint::device::observe::sbom;
use blueprint::manifest::document::Limits;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;

pub const ENDPOINTS: usize = 100_000;

/// A manifest with `n` endpoints; `variant` changes 1 % of them (TLS
/// downgrade, country, carried items), drops 0.5 % and adds 0.5 %, and
/// reverses the list so matching is by identity, not position.
fn manifest(n: usize, variant: bool) -> Value {
    let mut eps = Vec::with_capacity(n);
    for i in 0..n {
        let mut host = format!("h{i}.acme.io");
        let mut tls = json!({"enabled": true, "min_version": "1.2"});
        let mut country = "DE";
        let mut items = vec!["device_id"];
        if variant {
            match i % 200 {
                0 => tls["enabled"] = json!(false),
                1 => country = "US",
                2 => items.push("location"),
                3 => host = format!("new{i}.acme.io"),
                _ => {}
            }
        }
        eps.push(json!({"host": host, "operator": "first_party", "country": country, "protocol": "https", "tls": tls, "carries_items": items}));
    }
    if variant {
        eps.reverse();
    }
    json!({
        "blueprint": {"id": "bench", "version": if variant { 2 } else { 1 }},
        "data_items": [
            {"id": "device_id", "category": "user.device.device_id", "identifiability": "pseudonymous"},
            {"id": "location", "category": "user.location.precise", "identifiability": "identified"}
        ],
        "network_endpoints": eps
    })
}

fn bench(c: &mut Criterion) {
    let a = serde_json::to_vec(&manifest(ENDPOINTS, false)).unwrap();
    let b = serde_json::to_vec(&manifest(ENDPOINTS, true)).unwrap();
    let (va, vb): (Value, Value) = (
        serde_json::from_slice(&a).unwrap(),
        serde_json::from_slice(&b).unwrap(),
    );
    let mut g = c.benchmark_group("diff_100k_endpoints");
    g.sample_size(10);
    g.bench_function("parse_both", |bn| {
        bn.iter(|| {
            let x: Value = serde_json::from_slice(black_box(&a)).unwrap();
            let y: Value = serde_json::from_slice(black_box(&b)).unwrap();
            (x, y)
        })
    });
    g.bench_function("diff", |bn| {
        bn.iter(|| diff_manifests(black_box(&va), black_box(&vb)))
    });
    let opts = MudOptions {
        mud_url: "https://example.com/bench.json".into(),
        now: "2026-01-01T00:00:00Z".into(),
        cache_validity_hours: 48,
    };
    g.bench_function("mud_written", |bn| {
        bn.iter(|| {
            let m = mud(black_box(&va), &opts);
            serde_json::to_writer_pretty(std::io::sink(), &m.document).unwrap()
        })
    });
    g.bench_function("load_both_without_spans", |bn| {
        bn.iter(|| {
            let x = fast_json::parse(black_box(&a), &Limits::default());
            let y = fast_json::parse(black_box(&b), &Limits::default());
            (x, y)
        })
    });
    g.finish();
}

/// A small manifest whose `markets` lists `n` entries: one value repeated,
/// or `n` distinct ones.
fn markets(n: usize, distinct: bool) -> Value {
    let list: Vec<String> = (0..n)
        .map(|i| {
            if distinct {
                format!("M{i}")
            } else {
                "EU".into()
            }
        })
        .collect();
    json!({"blueprint": {"id": "bench", "version": 2}, "markets": list})
}

fn bench_shapes(c: &mut Criterion) {
    let base = json!({"blueprint": {"id": "bench", "version": 1}, "markets": ["EU"]});
    let repeated = markets(ENDPOINTS, false);
    let distinct = markets(ENDPOINTS, true);
    let mut g = c.benchmark_group("diff_shapes");
    g.sample_size(10);
    g.bench_function("markets_100k_repeated", |bn| {
        bn.iter(|| diff_manifests(black_box(&base), black_box(&repeated)))
    });
    g.bench_function("markets_100k_distinct_sarif", |bn| {
        bn.iter(|| {
            let r = report(&base, "a.json", &distinct, "b.json");
            serde_json::to_writer(std::io::sink(), &render::sarif(&r)).unwrap()
        })
    });
    let components: Vec<Value> = (0..60_000)
        .map(|i| {
            json!({"type": "library", "name": format!("lib{i}"), "version": format!("1.{i}"),
                "purl": format!("pkg:generic/lib{i}@1.{i}"), "description": "x".repeat(60),
                "licenses": [{"license": {"id": "MIT"}}],
                "hashes": [{"alg": "SHA-256", "content": format!("{i:064x}")}]})
        })
        .collect();
    let bom = serde_json::to_vec(&json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
        "metadata": {"component": {"name": "fw", "version": "1"}}, "components": components}))
    .unwrap();
    g.bench_function("sbom_60k_components", |bn| {
        bn.iter(|| sbom::observe(black_box(&bom), "fw.cdx.json").unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench, bench_shapes);
criterion_main!(benches);
