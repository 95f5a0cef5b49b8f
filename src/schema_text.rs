//! The manifest schema (JSON Schema 2020-12), embedded at build time.
//!
//! `schemas/blueprint.v1.schema.json` implements catalog §2–§3 and the
//! presence rules of catalog §3.8; the reference checks that JSON Schema
//! cannot express live in [`crate::manifest_refs`].

/// `$id` of the manifest schema.
pub const MANIFEST_SCHEMA_ID: &str = "urn:blueprint:schema:blueprint:v1";

/// Text of `schemas/blueprint.v1.schema.json`.
pub fn manifest_schema() -> &'static str {
    include_str!("../schemas/blueprint.v1.schema.json")
}
