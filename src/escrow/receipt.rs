//! Deposit receipts: what a vendor keeps to prove, offline and to anyone
//! holding the log's public key, that its deposit is in the log.
//!
//! A receipt (`blueprint-receipt/v1`, `schemas/receipt.v1.schema.json`)
//! carries the entry bytes, its index, a signed checkpoint and the inclusion
//! proof of the entry in that checkpoint's tree. The convenience fields
//! (`leaf_hash`, `tree_size`, `root`, `origin`, `blueprint_id`, `version`,
//! `digest`) are repeated outside the signed material for readers, so
//! [`Receipt::verify`] checks every one of them against the signed
//! checkpoint or the entry itself: none of them can lie.

use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::attest::canon::Digest;
use crate::attest::keys::PublicKey;
use crate::escrow::checkpoint::{self, Checkpoint, CheckpointError, SignedNote};
use crate::escrow::merkle::{
    self, Hash, HashHexError, NodeReader, ProofError, TreeError, hash_from_hex, hash_to_hex,
    leaf_hash,
};

/// The `format` of every receipt.
pub const RECEIPT_FORMAT: &str = "blueprint-receipt/v1";

/// A receipt file larger than this is refused before parsing: room for the
/// largest registry entry (a 32 MiB envelope plus its event) in base64, the
/// checkpoint note and the proof.
pub const MAX_RECEIPT_BYTES: usize = 64 * 1024 * 1024;

/// A deposit receipt as written to and read from JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Always [`RECEIPT_FORMAT`].
    pub format: String,
    /// The log's origin (the checkpoint's first line).
    pub origin: String,
    /// The entry's index in the log.
    pub index: u64,
    /// Standard base64 of the entry bytes.
    pub entry: String,
    /// Hex of the entry's RFC 6962 leaf hash.
    pub leaf_hash: String,
    /// The checkpoint's tree size.
    pub tree_size: u64,
    /// Hex of the checkpoint's root.
    pub root: String,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
    /// Hex hashes of the inclusion proof, bottom-up.
    pub inclusion_proof: Vec<String>,
    /// The deposited blueprint's id.
    pub blueprint_id: String,
    /// The deposited blueprint's version.
    pub version: u64,
    /// `sha256:<hex>` of the canonical manifest.
    pub digest: String,
}

/// What a verified receipt proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedReceipt {
    /// The signed checkpoint that includes the entry.
    pub checkpoint: Checkpoint,
    /// The entry's index.
    pub index: u64,
    /// The entry's leaf hash.
    pub leaf_hash: Hash,
    /// The deposited blueprint's id.
    pub blueprint_id: String,
    /// Its version.
    pub version: u64,
    /// Its manifest digest.
    pub digest: Digest,
}

/// Why a receipt could not be built, read or verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// Larger than [`MAX_RECEIPT_BYTES`].
    #[error("receipt is {len} bytes, over the limit of {limit}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a receipt JSON document.
    #[error("not a receipt: {0}")]
    Json(#[source] serde_json::Error),
    /// `format` is not [`RECEIPT_FORMAT`].
    #[error("format is {found:?}, expected {RECEIPT_FORMAT:?}")]
    Format {
        /// The format found.
        found: String,
    },
    /// A hex hash field is malformed.
    #[error("{field}: {source}")]
    Hash {
        /// The field (`leaf_hash`, `root`, `inclusion_proof[3]`).
        field: String,
        /// What is wrong.
        #[source]
        source: HashHexError,
    },
    /// `entry` is not standard base64.
    #[error("entry is not standard padded base64")]
    EntryEncoding,
    /// The checkpoint does not verify.
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// A field repeats the checkpoint but differs from it.
    #[error("{field} {receipt} differs from the signed checkpoint's {checkpoint}")]
    CheckpointMismatch {
        /// The field.
        field: &'static str,
        /// The receipt's value.
        receipt: String,
        /// The checkpoint's value.
        checkpoint: String,
    },
    /// `leaf_hash` is not the hash of `entry`.
    #[error("leaf_hash is not the RFC 6962 leaf hash of the entry bytes")]
    LeafHashMismatch,
    /// The inclusion proof does not verify.
    #[error("inclusion proof: {0}")]
    Inclusion(#[from] ProofError),
    /// The entry is not a JSON object.
    #[error("the entry is not a JSON object")]
    EntryNotJson,
    /// The entry is not a deposit event.
    #[error("the entry is a {found:?} event, not a deposit")]
    NotDeposit {
        /// Its type.
        found: String,
    },
    /// A field repeats the entry but differs from it (or the entry lacks it).
    #[error("{field} {receipt:?} differs from the entry's {entry:?}")]
    EntryMismatch {
        /// The field.
        field: &'static str,
        /// The receipt's value.
        receipt: String,
        /// The entry's value (empty when missing).
        entry: String,
    },
    /// The store could not produce the inclusion proof.
    #[error("building the inclusion proof: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The deposit fields of an entry.
struct DepositFields {
    blueprint_id: String,
    version: u64,
    digest: String,
}

fn deposit_fields(entry: &[u8]) -> Result<DepositFields, ReceiptError> {
    let v: serde_json::Value =
        serde_json::from_slice(entry).map_err(|_| ReceiptError::EntryNotJson)?;
    let obj = v.as_object().ok_or(ReceiptError::EntryNotJson)?;
    let ty = obj.get("type").and_then(|t| t.as_str()).unwrap_or_default();
    if ty != "deposit" {
        return Err(ReceiptError::NotDeposit {
            found: ty.to_owned(),
        });
    }
    let missing = |field| ReceiptError::EntryMismatch {
        field,
        receipt: String::new(),
        entry: String::new(),
    };
    Ok(DepositFields {
        blueprint_id: obj
            .get("blueprint_id")
            .and_then(|t| t.as_str())
            .ok_or_else(|| missing("blueprint_id"))?
            .to_owned(),
        version: obj
            .get("version")
            .and_then(|t| t.as_u64())
            .ok_or_else(|| missing("version"))?,
        digest: obj
            .get("digest")
            .and_then(|t| t.as_str())
            .ok_or_else(|| missing("digest"))?
            .to_owned(),
    })
}

impl Receipt {
    /// Builds the receipt of the deposit `entry` at `index`, proved by
    /// `inclusion_proof` in the tree of the signed `checkpoint_note`. The
    /// note is parsed, not verified: call [`Receipt::verify`] to check the
    /// whole receipt against the log key.
    pub fn new(
        entry: &[u8],
        index: u64,
        checkpoint_note: &str,
        inclusion_proof: &[Hash],
    ) -> Result<Self, ReceiptError> {
        let note = SignedNote::parse(checkpoint_note.as_bytes())?;
        let cp = Checkpoint::parse_body(&note.text)?;
        let fields = deposit_fields(entry)?;
        Ok(Receipt {
            format: RECEIPT_FORMAT.to_owned(),
            origin: cp.origin,
            index,
            entry: STANDARD.encode(entry),
            leaf_hash: hash_to_hex(&leaf_hash(entry)),
            tree_size: cp.size,
            root: hash_to_hex(&cp.root),
            checkpoint: checkpoint_note.to_owned(),
            inclusion_proof: inclusion_proof.iter().map(hash_to_hex).collect(),
            blueprint_id: fields.blueprint_id,
            version: fields.version,
            digest: fields.digest,
        })
    }

    /// [`Receipt::new`] with the inclusion proof read from a store.
    pub fn from_tree<R: NodeReader>(
        tree: &R,
        entry: &[u8],
        index: u64,
        checkpoint_note: &str,
    ) -> Result<Self, ReceiptError>
    where
        R::Error: std::error::Error + Send + Sync + 'static,
    {
        let note = SignedNote::parse(checkpoint_note.as_bytes())?;
        let cp = Checkpoint::parse_body(&note.text)?;
        let proof = merkle::inclusion_proof(tree, index, cp.size).map_err(|e| match e {
            TreeError::IndexOutOfRange { index, size } => {
                ReceiptError::Inclusion(ProofError::IndexOutOfRange { index, size })
            }
            other => ReceiptError::Store(Box::new(other)),
        })?;
        Self::new(entry, index, checkpoint_note, &proof)
    }

    /// Parses a receipt, refusing more than [`MAX_RECEIPT_BYTES`] first.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ReceiptError> {
        if bytes.len() > MAX_RECEIPT_BYTES {
            return Err(ReceiptError::TooLarge {
                len: bytes.len(),
                limit: MAX_RECEIPT_BYTES,
            });
        }
        serde_json::from_slice(bytes).map_err(ReceiptError::Json)
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| unreachable!("a receipt always serializes: {e}"));
        s.push('\n');
        s
    }

    /// Checks the receipt against the log's public key: the checkpoint's
    /// signature, that `origin`, `tree_size` and `root` are the checkpoint's,
    /// that `leaf_hash` is the hash of `entry`, the inclusion proof, and
    /// that the entry is a deposit of `blueprint_id`, `version`, `digest`.
    pub fn verify(&self, log_key: &PublicKey) -> Result<VerifiedReceipt, ReceiptError> {
        if self.format != RECEIPT_FORMAT {
            return Err(ReceiptError::Format {
                found: self.format.clone(),
            });
        }
        let cp = checkpoint::verify(self.checkpoint.as_bytes(), log_key, None)?.checkpoint;
        if cp.origin != self.origin {
            return Err(ReceiptError::CheckpointMismatch {
                field: "origin",
                receipt: format!("{:?}", self.origin),
                checkpoint: format!("{:?}", cp.origin),
            });
        }
        if cp.size != self.tree_size {
            return Err(ReceiptError::CheckpointMismatch {
                field: "tree_size",
                receipt: self.tree_size.to_string(),
                checkpoint: cp.size.to_string(),
            });
        }
        let hash = |field: &str, s: &str| {
            hash_from_hex(s).map_err(|source| ReceiptError::Hash {
                field: field.to_owned(),
                source,
            })
        };
        let root = hash("root", &self.root)?;
        if root != cp.root {
            return Err(ReceiptError::CheckpointMismatch {
                field: "root",
                receipt: self.root.clone(),
                checkpoint: hash_to_hex(&cp.root),
            });
        }
        let entry = STANDARD
            .decode(&self.entry)
            .map_err(|_| ReceiptError::EntryEncoding)?;
        let leaf = leaf_hash(&entry);
        if hash("leaf_hash", &self.leaf_hash)? != leaf {
            return Err(ReceiptError::LeafHashMismatch);
        }
        let proof = self
            .inclusion_proof
            .iter()
            .enumerate()
            .map(|(i, s)| hash(&format!("inclusion_proof[{i}]"), s))
            .collect::<Result<Vec<_>, _>>()?;
        merkle::verify_inclusion(&leaf, self.index, cp.size, &proof, &cp.root)?;
        let fields = deposit_fields(&entry)?;
        if fields.blueprint_id != self.blueprint_id {
            return Err(ReceiptError::EntryMismatch {
                field: "blueprint_id",
                receipt: self.blueprint_id.clone(),
                entry: fields.blueprint_id,
            });
        }
        if fields.version != self.version {
            return Err(ReceiptError::EntryMismatch {
                field: "version",
                receipt: self.version.to_string(),
                entry: fields.version.to_string(),
            });
        }
        let digest_mismatch = || ReceiptError::EntryMismatch {
            field: "digest",
            receipt: self.digest.clone(),
            entry: fields.digest.clone(),
        };
        let digest = Digest::from_str(&self.digest).map_err(|_| digest_mismatch())?;
        if fields.digest != self.digest {
            return Err(digest_mismatch());
        }
        Ok(VerifiedReceipt {
            checkpoint: cp,
            index: self.index,
            leaf_hash: leaf,
            blueprint_id: fields.blueprint_id,
            version: fields.version,
            digest,
        })
    }
}

#[cfg(test)]
#[path = "receipt_tests.rs"]
mod tests;
