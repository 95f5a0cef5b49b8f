//! The transparency-log commands: `proof verify-*` and `watch` (exit codes
//! 0 valid/accepted, 1 invalid/refused, 2 malformed input).

use crate::util::{blueprint, text, write};
use blueprint::attest::keys::SigningKeyFile;
use blueprint::escrow::checkpoint::Checkpoint;
use blueprint::escrow::merkle::{self, MemoryTree, hash_to_hex};
use blueprint::escrow::receipt::Receipt;
use std::fs;
use std::path::{Path, PathBuf};

const ORIGIN: &str = "registry.example/log";

fn rfc_tree() -> MemoryTree {
    let leaves: [&[u8]; 8] = [
        b"",
        &[0x00],
        &[0x10],
        &[0x20, 0x21],
        &[0x30, 0x31],
        &[0x40, 0x41, 0x42, 0x43],
        &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        &[
            0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
            0x6e, 0x6f,
        ],
    ];
    let mut t = MemoryTree::new();
    for l in leaves {
        t.push_entry(l);
    }
    t
}

fn hex_list(p: &[merkle::Hash]) -> String {
    p.iter().map(hash_to_hex).collect::<Vec<_>>().join(",")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = blueprint().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

fn log_key(dir: &Path) -> (SigningKeyFile, PathBuf) {
    let key = SigningKeyFile::from_seed(&[21u8; 32]);
    let public = write(dir, "log.pub", key.public().to_pem().unwrap());
    (key, public)
}

fn signed(t: &MemoryTree, size: u64, key: &SigningKeyFile) -> String {
    Checkpoint::new(ORIGIN, size, merkle::root(t, size).unwrap())
        .unwrap()
        .sign(key)
        .unwrap()
}

#[test]
fn verify_inclusion_exit_codes_and_json() {
    let t = rfc_tree();
    let p = merkle::inclusion_proof(&t, 5, 8).unwrap();
    let leaf = hash_to_hex(&merkle::leaf_hash(&[0x40, 0x41, 0x42, 0x43]));
    let root = hash_to_hex(&t.root());
    let proof = hex_list(&p);
    let base = |index: &str, proof: &str| {
        vec![
            "proof".to_owned(),
            "verify-inclusion".into(),
            "--leaf-hash".into(),
            leaf.clone(),
            "--index".into(),
            index.into(),
            "--size".into(),
            "8".into(),
            "--root".into(),
            root.clone(),
            format!("--proof={proof}"),
        ]
    };
    let args = base("5", &proof);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, _) = run(&args);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("valid: leaf "), "{out}");

    let mut json_args = args.clone();
    json_args.push("--format=json");
    let (code, out, _) = run(&json_args);
    assert_eq!(code, 0);
    insta::assert_snapshot!("proof_verify_inclusion_json", out);

    let wrong = base("4", &proof);
    let wrong: Vec<&str> = wrong.iter().map(String::as_str).collect();
    let (code, out, _) = run(&wrong);
    assert_eq!(code, 1);
    assert!(out.starts_with("invalid: "), "{out}");

    let short = base("5", &proof[..proof.len() - 2]);
    let short: Vec<&str> = short.iter().map(String::as_str).collect();
    let (code, _, err) = run(&short);
    assert_eq!(code, 2);
    assert!(err.contains("--proof hash #3"), "{err}");
}

#[test]
fn verify_consistency_exit_codes() {
    let t = rfc_tree();
    let r = |n| hash_to_hex(&merkle::root(&t, n).unwrap());
    let p = hex_list(&merkle::consistency_proof(&t, 3, 7).unwrap());
    let ok = [
        "proof",
        "verify-consistency",
        "--size1",
        "3",
        "--size2",
        "7",
        "--root1",
        &r(3),
        "--root2",
        &r(7),
        "--proof",
        &p,
    ];
    assert_eq!(run(&ok).0, 0);
    let swapped = [
        "proof",
        "verify-consistency",
        "--size1",
        "3",
        "--size2",
        "7",
        "--root1",
        &r(7),
        "--root2",
        &r(3),
        "--proof",
        &p,
    ];
    let (code, out, _) = run(&swapped);
    assert_eq!(code, 1);
    assert!(out.contains("root1"), "{out}");
    // Equal sizes take an empty proof, given as `--proof` with no value.
    let equal = [
        "proof",
        "verify-consistency",
        "--size1",
        "7",
        "--size2",
        "7",
        "--root1",
        &r(7),
        "--root2",
        &r(7),
        "--proof",
    ];
    assert_eq!(run(&equal).0, 0);
    let bad_hex = [
        "proof",
        "verify-consistency",
        "--size1",
        "7",
        "--size2",
        "7",
        "--root1",
        "zz",
        "--root2",
        &r(7),
    ];
    let (code, _, err) = run(&bad_hex);
    assert_eq!(code, 2);
    assert!(err.contains("--root1"), "{err}");

    // A proof file: one hash per line; an empty file is the empty proof,
    // a file holding one empty line is a malformed proof.
    let dir = tempfile::tempdir().unwrap();
    let lines: String = p.split(',').map(|h| format!("{h}\n")).collect();
    let file = write(dir.path(), "p.txt", lines);
    let empty = write(dir.path(), "empty.txt", "");
    let blank = write(dir.path(), "blank.txt", "\n");
    let with_file = |size1: &str, f: &Path| {
        run(&[
            "proof",
            "verify-consistency",
            "--size1",
            size1,
            "--size2",
            "7",
            "--root1",
            &r(size1.parse().unwrap()),
            "--root2",
            &r(7),
            "--proof-file",
            f.to_str().unwrap(),
        ])
        .0
    };
    assert_eq!(with_file("3", &file), 0);
    assert_eq!(with_file("7", &empty), 0);
    assert_eq!(with_file("7", &blank), 2);
}

#[test]
fn verify_receipt_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = log_key(dir.path());
    let mut t = MemoryTree::new();
    t.push_entry(br#"{"type":"init","v":1}"#);
    let entry = br#"{"blueprint_id":"acme/meter","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","type":"deposit","v":1,"version":1}"#;
    t.push_entry(entry);
    t.push_entry(br#"{"type":"member","v":1}"#);
    let receipt = Receipt::from_tree(&t, entry, 1, &signed(&t, 3, &key)).unwrap();
    let good = write(dir.path(), "r.json", receipt.to_json());
    let pub_s = public.to_str().unwrap();
    let (code, out, _) = run(&[
        "proof",
        "verify-receipt",
        good.to_str().unwrap(),
        "--log-key",
        pub_s,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("acme/meter version 1"), "{out}");

    let mut lying = receipt.clone();
    lying.version = 2;
    let lying = write(dir.path(), "lying.json", lying.to_json());
    let (code, out, _) = run(&[
        "proof",
        "verify-receipt",
        lying.to_str().unwrap(),
        "--log-key",
        pub_s,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["valid"], false);
    assert_eq!(v["reason"], "entry-mismatch");

    let garbage = write(dir.path(), "garbage.json", "{not json");
    assert_eq!(
        run(&[
            "proof",
            "verify-receipt",
            garbage.to_str().unwrap(),
            "--log-key",
            pub_s
        ])
        .0,
        2
    );
    let missing = dir.path().join("missing.json");
    assert_eq!(
        run(&[
            "proof",
            "verify-receipt",
            missing.to_str().unwrap(),
            "--log-key",
            pub_s
        ])
        .0,
        2
    );
}

#[test]
fn watch_follows_a_growing_log_and_refuses_rollback_and_split_view() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = log_key(dir.path());
    let mut t = MemoryTree::new();
    for i in 0..40u32 {
        t.push_entry(&i.to_be_bytes());
    }
    let state = dir.path().join("witness.json");
    let watch = |note: &str, extra: &[&str]| {
        let cp = write(dir.path(), "cp.txt", note);
        let mut args = vec![
            "registry".to_owned(),
            "watch".into(),
            "--state".into(),
            state.display().to_string(),
            "--log-key".into(),
            public.display().to_string(),
            cp.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    };
    let (code, out, _) = watch(&signed(&t, 10, &key), &[]);
    assert_eq!(code, 0);
    assert!(out.starts_with("trusted on first use: "), "{out}");

    // Growth without a proof is refused; with a proof file it advances.
    let (code, out, _) = watch(&signed(&t, 25, &key), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no consistency proof"), "{out}");
    let proof: String = merkle::consistency_proof(&t, 10, 25)
        .unwrap()
        .iter()
        .map(|h| hash_to_hex(h) + "\n")
        .collect();
    let proof_file = write(dir.path(), "proof.txt", proof);
    let (code, out, _) = watch(
        &signed(&t, 25, &key),
        &[
            "--consistency",
            proof_file.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "advanced");
    assert_eq!(v["from_size"], 10);
    assert_eq!(v["size"], 25);

    // A hex list works too; a proof from a size not held is a conflict (2).
    let list = hex_list(&merkle::consistency_proof(&t, 10, 40).unwrap());
    let (code, _, _) = watch(
        &signed(&t, 40, &key),
        &["--consistency", &list, "--from-size", "10"],
    );
    assert_eq!(code, 2);

    // Rollback: refused, evidence next to the state.
    let (code, out, _) = watch(&signed(&t, 12, &key), &["--format", "json"]);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["status"], "rollback");
    let evidence = PathBuf::from(v["evidence"].as_str().unwrap());
    assert_eq!(evidence.parent(), state.parent());
    let e: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&evidence).unwrap()).unwrap();
    assert_eq!(e["held"], signed(&t, 25, &key));
    assert_eq!(e["offered"], signed(&t, 12, &key));

    // Split view: another tree of the same size.
    let mut other = MemoryTree::new();
    for i in 0..25u32 {
        other.push_entry(&(i + 1000).to_be_bytes());
    }
    let (code, out, _) = watch(&signed(&other, 25, &key), &[]);
    assert_eq!(code, 1);
    assert!(out.starts_with("refused: split view"), "{out}");

    // The state still holds size 25.
    let (code, out, _) = watch(&signed(&t, 25, &key), &[]);
    assert_eq!(code, 0);
    assert!(out.starts_with("unchanged: "), "{out}");

    // A bad key file is operational.
    let bad = write(dir.path(), "bad.pub", "not a key");
    let cp = write(dir.path(), "cp.txt", signed(&t, 25, &key));
    let (code, _, _) = run(&[
        "registry",
        "watch",
        "--state",
        state.to_str().unwrap(),
        "--log-key",
        bad.to_str().unwrap(),
        cp.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
}
