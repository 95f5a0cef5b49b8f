//! The escrow registry's transparency log: RFC 6962 Merkle hashing and
//! proofs, signed checkpoints, deposit receipts and a witness that detects
//! rollback and split views. See `docs/log.md`.

pub mod checkpoint;
pub mod merkle;
pub mod receipt;
pub mod witness;
