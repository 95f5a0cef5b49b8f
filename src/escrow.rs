//! The escrow registry: its transparency log (RFC 6962 Merkle hashing and
//! proofs; `docs/log.md`) of registry events, the statements members and
//! vendors file, the pure rule that forfeits or releases bonds, and the
//! escrow checks of the registry state (`docs/escrow.md`).

pub mod event;
pub mod merkle;
pub mod report;
pub mod rule;
pub mod state;
