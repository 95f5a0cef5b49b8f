//! `blueprint verify ENVELOPE --pubkey FILE... [--threshold N] [--manifest FILE]`
//!
//! Exit 0: verified. Exit 1: not verified, with the reason. Exit 2: the
//! verification could not be carried out (unreadable file, bad key file,
//! bad arguments).

use super::canon::canonical_file;
use super::{ColorChoice, EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::canon::Digest;
use blueprint::attest::dsse::{Envelope, MAX_ENVELOPE_BYTES, Rejection};
use blueprint::attest::keys::PublicKey;
use blueprint::attest::statement::{DepositRejection, VerifiedDeposit, verify_deposit};
use clap::{Args, ValueEnum};
use serde_json::json;
use std::io::Read;
use std::num::NonZeroUsize;
use std::path::PathBuf;

/// Output formats of `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    /// One line for people.
    Human,
    /// A JSON object.
    Json,
}

/// Arguments of `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// DSSE envelope written by `blueprint sign`.
    #[arg(value_name = "ENVELOPE")]
    pub envelope: PathBuf,

    /// Trusted public key (SPKI PEM); repeat for several. Key ids in the envelope are only hints.
    #[arg(long = "pubkey", value_name = "FILE", required = true)]
    pub pubkeys: Vec<PathBuf>,

    /// Distinct trusted keys that must have signed.
    #[arg(long, value_name = "N", default_value = "1")]
    pub threshold: NonZeroUsize,

    /// Also require the envelope to be about this manifest (its digest must equal the subject's).
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Human)]
    pub format: VerifyFormat,
}

pub fn run(args: &VerifyArgs, color: ColorChoice) -> u8 {
    let mut trusted = Vec::with_capacity(args.pubkeys.len());
    for p in &args.pubkeys {
        match PublicKey::load(p) {
            Ok(k) => trusted.push(k),
            Err(e) => {
                output::error(&e.to_string());
                return EXIT_OPERATIONAL;
            }
        }
    }
    let expected = match &args.manifest {
        Some(path) => match canonical_file(path, color) {
            Ok(bytes) => Some(Digest::of_bytes(&bytes)),
            Err(_) => return EXIT_OPERATIONAL,
        },
        None => None,
    };
    let bytes = match read_bounded(&args.envelope) {
        Ok(b) => b,
        Err(e) => {
            output::error(&e);
            return EXIT_OPERATIONAL;
        }
    };
    let result = Envelope::from_json(&bytes)
        .map_err(DepositRejection::from)
        .and_then(|env| verify_deposit(&env, &trusted, args.threshold, expected));
    let rendered = match args.format {
        VerifyFormat::Human => human(&result),
        VerifyFormat::Json => json_output(&result, args.threshold),
    };
    if let Err(e) = output::stdout(rendered.as_bytes()) {
        output::error(&format!("cannot write output: {e}"));
        return EXIT_OPERATIONAL;
    }
    if result.is_ok() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}

/// Reads at most [`MAX_ENVELOPE_BYTES`] + 1 bytes, so an over-size envelope
/// is detected (and refused by the parser) without reading all of it.
fn read_bounded(path: &PathBuf) -> Result<Vec<u8>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_ENVELOPE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(bytes)
}

fn human(result: &Result<VerifiedDeposit, DepositRejection>) -> String {
    match result {
        Ok(v) => {
            let mut s = format!(
                "verified: {} {}\n  signed by {} trusted key(s): {}\n  validated as of {} against [{}] by blueprint {}: {} error, {} warning, {} info\n",
                v.deposit.name,
                v.deposit.digest,
                v.signers.len(),
                v.signers
                    .iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                v.deposit.summary.as_of,
                v.deposit.summary.profiles.join(", "),
                v.deposit.summary.tool_version,
                v.deposit.summary.counts.error,
                v.deposit.summary.counts.warning,
                v.deposit.summary.counts.info,
            );
            for n in &v.notes {
                s.push_str(&format!(
                    "  note: signature #{} did not count: {}\n",
                    n.index, n.problem
                ));
            }
            s
        }
        Err(e) => format!("not verified: {e}\n"),
    }
}

fn json_output(
    result: &Result<VerifiedDeposit, DepositRejection>,
    threshold: NonZeroUsize,
) -> String {
    let notes = |notes: &[blueprint::attest::dsse::SignatureNote]| {
        notes
            .iter()
            .map(|n| json!({"index": n.index, "keyid": n.keyid, "problem": n.problem.to_string()}))
            .collect::<Vec<_>>()
    };
    let v = match result {
        Ok(v) => json!({
            "verified": true,
            "subject": {"name": v.deposit.name, "digest": v.deposit.digest.to_string()},
            "signers": v.signers.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
            "threshold": threshold.get(),
            "validation": v.deposit.summary,
            "ignored_signatures": notes(&v.notes),
        }),
        Err(e) => {
            let mut o = json!({
                "verified": false,
                "reason": reason_code(e),
                "message": e.to_string(),
                "threshold": threshold.get(),
            });
            if let DepositRejection::Envelope(Rejection::ThresholdNotMet { notes: n, .. }) = e {
                o["ignored_signatures"] = json!(notes(n));
            }
            o
        }
    };
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// Stable machine-readable reason codes.
fn reason_code(e: &DepositRejection) -> &'static str {
    match e {
        DepositRejection::Envelope(r) => match r {
            Rejection::TooLarge { .. } => "envelope-too-large",
            Rejection::TooManySignatures { .. } => "too-many-signatures",
            Rejection::Malformed(_) => "malformed-envelope",
            Rejection::PayloadType { .. } => "payload-type",
            Rejection::PayloadEncoding => "payload-encoding",
            Rejection::ThresholdNotMet { .. } => "threshold-not-met",
            _ => "envelope",
        },
        DepositRejection::NonCanonicalPayload => "non-canonical-payload",
        DepositRejection::Statement(_) => "invalid-statement",
        DepositRejection::SubjectMismatch { .. } => "subject-mismatch",
        _ => "rejected",
    }
}
