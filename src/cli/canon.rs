//! `blueprint canon FILE` and `blueprint hash FILE`: the RFC 8785 bytes of a
//! TOML or JSON document, and the `sha256:<hex>` digest of them.

use super::render;
use super::{EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::canon::{self, Digest};
use blueprint::diag::Label;
use blueprint::manifest::document::{self, Limits};
use blueprint::source::SourceMap;
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Arguments of `canon`.
#[derive(Debug, Args)]
pub struct CanonArgs {
    /// A TOML or JSON document (any document, not only manifests).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Arguments of `hash`.
#[derive(Debug, Args)]
pub struct HashArgs {
    /// A manifest (TOML or JSON).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Loads `path` and returns its canonical bytes, or the exit code after
/// printing why not (diagnostics: 1; unreadable: 2).
pub fn canonical_file(path: &Path, color: super::ColorChoice) -> Result<Vec<u8>, u8> {
    let limits = Limits::default();
    let bytes = output::read_limited(path, limits.max_bytes).map_err(|e| {
        output::error(&e);
        EXIT_OPERATIONAL
    })?;
    let mut map = SourceMap::new();
    let name = path.display().to_string();
    let doc = document::load(&mut map, &name, &bytes, &limits).map_err(|diags| {
        print_diagnostics(&map, &diags, color);
        EXIT_FINDINGS
    })?;
    canon::canonicalize(&doc.value).map_err(|e| {
        // The loader refuses these first; this is the second line of defence.
        let d = e.to_diagnostic().with_label(Label::primary(
            doc.file,
            doc.locate(e.pointer()),
            "not exactly representable",
        ));
        print_diagnostics(&map, &[d], color);
        EXIT_FINDINGS
    })
}

pub fn run_canon(args: &CanonArgs, color: super::ColorChoice) -> u8 {
    match canonical_file(&args.file, color) {
        Ok(bytes) => write_out(&bytes),
        Err(code) => code,
    }
}

pub fn run_hash(args: &HashArgs, color: super::ColorChoice) -> u8 {
    match canonical_file(&args.file, color) {
        Ok(bytes) => write_out(format!("{}\n", Digest::of_bytes(&bytes)).as_bytes()),
        Err(code) => code,
    }
}

fn write_out(bytes: &[u8]) -> u8 {
    match output::stdout(bytes) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            output::error(&format!("cannot write output: {e}"));
            EXIT_OPERATIONAL
        }
    }
}

/// Renders diagnostics on standard error (colour when it is a terminal).
pub fn print_diagnostics(
    map: &SourceMap,
    diags: &[blueprint::diag::Diagnostic],
    color: super::ColorChoice,
) {
    let color = match color {
        super::ColorChoice::Always => true,
        super::ColorChoice::Never => false,
        super::ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let mut err = std::io::stderr().lock();
    for d in diags {
        let _ = err.write_all(&render::human_diagnostic(map, d, color));
    }
}
