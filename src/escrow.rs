//! The escrow registry: an append-only RFC 6962 log of registry events
//! (deposits with their bonds, member keys, reports, rulings), the SQLite
//! store that holds it, and the operations that append to it.

pub mod event;
