//! blueprint: checkable, signed and escrowed IoT device privacy blueprints.
//!
//! The library never prints and never exits; the `blueprint` binary parses
//! arguments, renders results and maps them to exit codes.

#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod attest;
pub mod derived;
pub mod device;
pub mod diag;
pub mod escrow;
pub mod explore;
pub mod input;
pub mod manifest;
pub mod profile;
pub mod serve;
pub mod source;
pub mod validate;
pub mod validated;
