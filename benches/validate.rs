//! `validate` end to end (`validate::validate_bytes`, parse included) with
//! the schema stage only versus schema + references + every applicable
//! shipped profile, over a corpus of
//! 1,000 manifests (~20 data items, ~30 endpoints each) generated
//! deterministically from `tests/fixtures/bases/engine-camera.json`.
//!
//! The bar (docs/engine.md): profiles ≤ 3× schema-only. The floor beside
//! them is `serde_json::from_slice` + `jsonschema` `iter_errors` on the same
//! bytes: schema-only (load with spans on demand + schema stage) should stay
//! close to it.
//!
//! `cargo bench --bench validate`

use blueprint::manifest::document::{self, Limits};
use blueprint::manifest::refs;
use blueprint::manifest::schema::SchemaChecker;
use blueprint::profile::{Extra, ProfileLibrary, Selection, evaluate_mut};
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_bytes};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::Duration;

const CORPUS: usize = 1_000;
const AS_OF: time::Date = time::macros::date!(2026 - 11 - 26);

fn base() -> Value {
    let text = include_str!("../tests/fixtures/bases/engine-camera.json");
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// Manifest `n`: the base with items and endpoints cloned up to ~20 and ~30,
/// and a few values varied by `n` so manifests differ.
fn manifest(base: &Value, n: usize) -> Value {
    let mut m = base.clone();
    let items: Vec<Value> = m["data_items"].as_array().cloned().unwrap_or_default();
    let endpoints: Vec<Value> = m["network_endpoints"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut k = 0;
    while m["data_items"].as_array().map_or(0, Vec::len) < 20 && !items.is_empty() {
        let mut it = items[k % items.len()].clone();
        let id = format!("{}_c{k}", it["id"].as_str().unwrap_or("item"));
        it["id"] = json!(id);
        if let Some(s) = it["source_sensor"].as_str() {
            // The resolver wants the sensor to list the clone.
            let s = s.to_string();
            for sensor in m["sensors"].as_array_mut().into_iter().flatten() {
                if sensor["id"] == json!(s) {
                    if let Some(p) = sensor["produces"].as_array_mut() {
                        p.push(json!(id));
                    }
                }
            }
        }
        if n % 3 == 0 {
            it["retention"]["period_days"] = json!(30 + (n % 300));
        }
        if let Some(a) = m["data_items"].as_array_mut() {
            a.push(it);
        }
        k += 1;
    }
    let ids: Vec<Value> = m["data_items"]
        .as_array()
        .map(|a| a.iter().map(|i| i["id"].clone()).collect())
        .unwrap_or_default();
    let mut j = 0;
    while m["network_endpoints"].as_array().map_or(0, Vec::len) < 30 && !endpoints.is_empty() {
        let mut e = endpoints[j % endpoints.len()].clone();
        e["host"] = json!(format!("e{j}-{n}.lumencam.example"));
        e["carries_items"] = json!([ids[(j + n) % ids.len()].clone()]);
        if (j + n) % 7 == 0 {
            e["tls"]["min_version"] = json!("1.3");
        }
        if let Some(a) = m["network_endpoints"].as_array_mut() {
            a.push(e);
        }
        j += 1;
    }
    m["blueprint"]["version"] = json!(1 + n);
    m
}

fn corpus() -> Vec<Vec<u8>> {
    let b = base();
    (0..CORPUS)
        .map(|n| serde_json::to_vec_pretty(&manifest(&b, n)).unwrap_or_default())
        .collect()
}

fn options(schema_only: bool) -> ValidateOptions {
    ValidateOptions {
        schema_only,
        as_of: AS_OF,
        limits: Limits::default(),
        selection: Selection::Auto,
    }
}

/// `blueprint validate --schema-only` on one manifest, parse included.
fn schema_only(opts: &ValidateOptions, bytes: &[u8]) -> usize {
    let mut map = SourceMap::new();
    validate_bytes(&mut map, None, "m.json", bytes, opts)
        .diagnostics
        .len()
}

/// `blueprint validate` with every applicable shipped profile.
fn with_profiles(lib: &ProfileLibrary, opts: &ValidateOptions, bytes: &[u8]) -> usize {
    let mut map = SourceMap::new();
    validate_bytes(&mut map, Some(lib), "m.json", bytes, opts)
        .diagnostics
        .len()
}

fn bench(c: &mut Criterion) {
    let corpus = corpus();
    let mut map = SourceMap::new();
    let lib = match ProfileLibrary::builtin(&mut map) {
        Ok(l) => l,
        Err(d) => panic!("shipped profiles do not load: {d:?}"),
    };
    // Warm the process-lifetime caches (schema, lazily compiled profiles);
    // the corpus must be schema-valid or the comparison is meaningless.
    let mut sm = SourceMap::new();
    let mut doc = document::load(&mut sm, "m.json", &corpus[0], &Limits::default())
        .unwrap_or_else(|d| panic!("corpus manifest does not parse: {d:?}"));
    let problems = SchemaChecker::manifest().check(&doc);
    assert!(
        problems.is_empty(),
        "corpus manifest is not schema-valid: {problems:?}"
    );
    assert!(refs::check_references(&doc.value).is_empty());
    let e = evaluate_mut(&lib, &Selection::Auto, &mut doc, &Extra::default(), AS_OF);
    eprintln!(
        "profiles applied: {:?}; findings on manifest 0: {}; corpus bytes: {}",
        e.profiles_applied,
        e.diagnostics.len(),
        corpus.iter().map(Vec::len).sum::<usize>()
    );

    let mut g = c.benchmark_group("validate");
    g.throughput(Throughput::Elements(corpus.len() as u64));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    let (so, full) = (options(true), options(false));
    g.bench_function("schema_only", |b| {
        b.iter(|| {
            corpus
                .iter()
                .map(|m| schema_only(&so, black_box(m)))
                .sum::<usize>()
        })
    });
    let validator = {
        let schema: Value = serde_json::from_str(blueprint::manifest::schema::MANIFEST_SCHEMA)
            .unwrap_or(Value::Null);
        jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap_or_else(|e| panic!("schema compiles: {e}"))
    };
    g.bench_function("floor_from_slice_and_iter_errors", |b| {
        b.iter(|| {
            corpus
                .iter()
                .map(|m| {
                    let v: Value = serde_json::from_slice(black_box(m)).unwrap_or(Value::Null);
                    validator.iter_errors(&v).count()
                })
                .sum::<usize>()
        })
    });
    g.bench_function("schema_and_profiles", |b| {
        b.iter(|| {
            corpus
                .iter()
                .map(|m| with_profiles(&lib, &full, black_box(m)))
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
