//! `blueprint schema`: print the JSON Schema of manifests.

use super::{EXIT_OK, EXIT_OPERATIONAL, output};
use clap::Args;

/// Arguments of `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {}

pub fn run(_args: &SchemaArgs) -> u8 {
    match output::stdout(blueprint::manifest::schema::MANIFEST_SCHEMA.as_bytes()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            output::error(&format!("cannot write: {e}"));
            EXIT_OPERATIONAL
        }
    }
}
