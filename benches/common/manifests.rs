//! Deterministic synthetic manifests shaped like the corpus of
//! docs/performance.md (~13.5 KB of JSON: ~20 data items, ~30 endpoints),
//! with non-ASCII text, integers, floats, booleans and nesting.

use serde_json::{Value, json};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() as usize) % xs.len()]
    }
}

const CATEGORIES: &[&str] = &[
    "user.sensor.camera",
    "user.sensor.microphone",
    "user.device.ip_address",
    "user.location.precise",
    "user.behavior.browsing_history",
    "user.health_and_medical",
    "system.operations",
];
const COUNTRIES: &[&str] = &["DE", "FR", "CN", "US", "GB", "IE", "NL", "SG"];
const PURPOSES: &[&str] = &[
    "essential.service",
    "analytics.reporting",
    "marketing",
    "improve",
];

/// Manifest number `n`.
pub fn manifest(n: u64) -> Value {
    let mut r = Lcg(n.wrapping_mul(0x9E3779B97F4A7C15) | 1);
    let items: Vec<Value> = (0..20)
        .map(|i| {
            json!({
                "id": format!("item-{i}"),
                "category": r.pick(CATEGORIES),
                "description": format!("Données capturées n°{i} — 传感器 {}", r.next() % 1000),
                "purposes": [r.pick(PURPOSES), r.pick(PURPOSES)],
                "retention_days": r.next() % 3650,
                "sampling_hz": (r.next() % 10_000) as f64 / 7.0,
                "leaves_device": r.next() % 2 == 0,
                "storage": {"countries": [r.pick(COUNTRIES), r.pick(COUNTRIES)], "encrypted": true},
                "recipients": [format!("rcp-{}", r.next() % 5)],
            })
        })
        .collect();
    let endpoints: Vec<Value> = (0..30)
        .map(|i| {
            json!({
                "host": format!("api{i}.region-{}.example-cloud.com", r.next() % 9),
                "port": 443 + (r.next() % 3),
                "country": r.pick(COUNTRIES),
                "tls": {"min_version": "1.2", "pinning": r.next() % 2 == 0},
                "carries_items": [format!("item-{}", r.next() % 20), format!("item-{}", r.next() % 20)],
                "purpose": r.pick(PURPOSES),
            })
        })
        .collect();
    json!({
        "format": "blueprint/v1",
        "blueprint": {"id": format!("acme-device-{n}"), "version": 1 + n % 50, "issued_at": "2026-11-26"},
        "markets": ["EU", "US-CA", "CN", "GB"],
        "vendor": {"legal_name": "Acme Überwachung GmbH", "hq_country": "DE", "established_in": ["DE", "IE"]},
        "device": {"model": format!("Cam {n}"), "hw_version": "rev-B", "firmware": {"version": "1.2.0", "digest": format!("sha256:{:064x}", r.next())}},
        "data_items": items,
        "network_endpoints": endpoints,
        "recipients": (0..5).map(|i| json!({"id": format!("rcp-{i}"), "name": format!("Processor {i} Ltd."), "country": r.pick(COUNTRIES)})).collect::<Vec<_>>(),
    })
}
