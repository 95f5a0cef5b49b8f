//! Hostile input stays bounded (docs/limits.md): every shape below either
//! gives its findings or a `limit/…` error, never an abort. Each command
//! runs under an address-space cap, so an unbounded blow-up fails the test
//! instead of passing slowly; no timings are asserted (those are in
//! `benches/hostile.rs`, at full size).

use crate::util::{text, write};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

/// Address space the debug binary may use, in KiB: a few hundred MiB above
/// what it needs for the inputs here, far below what the unbounded paths
/// needed.
const CAP_KIB: u64 = 1_000_000;

/// Runs the debug binary with `args` under [`CAP_KIB`].
fn capped(args: &[&str]) -> Output {
    crate::util::capped(CAP_KIB, args)
}

fn path(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// The example camera as JSON, with its endpoints replaced by `endpoints`.
fn camera(endpoints: Vec<Value>) -> Value {
    let text = std::fs::read_to_string(crate::util::repo_file("examples/home-camera.json"))
        .expect("example");
    let mut m: Value = serde_json::from_str(&text).expect("example is JSON");
    m["network_endpoints"] = Value::Array(endpoints);
    m
}

/// An endpoint whose `port` is a string (one `schema/type` finding).
fn broken_endpoint(i: usize) -> Value {
    json!({"host": format!("h{i}.example"), "operator": "first_party", "country": "DE",
        "protocol": "mqtts", "port": "eighty", "tls": {"enabled": true}, "carries_items": []})
}

/// The codes of a `--format json` report.
fn codes(out: &Output) -> Vec<String> {
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out.stderr)));
    report["files"][0]["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["code"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn one_long_toml_array_is_refused_before_it_is_parsed() {
    let dir = tempfile::tempdir().unwrap();
    let ints: Vec<String> = (0..200_001).map(|i| (1_000_000 + i).to_string()).collect();
    let f = write(
        dir.path(),
        "ints.toml",
        format!("a = [{}]\n", ints.join(",")),
    );
    let tables = vec!["{x=1}"; 200_001].join(",");
    let g = write(dir.path(), "tables.toml", format!("a = [{tables}]\n"));
    for file in [&f, &g] {
        for cmd in ["canon", "hash"] {
            let out = capped(&[cmd, path(file)]);
            assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
            let err = text(&out.stderr);
            assert!(err.contains("limit/array-items"), "{err}");
            assert!(
                err.contains("array with more than 200000 elements"),
                "{err}"
            );
        }
    }
}

#[test]
fn arrays_nested_ten_deep_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    // Over the per-array cap: refused by the pre-scan.
    let many = vec!["[[[[[[[[[0]]]]]]]]]"; 200_001].join(",");
    let f = write(dir.path(), "deep.json", format!("[{many}]"));
    let out = capped(&["hash", path(&f)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("limit/array-items"));
    // Under every limit: about 400,000 values, hashed within the cap.
    let inner = format!(
        "[[[[[[[[[{}]]]]]]]]]",
        (0..100)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
    let wide = vec![inner.as_str(); 4_000].join(",");
    let g = write(dir.path(), "wide.json", format!("[{wide}]"));
    let out = capped(&["hash", path(&g)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("sha256:"));
}

#[test]
fn nested_inline_tables_are_counted_before_they_are_built() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..40_000)
        .map(|i| format!("k{i} = {{a={{b={{c=1}}}}}}\n"))
        .collect();
    let f = write(dir.path(), "tables.toml", &lines);
    let out = capped(&["canon", path(&f)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let canon: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(canon["k39999"]["a"]["b"]["c"], 1);
}

#[test]
fn a_huge_string_is_neither_compared_nor_quoted_whole() {
    let dir = tempfile::tempdir().unwrap();
    let big = "x".repeat(1 << 19);
    let mut ep = broken_endpoint(0);
    ep["port"] = json!(443);
    ep["protocol"] = json!(big);
    ep[big.as_str()] = json!(1);
    let f = write(
        dir.path(),
        "big.json",
        serde_json::to_vec_pretty(&camera(vec![ep])).unwrap(),
    );
    let out = capped(&["validate", "--schema-only", "--format", "json", path(&f)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let diags = report["files"][0]["diagnostics"].as_array().unwrap();
    let codes: Vec<&str> = diags.iter().filter_map(|d| d["code"].as_str()).collect();
    assert!(codes.contains(&"schema/enum"), "{codes:?}");
    assert!(codes.contains(&"schema/additionalProperties"), "{codes:?}");
    for d in diags {
        let m = d["message"].as_str().unwrap();
        assert!(m.len() < 400, "message quotes too much: {} bytes", m.len());
    }
    // Human output quotes an excerpt of the line, not the whole string.
    let out = capped(&["validate", "--schema-only", path(&f)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.len() < 64 * 1024, "{} bytes", out.stdout.len());
}

#[test]
fn many_findings_cost_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2_000;
    let f = write(
        dir.path(),
        "ports.json",
        serde_json::to_vec_pretty(&camera((0..n).map(broken_endpoint).collect())).unwrap(),
    );
    let out = capped(&["validate", "--schema-only", "--format", "json", path(&f)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let c = codes(&out);
    assert_eq!(c.iter().filter(|c| *c == "schema/type").count(), n);
    let out = capped(&["validate", "--schema-only", path(&f)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains(&format!("({n} places:")));
}

#[test]
fn a_one_line_file_is_not_reprinted_for_every_finding() {
    let dir = tempfile::tempdir().unwrap();
    let n = 500;
    let one_line = serde_json::to_vec(&camera((0..n).map(broken_endpoint).collect())).unwrap();
    assert!(!one_line.contains(&b'\n') && one_line.len() > 60_000);
    let f = write(dir.path(), "min.json", &one_line);
    let out = capped(&["validate", "--schema-only", path(&f)]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("schema/type"), "{shown}");
    // Bounded per finding: far less than one copy of the file per finding.
    assert!(
        out.stdout.len() < one_line.len(),
        "{} bytes",
        out.stdout.len()
    );
    assert!(shown.contains("min.json:1:"), "{shown}");
}

#[test]
fn what_is_not_a_regular_file_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    for (file, what) in [
        ("/dev/zero", "a character device, not a regular file"),
        (path(&fifo), "a FIFO, not a regular file"),
        (path(dir.path()), "a directory, not a file"),
    ] {
        for args in [
            vec!["validate", file],
            vec!["canon", file],
            vec!["hash", file],
        ] {
            // No writer on the FIFO: refusing before opening it is what
            // keeps this from blocking.
            let out = capped(&args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            let err = text(&out.stderr);
            // `validate` takes a directory as a batch of the manifests in it.
            let what = if args[0] == "validate" && file == path(dir.path()) {
                "directory holds no *.toml or *.json file"
            } else {
                what
            };
            assert!(err.contains(what), "{args:?}: {err}");
        }
    }
}
