//! `blueprint proof verify-inclusion | verify-consistency | verify-receipt`:
//! offline checks of the log's proofs (docs/log.md).
//!
//! Exit 0: the proof verifies. Exit 1: it does not, with the reason.
//! Exit 2: the input is malformed (a hash that is not 64 hex digits, an
//! unreadable or unparsable file, a bad key file), so nothing was checked.

use super::{EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::keys::PublicKey;
use blueprint::escrow::merkle::{self, Hash, ProofError, hash_from_hex, hash_to_hex};
use blueprint::escrow::receipt::{MAX_RECEIPT_BYTES, Receipt, ReceiptError, VerifiedReceipt};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Output formats of `proof`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProofFormat {
    /// One line for people.
    Human,
    /// A JSON object.
    Json,
}

/// Subcommands of `proof`.
// The variants are the subcommand names users type.
#[allow(clippy::enum_variant_names)]
#[derive(Debug, Subcommand)]
pub enum ProofCommand {
    /// Check that a leaf hash is at an index of a tree with a given size and root (RFC 9162 §2.1.3).
    VerifyInclusion(InclusionArgs),
    /// Check that a tree of size1 is a prefix of a tree of size2 (RFC 9162 §2.1.4).
    VerifyConsistency(ConsistencyArgs),
    /// Check a deposit receipt against the log's public key.
    VerifyReceipt(ReceiptArgs),
}

/// Arguments of `proof verify-inclusion`.
#[derive(Debug, Args)]
pub struct InclusionArgs {
    /// The leaf hash, SHA-256(0x00 || entry), as 64 hex digits.
    #[arg(long, value_name = "HEX")]
    pub leaf_hash: String,
    /// Zero-based index of the leaf.
    #[arg(long, value_name = "I")]
    pub index: u64,
    /// Tree size.
    #[arg(long, value_name = "N")]
    pub size: u64,
    /// Root of the tree of that size, 64 hex digits.
    #[arg(long, value_name = "HEX")]
    pub root: String,
    /// The proof's hashes, bottom-up, comma-separated (empty for a one-leaf tree).
    #[arg(long, value_name = "HEX,HEX,...", default_value = "", num_args = 0..=1, default_missing_value = "")]
    pub proof: String,
    /// Read the proof from a file instead: one hex hash per line (an empty file is the empty proof).
    #[arg(long, value_name = "FILE", conflicts_with = "proof")]
    pub proof_file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ProofFormat::Human)]
    pub format: ProofFormat,
}

/// Arguments of `proof verify-consistency`.
#[derive(Debug, Args)]
pub struct ConsistencyArgs {
    /// The older tree size.
    #[arg(long, value_name = "M")]
    pub size1: u64,
    /// The newer tree size.
    #[arg(long, value_name = "N")]
    pub size2: u64,
    /// Root of the older tree, 64 hex digits.
    #[arg(long, value_name = "HEX")]
    pub root1: String,
    /// Root of the newer tree, 64 hex digits.
    #[arg(long, value_name = "HEX")]
    pub root2: String,
    /// The proof's hashes, comma-separated (empty when the sizes are equal or size1 is 0).
    #[arg(long, value_name = "HEX,HEX,...", default_value = "", num_args = 0..=1, default_missing_value = "")]
    pub proof: String,
    /// Read the proof from a file instead: one hex hash per line (an empty file is the empty proof).
    #[arg(long, value_name = "FILE", conflicts_with = "proof")]
    pub proof_file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ProofFormat::Human)]
    pub format: ProofFormat,
}

/// Arguments of `proof verify-receipt`.
#[derive(Debug, Args)]
pub struct ReceiptArgs {
    /// The receipt (JSON, `blueprint-receipt/v1`).
    #[arg(value_name = "RECEIPT")]
    pub receipt: PathBuf,
    /// The log's public key (SPKI PEM).
    #[arg(long, value_name = "PUB")]
    pub log_key: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ProofFormat::Human)]
    pub format: ProofFormat,
}

pub fn run(cmd: &ProofCommand) -> u8 {
    match cmd {
        ProofCommand::VerifyInclusion(a) => inclusion(a),
        ProofCommand::VerifyConsistency(a) => consistency(a),
        ProofCommand::VerifyReceipt(a) => receipt(a),
    }
}

/// Parses `--NAME HEX`, naming the option in the error.
fn hash_arg(name: &str, s: &str) -> Result<Hash, String> {
    hash_from_hex(s.trim()).map_err(|e| format!("--{name}: {e}"))
}

/// Parses a comma-separated proof; the empty string is the empty proof.
pub fn parse_proof(s: &str) -> Result<Vec<Hash>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .enumerate()
        .map(|(i, h)| hash_from_hex(h.trim()).map_err(|e| format!("--proof hash #{}: {e}", i + 1)))
        .collect()
}

/// A proof file longer than this is not a proof (64 hashes of 64 hex
/// digits and a newline each, for trees of up to 2^64 leaves).
pub const MAX_PROOF_FILE_BYTES: usize = 64 * 65;

/// Reads a proof file: one hex hash per line, the last line's newline
/// optional. An empty file is the empty proof; an empty line is malformed.
pub fn read_proof_file(path: &std::path::Path) -> Result<Vec<Hash>, String> {
    let bytes = output::read_limited(path, MAX_PROOF_FILE_BYTES)?;
    let text =
        std::str::from_utf8(&bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))?;
    let body = text.strip_suffix('\n').unwrap_or(text);
    if text.is_empty() {
        return Ok(Vec::new());
    }
    body.split('\n')
        .enumerate()
        .map(|(i, h)| {
            hash_from_hex(h).map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))
        })
        .collect()
}

fn proof_arg(list: &str, file: Option<&std::path::Path>) -> Result<Vec<Hash>, String> {
    match file {
        Some(path) => read_proof_file(path),
        None => parse_proof(list),
    }
}

fn inclusion(a: &InclusionArgs) -> u8 {
    let parsed = (|| {
        Ok::<_, String>((
            hash_arg("leaf-hash", &a.leaf_hash)?,
            hash_arg("root", &a.root)?,
            proof_arg(&a.proof, a.proof_file.as_deref())?,
        ))
    })();
    let (leaf, root, proof) = match parsed {
        Ok(p) => p,
        Err(e) => return malformed(&e),
    };
    let result = merkle::verify_inclusion(&leaf, a.index, a.size, &proof, &root);
    let what = format!(
        "leaf {} at index {} of tree size {}",
        hash_to_hex(&leaf),
        a.index,
        a.size
    );
    let fields = json!({
        "kind": "inclusion",
        "leaf_hash": hash_to_hex(&leaf),
        "index": a.index,
        "size": a.size,
        "root": hash_to_hex(&root),
    });
    report(a.format, &result, &what, fields, proof_reason)
}

fn consistency(a: &ConsistencyArgs) -> u8 {
    let parsed = (|| {
        Ok::<_, String>((
            hash_arg("root1", &a.root1)?,
            hash_arg("root2", &a.root2)?,
            proof_arg(&a.proof, a.proof_file.as_deref())?,
        ))
    })();
    let (root1, root2, proof) = match parsed {
        Ok(p) => p,
        Err(e) => return malformed(&e),
    };
    let result = merkle::verify_consistency(a.size1, a.size2, &root1, &root2, &proof);
    let what = format!("tree size {} is a prefix of tree size {}", a.size1, a.size2);
    let fields = json!({
        "kind": "consistency",
        "size1": a.size1,
        "size2": a.size2,
        "root1": hash_to_hex(&root1),
        "root2": hash_to_hex(&root2),
    });
    report(a.format, &result, &what, fields, proof_reason)
}

fn receipt(a: &ReceiptArgs) -> u8 {
    let key = match PublicKey::load(&a.log_key) {
        Ok(k) => k,
        Err(e) => return malformed(&e.to_string()),
    };
    let bytes = match output::read_limited(&a.receipt, MAX_RECEIPT_BYTES) {
        Ok(b) => b,
        Err(e) => return malformed(&e),
    };
    let r = match Receipt::from_json(&bytes) {
        Ok(r) => r,
        Err(e) => return malformed(&format!("{}: {e}", a.receipt.display())),
    };
    let result = r.verify(&key);
    let (what, fields) = match &result {
        Ok(v) => verified_receipt_fields(v),
        Err(_) => (
            format!("receipt {}", a.receipt.display()),
            json!({"kind": "receipt"}),
        ),
    };
    report(a.format, &result, &what, fields, receipt_reason)
}

fn verified_receipt_fields(v: &VerifiedReceipt) -> (String, Value) {
    (
        format!(
            "{} version {} ({}) is entry {} of {} (tree size {}, root {})",
            v.blueprint_id,
            v.version,
            v.digest,
            v.index,
            v.checkpoint.origin,
            v.checkpoint.size,
            hash_to_hex(&v.checkpoint.root)
        ),
        json!({
            "kind": "receipt",
            "origin": v.checkpoint.origin,
            "index": v.index,
            "tree_size": v.checkpoint.size,
            "root": hash_to_hex(&v.checkpoint.root),
            "blueprint_id": v.blueprint_id,
            "version": v.version,
            "digest": v.digest.to_string(),
        }),
    )
}

fn malformed(message: &str) -> u8 {
    output::error(message);
    EXIT_OPERATIONAL
}

/// Prints the verdict and maps it to the exit code.
fn report<T, E: std::fmt::Display>(
    format: ProofFormat,
    result: &Result<T, E>,
    what: &str,
    mut fields: Value,
    reason: fn(&E) -> &'static str,
) -> u8 {
    let text = match format {
        ProofFormat::Human => match result {
            Ok(_) => format!("valid: {what}\n"),
            Err(e) => format!("invalid: {e}\n"),
        },
        ProofFormat::Json => {
            fields["valid"] = json!(result.is_ok());
            if let Err(e) = result {
                fields["reason"] = json!(reason(e));
                fields["message"] = json!(e.to_string());
            }
            let mut s = serde_json::to_string_pretty(&fields).unwrap_or_default();
            s.push('\n');
            s
        }
    };
    if let Err(e) = output::stdout(text.as_bytes()) {
        output::error(&format!("cannot write output: {e}"));
        return EXIT_OPERATIONAL;
    }
    if result.is_ok() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}

/// Stable machine-readable reason codes.
fn proof_reason(e: &ProofError) -> &'static str {
    match e {
        ProofError::IndexOutOfRange { .. } => "index-out-of-range",
        ProofError::SizeOrder { .. } => "size-order",
        ProofError::WrongLength { .. } => "wrong-proof-length",
        ProofError::RootMismatch => "root-mismatch",
        ProofError::Root1Mismatch { .. } => "root1-mismatch",
        ProofError::Root2Mismatch { .. } => "root2-mismatch",
        ProofError::SameSizeDifferentRoots { .. } => "same-size-different-roots",
        ProofError::NotEmptyRoot => "not-empty-root",
    }
}

fn receipt_reason(e: &ReceiptError) -> &'static str {
    match e {
        ReceiptError::Format { .. } => "format",
        ReceiptError::Hash { .. } => "malformed-hash",
        ReceiptError::EntryEncoding => "entry-encoding",
        ReceiptError::Checkpoint(_) => "checkpoint",
        ReceiptError::CheckpointMismatch { .. } => "checkpoint-mismatch",
        ReceiptError::LeafHashMismatch => "leaf-hash-mismatch",
        ReceiptError::Inclusion(_) => "inclusion",
        ReceiptError::EntryNotJson | ReceiptError::NotDeposit { .. } => "not-a-deposit",
        ReceiptError::EntryMismatch { .. } => "entry-mismatch",
        _ => "invalid",
    }
}
