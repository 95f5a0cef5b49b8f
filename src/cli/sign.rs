//! `blueprint sign MANIFEST --key KEY [-o OUTPUT]`: validate as of today,
//! then wrap the manifest in a signed DSSE envelope (in-toto Statement v1).
//! `blueprint sign --append ENVELOPE --key LAB_KEY`: re-validate the enclosed
//! manifest as of today and add a co-signature.
//!
//! Signing always validates as of today: a what-if date is a question for
//! `validate --as-of`, never something to sign.

use super::canon::print_diagnostics;
use super::validate::today;
use super::{ColorChoice, EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::canon::Digest;
use blueprint::attest::dsse::{Envelope, MAX_ENVELOPE_BYTES};
use blueprint::attest::keys::{KeyId, SigningKeyFile};
use blueprint::attest::statement;
use blueprint::manifest::document::Limits;
use blueprint::profile::Selection;
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_for_signing};
use blueprint::validated::ValidatedManifest;
use clap::Args;
use std::path::{Path, PathBuf};

/// Arguments of `sign`.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Exit status: 0 signed and written; 1 refused (error-level findings as of today); 2 bad arguments, unreadable input or key, existing output without --force."
)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["manifest", "append"])))]
pub struct SignArgs {
    /// Manifest to validate (as of today) and sign (TOML or JSON).
    #[arg(value_name = "MANIFEST")]
    pub manifest: Option<PathBuf>,

    /// Co-sign an existing envelope instead (its manifest is validated again, as of today).
    #[arg(long, value_name = "ENVELOPE", conflicts_with = "manifest")]
    pub append: Option<PathBuf>,

    /// Private key (PKCS#8 PEM, mode 0600), e.g. from `blueprint keygen` or `openssl genpkey -algorithm ed25519`.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,

    /// Write the envelope here (atomically) instead of to standard output.
    #[arg(short = 'o', long = "output", alias = "out", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Replace an existing output file (a private key file is never replaced).
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &SignArgs, color: ColorChoice) -> u8 {
    match sign(args, color) {
        Ok(()) => EXIT_OK,
        Err(code) => code,
    }
}

fn sign(args: &SignArgs, color: ColorChoice) -> Result<(), u8> {
    // The key first: a missing or unreadable key should not cost a full
    // validation, nor be reported after it.
    let key = SigningKeyFile::load(&args.key).map_err(op_error)?;
    let options = ValidateOptions {
        schema_only: false,
        as_of: today(),
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    let (envelope, digest) = if let Some(env_path) = &args.append {
        let mut envelope = read_envelope(env_path)?;
        let payload = envelope.payload_bytes().map_err(op_error)?;
        if !statement::is_deposit_payload_type(&envelope.payload_type) {
            return Err(op_error(format!(
                "{}: payloadType is {:?}, not a blueprint deposit",
                env_path.display(),
                envelope.payload_type
            )));
        }
        let deposit = statement::parse_deposit(&payload).map_err(op_error)?;
        // The co-signer checks the manifest itself, not the vendor's claim.
        // Pretty-printed, so a finding quotes a line, not the whole manifest.
        let text = serde_json::to_vec_pretty(&deposit.manifest).map_err(op_error)?;
        let name = format!("{}#manifest.json", env_path.display());
        validated(&name, &text, &options, color)?;
        envelope.append_signature(&key).map_err(op_error)?;
        (envelope, deposit.digest)
    } else if let Some(path) = &args.manifest {
        let bytes = output::read_limited(path, options.limits.max_bytes).map_err(op_error)?;
        let manifest = validated(&path.display().to_string(), &bytes, &options, color)?;
        let digest = Digest::of_value(manifest.value()).map_err(op_error)?;
        let envelope = statement::sign_manifest(&manifest, &key).map_err(|e| {
            output::error(&format!("refusing to sign {}: {e}", path.display()));
            EXIT_FINDINGS
        })?;
        (envelope, digest)
    } else {
        return Err(op_error("give a MANIFEST to sign or --append ENVELOPE"));
    };
    let replace = output::Replace {
        force: args.force,
        key: Some(&args.key),
    };
    output::write_output(args.output.as_deref(), &envelope.to_json(), replace).map_err(op_error)?;
    let line = written_line(args.output.as_deref(), &digest, key.id());
    match args.output {
        Some(_) => output::stdout(line.as_bytes()).map_err(op_error),
        // The envelope is on standard output; the note goes beside it.
        None => {
            output::stderr_line(line.trim_end());
            Ok(())
        }
    }
}

/// `wrote FILE (sha256:…, signed by KEYID)`: what was written, about which
/// manifest, by whom.
fn written_line(path: Option<&Path>, digest: &Digest, keyid: KeyId) -> String {
    let place = match path {
        Some(p) => p.display().to_string(),
        None => "envelope to standard output".into(),
    };
    format!("wrote {place} ({digest}, signed by {keyid})\n")
}

/// Runs the full validation as of `options.as_of`; error-level findings
/// refuse signing (exit 1) and are the only findings shown.
fn validated(
    name: &str,
    bytes: &[u8],
    options: &ValidateOptions,
    color: ColorChoice,
) -> Result<ValidatedManifest, u8> {
    let mut map = SourceMap::new();
    let library = super::profiles::builtin_library(&mut map)?;
    let (report, validated) = validate_for_signing(&mut map, &library, name, bytes, options);
    validated.ok_or_else(|| {
        print_diagnostics(&map, &report.diagnostics, color);
        let n = report.counts.error;
        output::error(&format!(
            "refusing to sign {name}: {} as of {} (see `blueprint validate`)",
            output::plural(n as u64, "error-level finding", "error-level findings"),
            options.as_of
        ));
        EXIT_FINDINGS
    })
}

fn op_error(e: impl std::fmt::Display) -> u8 {
    output::error(&e.to_string());
    EXIT_OPERATIONAL
}

/// Reads an envelope file, refusing over-size files before reading.
pub fn read_envelope(path: &Path) -> Result<Envelope, u8> {
    let bytes = output::read_limited(path, MAX_ENVELOPE_BYTES).map_err(op_error)?;
    Envelope::from_json(&bytes).map_err(|e| op_error(format!("{}: {e}", path.display())))
}
