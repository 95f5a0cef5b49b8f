//! Command-line interface: clap definitions and dispatch. Exit codes are a
//! contract: 0 ok, 1 findings/deviations, 2 operational error.

mod diff;
mod mud;
mod observe;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Checkable, signed, escrowed IoT device privacy blueprints.
#[derive(Debug, Parser)]
#[command(name = "blueprint", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Diff a blueprint against a newer blueprint or against evidence from a shipped device.
    Diff(diff::Args),
    /// Turn a traffic capture or a firmware SBOM into an observation file.
    #[command(subcommand)]
    Observe(observe::Command),
    /// Export the declared endpoints as an RFC 8520 MUD file.
    Mud(mud::Args),
}

/// Operational failure: exit code 2.
pub(crate) const EXIT_OPERATIONAL: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Diff(a) => diff::run(a),
        Command::Observe(c) => observe::run(c),
        Command::Mud(a) => mud::run(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_OPERATIONAL)
        }
    }
}

/// Writes `text` to `path`, or to stdout when no path is given; a closed
/// pipe on stdout is not an error.
pub(crate) fn emit(path: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match path {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display())),
        None => {
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                r => Ok(r?),
            }
        }
    }
}

/// Reads a manifest file (TOML by extension, JSON otherwise) into a JSON value.
pub(crate) fn load_manifest(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    const MAX: u64 = 64 * 1024 * 1024;
    let meta = std::fs::metadata(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    if meta.len() > MAX {
        anyhow::bail!(
            "{} is {} bytes, above the {MAX}-byte limit",
            path.display(),
            meta.len()
        );
    }
    let bytes =
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    if path.extension().is_some_and(|e| e == "toml") {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| anyhow::anyhow!("{} is not UTF-8", path.display()))?;
        let v: toml::Value =
            toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        Ok(serde_json::to_value(v)?)
    } else {
        serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
