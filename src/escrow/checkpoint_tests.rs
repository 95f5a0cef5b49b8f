use super::*;
use crate::escrow::merkle::{MemoryTree, empty_root};

const ORIGIN: &str = "registry.example/log";

fn log_key() -> SigningKeyFile {
    SigningKeyFile::from_seed(&[7u8; 32])
}

fn other_key() -> SigningKeyFile {
    SigningKeyFile::from_seed(&[9u8; 32])
}

fn tree_root(n: u64) -> Hash {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.push_entry(&i.to_be_bytes());
    }
    t.root()
}

fn signed(size: u64) -> String {
    Checkpoint::new(ORIGIN, size, tree_root(size))
        .unwrap()
        .sign(&log_key())
        .unwrap()
}

/// A signature line by `key` under `name` over `text`.
fn sig_line(text: &str, name: &str, key: &SigningKeyFile) -> String {
    let note = sign_note(text, name, key).unwrap();
    note[text.len() + 1..].to_owned()
}

fn body_of(note: &str) -> &str {
    &note[..note.rfind("\n\n").unwrap() + 1]
}

fn check(note: &str) -> Result<VerifiedCheckpoint, CheckpointError> {
    verify(note.as_bytes(), &log_key().public(), None)
}

#[test]
fn signed_checkpoint_round_trips() {
    let note = signed(5);
    let body = format!("{ORIGIN}\n5\n{}\n", STANDARD.encode(tree_root(5)));
    assert!(note.starts_with(&format!("{body}\n\u{2014} {ORIGIN} ")));
    assert!(note.ends_with('\n'));
    let v = check(&note).unwrap();
    assert_eq!(v.checkpoint.size, 5);
    assert_eq!(v.checkpoint.root, tree_root(5));
    assert_eq!(v.note, note);
    assert_eq!(v.unknown_signatures, 0);
    // Pinning the origin.
    verify(note.as_bytes(), &log_key().public(), Some(ORIGIN)).unwrap();
    assert!(matches!(
        verify(
            note.as_bytes(),
            &log_key().public(),
            Some("other.example/log")
        ),
        Err(CheckpointError::OriginMismatch { .. })
    ));
}

#[test]
fn empty_tree_checkpoint() {
    let note = Checkpoint::new(ORIGIN, 0, empty_root())
        .unwrap()
        .sign(&log_key())
        .unwrap();
    assert!(note.contains("\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"));
    assert_eq!(check(&note).unwrap().checkpoint.size, 0);
}

/// The signed-note example of the Go reference implementation
/// (golang.org/x/mod/sumdb/note): the same key hash, verifier key and
/// (deterministic Ed25519) signature.
#[test]
fn signed_note_known_answer() {
    let skey = STANDARD
        .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        .unwrap();
    let seed: [u8; 32] = skey[1..].try_into().unwrap();
    let key = SigningKeyFile::from_seed(&seed);
    assert_eq!(
        verifier_key("PeterNeumann", &key.public()).unwrap(),
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    );
    let text = "If you think cryptography is the answer to your problem,\n\
                then you don't know what your problem is.\n";
    let note = sign_note(text, "PeterNeumann", &key).unwrap();
    assert_eq!(
        note,
        format!(
            "{text}\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
        )
    );
    let (parsed, unknown) = open_note(note.as_bytes(), "PeterNeumann", &key.public()).unwrap();
    assert_eq!(parsed.text, text);
    assert_eq!(unknown, 0);
}

fn with_body(body: &str) -> String {
    format!("{body}\n{}", sig_line(body, ORIGIN, &log_key()))
}

#[test]
fn malformed_bodies_are_refused_with_reasons() {
    let root = STANDARD.encode(tree_root(3));
    let cases: Vec<(String, CheckpointError)> = vec![
        (
            format!("{ORIGIN}\n03\n{root}\n"),
            CheckpointError::BadSize { text: "03".into() },
        ),
        (
            format!("{ORIGIN}\n+3\n{root}\n"),
            CheckpointError::BadSize { text: "+3".into() },
        ),
        (
            format!("{ORIGIN}\n-3\n{root}\n"),
            CheckpointError::BadSize { text: "-3".into() },
        ),
        (
            format!("{ORIGIN}\n18446744073709551616\n{root}\n"),
            CheckpointError::BadSize {
                text: "18446744073709551616".into(),
            },
        ),
        (
            format!("{ORIGIN}\n3\n{}\n", STANDARD.encode([1u8; 31])),
            CheckpointError::BadRootLength { len: 31 },
        ),
        (
            format!("{ORIGIN}\n3\n{}\n", root.trim_end_matches('=')),
            CheckpointError::BadRootEncoding,
        ),
        (format!("\n3\n{root}\n"), CheckpointError::EmptyOrigin),
        (
            format!("{ORIGIN}\n3\n"),
            CheckpointError::TooFewLines { lines: 2 },
        ),
        (
            format!("{ORIGIN}\n3\n{root}\next\n\nmore\n"),
            CheckpointError::EmptyExtensionLine { line: 5 },
        ),
    ];
    for (body, want) in cases {
        // Directly, and inside a note carrying a valid signature over it.
        assert_eq!(Checkpoint::parse_body(&body), Err(want.clone()), "{body:?}");
        if body.contains("\n\n") {
            continue;
        }
        assert_eq!(check(&with_body(&body)).unwrap_err(), want, "{body:?}");
    }
    // Extension lines are kept.
    let body = format!("{ORIGIN}\n3\n{root}\nextension one\n");
    let v = check(&with_body(&body)).unwrap();
    assert_eq!(v.checkpoint.extensions, vec!["extension one".to_owned()]);
    assert_eq!(v.checkpoint.body(), body);
}

#[test]
fn control_characters_are_refused() {
    let note = signed(3);
    for c in ['\r', '\t', '\0', '\u{7f}', '\u{85}'] {
        let bad = note.replacen('\n', &format!("{c}\n"), 1);
        assert_eq!(
            check(&bad).unwrap_err(),
            CheckpointError::ControlCharacter {
                line: 1,
                code: c as u32
            }
        );
    }
}

#[test]
fn framing_traps() {
    let note = signed(3);
    assert_eq!(
        check(note.trim_end_matches('\n')).unwrap_err(),
        CheckpointError::MissingFinalNewline
    );
    assert_eq!(
        check(body_of(&note)).unwrap_err(),
        CheckpointError::MissingSignatureBlock
    );
    let huge = "a".repeat(MAX_NOTE_BYTES + 1);
    assert!(matches!(
        check(&huge).unwrap_err(),
        CheckpointError::TooLarge { .. }
    ));
    let mut bytes = note.clone().into_bytes();
    bytes[2] = 0xff;
    assert!(matches!(
        verify(&bytes, &log_key().public(), None),
        Err(CheckpointError::NotUtf8 { offset: 2 })
    ));
    let dash = note.replace('\u{2014}', "-");
    assert!(matches!(
        check(&dash).unwrap_err(),
        CheckpointError::BadSignatureLine { line: 5, .. }
    ));
    let short = format!("{}\n\u{2014} {ORIGIN} AAAA\n", body_of(&note));
    assert!(matches!(
        check(&short).unwrap_err(),
        CheckpointError::BadSignatureLine { .. }
    ));
}

#[test]
fn signature_count_is_bounded_before_checking() {
    let note = signed(4);
    let body = body_of(&note);
    let ours = &note[body.len() + 1..];
    let stranger = sig_line(body, "witness.example", &other_key());
    // 15 unknown plus the log's own: accepted, the unknown ones ignored.
    let sixteen = format!("{body}\n{}{ours}", stranger.repeat(15));
    assert_eq!(check(&sixteen).unwrap().unknown_signatures, 15);
    // 17 lines: refused at parse, even though one is valid.
    let seventeen = format!("{body}\n{}{ours}", stranger.repeat(16));
    assert_eq!(
        check(&seventeen).unwrap_err(),
        CheckpointError::TooManySignatures {
            count: 17,
            limit: MAX_SIGNATURES
        }
    );
}

#[test]
fn only_the_log_key_counts() {
    let note = signed(4);
    let body = body_of(&note);
    // A note signed only by another key, even under the log's name.
    let forged = format!("{body}\n{}", sig_line(body, ORIGIN, &other_key()));
    assert_eq!(
        check(&forged).unwrap_err(),
        CheckpointError::NoLogSignature {
            name: ORIGIN.into()
        }
    );
    // The log key's name and hash with a broken signature.
    let ours = &note[body.len() + 1..];
    let mut blob = STANDARD
        .decode(ours.trim_end().rsplit(' ').next().unwrap())
        .unwrap();
    blob[10] ^= 1;
    let bad = format!("{body}\n\u{2014} {ORIGIN} {}\n", STANDARD.encode(&blob));
    assert_eq!(
        check(&bad).unwrap_err(),
        CheckpointError::BadSignature {
            line: 5,
            name: ORIGIN.into()
        }
    );
    // ... even when a valid one follows.
    let both = format!("{bad}{ours}");
    assert!(matches!(
        check(&both).unwrap_err(),
        CheckpointError::BadSignature { .. }
    ));
    // The signature over a different body does not carry over.
    let other_body = body_of(&signed(5)).to_owned();
    let swapped = format!("{other_body}\n{ours}");
    assert!(matches!(
        check(&swapped).unwrap_err(),
        CheckpointError::BadSignature { .. }
    ));
}

#[test]
fn key_names_are_validated() {
    assert!(matches!(
        Checkpoint::new("has space", 0, empty_root()),
        Err(CheckpointError::BadKeyName { .. })
    ));
    assert!(matches!(
        Checkpoint::new("a+b", 0, empty_root()),
        Err(CheckpointError::BadKeyName { .. })
    ));
    assert!(matches!(
        Checkpoint::new("", 0, empty_root()),
        Err(CheckpointError::BadKeyName { .. })
    ));
}
