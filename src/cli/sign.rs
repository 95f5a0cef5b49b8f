//! `blueprint sign MANIFEST --key KEY [-o OUT]`: validate, then wrap the
//! manifest in a signed DSSE envelope (in-toto Statement v1).
//! `blueprint sign --append ENVELOPE --key LAB_KEY`: re-validate the enclosed
//! manifest and add a co-signature.

use super::canon::print_diagnostics;
use super::validate::{parse_date, today};
use super::{ColorChoice, EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::canon;
use blueprint::attest::dsse::{Envelope, MAX_ENVELOPE_BYTES};
use blueprint::attest::keys::SigningKeyFile;
use blueprint::attest::statement::{self, PAYLOAD_TYPE};
use blueprint::manifest::document::Limits;
use blueprint::profile::Selection;
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_for_signing};
use blueprint::validated::ValidatedManifest;
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Arguments of `sign`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["manifest", "append"])))]
pub struct SignArgs {
    /// Manifest to validate and sign (TOML or JSON).
    #[arg(value_name = "MANIFEST")]
    pub manifest: Option<PathBuf>,

    /// Co-sign an existing envelope instead (its manifest is validated again).
    #[arg(long, value_name = "ENVELOPE", conflicts_with = "manifest")]
    pub append: Option<PathBuf>,

    /// Private key (PKCS#8 PEM, mode 0600), e.g. from `blueprint keygen` or `openssl genpkey -algorithm ed25519`.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,

    /// Write the envelope here (atomically) instead of to standard output.
    #[arg(short = 'o', long = "out", value_name = "OUT")]
    pub out: Option<PathBuf>,

    /// Evaluate date-gated rules as of this date (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<time::Date>,
}

pub fn run(args: &SignArgs, color: ColorChoice) -> u8 {
    match sign(args, color) {
        Ok(()) => EXIT_OK,
        Err(code) => code,
    }
}

fn sign(args: &SignArgs, color: ColorChoice) -> Result<(), u8> {
    let options = ValidateOptions {
        schema_only: false,
        as_of: args.as_of.unwrap_or_else(today),
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    let envelope = if let Some(env_path) = &args.append {
        let mut envelope = read_envelope(env_path)?;
        let payload = envelope.payload_bytes().map_err(op_error)?;
        if envelope.payload_type != PAYLOAD_TYPE {
            return Err(op_error(format!(
                "{}: payloadType is {:?}, not a blueprint deposit",
                env_path.display(),
                envelope.payload_type
            )));
        }
        let deposit = statement::parse_deposit(&payload).map_err(op_error)?;
        let canonical = canon::canonicalize(&deposit.manifest).map_err(op_error)?;
        // The co-signer checks the manifest itself, not the vendor's claim.
        let name = format!("{}#manifest.json", env_path.display());
        validated(&name, &canonical, &options, color)?;
        let key = load_key(&args.key)?;
        envelope.append_signature(&key).map_err(op_error)?;
        envelope
    } else if let Some(path) = &args.manifest {
        let bytes = output::read_limited(path, options.limits.max_bytes).map_err(op_error)?;
        let manifest = validated(&path.display().to_string(), &bytes, &options, color)?;
        let key = load_key(&args.key)?;
        statement::sign_manifest(&manifest, &key).map_err(|e| {
            output::error(&format!("refusing to sign: {e}"));
            EXIT_FINDINGS
        })?
    } else {
        return Err(op_error("give a MANIFEST to sign or --append ENVELOPE"));
    };
    write_output(args.out.as_deref(), &envelope.to_json()).map_err(op_error)
}

/// Runs the full validation; error-level findings refuse signing (exit 1).
fn validated(
    name: &str,
    bytes: &[u8],
    options: &ValidateOptions,
    color: ColorChoice,
) -> Result<ValidatedManifest, u8> {
    let mut map = SourceMap::new();
    let library = super::profiles::builtin_library(&mut map)?;
    let (report, validated) = validate_for_signing(&mut map, &library, name, bytes, options);
    print_diagnostics(&map, &report.diagnostics, color);
    validated.ok_or_else(|| {
        output::error(&format!(
            "refusing to sign {name}: {} error-level finding(s)",
            report.counts.error
        ));
        EXIT_FINDINGS
    })
}

fn load_key(path: &Path) -> Result<SigningKeyFile, u8> {
    SigningKeyFile::load(path).map_err(op_error)
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

/// Standard output, or `path` replaced atomically (temporary file in the
/// same directory, synced, renamed).
fn write_output(path: Option<&Path>, bytes: &[u8]) -> Result<(), String> {
    let Some(path) = path else {
        return output::stdout(bytes).map_err(|e| format!("cannot write output: {e}"));
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| format!("cannot write {}: {e}", path.display()))
}
