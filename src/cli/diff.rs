//! `blueprint diff`: a blueprint against a newer blueprint, or against
//! evidence (observation files, raw captures, CycloneDX SBOMs).
//!
//! Exit codes: 0 no deviation or minor only; 1 at least one forfeit-worthy
//! deviation, or a blueprint that `--pubkey` requires to be signed is not a
//! verified envelope; 2 operational failure, including evidence too
//! incomplete to conclude (never "matches" on missing evidence).

use super::{EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::device::diff::evidence::{EvidenceInput, diff_evidence};
use blueprint::device::diff::{Report, Verdict, manifest, render};
use blueprint::device::observe::{
    EvidenceKind, OBSERVATION_FORMAT, Observation, pcap, sbom, sniff,
};
use serde::de::IgnoredAny;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Grouped by class, forfeit-worthy first.
    Human,
    /// The report (schemas/deviations.v1.schema.json).
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// JUnit XML: one test case per deviation class, plus one for the evidence.
    Junit,
}

/// Arguments of `diff`.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Exit status: 0 no deviation, or minor ones only; 1 a forfeit-worthy deviation, or with --pubkey a blueprint that is not a verified envelope; 2 insufficient evidence (missing, truncated or unparsable evidence: never \"matches\"), or an operational error."
)]
pub struct DiffArgs {
    /// The reference blueprint (manifest JSON/TOML, or a signed DSSE envelope with --pubkey).
    pub blueprint: PathBuf,
    /// A newer blueprint to compare with (manifest mode).
    #[arg(conflicts_with = "evidence")]
    pub new: Option<PathBuf>,
    /// Evidence: observation JSON, pcap/pcapng capture or CycloneDX SBOM (repeatable).
    #[arg(long, value_name = "FILE")]
    pub evidence: Vec<PathBuf>,
    /// The device in raw captures given as evidence (IP or MAC address).
    #[arg(long)]
    pub device: Option<String>,
    /// Vendor public key (SPKI PEM); repeatable. BLUEPRINT must then be an envelope signed by one of them.
    #[arg(long = "pubkey", value_name = "FILE")]
    pub pubkeys: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report here (atomically) instead of to standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file (a private key file is never replaced).
    #[arg(long)]
    pub force: bool,
}

/// The blueprint `--pubkey` asked for is not a verified envelope: a failed
/// verification (exit 1), not an operational error.
#[derive(Debug)]
struct NotVerified(String);

impl std::fmt::Display for NotVerified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotVerified {}

/// Runs `diff` and maps the verdict to the exit code.
pub fn run(a: &DiffArgs) -> u8 {
    match diff(a) {
        Ok(code) => code,
        Err(e) => {
            output::error(&format!("{e:#}"));
            if e.is::<NotVerified>() {
                EXIT_FINDINGS
            } else {
                EXIT_OPERATIONAL
            }
        }
    }
}

fn diff(a: &DiffArgs) -> anyhow::Result<u8> {
    let base = load_blueprint(&a.blueprint, &a.pubkeys, true)?;
    let base_name = a.blueprint.display().to_string();
    let report = if let Some(new) = &a.new {
        let newer = load_blueprint(new, &a.pubkeys, false)?;
        manifest::report(&base, &base_name, &newer, &new.display().to_string())
    } else {
        if a.evidence.is_empty() {
            anyhow::bail!("give a newer blueprint or at least one --evidence file");
        }
        let device = a
            .device
            .as_deref()
            .map(str::parse::<pcap::Device>)
            .transpose()?;
        let inputs: Vec<EvidenceInput> = a
            .evidence
            .iter()
            .map(|p| load_evidence(p, device))
            .collect();
        diff_evidence(&base, &base_name, &inputs)
    };
    if a.output.is_none() && matches!(a.format, Format::Json | Format::Sarif) {
        stream_json(&report, a.format)?;
        return Ok(exit_code(&report));
    }
    let text = match a.format {
        Format::Human => render::human(&report),
        Format::Json => serde_json::to_string_pretty(&report)? + "\n",
        Format::Sarif => serde_json::to_string_pretty(&render::sarif(&report))? + "\n",
        Format::Junit => render::junit(&report),
    };
    let replace = output::Replace {
        force: a.force,
        key: None,
    };
    output::write_output(a.output.as_deref(), text.as_bytes(), replace)
        .map_err(anyhow::Error::msg)?;
    if let Some(p) = &a.output {
        output::stderr_line(&format!(
            "wrote {} ({})",
            p.display(),
            verdict_text(&report)
        ));
    }
    Ok(exit_code(&report))
}

/// JSON and SARIF to standard output, serialized as they are written: the
/// report is never held a second time as text. A closed pipe is not an error.
fn stream_json(report: &Report, format: Format) -> anyhow::Result<()> {
    use std::io::Write;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = match format {
        Format::Sarif => serde_json::to_writer_pretty(&mut w, &render::sarif(report)),
        _ => serde_json::to_writer_pretty(&mut w, report),
    }
    .map_err(std::io::Error::from)
    .and_then(|()| w.write_all(b"\n"))
    .and_then(|()| w.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::anyhow!("cannot write output: {e}"))
        }
        _ => Ok(()),
    }
}

fn verdict_text(r: &Report) -> &'static str {
    match r.verdict {
        Verdict::Matches => "matches",
        Verdict::MinorOnly => "minor deviations only",
        Verdict::ForfeitWorthy => "forfeit-worthy deviations",
        Verdict::InsufficientEvidence => "insufficient evidence",
    }
}

fn exit_code(r: &Report) -> u8 {
    match r.verdict {
        Verdict::Matches | Verdict::MinorOnly => EXIT_OK,
        Verdict::ForfeitWorthy => EXIT_FINDINGS,
        Verdict::InsufficientEvidence => EXIT_OPERATIONAL,
    }
}

/// A manifest, or a signed deposit envelope. An envelope is verified
/// against `--pubkey` first and only its verified payload is used. With
/// `--pubkey`, the reference blueprint (`required`) must be a verified
/// envelope: a plain manifest, an envelope this tool does not recognise or
/// one that does not verify stops the diff with exit 1 — a key that is
/// given must be checked, never skipped with a warning.
fn load_blueprint(path: &Path, pubkeys: &[PathBuf], required: bool) -> anyhow::Result<Value> {
    use blueprint::attest::dsse::{Envelope, MAX_ENVELOPE_BYTES};
    use blueprint::attest::keys::PublicKey;
    use blueprint::attest::statement::verify_deposit;
    let shown = path.display();
    let bytes = output::read_limited(path, MAX_ENVELOPE_BYTES).map_err(anyhow::Error::msg)?;
    // Only the top-level names matter here; the values are skipped, not built.
    let probe: Option<BTreeMap<String, IgnoredAny>> = serde_json::from_slice(&bytes).ok();
    let envelope_like = probe.as_ref().is_some_and(looks_like_envelope);
    if pubkeys.is_empty() {
        if envelope_like {
            anyhow::bail!(
                "{shown} is a signed envelope: give the vendor's key with --pubkey to verify it"
            );
        }
        drop(bytes);
        return load_manifest(path);
    }
    if !envelope_like {
        if required {
            return Err(NotVerified(format!(
                "{shown} is not a signed envelope, so --pubkey cannot verify it; diff stopped (sign it with `blueprint sign`, or drop --pubkey to diff an unsigned manifest)"
            ))
            .into());
        }
        return load_manifest(path);
    }
    let trusted = pubkeys
        .iter()
        .map(|p| PublicKey::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let envelope = Envelope::from_json(&bytes).map_err(|e| {
        NotVerified(format!(
            "{shown}: not a DSSE envelope this tool can verify ({e}); diff stopped"
        ))
    })?;
    let one = std::num::NonZeroUsize::MIN;
    let verified = verify_deposit(&envelope, &trusted, one, None).map_err(|e| {
        NotVerified(format!(
            "{shown}: envelope does not verify, diff stopped: {e}"
        ))
    })?;
    Ok(verified.deposit.manifest)
}

/// A JSON object shaped like a DSSE envelope, leniently: any key that is
/// `payloadType` up to case and surrounding space, or both `payload` and
/// `signatures`. Such a file is never diffed as if it were a manifest.
fn looks_like_envelope(o: &BTreeMap<String, IgnoredAny>) -> bool {
    let has = |name: &str| o.keys().any(|k| k.trim().eq_ignore_ascii_case(name));
    has("payloadType") || (has("payload") && has("signatures"))
}

/// Loads one evidence file; any failure becomes "insufficient evidence".
fn load_evidence(path: &Path, device: Option<pcap::Device>) -> EvidenceInput {
    let name = path.display().to_string();
    EvidenceInput {
        observation: read_evidence(path, &name, device),
        name,
    }
}

fn read_evidence(
    path: &Path,
    name: &str,
    device: Option<pcap::Device>,
) -> Result<Observation, String> {
    use std::io::Read;
    blueprint::input::regular_file(path).map_err(|e| e.to_string())?;
    let mut f = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let mut head = [0u8; 64];
    let n = f.read(&mut head).map_err(|e| format!("cannot read: {e}"))?;
    match sniff(&head[..n]) {
        EvidenceKind::Capture => {
            let device =
                device.ok_or("a raw capture needs --device IP|MAC to pick the device's traffic")?;
            let f = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
            let opts = pcap::Options {
                device,
                limits: pcap::Limits::default(),
                allow_truncated: true,
            };
            pcap::observe(std::io::BufReader::with_capacity(1 << 20, f), name, &opts)
                .map_err(|e| e.to_string())
        }
        EvidenceKind::Json => {
            let bytes = output::read_limited(path, sbom::MAX_SBOM_BYTES)?;
            // Which kind of file: two top-level members, the rest skipped unbuilt.
            #[derive(serde::Deserialize)]
            struct Probe {
                #[serde(rename = "bomFormat")]
                bom_format: Option<IgnoredAny>,
                format: Option<Value>,
            }
            let probe: Probe = match serde_json::from_slice(&bytes) {
                Ok(p) => p,
                // Valid JSON of another shape (an array, a string...).
                Err(_) if serde_json::from_slice::<IgnoredAny>(&bytes).is_ok() => Probe {
                    bom_format: None,
                    format: None,
                },
                Err(e) => return Err(format!("not valid JSON: {e}")),
            };
            if probe.bom_format.is_some() {
                return sbom::observe(&bytes, name).map_err(|e| e.to_string());
            }
            if probe.format.as_ref().and_then(Value::as_str) != Some(OBSERVATION_FORMAT) {
                return Err(format!(
                    "neither a CycloneDX SBOM nor an observation file (`format` is not {OBSERVATION_FORMAT:?})"
                ));
            }
            serde_json::from_slice(&bytes).map_err(|e| format!("invalid observation: {e}"))
        }
        EvidenceKind::Unknown => {
            Err("not a capture, an observation file or a CycloneDX SBOM".into())
        }
    }
}

/// Loads a manifest (TOML or JSON) through the document loader, so the
/// diff sees exactly the value validation and signing see.
pub(crate) fn load_manifest(path: &Path) -> anyhow::Result<Value> {
    use blueprint::manifest::document::{Format, Limits, load};
    let limits = Limits::default();
    let bytes = output::read_limited(path, limits.max_bytes).map_err(anyhow::Error::msg)?;
    let mut map = blueprint::source::SourceMap::new();
    let name = path.display().to_string();
    if Format::detect(&name, &bytes) == Format::Json
        && let Some(v) = blueprint::device::diff::fast_json::parse(&bytes, &limits)
    {
        return Ok(v);
    }
    match load(&mut map, &name, &bytes, &limits) {
        Ok(doc) => Ok(doc.value),
        Err(diags) => {
            let msgs: Vec<String> = diags
                .iter()
                .map(|d| format!("{} ({})", d.message, d.code))
                .collect();
            anyhow::bail!("{name}: {}", msgs.join("; "))
        }
    }
}
