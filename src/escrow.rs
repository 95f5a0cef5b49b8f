//! The escrow registry: an append-only RFC 6962 log of registry events
//! (deposits with their bonds, member keys, reports, rulings), signed
//! checkpoints, deposit receipts, the store that holds the log, and a
//! witness that detects rollback and split views (`docs/log.md`); the
//! statements members and vendors file, the pure rule that forfeits or
//! releases bonds, and the escrow checks of the registry state
//! (`docs/escrow.md`).

pub mod actions;
pub mod checkpoint;
pub mod database;
pub mod event;
pub mod fsck;
pub mod ledger;
pub mod merkle;
pub mod receipt;
pub mod registry;
pub mod report;
pub mod rule;
pub mod state;
pub mod store;
pub mod store_pg;
pub mod tiles;
pub mod views;
pub mod witness;
