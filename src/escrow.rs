//! The escrow registry: an append-only RFC 6962 transparency log of
//! registry events (deposits with their bonds, member keys, reports,
//! rulings) with signed checkpoints, the SQLite store that holds it, and the
//! operations that append to it. See `docs/log.md`.

pub mod event;
pub mod ledger;
pub mod merkle;
pub mod store;
