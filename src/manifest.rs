//! The manifest stage: load TOML or JSON into one data model with spans,
//! check it against the JSON Schema, and resolve its id references.

pub mod doc;
pub mod document;
pub mod refs;
pub mod scaffold;
pub mod schema;
pub mod todo;
