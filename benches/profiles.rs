//! Profile evaluation against parsing, per shipped example: load + schema
//! stage alone versus load + schema + references + every applicable
//! profile, so the ratio of the two is visible for each manifest. The two
//! generated shapes that used to cost quadratic time (many cross-border
//! entries on one item, one sensor id repeated) run alongside.
//!
//! `cargo bench --bench profiles`

use blueprint::manifest::document::Limits;
use blueprint::profile::{ProfileLibrary, Selection};
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_bytes};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::Duration;

const AS_OF: time::Date = time::macros::date!(2026 - 6 - 1);

const EXAMPLES: &[(&str, &str)] = &[
    ("home-camera", include_str!("../examples/home-camera.toml")),
    (
        "kids-smartwatch",
        include_str!("../examples/kids-smartwatch.toml"),
    ),
    ("smart-meter", include_str!("../examples/smart-meter.toml")),
    (
        "smart-meter-v3",
        include_str!("../examples/smart-meter-v3.toml"),
    ),
];

fn options(schema_only: bool) -> ValidateOptions {
    ValidateOptions {
        schema_only,
        as_of: AS_OF,
        limits: Limits::default(),
        selection: Selection::Auto,
    }
}

fn run(lib: Option<&ProfileLibrary>, opts: &ValidateOptions, name: &str, bytes: &[u8]) -> usize {
    let mut map = SourceMap::new();
    validate_bytes(&mut map, lib, name, bytes, opts)
        .diagnostics
        .len()
}

/// The smart meter as JSON, for the generated shapes.
fn smart_meter() -> Value {
    let mut map = SourceMap::new();
    let text = include_str!("../examples/smart-meter.toml");
    blueprint::manifest::document::load(&mut map, "m.toml", text.as_bytes(), &Limits::default())
        .map(|d| d.value)
        .unwrap_or(Value::Null)
}

fn shapes() -> Vec<(&'static str, Vec<u8>)> {
    let mut cb = smart_meter();
    cb["data_items"][0]["cross_border"] = Value::Array(
        (0..2000)
            .map(|i| {
                let to = ["US", "JP", "IN", "CA"][i % 4];
                json!({ "from_market": "EU", "to_country": to,
                        "recipient": "gridop", "mechanism": "scc", "frequency": "continuous" })
            })
            .collect(),
    );
    let mut dup = smart_meter();
    let sensors = dup["sensors"].as_array().cloned().unwrap_or_default();
    dup["sensors"] = Value::Array((0..4000).flat_map(|_| sensors.clone()).collect());
    vec![
        (
            "cross-border-2000",
            serde_json::to_vec(&cb).unwrap_or_default(),
        ),
        (
            "sensors-repeated-4000",
            serde_json::to_vec(&dup).unwrap_or_default(),
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let mut map = SourceMap::new();
    let lib = match ProfileLibrary::builtin(&mut map) {
        Ok(l) => l,
        Err(d) => panic!("shipped profiles do not load: {d:?}"),
    };
    let (schema, full) = (options(true), options(false));
    let mut g = c.benchmark_group("profiles");
    g.throughput(Throughput::Elements(1));
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(5));
    for (name, text) in EXAMPLES {
        let file = format!("{name}.toml");
        // Warm the lazily compiled profiles before measuring.
        run(Some(&lib), &full, &file, text.as_bytes());
        g.bench_function(format!("{name}/load_schema"), |b| {
            b.iter(|| run(None, &schema, &file, black_box(text.as_bytes())))
        });
        g.bench_function(format!("{name}/load_schema_profiles"), |b| {
            b.iter(|| run(Some(&lib), &full, &file, black_box(text.as_bytes())))
        });
    }
    g.sample_size(10);
    for (name, bytes) in shapes() {
        g.bench_function(format!("{name}/load_schema_profiles"), |b| {
            b.iter(|| run(Some(&lib), &full, "m.json", black_box(&bytes)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
