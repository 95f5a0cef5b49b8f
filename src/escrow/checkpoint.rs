//! Signed checkpoints: a C2SP tlog-checkpoint body inside a C2SP signed note.
//!
//! Body (C2SP tlog-checkpoint):
//!
//! ```text
//! <origin>\n
//! <tree size, decimal, no leading zeros>\n
//! <root hash, standard base64>\n
//! [<extension line>\n ...]
//! ```
//!
//! Note (C2SP signed-note): the body, an empty line, then one or more
//! signature lines `— <key name> <base64(key hash ‖ signature)>\n`. For an
//! Ed25519 key the key hash is the first 4 bytes of
//! `SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)` and the signature covers
//! the body bytes.
//!
//! The log signs under its origin as key name. Verification is strict and
//! bounded: at most [`MAX_NOTE_BYTES`] and [`MAX_SIGNATURES`] signature
//! lines, checked before any signature is; valid UTF-8 with no control
//! characters besides `\n`; a final newline; canonical size and base64.
//! Signatures by unknown keys are ignored, a signature by the log key that
//! does not verify is an error, and at least one valid log signature is
//! required. See `docs/log.md`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signature;
use sha2::{Digest as _, Sha256};

use crate::attest::keys::{PublicKey, SigningKeyFile};
use crate::escrow::merkle::Hash;

/// A note longer than this is refused before it is parsed.
pub const MAX_NOTE_BYTES: usize = 1 << 20;
/// A note with more signature lines than this is refused before any is checked.
pub const MAX_SIGNATURES: usize = 16;

/// The signature algorithm byte for Ed25519 keys (C2SP signed-note).
const ALG_ED25519: u8 = 0x01;
/// Signature-line prefix: U+2014 EM DASH and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a checkpoint or signed note was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Larger than [`MAX_NOTE_BYTES`].
    #[error("note is {len} bytes, over the limit of {limit}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Not valid UTF-8.
    #[error("note is not valid UTF-8 (at byte {offset})")]
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// A control character other than `\n`.
    #[error("control character U+{code:04X} on line {line}")]
    ControlCharacter {
        /// 1-based line.
        line: usize,
        /// The character's code point.
        code: u32,
    },
    /// The note does not end with a newline.
    #[error("note does not end with a newline")]
    MissingFinalNewline,
    /// No empty line separates the body from the signatures.
    #[error("no empty line between the checkpoint and its signatures")]
    MissingSignatureBlock,
    /// A signature line is not `— <name> <base64>`.
    #[error("line {line}: malformed signature line: {reason}")]
    BadSignatureLine {
        /// 1-based line.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("{count} signature lines, over the limit of {limit}")]
    TooManySignatures {
        /// Lines found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The body has fewer than three lines.
    #[error("checkpoint body has {lines} lines; origin, size and root are required")]
    TooFewLines {
        /// Lines found.
        lines: usize,
    },
    /// The origin line is empty.
    #[error("line 1: the origin is empty")]
    EmptyOrigin,
    /// The size line is not a canonical decimal `u64`.
    #[error("line 2: tree size {text:?} is not a decimal number without sign or leading zeros")]
    BadSize {
        /// The line.
        text: String,
    },
    /// The root line is not canonical standard base64.
    #[error("line 3: root hash is not standard padded base64")]
    BadRootEncoding,
    /// The root does not decode to 32 bytes.
    #[error("line 3: root hash is {len} bytes, expected 32")]
    BadRootLength {
        /// Decoded length.
        len: usize,
    },
    /// An extension line is empty.
    #[error("line {line}: empty extension line")]
    EmptyExtensionLine {
        /// 1-based line.
        line: usize,
    },
    /// A key name that is empty or contains whitespace or `+`.
    #[error("key name {name:?} is empty or contains whitespace or '+'")]
    BadKeyName {
        /// The name.
        name: String,
    },
    /// The origin is not the one expected.
    #[error("checkpoint origin {found:?} is not the expected {expected:?}")]
    OriginMismatch {
        /// The expected origin.
        expected: String,
        /// The note's origin.
        found: String,
    },
    /// A signature that names the log key does not verify.
    #[error("line {line}: the signature by the log key {name:?} does not verify")]
    BadSignature {
        /// 1-based line.
        line: usize,
        /// Key name.
        name: String,
    },
    /// No signature from the log key.
    #[error("no signature by the log key {name:?}")]
    NoLogSignature {
        /// The log key's name.
        name: String,
    },
}

/// A tree head: the log's origin, size and root, plus extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity, also the name of its signing key.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Merkle root of the first `size` leaves.
    pub root: Hash,
    /// Optional further lines (non-empty, without control characters).
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// A checkpoint without extension lines; the origin must be a valid line.
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, CheckpointError> {
        check_key_name(origin)?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// The tlog-checkpoint body text, ending in a newline.
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a body (the part of a note before the empty line).
    pub fn parse_body(text: &str) -> Result<Self, CheckpointError> {
        check_text(text)?;
        let Some(text) = text.strip_suffix('\n') else {
            return Err(CheckpointError::MissingFinalNewline);
        };
        let lines: Vec<&str> = text.split('\n').collect();
        if lines.len() < 3 {
            return Err(CheckpointError::TooFewLines { lines: lines.len() });
        }
        let origin = lines[0];
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(lines[1])?;
        let root = parse_root(lines[2])?;
        let mut extensions = Vec::new();
        for (i, l) in lines[3..].iter().enumerate() {
            if l.is_empty() {
                return Err(CheckpointError::EmptyExtensionLine { line: i + 4 });
            }
            extensions.push((*l).to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// Signs the body as a note under the key name `origin`.
    pub fn sign(&self, key: &SigningKeyFile) -> Result<String, CheckpointError> {
        let body = self.body();
        // Round-trip so that a note this crate writes is one it accepts.
        Checkpoint::parse_body(&body)?;
        sign_note(&body, &self.origin, key)
    }
}

/// One signature line of a note, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// 1-based line number in the note.
    pub line: usize,
    /// The key name.
    pub name: String,
    /// The 4-byte key hash.
    pub key_hash: [u8; 4],
    /// The signature bytes after the key hash.
    pub signature: Vec<u8>,
}

/// A signed note split into its text and signature lines (syntax only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text, ending in a newline.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// Splits a note, enforcing the size, character, and signature-count
    /// limits before any signature is checked.
    pub fn parse(note: &[u8]) -> Result<Self, CheckpointError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(CheckpointError::TooLarge {
                len: note.len(),
                limit: MAX_NOTE_BYTES,
            });
        }
        let note = std::str::from_utf8(note).map_err(|e| CheckpointError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        check_text(note)?;
        if !note.ends_with('\n') {
            return Err(CheckpointError::MissingFinalNewline);
        }
        let Some(split) = note.rfind("\n\n") else {
            return Err(CheckpointError::MissingSignatureBlock);
        };
        let text = &note[..split + 1];
        let block = &note[split + 2..];
        let first_line = text.matches('\n').count() + 2;
        let lines: Vec<&str> = block
            .strip_suffix('\n')
            .unwrap_or(block)
            .split('\n')
            .collect();
        if block.is_empty() {
            return Err(CheckpointError::MissingSignatureBlock);
        }
        if lines.len() > MAX_SIGNATURES {
            return Err(CheckpointError::TooManySignatures {
                count: lines.len(),
                limit: MAX_SIGNATURES,
            });
        }
        let mut signatures = Vec::with_capacity(lines.len());
        for (i, l) in lines.iter().enumerate() {
            signatures.push(parse_signature_line(l, first_line + i)?);
        }
        Ok(SignedNote {
            text: text.to_owned(),
            signatures,
        })
    }
}

fn parse_signature_line(l: &str, line: usize) -> Result<NoteSignature, CheckpointError> {
    let bad = |reason| CheckpointError::BadSignatureLine { line, reason };
    let rest = l
        .strip_prefix(SIG_PREFIX)
        .ok_or_else(|| bad("does not start with an em dash and a space"))?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or_else(|| bad("no space between key name and signature"))?;
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains('+') {
        return Err(bad("key name is empty or contains whitespace or '+'"));
    }
    let blob = STANDARD
        .decode(b64)
        .map_err(|_| bad("signature is not standard padded base64"))?;
    if blob.len() < 5 {
        return Err(bad("signature is shorter than a key hash and one byte"));
    }
    let mut key_hash = [0u8; 4];
    key_hash.copy_from_slice(&blob[..4]);
    Ok(NoteSignature {
        line,
        name: name.to_owned(),
        key_hash,
        signature: blob[4..].to_vec(),
    })
}

/// C2SP signed-note: signs `text` (valid note text ending in a newline)
/// with an Ed25519 key named `name`; returns the whole note.
pub fn sign_note(text: &str, name: &str, key: &SigningKeyFile) -> Result<String, CheckpointError> {
    check_key_name(name)?;
    check_text(text)?;
    if !text.ends_with('\n') {
        return Err(CheckpointError::MissingFinalNewline);
    }
    let sig = key.sign(text.as_bytes());
    let mut blob = key_hash(name, &key.public()).to_vec();
    blob.extend_from_slice(&sig.to_bytes());
    Ok(format!(
        "{text}\n{SIG_PREFIX}{name} {}\n",
        STANDARD.encode(blob)
    ))
}

/// C2SP signed-note: checks the signatures of `note` by the key `name`.
/// Returns the note and the number of signature lines by other keys
/// (ignored). A signature naming this key that does not verify is an error;
/// at least one must verify.
pub fn open_note(
    note: &[u8],
    name: &str,
    key: &PublicKey,
) -> Result<(SignedNote, usize), CheckpointError> {
    let parsed = SignedNote::parse(note)?;
    let ours = key_hash(name, key);
    let mut valid = 0usize;
    let mut unknown = 0usize;
    for s in &parsed.signatures {
        if s.name != name || s.key_hash != ours {
            unknown += 1;
            continue;
        }
        let ok = <[u8; 64]>::try_from(s.signature.as_slice())
            .map(|b| key.verify_strict(parsed.text.as_bytes(), &Signature::from_bytes(&b)))
            .unwrap_or(false);
        if !ok {
            return Err(CheckpointError::BadSignature {
                line: s.line,
                name: s.name.clone(),
            });
        }
        valid += 1;
    }
    if valid == 0 {
        return Err(CheckpointError::NoLogSignature {
            name: name.to_owned(),
        });
    }
    Ok((parsed, unknown))
}

/// C2SP signed-note: the 4-byte hash identifying an Ed25519 key named `name`.
pub fn key_hash(name: &str, key: &PublicKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(key.to_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The signed-note verifier key string `<name>+<hex key hash>+<base64(0x01 ‖ key)>`,
/// as other signed-note tools expect it.
pub fn verifier_key(name: &str, key: &PublicKey) -> Result<String, CheckpointError> {
    check_key_name(name)?;
    let mut blob = vec![ALG_ED25519];
    blob.extend_from_slice(&key.to_bytes());
    let kh = key_hash(name, key);
    Ok(format!(
        "{name}+{}+{}",
        crate::attest::canon::hex_lower(&kh),
        STANDARD.encode(blob)
    ))
}

/// A checkpoint whose note carried a valid signature by the log key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The note exactly as verified.
    pub note: String,
    /// Signature lines by keys other than the log key (ignored, not verified).
    pub unknown_signatures: usize,
}

/// Verifies a signed checkpoint note against the log's public key.
///
/// The log key's name is the checkpoint origin; with `origin` given, the
/// note must carry that origin (pin it once known).
pub fn verify(
    note: &[u8],
    key: &PublicKey,
    origin: Option<&str>,
) -> Result<VerifiedCheckpoint, CheckpointError> {
    let parsed = SignedNote::parse(note)?;
    let checkpoint = Checkpoint::parse_body(&parsed.text)?;
    if let Some(expected) = origin {
        if expected != checkpoint.origin {
            return Err(CheckpointError::OriginMismatch {
                expected: expected.to_owned(),
                found: checkpoint.origin,
            });
        }
    }
    let (_, unknown) = open_note(note, &checkpoint.origin, key)?;
    Ok(VerifiedCheckpoint {
        checkpoint,
        // Valid UTF-8: checked by `SignedNote::parse`.
        note: String::from_utf8_lossy(note).into_owned(),
        unknown_signatures: unknown,
    })
}

/// Valid line text: no control characters other than `\n`.
fn check_text(text: &str) -> Result<(), CheckpointError> {
    let mut line = 1;
    for c in text.chars() {
        if c == '\n' {
            line += 1;
        } else if c.is_control() {
            return Err(CheckpointError::ControlCharacter {
                line,
                code: c as u32,
            });
        }
    }
    Ok(())
}

fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    if name.is_empty()
        || name.contains(char::is_whitespace)
        || name.contains('+')
        || name.contains(char::is_control)
    {
        return Err(CheckpointError::BadKeyName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

fn parse_size(text: &str) -> Result<u64, CheckpointError> {
    let bad = || CheckpointError::BadSize {
        text: text.to_owned(),
    };
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return Err(bad());
    }
    text.parse().map_err(|_| bad())
}

fn parse_root(text: &str) -> Result<Hash, CheckpointError> {
    let bytes = STANDARD
        .decode(text)
        .map_err(|_| CheckpointError::BadRootEncoding)?;
    <Hash>::try_from(bytes.as_slice())
        .map_err(|_| CheckpointError::BadRootLength { len: bytes.len() })
}

#[cfg(test)]
#[path = "checkpoint_tests.rs"]
mod tests;
