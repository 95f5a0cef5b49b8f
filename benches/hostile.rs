//! Hostile input at full size (docs/limits.md): each shape must be refused
//! or checked well under a second per MiB. The same shapes, scaled down and
//! run under an address-space cap, are in
//! `tests/integration/hostile_input.rs`.
//!
//! `cargo bench --bench hostile`

use blueprint::manifest::document::{self, Limits};
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_bytes};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use std::hint::black_box;
use std::time::Duration;

const MIB: usize = 1 << 20;

/// `a = [1000000,1000001,…]`, about `size` bytes.
fn toml_ints(size: usize) -> Vec<u8> {
    let mut s = String::from("a = [");
    let mut i = 0u64;
    while s.len() < size {
        s.push_str(&(1_000_000 + i).to_string());
        s.push(',');
        i += 1;
    }
    s.push_str("]\n");
    s.into_bytes()
}

/// `a = [{x=1},{x=1},…]`.
fn toml_inline_tables(size: usize) -> Vec<u8> {
    let mut s = String::from("a = [");
    while s.len() < size {
        s.push_str("{x=1},");
    }
    s.push_str("]\n");
    s.into_bytes()
}

/// Lines of `kN = {a={b={c=1}}}`.
fn toml_nested_tables(size: usize) -> Vec<u8> {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < size {
        s.push_str(&format!("k{i} = {{a={{b={{c=1}}}}}}\n"));
        i += 1;
    }
    s.into_bytes()
}

/// A JSON array of `inner`, repeated up to `size` bytes.
fn json_repeated(inner: &str, size: usize) -> Vec<u8> {
    let n = size / (inner.len() + 1);
    format!("[{}]", vec![inner; n.max(1)].join(",")).into_bytes()
}

fn camera(endpoints: Vec<Value>) -> Value {
    let text = include_str!("../examples/home-camera.json");
    let mut m: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    m["network_endpoints"] = Value::Array(endpoints);
    m
}

fn endpoint(i: usize, port: Value) -> Value {
    json!({"host": format!("h{i}.example"), "operator": "first_party", "country": "DE",
        "protocol": "mqtts", "port": port, "tls": {"enabled": true}, "carries_items": []})
}

fn broken_ports(n: usize) -> Vec<u8> {
    let eps = (0..n).map(|i| endpoint(i, json!("eighty"))).collect();
    serde_json::to_vec_pretty(&camera(eps)).unwrap_or_default()
}

fn huge_enum_value() -> Vec<u8> {
    let mut ep = endpoint(0, json!(443));
    ep["protocol"] = json!("x".repeat(4 * MIB));
    serde_json::to_vec_pretty(&camera(vec![ep])).unwrap_or_default()
}

fn huge_key() -> Vec<u8> {
    let mut ep = endpoint(0, json!(443));
    ep["x".repeat(4 * MIB).as_str()] = json!(1);
    serde_json::to_vec_pretty(&camera(vec![ep])).unwrap_or_default()
}

/// Loads `bytes` and returns the number of problems (0 when it loads).
fn load(name: &str, bytes: &[u8]) -> usize {
    let mut map = SourceMap::new();
    match document::load(&mut map, name, bytes, &Limits::default()) {
        Ok(d) => usize::from(d.value.is_null()),
        Err(d) => d.len(),
    }
}

/// `validate --schema-only`, returning the number of findings.
fn schema_only(name: &str, bytes: &[u8]) -> usize {
    let opts = ValidateOptions {
        schema_only: true,
        as_of: time::macros::date!(2026 - 11 - 26),
        limits: Limits::default(),
        selection: blueprint::profile::Selection::Auto,
    };
    let mut map = SourceMap::new();
    validate_bytes(&mut map, None, name, bytes, &opts)
        .diagnostics
        .len()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("hostile");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    let nested10 = "[[[[[[[[[0]]]]]]]]]".to_string();
    let wide10 = format!(
        "[[[[[[[[[{}]]]]]]]]]",
        (0..100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let loads: Vec<(&str, &str, Vec<u8>)> = vec![
        ("toml_int_array_10mib", "a.toml", toml_ints(10 * MIB)),
        (
            "toml_inline_tables_10mib",
            "a.toml",
            toml_inline_tables(10 * MIB),
        ),
        (
            "toml_nested_tables_10mib",
            "a.toml",
            toml_nested_tables(10 * MIB),
        ),
        (
            "json_nested10_10mib",
            "a.json",
            json_repeated(&nested10, 10 * MIB),
        ),
        (
            "json_nested10_wide_10mib",
            "a.json",
            json_repeated(&wide10, 10 * MIB),
        ),
    ];
    for (id, name, bytes) in &loads {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(*id, |b| b.iter(|| load(name, black_box(bytes))));
    }
    let validates: Vec<(&str, Vec<u8>)> = vec![
        ("enum_value_4mib", huge_enum_value()),
        ("unknown_key_4mib", huge_key()),
        ("broken_ports_5k", broken_ports(5_000)),
        ("broken_ports_20k", broken_ports(20_000)),
        ("broken_ports_100k", broken_ports(100_000)),
    ];
    for (id, bytes) in &validates {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(*id, |b| b.iter(|| schema_only("m.json", black_box(bytes))));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
