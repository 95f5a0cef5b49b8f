//! Command-line interface. Exit codes are a contract (README, "Exit codes"):
//! 0 clean, 1 findings / deviations / verification failed / refused, 2 usage
//! or operational error, including insufficient evidence.

mod canon;
mod demo;
mod diff;
mod docs;
mod explain;
mod findings;
mod init;
mod keygen;
mod long_lines;
mod mud;
mod observe;
mod output;
mod profiles;
mod proof;
mod registry;
mod registry_escrow;
mod registry_site;
mod remote;
mod render;
mod report;
mod schema_cmd;
mod serve;
mod sign;
mod snippet;
mod validate;
mod validate_batch;
mod verify;
mod watch;

use clap::{Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

/// Exit code: nothing to report.
pub const EXIT_OK: u8 = 0;
/// Exit code: error-level findings, deviations, or a failed verification.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: bad arguments, unreadable input, insufficient evidence, or
/// another operational failure.
pub const EXIT_OPERATIONAL: u8 = 2;

/// Checkable, signed and escrowed IoT device privacy blueprints.
///
/// A vendor describes a device in a blueprint manifest (TOML or JSON),
/// validates it against privacy profiles drawn from the laws of its
/// markets, and signs it; an auditor diffs the shipped device against it.
#[derive(Debug, Parser)]
#[command(
    name = "blueprint",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// When to use colour in human output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

/// Colour choice for human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when standard output is a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the main job on the bundled example: validate, sign, verify and escrow a smart meter.
    Demo(demo::DemoArgs),
    /// Write a new manifest with every field the profiles of its markets read, to fill in.
    Init(init::InitArgs),
    /// Validate manifests against the schema and the privacy profiles of their markets.
    Validate(validate::ValidateArgs),
    /// List and show the privacy profiles.
    #[command(subcommand)]
    Profiles(profiles::ProfilesCommand),
    /// Explain a finding's code: a rule, shared check, conflict, schema keyword or reference code.
    Explain(profiles::ExplainArgs),
    /// Print the JSON Schema of manifests (for editors and other tools).
    Schema(schema_cmd::SchemaArgs),
    /// Print the RFC 8785 canonical bytes of a TOML or JSON document.
    Canon(canon::CanonArgs),
    /// Print `sha256:<hex>` of a manifest's canonical bytes (the same for TOML and JSON).
    Hash(canon::HashArgs),
    /// Create an Ed25519 key pair (PKCS#8 / SPKI PEM, OpenSSL-compatible).
    Keygen(keygen::KeygenArgs),
    /// Validate a manifest and sign it into a DSSE envelope, or co-sign an envelope.
    Sign(sign::SignArgs),
    /// Verify a signed envelope against trusted public keys.
    Verify(verify::VerifyArgs),
    /// Diff a blueprint against a newer blueprint or against evidence from a shipped device.
    Diff(diff::DiffArgs),
    /// Turn a traffic capture or a firmware SBOM into an observation file.
    #[command(subcommand)]
    Observe(observe::ObserveCommand),
    /// Export the declared endpoints as an RFC 8520 MUD file.
    Mud(mud::MudArgs),
    /// Write a self-contained HTML report: device, data items, data-flow map, profiles and findings.
    Report(report::ReportArgs),
    /// Verify the transparency log's inclusion and consistency proofs and deposit receipts offline.
    #[command(subcommand)]
    Proof(proof::ProofCommand),
    /// Run an escrow registry: deposits with bonds on an append-only, signed Merkle log.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Serve a registry over HTTP (JSON API, C2SP tlog-tiles), loopback by default.
    Serve(serve::ServeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(docs::CompletionsArgs),
    /// Write the blueprint(1) man page (roff) covering every subcommand.
    Man(docs::ManArgs),
}

/// Parses arguments, runs the command, returns its exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                EXIT_OPERATIONAL
            } else {
                EXIT_OK
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match &cli.command {
        Command::Demo(args) => demo::run(args, cli.color),
        Command::Init(args) => init::run(args),
        Command::Validate(args) => validate::run(args, cli.color),
        Command::Schema(args) => schema_cmd::run(args),
        Command::Profiles(cmd) => profiles::run(cmd),
        Command::Explain(args) => profiles::explain(args),
        Command::Canon(args) => canon::run_canon(args, cli.color),
        Command::Hash(args) => canon::run_hash(args, cli.color),
        Command::Keygen(args) => keygen::run(args),
        Command::Sign(args) => sign::run(args, cli.color),
        Command::Verify(args) => verify::run(args, cli.color),
        Command::Diff(args) => diff::run(args),
        Command::Observe(cmd) => observe::run(cmd),
        Command::Mud(args) => mud::run(args, cli.color),
        Command::Report(args) => report::run(args, cli.color),
        Command::Proof(cmd) => proof::run(cmd),
        Command::Registry(cmd) => registry::run(cmd, cli.color),
        Command::Serve(args) => serve::run(args),
        Command::Completions(args) => docs::completions(args),
        Command::Man(args) => docs::man(args),
    };
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
