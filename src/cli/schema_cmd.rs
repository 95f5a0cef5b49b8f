//! `blueprint schema`: print the JSON Schema of manifests; `schema doc`
//! writes the manifest field reference (`docs/manifest.md`).

use super::{EXIT_OK, EXIT_OPERATIONAL, output};
use clap::{Args, Subcommand};
use std::path::PathBuf;

/// Arguments of `schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    command: Option<SchemaCommand>,
}

/// `schema` subcommands.
#[derive(Debug, Subcommand)]
enum SchemaCommand {
    /// Generate the manifest field reference (every field with its type,
    /// allowed values and the rules that read it) as Markdown.
    Doc {
        /// Write to this file instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub fn run(args: &SchemaArgs) -> u8 {
    let (bytes, path) = match &args.command {
        None => (
            blueprint::manifest::schema::MANIFEST_SCHEMA
                .as_bytes()
                .to_vec(),
            None,
        ),
        Some(SchemaCommand::Doc { output: path }) => {
            let mut map = blueprint::source::SourceMap::new();
            let Ok(lib) = blueprint::profile::ProfileLibrary::builtin(&mut map) else {
                output::error("the shipped profiles failed to load");
                return EXIT_OPERATIONAL;
            };
            (
                blueprint::manifest::doc::reference(&lib).into_bytes(),
                path.clone(),
            )
        }
    };
    let written = match &path {
        Some(p) => std::fs::write(p, &bytes).map_err(|e| format!("{}: {e}", p.display())),
        None => output::stdout(&bytes).map_err(|e| e.to_string()),
    };
    match written {
        Ok(()) => EXIT_OK,
        Err(e) => {
            output::error(&format!("cannot write: {e}"));
            EXIT_OPERATIONAL
        }
    }
}
