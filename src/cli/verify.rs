//! `blueprint verify ENVELOPE --pubkey FILE... [--threshold N] [--manifest FILE] [--revalidate]`
//!
//! Exit 0: verified. Exit 1: not verified, with the reason, or (with
//! `--revalidate`) the enclosed manifest now has error-level findings.
//! Exit 2: the verification could not be carried out (unreadable file,
//! bad key file, bad arguments).
//!
//! The recorded validation is the signer's claim as of the day it signed;
//! its age is always shown, and `--revalidate` checks the manifest again as
//! of today.

use super::canon::{canonical_file, print_diagnostics};
use super::validate::{parse_date, today};
use super::{ColorChoice, EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::canon::Digest;
use blueprint::attest::dsse::{Envelope, MAX_ENVELOPE_BYTES, Rejection};
use blueprint::attest::keys::PublicKey;
use blueprint::attest::statement::{DepositRejection, VerifiedDeposit, verify_deposit};
use blueprint::diag::{Counts, Severity};
use blueprint::manifest::document::Limits;
use blueprint::profile::Selection;
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_bytes};
use clap::{Args, ValueEnum};
use serde_json::json;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

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
#[command(
    after_long_help = "Exit status: 0 verified; 1 not verified, or with --revalidate error-level findings as of today; 2 the verification could not be carried out (unreadable file, bad key, bad arguments)."
)]
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

    /// Also validate the enclosed manifest again as of today (exit 1 if it now has error-level findings).
    #[arg(long)]
    pub revalidate: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Human)]
    pub format: VerifyFormat,
}

/// The enclosed manifest validated again as of today.
struct Revalidation {
    as_of: time::Date,
    profiles: Vec<String>,
    counts: Counts,
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
    let today = today();
    let revalidation = match (&result, args.revalidate) {
        (Ok(v), true) => match revalidate(&args.envelope, &v.deposit.manifest, today, color) {
            Ok(r) => Some(r),
            Err(code) => return code,
        },
        _ => None,
    };
    let rendered = match args.format {
        VerifyFormat::Human => human(&result, today, revalidation.as_ref()),
        VerifyFormat::Json => json_output(&result, args.threshold, today, revalidation.as_ref()),
    };
    if let Err(e) = output::stdout(rendered.as_bytes()) {
        output::error(&format!("cannot write output: {e}"));
        return EXIT_OPERATIONAL;
    }
    let now_failing = revalidation.as_ref().is_some_and(|r| r.counts.error > 0);
    if result.is_ok() && !now_failing {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}

/// Validates the verified manifest again as of `today` with the built-in
/// profiles of its markets; error-level findings are shown on standard error.
fn revalidate(
    envelope: &Path,
    manifest: &serde_json::Value,
    today: time::Date,
    color: ColorChoice,
) -> Result<Revalidation, u8> {
    // Pretty-printed, so a finding quotes a line, not the whole manifest.
    let text = serde_json::to_vec_pretty(manifest).map_err(|e| {
        output::error(&format!("cannot re-encode the enclosed manifest: {e}"));
        EXIT_OPERATIONAL
    })?;
    let mut map = SourceMap::new();
    let library = super::profiles::builtin_library(&mut map)?;
    let options = ValidateOptions {
        schema_only: false,
        as_of: today,
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    let name = format!("{}#manifest.json", envelope.display());
    let report = validate_bytes(&mut map, Some(&library), &name, &text, &options);
    if report.counts.error > 0 {
        let errors: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect();
        print_diagnostics(&map, &errors, color);
    }
    Ok(Revalidation {
        as_of: today,
        profiles: report.profiles,
        counts: report.counts,
    })
}

/// `13 days ago`, `today`, `1 day ago`, `3 days in the future`; `None`
/// when the recorded date is not a date.
fn age(as_of: &str, today: time::Date) -> Option<(i64, String)> {
    let date = parse_date(as_of).ok()?;
    let days = (today - date).whole_days();
    let text = match days {
        0 => "today".to_owned(),
        d if d > 0 => format!("{} ago", output::plural(d as u64, "day", "days")),
        d => format!(
            "{} in the future",
            output::plural(d.unsigned_abs(), "day", "days")
        ),
    };
    Some((days, text))
}

/// `0 errors, 11 warnings, 1 info`.
fn counts_text(c: &Counts) -> String {
    format!(
        "{}, {}, {}",
        output::plural(c.error as u64, "error", "errors"),
        output::plural(c.warning as u64, "warning", "warnings"),
        output::plural(c.info as u64, "info", "infos"),
    )
}

/// Reads at most [`MAX_ENVELOPE_BYTES`] + 1 bytes, so an over-size envelope
/// is detected (and refused by the parser) without reading all of it.
fn read_bounded(path: &std::path::Path) -> Result<Vec<u8>, String> {
    blueprint::input::read_bounded(path, MAX_ENVELOPE_BYTES as u64 + 1).map_err(|e| e.to_string())
}

fn human(
    result: &Result<VerifiedDeposit, DepositRejection>,
    today: time::Date,
    revalidation: Option<&Revalidation>,
) -> String {
    match result {
        Ok(v) => {
            let summary = &v.deposit.summary;
            let when = match age(&summary.as_of, today) {
                Some((_, ago)) => format!("{}, {ago}", summary.as_of),
                None => format!("{:?} (not a date)", summary.as_of),
            };
            let mut s = format!(
                "verified: {} {}\n  signed by {}: {}\n  validated {when} against [{}] by blueprint {}: {}\n",
                v.deposit.name,
                v.deposit.digest,
                output::plural(v.signers.len() as u64, "trusted key", "trusted keys"),
                v.signers
                    .iter()
                    .map(|k| k.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                summary.profiles.join(", "),
                summary.tool_version,
                counts_text(&summary.counts),
            );
            if let Some(r) = revalidation {
                s.push_str(&format!(
                    "  revalidated as of {} against [{}]: {}{}\n",
                    r.as_of,
                    r.profiles.join(", "),
                    counts_text(&r.counts),
                    if r.counts.error > 0 {
                        " (FAILS today's validation)"
                    } else {
                        ""
                    }
                ));
            }
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
    today: time::Date,
    revalidation: Option<&Revalidation>,
) -> String {
    let notes = |notes: &[blueprint::attest::dsse::SignatureNote]| {
        notes
            .iter()
            .map(|n| json!({"index": n.index, "keyid": n.keyid, "problem": n.problem.to_string()}))
            .collect::<Vec<_>>()
    };
    let v = match result {
        Ok(v) => {
            let mut o = json!({
                "verified": true,
                "subject": {"name": v.deposit.name, "digest": v.deposit.digest.to_string()},
                "signers": v.signers.iter().map(|k| k.to_string()).collect::<Vec<_>>(),
                "threshold": threshold.get(),
                "validation": v.deposit.summary,
                "validation_age_days": age(&v.deposit.summary.as_of, today).map(|(d, _)| d),
                "ignored_signatures": notes(&v.notes),
            });
            if let Some(r) = revalidation {
                o["revalidation"] = json!({
                    "as_of": r.as_of.to_string(),
                    "profiles": r.profiles,
                    "counts": r.counts,
                    "passes": r.counts.error == 0,
                });
            }
            o
        }
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
