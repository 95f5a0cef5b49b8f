//! Shapes whose cost used to grow with the square of their size: many
//! cross-border entries on one data item, and sensors repeated with the
//! same ids. Each is generated from the shipped smart meter and validated by
//! the binary under an address-space cap, so a quadratic blow-up fails the
//! test by running out of memory instead of merely running long.

use blueprint::manifest::document::{self, Limits};
use blueprint::source::SourceMap;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Address space the binary may use, in KiB (`ulimit -v`).
const ADDRESS_SPACE_KIB: u64 = 1_500_000;

/// The smart meter example as a JSON value.
fn smart_meter() -> Value {
    let path = crate::util::repo_file("examples/smart-meter.toml");
    let text = std::fs::read(&path).expect("example");
    let mut map = SourceMap::new();
    document::load(&mut map, "smart-meter.toml", &text, &Limits::default())
        .expect("the example loads")
        .value
}

/// Runs `blueprint validate --format json` on `file` under the cap; returns
/// the exit code and the count of findings per code.
fn validate_capped(file: &Path) -> (i32, BTreeMap<String, usize>) {
    let bin = env!("CARGO_BIN_EXE_blueprint");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -v {ADDRESS_SPACE_KIB}; exec \"$0\" \"$@\""))
        .arg(bin)
        .args(["validate", "--format", "json", "--as-of", "2026-06-01"])
        .arg(file)
        .output()
        .expect("run blueprint");
    let code = out.status.code().unwrap_or(-1);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "exit {code}: no JSON report ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut codes = BTreeMap::new();
    for d in report["files"][0]["diagnostics"]
        .as_array()
        .expect("diagnostics")
    {
        let c = d["code"].as_str().expect("code").to_string();
        *codes.entry(c).or_insert(0) += 1;
    }
    (code, codes)
}

fn write_json(dir: &Path, name: &str, v: &Value) -> std::path::PathBuf {
    crate::util::write(dir, name, serde_json::to_vec(v).expect("serialize"))
}

/// The smart meter with `n` cross-border entries on its first data item.
fn many_cross_border(n: usize) -> Value {
    let mut m = smart_meter();
    let countries = ["US", "JP", "IN", "BR", "CA", "AU", "KR", "SG", "CH", "GB"];
    let entries: Vec<Value> = (0..n)
        .map(|i| {
            json!({
                "from_market": "EU",
                "to_country": countries[i % countries.len()],
                "recipient": "gridop",
                "mechanism": "scc",
                "frequency": "continuous",
            })
        })
        .collect();
    m["data_items"][0]["cross_border"] = Value::Array(entries);
    m
}

/// The smart meter with its sensors repeated `n` times, ids unchanged.
fn repeated_sensors(n: usize) -> Value {
    let mut m = smart_meter();
    let sensors = m["sensors"].as_array().expect("sensors").clone();
    m["sensors"] = Value::Array((0..n).flat_map(|_| sensors.clone()).collect());
    m
}

#[test]
fn many_cross_border_entries_on_one_item_are_evaluated_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let small = validate_capped(&write_json(dir.path(), "cb10.json", &many_cross_border(10)));
    // The schema's cap on `cross_border` (1,000 entries); before the
    // entries shared their item's facts this needed about 1 GB.
    let n = 1000;
    let big = validate_capped(&write_json(dir.path(), "cb.json", &many_cross_border(n)));
    assert_eq!(big.0, small.0, "{big:?}");
    // Per-entry findings grow with the entries, the others stay as they are.
    for (code, count) in &big.1 {
        let before = small.1.get(code).copied().unwrap_or(0);
        assert!(
            *count == before || *count * 10 == before * n,
            "{code}: {before} with 10 entries, {count} with {n}"
        );
    }
    assert_eq!(
        big.1.keys().collect::<Vec<_>>(),
        small.1.keys().collect::<Vec<_>>()
    );
}

#[test]
fn sensors_repeated_thousands_of_times_give_one_finding_per_repeated_id() {
    let dir = tempfile::tempdir().unwrap();
    let n = 4000;
    let (code, codes) = validate_capped(&write_json(dir.path(), "s.json", &repeated_sensors(n)));
    assert_eq!(code, 1);
    // The smart meter has two sensors: two repeated ids, one finding each.
    assert_eq!(codes.get("ref/duplicate-id"), Some(&2), "{codes:?}");
}
