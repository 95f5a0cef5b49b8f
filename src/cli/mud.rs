//! `blueprint mud`: RFC 8520 MUD export of a blueprint.
//!
//! A MUD file tells network gear what the device may reach, so it is only
//! exported from a manifest without error-level findings (as of today)
//! unless `--allow-errors` says otherwise.

use super::canon::print_diagnostics;
use super::{ColorChoice, EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::device::mud::{MudOptions, mud};
use blueprint::diag::Severity;
use blueprint::manifest::document::{Document, Limits};
use blueprint::profile::Selection;
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_bytes};
use std::path::PathBuf;

/// Arguments of `mud`.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "Exit status: 0 written; 1 refused (error-level findings as of today, without --allow-errors); 2 unreadable manifest, bad arguments, existing output without --force."
)]
pub struct MudArgs {
    /// The blueprint manifest (JSON or TOML).
    pub blueprint: PathBuf,
    /// The https URL the MUD file will be served from (RFC 8520 §3.3).
    #[arg(long, value_name = "URL")]
    pub mud_url: String,
    /// How long a MUD manager may cache the file, in hours (1–168).
    #[arg(long, default_value_t = 48, value_parser = clap::value_parser!(u8).range(1..=168))]
    pub cache_validity: u8,
    /// Export even when the manifest has error-level findings.
    #[arg(long)]
    pub allow_errors: bool,
    /// Write the MUD file here (atomically) instead of to standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file (a private key file is never replaced).
    #[arg(long)]
    pub force: bool,
}

/// Runs `mud`: exit 0 written; 1 refused (error-level findings); 2 unreadable
/// blueprint or bad arguments.
pub fn run(a: &MudArgs, color: ColorChoice) -> u8 {
    match export(a, color) {
        Ok(code) => code,
        Err(e) => {
            output::error(&format!("{e:#}"));
            EXIT_OPERATIONAL
        }
    }
}

fn export(a: &MudArgs, color: ColorChoice) -> anyhow::Result<u8> {
    if !a.mud_url.starts_with("https://") {
        anyhow::bail!("--mud-url must be an https URL (RFC 8520 §3.3)");
    }
    let limits = Limits::default();
    let bytes = output::read_limited(&a.blueprint, limits.max_bytes).map_err(anyhow::Error::msg)?;
    let mut map = SourceMap::new();
    let library = super::profiles::builtin_library(&mut map)
        .map_err(|_| anyhow::anyhow!("the built-in profiles could not be loaded"))?;
    let options = ValidateOptions {
        schema_only: false,
        as_of: super::validate::today(),
        limits,
        selection: Selection::Auto,
    };
    let name = a.blueprint.display().to_string();
    let mut report = validate_bytes(&mut map, Some(&library), &name, &bytes, &options);
    drop(bytes);
    let Some(doc) = report.document.take() else {
        print_diagnostics(&map, &report.diagnostics, color);
        anyhow::bail!("{name} cannot be read as a manifest");
    };
    if report.counts.error > 0 {
        if !a.allow_errors {
            // Filtered in place: 100,000 findings are not copied to be shown.
            report.diagnostics.retain(|d| d.severity == Severity::Error);
            print_diagnostics(&map, &report.diagnostics, color);
            output::error(&format!(
                "refusing to export {name}: {} as of {} (fix them, or pass --allow-errors)",
                output::plural(
                    report.counts.error as u64,
                    "error-level finding",
                    "error-level findings"
                ),
                options.as_of
            ));
            return Ok(EXIT_FINDINGS);
        }
        output::stderr_line(&format!(
            "warning: {name}: exporting despite {} (--allow-errors)",
            output::plural(
                report.counts.error as u64,
                "error-level finding",
                "error-level findings"
            )
        ));
    }
    // Only the value is needed from here on: the source text, its spans
    // and the findings are freed before the MUD file is built.
    let Document { value, spans, .. } = doc;
    drop((report, map, library, spans));
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)?;
    let m = mud(
        &value,
        &MudOptions {
            mud_url: a.mud_url.clone(),
            now,
            cache_validity_hours: a.cache_validity,
        },
    );
    for s in &m.skipped {
        output::stderr_line(&format!(
            "warning: {}: not expressible in MUD: {}",
            s.pointer, s.reason
        ));
    }
    drop(value);
    if a.output.is_none() {
        // Serialized as it is written: the file is never held twice.
        use std::io::Write;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        let written = serde_json::to_writer_pretty(&mut w, &m.document)
            .map_err(std::io::Error::from)
            .and_then(|()| w.write_all(b"\n"))
            .and_then(|()| w.flush());
        return match written {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(anyhow::anyhow!("cannot write output: {e}"))
            }
            _ => Ok(EXIT_OK),
        };
    }
    let mut text = serde_json::to_string_pretty(&m.document)?;
    text.push('\n');
    let replace = output::Replace {
        force: a.force,
        key: None,
    };
    output::write_output(a.output.as_deref(), text.as_bytes(), replace)
        .map_err(anyhow::Error::msg)?;
    if let Some(p) = &a.output {
        output::stderr_line(&format!("wrote {}", p.display()));
    }
    Ok(EXIT_OK)
}
