//! blueprint: checkable, signed and escrowed IoT device privacy blueprints.
//!
//! The library never prints and never exits; the `blueprint` binary parses
//! arguments, renders results and maps them to exit codes.

#![deny(clippy::print_stdout, clippy::print_stderr, clippy::dbg_macro)]

pub mod canon;
pub mod derived;
pub mod diag;
pub mod diff;
pub mod document;
pub mod dsse;
pub mod keys;
pub mod manifest_refs;
pub mod mud;
pub mod observe;
pub mod profile;
pub mod schema;
pub mod source;
pub mod statement;
pub mod validate;
pub mod validated;
