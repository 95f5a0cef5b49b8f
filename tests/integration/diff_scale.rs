//! Inputs that once exhausted memory, generated here and run through the
//! debug binary under an address-space cap: each must finish with its
//! ordinary outcome. Sizes are scaled down for the debug build; the
//! full-size figures are in `cargo bench --bench diff`.

use crate::util::text;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Output;

/// Address space allowed to the binary, in KiB (`ulimit -v`).
const CAP_KIB: u64 = 1_500_000;

/// Runs the debug binary with `args` under [`CAP_KIB`].
fn capped(args: &[&str]) -> Output {
    crate::util::capped(CAP_KIB, args)
}

fn write_json(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p.display().to_string()
}

/// A manifest with `n` endpoints; `variant` changes one in 100 (a TLS
/// downgrade) and lists them in reverse order.
fn endpoints(n: usize, variant: bool) -> Value {
    let mut eps: Vec<Value> = (0..n)
        .map(|i| {
            let tls = !(variant && i % 100 == 0);
            json!({"host": format!("h{i}.acme.io"), "operator": "first_party", "country": "DE",
                "protocol": "https", "tls": {"enabled": tls, "min_version": "1.2"},
                "carries_items": ["device_id"]})
        })
        .collect();
    if variant {
        eps.reverse();
    }
    json!({"blueprint": {"id": "scale", "version": 1}, "network_endpoints": eps})
}

fn markets(list: Vec<String>) -> Value {
    json!({"blueprint": {"id": "scale", "version": 1}, "markets": list})
}

#[test]
fn endpoints_diff_finds_every_downgrade_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let a = write_json(dir.path(), "a.json", &endpoints(n, false));
    let b = write_json(dir.path(), "b.json", &endpoints(n, true));
    let out = capped(&["diff", &a, &b, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let devs = r["deviations"].as_array().unwrap();
    assert_eq!(devs.len(), n / 100);
    assert!(
        devs.iter()
            .all(|d| d["path"].as_str().unwrap().ends_with("/tls/enabled"))
    );
}

#[test]
fn a_market_repeated_100k_times_is_one_market() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_json(dir.path(), "a.json", &markets(vec!["EU".into()]));
    let b = write_json(dir.path(), "b.json", &markets(vec!["EU".into(); 100_000]));
    let out = capped(&["diff", &a, &b, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["verdict"], "matches");
}

#[test]
fn distinct_list_additions_are_capped_and_counted_in_json_and_sarif() {
    let dir = tempfile::tempdir().unwrap();
    let a = write_json(dir.path(), "a.json", &markets(vec!["EU".into()]));
    let mut many: Vec<String> = (0..100_000).map(|i| format!("M{i}")).collect();
    many.push("EU".into());
    let b = write_json(dir.path(), "b.json", &markets(many));
    let out = capped(&["diff", &a, &b, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let devs = r["deviations"].as_array().unwrap();
    assert_eq!(devs.len(), 1001, "1000 listed, one counting the rest");
    assert!(
        devs.iter().any(|d| d["rationale"]
            .as_str()
            .unwrap()
            .starts_with("99000 more deviations of this class at `/markets/*`")),
        "{devs:?}"
    );
    let out = capped(&["diff", &a, &b, "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 1001);
}

#[test]
fn a_large_sbom_is_observed_within_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let components: Vec<Value> = (0..n)
        .map(|i| {
            json!({"type": "library", "name": format!("lib{i}"), "version": format!("1.{i}"),
                "description": "x".repeat(200), "licenses": [{"license": {"id": "MIT"}}],
                "properties": [{"name": "build", "value": "y".repeat(100)}],
                "hashes": [{"alg": "SHA-256", "content": format!("{i:064X}")}]})
        })
        .collect();
    let bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
        "metadata": {"component": {"name": "fw", "version": "1", "hashes": [{"alg": "SHA-256", "content": "AB"}]}},
        "components": components});
    let f = write_json(dir.path(), "fw.cdx.json", &bom);
    let out = capped(&["observe", "sbom", &f]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let o: Value = serde_json::from_slice(&out.stdout).unwrap();
    let fw = &o["firmware"];
    assert_eq!(fw["digests"], json!(["sha256:ab"]));
    assert_eq!(fw["components"].as_array().unwrap().len(), n);
    assert_eq!(
        fw["components"][0]["hashes"][0],
        format!("sha256:{:064x}", 0)
    );
}

#[test]
fn mud_of_many_endpoints_is_written_within_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2_000;
    let f = write_json(dir.path(), "m.json", &endpoints(n, false));
    let out = capped(&[
        "mud",
        &f,
        "--mud-url",
        "https://example.com/m.json",
        "--allow-errors",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let acl = &m["ietf-access-control-list:acls"]["acl"][0];
    assert_eq!(
        acl["aces"]["ace"].as_array().unwrap().len(),
        n,
        "one entry per endpoint"
    );
}

/// The JSON report is written as it is serialized, never held as one tree:
/// 5,000 endpoints that each lack required keys give about 15,000
/// findings in a 23 MB report, within a cap that the report built as one
/// tree exceeded even at 800 MB.
#[test]
fn json_report_of_many_findings_is_written_within_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let n = 5_000;
    let f = write_json(dir.path(), "m.json", &endpoints(n, false));
    for format in ["json", "jsonl"] {
        let out = crate::util::capped(400_000, &["validate", &f, "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        let report: Value = match format {
            "json" => serde_json::from_slice(&out.stdout).unwrap(),
            _ => {
                let lines: Vec<&[u8]> = out.stdout.split(|b| *b == b'\n').collect();
                assert_eq!(lines.len(), 2, "one line per file, then the end");
                json!({"files": [serde_json::from_slice::<Value>(lines[0]).unwrap()]})
            }
        };
        let file = &report["files"][0];
        let diagnostics = file["diagnostics"].as_array().unwrap();
        assert_eq!(file["counts"]["error"], diagnostics.len());
        let per_endpoint = diagnostics
            .iter()
            .filter(|d| {
                d["pointer"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/network_endpoints/"))
            })
            .count();
        assert!(
            per_endpoint >= n,
            "{format}: {per_endpoint} endpoint findings"
        );
    }
}

/// Address space for [`mud_of_20k_endpoints_is_built_compactly`], in KiB:
/// the debug binary needs about 190 MB for it; when each ACE was a JSON
/// tree it needed about 790 MB.
const MUD_CAP_KIB: u64 = 400_000;

#[test]
fn mud_of_20k_endpoints_is_built_compactly() {
    let dir = tempfile::tempdir().unwrap();
    let n = 20_000;
    let mut manifest = endpoints(n, false);
    manifest["blueprint"]["issued_at"] = json!("2026-01-15");
    let f = write_json(dir.path(), "m.json", &manifest);
    let url = "https://example.com/m.json";
    let args = ["mud", &f, "--mud-url", url, "--allow-errors"];
    let out = crate::util::capped(MUD_CAP_KIB, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let acls = m["ietf-access-control-list:acls"]["acl"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = acls.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "mud-scale-v4fr",
            "mud-scale-v6fr",
            "mud-scale-v4to",
            "mud-scale-v6to"
        ]
    );
    for acl in acls {
        let aces = acl["aces"]["ace"].as_array().unwrap();
        assert_eq!(aces.len(), n, "one entry per endpoint and family");
    }
    let last = &acls[3]["aces"]["ace"][n - 1];
    assert_eq!(last["name"], format!("ep{}-tcp6-{}-todev", n - 1, n - 1));
    assert_eq!(
        last["matches"]["ipv6"]["ietf-acldns:src-dnsname"],
        format!("h{}.acme.io", n - 1)
    );
    // Written to a file, under the same cap, it is the same bytes.
    let file = dir.path().join("out.json").display().to_string();
    let written = crate::util::capped(MUD_CAP_KIB, &[&args[..], &["-o", &file]].concat());
    assert_eq!(written.status.code(), Some(0), "{}", text(&written.stderr));
    assert!(std::fs::read(&file).unwrap() == out.stdout);
}
