//! The escrow registry: its transparency log (RFC 6962 Merkle hashing and
//! proofs, signed checkpoints, deposit receipts, a witness that detects
//! rollback and split views; `docs/log.md`), the statements members and
//! vendors file, the pure rule that forfeits or releases bonds, and the
//! replayable registry state (`docs/escrow.md`).

pub mod merkle;
pub mod report;
pub mod rule;
pub mod state;
