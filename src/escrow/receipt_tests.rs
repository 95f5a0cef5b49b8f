use super::*;
use crate::attest::keys::SigningKeyFile;
use crate::escrow::merkle::MemoryTree;

const ORIGIN: &str = "registry.example/log";
const DIGEST: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

fn log_key() -> SigningKeyFile {
    SigningKeyFile::from_seed(&[3u8; 32])
}

fn deposit(id: &str, version: u64) -> Vec<u8> {
    format!(
        r#"{{"blueprint_id":"{id}","digest":"{DIGEST}","time":"2026-12-03T10:00:00Z","type":"deposit","v":1,"version":{version}}}"#
    )
    .into_bytes()
}

/// A log of 11 entries whose entry 6 is a deposit; receipt at size 11.
fn fixture() -> (MemoryTree, Vec<u8>, Receipt) {
    let mut t = MemoryTree::new();
    for i in 0..6u64 {
        t.push_entry(format!(r#"{{"type":"member","n":{i}}}"#).as_bytes());
    }
    let entry = deposit("acme/meter", 2);
    t.push_entry(&entry);
    for i in 7..11u64 {
        t.push_entry(format!(r#"{{"type":"member","n":{i}}}"#).as_bytes());
    }
    let note = Checkpoint::new(ORIGIN, t.size(), t.root())
        .unwrap()
        .sign(&log_key())
        .unwrap();
    let r = Receipt::from_tree(&t, &entry, 6, &note).unwrap();
    (t, entry, r)
}

#[test]
fn receipt_verifies_and_round_trips() {
    let (t, _, r) = fixture();
    assert_eq!(r.format, RECEIPT_FORMAT);
    assert_eq!(r.tree_size, 11);
    assert_eq!(r.root, hash_to_hex(&t.root()));
    let v = r.verify(&log_key().public()).unwrap();
    assert_eq!(v.index, 6);
    assert_eq!(v.blueprint_id, "acme/meter");
    assert_eq!(v.version, 2);
    assert_eq!(v.digest.to_string(), DIGEST);
    assert_eq!(v.checkpoint.size, 11);
    let back = Receipt::from_json(r.to_json().as_bytes()).unwrap();
    assert_eq!(back, r);
    back.verify(&log_key().public()).unwrap();
}

fn verify_err(r: &Receipt) -> ReceiptError {
    r.verify(&log_key().public()).unwrap_err()
}

#[test]
fn no_field_can_lie() {
    let (t, _, r) = fixture();

    let mut x = r.clone();
    x.format = "blueprint-receipt/v2".into();
    assert!(matches!(verify_err(&x), ReceiptError::Format { .. }));

    let mut x = r.clone();
    x.origin = "other.example/log".into();
    assert!(matches!(
        verify_err(&x),
        ReceiptError::CheckpointMismatch {
            field: "origin",
            ..
        }
    ));

    let mut x = r.clone();
    x.tree_size = 12;
    assert!(matches!(
        verify_err(&x),
        ReceiptError::CheckpointMismatch {
            field: "tree_size",
            ..
        }
    ));

    let mut x = r.clone();
    x.root = hash_to_hex(&merkle::root(&t, 10).unwrap());
    assert!(matches!(
        verify_err(&x),
        ReceiptError::CheckpointMismatch { field: "root", .. }
    ));

    let mut x = r.clone();
    x.root = "abc".into();
    assert!(matches!(verify_err(&x), ReceiptError::Hash { .. }));

    let mut x = r.clone();
    x.leaf_hash = hash_to_hex(&leaf_hash(b"other"));
    assert!(matches!(verify_err(&x), ReceiptError::LeafHashMismatch));

    // Another deposit with a consistent leaf hash is not in the tree.
    let mut x = r.clone();
    let other = deposit("acme/meter", 3);
    x.entry = STANDARD.encode(&other);
    x.leaf_hash = hash_to_hex(&leaf_hash(&other));
    x.version = 3;
    assert!(matches!(
        verify_err(&x),
        ReceiptError::Inclusion(ProofError::RootMismatch)
    ));

    let mut x = r.clone();
    x.index = 7;
    assert!(matches!(verify_err(&x), ReceiptError::Inclusion(_)));

    let mut x = r.clone();
    x.inclusion_proof[1] = hash_to_hex(&leaf_hash(b"x"));
    assert!(matches!(verify_err(&x), ReceiptError::Inclusion(_)));

    let mut x = r.clone();
    x.inclusion_proof.pop();
    assert!(matches!(
        verify_err(&x),
        ReceiptError::Inclusion(ProofError::WrongLength { .. })
    ));

    let mut x = r.clone();
    x.inclusion_proof[0].push('0');
    assert!(
        matches!(verify_err(&x), ReceiptError::Hash { field, .. } if field == "inclusion_proof[0]")
    );

    let mut x = r.clone();
    x.blueprint_id = "acme/other".into();
    assert!(matches!(
        verify_err(&x),
        ReceiptError::EntryMismatch {
            field: "blueprint_id",
            ..
        }
    ));

    let mut x = r.clone();
    x.version = 1;
    assert!(matches!(
        verify_err(&x),
        ReceiptError::EntryMismatch {
            field: "version",
            ..
        }
    ));

    let mut x = r.clone();
    x.digest = DIGEST.replace('1', "2");
    assert!(matches!(
        verify_err(&x),
        ReceiptError::EntryMismatch {
            field: "digest",
            ..
        }
    ));

    let mut x = r.clone();
    x.entry = "not base64!".into();
    assert!(matches!(verify_err(&x), ReceiptError::EntryEncoding));

    // Unchanged entry under the wrong log key.
    assert!(matches!(
        r.verify(&SigningKeyFile::from_seed(&[4u8; 32]).public()),
        Err(ReceiptError::Checkpoint(
            CheckpointError::NoLogSignature { .. }
        ))
    ));
}

#[test]
fn a_checkpoint_signed_by_another_key_is_refused() {
    let (t, entry, _) = fixture();
    let forged = Checkpoint::new(ORIGIN, t.size(), t.root())
        .unwrap()
        .sign(&SigningKeyFile::from_seed(&[5u8; 32]))
        .unwrap();
    let r = Receipt::from_tree(&t, &entry, 6, &forged).unwrap();
    assert!(matches!(
        verify_err(&r),
        ReceiptError::Checkpoint(CheckpointError::NoLogSignature { .. })
    ));
}

#[test]
fn only_deposits_get_receipts() {
    let (t, _, r) = fixture();
    let member = br#"{"type":"member","n":0}"#;
    assert!(matches!(
        Receipt::from_tree(&t, member, 0, &r.checkpoint),
        Err(ReceiptError::NotDeposit { found }) if found == "member"
    ));
    assert!(matches!(
        Receipt::new(b"[1]", 0, &r.checkpoint, &[]),
        Err(ReceiptError::EntryNotJson)
    ));
    assert!(matches!(
        Receipt::from_tree(&t, &deposit("a", 1), 11, &r.checkpoint),
        Err(ReceiptError::Inclusion(ProofError::IndexOutOfRange { .. }))
    ));
    // A receipt whose entry is not a deposit does not verify either.
    let mut x = r.clone();
    let member_hash = leaf_hash(member);
    x.entry = STANDARD.encode(member);
    x.leaf_hash = hash_to_hex(&member_hash);
    x.index = 0;
    x.inclusion_proof = merkle::inclusion_proof(&t, 0, 11)
        .unwrap()
        .iter()
        .map(hash_to_hex)
        .collect();
    assert!(matches!(verify_err(&x), ReceiptError::NotDeposit { .. }));
}

#[test]
fn unknown_fields_and_oversize_input_are_refused() {
    let (_, _, r) = fixture();
    let mut v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    v["extra"] = serde_json::json!(1);
    assert!(matches!(
        Receipt::from_json(v.to_string().as_bytes()),
        Err(ReceiptError::Json(_))
    ));
    let big = vec![b' '; MAX_RECEIPT_BYTES + 1];
    assert!(matches!(
        Receipt::from_json(&big),
        Err(ReceiptError::TooLarge { .. })
    ));
}

#[test]
fn receipts_match_the_published_schema() {
    let schema: serde_json::Value = serde_json::from_str(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schemas/receipt.v1.schema.json"
    )))
    .unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let (_, _, r) = fixture();
    let good: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert!(validator.is_valid(&good));
    // Every property is described, and the schema is as closed as the type.
    for (name, prop) in schema["properties"].as_object().unwrap() {
        assert!(
            prop["description"].is_string(),
            "{name} lacks a description"
        );
        assert!(good.get(name).is_some(), "{name} is not a receipt field");
    }
    let mut extra = good.clone();
    extra["note"] = serde_json::json!("x");
    assert!(!validator.is_valid(&extra));
    let mut short = good.clone();
    short["root"] = serde_json::json!("abc");
    assert!(!validator.is_valid(&short));
}
