//! The escrow registry: an append-only RFC 6962 log of registry events
//! (deposits with their bonds, member keys, reports, rulings), signed
//! checkpoints, deposit receipts, the store that holds the log, and a
//! witness that detects rollback and split views. See `docs/log.md`.

pub mod event;
pub mod merkle;
