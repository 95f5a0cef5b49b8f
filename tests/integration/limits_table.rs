//! The README's table of limits, row by row: each case feeds input just
//! over one limit to the debug binary, under an address-space cap, and
//! expects the error the table names. A row without a case, or a case
//! without a row, fails the first test, so the table cannot drift from what
//! the tool does.

use crate::util::{capped, repo_file, text, write};
use serde_json::Value;
use std::path::Path;
use std::process::Output;

/// Address space the binary may use, in KiB: well above what refusing any
/// of these inputs needs, far below what reading them whole would.
const CAP_KIB: u64 = 1_000_000;

/// One row's case: the row's first cell, and what feeds just over it.
type Case = (&'static str, fn(&Path));

const CASES: &[Case] = &[
    ("Manifest file size", manifest_file_size),
    ("Nesting depth (arrays, tables, objects)", nesting_depth),
    ("TOML dotted key length", dotted_keys),
    ("Keys and values in one manifest", node_count),
    ("Elements in one array", array_elements),
    ("String length", string_length),
    ("DSSE envelope size", envelope_size),
    ("Signatures in one envelope", envelope_signatures),
    ("Merkle proof", proof_length),
    ("Signed checkpoint", checkpoint_size),
    ("pcap snap length and captured record", pcap_record),
    ("SBOM file", sbom_file_size),
    ("SBOM components", sbom_components),
    ("HTTP request body (`serve`)", request_body),
];

/// First cells of the rows of the README's "## Limits" table.
fn readme_rows() -> Vec<String> {
    let readme = std::fs::read_to_string(repo_file("README.md")).expect("README");
    let section = readme
        .split("\n## Limits\n")
        .nth(1)
        .expect("README has a ## Limits section");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Limit "))
        .map(|l| l.split('|').nth(1).unwrap_or("").trim().to_string())
        .collect()
}

#[test]
fn every_row_of_the_readme_limits_table_has_a_case() {
    let rows = readme_rows();
    let cases: Vec<&str> = CASES.iter().map(|(r, _)| *r).collect();
    assert_eq!(rows, cases, "README rows and cases differ");
}

#[test]
fn each_limit_refuses_input_just_over_it() {
    for (row, case) in CASES {
        let dir = tempfile::tempdir().unwrap();
        eprintln!("limit: {row}");
        case(dir.path());
    }
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// A file of `len` zero bytes, sparse (nothing is written).
fn sparse(dir: &Path, name: &str, len: usize) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p)
        .unwrap()
        .set_len(len as u64)
        .unwrap();
    p
}

fn expect(out: &Output, code: i32, needle: &str) {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "{all}");
    assert!(all.contains(needle), "expected {needle:?} in:\n{all}");
}

fn manifest_file_size(dir: &Path) {
    let f = sparse(dir, "big.json", 16 * 1024 * 1024 + 1);
    expect(
        &capped(CAP_KIB, &["validate", s(&f)]),
        2,
        "over the limit of 16777216 bytes",
    );
}

fn nesting_depth(dir: &Path) {
    let f = write(
        dir,
        "deep.json",
        format!("{}{}", "[".repeat(65), "]".repeat(65)),
    );
    expect(&capped(CAP_KIB, &["validate", s(&f)]), 1, "limit/depth");
}

fn dotted_keys(dir: &Path) {
    let key: Vec<String> = (0..65).map(|i| format!("k{i}")).collect();
    let f = write(dir, "dotted.toml", format!("{} = 1\n", key.join(".")));
    expect(&capped(CAP_KIB, &["validate", s(&f)]), 1, "limit/depth");
}

fn node_count(dir: &Path) {
    // 21 arrays of 200,000 zeros: 4,200,022 keys and values in 8.4 MB.
    let row = format!("[{}]", vec!["0"; 200_000].join(","));
    let f = write(dir, "nodes.json", format!("[{}]", vec![row; 21].join(",")));
    expect(&capped(CAP_KIB, &["validate", s(&f)]), 1, "limit/nodes");
}

fn array_elements(dir: &Path) {
    let f = write(
        dir,
        "items.json",
        format!("[{}]", vec!["0"; 200_001].join(",")),
    );
    expect(
        &capped(CAP_KIB, &["validate", s(&f)]),
        1,
        "limit/array-items",
    );
}

fn string_length(dir: &Path) {
    // 4 MiB where an enum value is expected: one finding quoting an excerpt.
    let text = std::fs::read_to_string(repo_file("examples/home-camera.json")).unwrap();
    let mut m: Value = serde_json::from_str(&text).unwrap();
    m["network_endpoints"][0]["operator"] = Value::String("x".repeat(4 << 20));
    let f = write(dir, "long.json", serde_json::to_vec(&m).unwrap());
    let out = capped(
        CAP_KIB,
        &["validate", "--schema-only", "--format", "json", s(&f)],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text_of(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    let d = report["files"][0]["diagnostics"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["pointer"] == "/network_endpoints/0/operator")
        .expect("a finding at the long value");
    let message = d["message"].as_str().unwrap();
    assert!(message.contains("x…"), "{message}");
    assert!(message.chars().count() < 300, "{message}");
}

fn text_of(out: &Output) -> String {
    format!("{}{}", text(&out.stdout), text(&out.stderr))
}

/// A public key for the commands that need one.
fn public_key(dir: &Path) -> String {
    let key = blueprint::attest::keys::SigningKeyFile::from_seed(&[7; 32]);
    let p = write(dir, "k.pub", key.public().to_pem().unwrap());
    s(&p).to_string()
}

fn envelope_size(dir: &Path) {
    let f = sparse(
        dir,
        "big.dsse.json",
        blueprint::attest::dsse::MAX_ENVELOPE_BYTES + 1,
    );
    let key = public_key(dir);
    expect(
        &capped(
            CAP_KIB,
            &["verify", s(&f), "--pubkey", &key, "--format", "json"],
        ),
        1,
        "envelope-too-large",
    );
}

fn envelope_signatures(dir: &Path) {
    let sigs = vec![serde_json::json!({"sig": "AA=="}); 33];
    let env = serde_json::json!({
        "payload": "",
        "payloadType": blueprint::attest::statement::PAYLOAD_TYPE,
        "signatures": sigs,
    });
    let f = write(dir, "many.dsse.json", serde_json::to_vec(&env).unwrap());
    let key = public_key(dir);
    expect(
        &capped(
            CAP_KIB,
            &["verify", s(&f), "--pubkey", &key, "--format", "json"],
        ),
        1,
        "too-many-signatures",
    );
}

fn proof_length(dir: &Path) {
    let hash = "ab".repeat(32);
    let f = write(dir, "proof.txt", format!("{hash}\n").repeat(64) + "a");
    expect(
        &capped(
            CAP_KIB,
            &[
                "proof",
                "verify-inclusion",
                "--leaf-hash",
                &hash,
                "--index",
                "0",
                "--size",
                "2",
                "--root",
                &hash,
                "--proof-file",
                s(&f),
            ],
        ),
        2,
        "over the limit of 4160 bytes",
    );
}

fn checkpoint_size(dir: &Path) {
    let f = sparse(dir, "checkpoint", (1 << 20) + 1);
    let key = public_key(dir);
    let state = dir.join("witness.json");
    let out = capped(
        CAP_KIB,
        &[
            "registry",
            "watch",
            "--state",
            s(&state),
            "--log-key",
            &key,
            s(&f),
        ],
    );
    assert_ne!(out.status.code(), Some(0), "{}", text_of(&out));
    assert!(
        text_of(&out).contains("over the limit of 1048576 bytes"),
        "{}",
        text_of(&out)
    );
    assert!(!state.exists(), "a refused checkpoint is not recorded");
}

/// A classic pcap header (microseconds, Ethernet) with `snaplen`.
fn pcap_header(snaplen: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&4u16.to_le_bytes());
    h.extend_from_slice(&[0; 8]);
    h.extend_from_slice(&snaplen.to_le_bytes());
    h.extend_from_slice(&1u32.to_le_bytes());
    h
}

fn pcap_record(dir: &Path) {
    let over = 256 * 1024 + 1;
    let snap = write(dir, "snap.pcap", pcap_header(over));
    expect(
        &capped(CAP_KIB, &["observe", "pcap", s(&snap), "--list-hosts"]),
        2,
        "above the 262144-byte limit",
    );
    let mut rec = pcap_header(65_535);
    for field in [0, 0, over, over] {
        rec.extend_from_slice(&field.to_le_bytes());
    }
    rec.resize(rec.len() + over as usize, 0);
    let rec = write(dir, "record.pcap", rec);
    expect(
        &capped(CAP_KIB, &["observe", "pcap", s(&rec), "--list-hosts"]),
        2,
        "larger than the 262144-byte limit",
    );
}

fn sbom_file_size(dir: &Path) {
    let f = sparse(dir, "big.cdx.json", 64 * 1024 * 1024 + 1);
    expect(
        &capped(CAP_KIB, &["observe", "sbom", s(&f)]),
        2,
        "over the limit of 67108864 bytes",
    );
}

fn sbom_components(dir: &Path) {
    let components = vec![r#"{"type":"library","name":"a"}"#; 1_000_001].join(",");
    let f = write(
        dir,
        "many.cdx.json",
        format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{components}]}}"#),
    );
    expect(
        &capped(CAP_KIB, &["observe", "sbom", s(&f)]),
        2,
        "more than 1000000 components",
    );
}

fn request_body(_: &Path) {
    use crate::serve::{Server, call, error_code, init, size};
    let reg = init();
    let server = Server::start(&reg.dir, &[]);
    let before = size(&server.url);
    let body = vec![b' '; 4 * 1024 * 1024 + 1];
    let (status, bytes) = call(
        "POST",
        &format!("{}/api/v1/deposits", server.url),
        Some(&body),
    );
    assert_eq!(status, 413, "{}", text(&bytes));
    assert_eq!(error_code(&bytes), "payload_too_large");
    assert_eq!(size(&server.url), before, "nothing appended");
}
