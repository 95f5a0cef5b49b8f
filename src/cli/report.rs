//! `blueprint report MANIFEST`: the self-contained HTML report of a
//! manifest (device, digest, data items, data-flow map, destinations,
//! profiles and findings) for a lab or a regulator.

use super::canon::print_diagnostics;
use super::{ColorChoice, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::attest::canon::Digest;
use blueprint::explore::flow::FlowOptions;
use blueprint::explore::report::{ReportInput, render};
use blueprint::manifest::document::Limits;
use blueprint::profile::Selection;
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_bytes};
use std::path::PathBuf;

/// Arguments of `report`.
#[derive(Debug, clap::Args)]
#[command(
    after_long_help = "The page has no scripts and loads nothing: one file to mail, archive or print. It is written even when validation finds errors (they are in the report); `blueprint validate` is the check that fails.\n\nExit status: 0 written (findings or not); 2 unreadable or unparsable manifest, bad arguments, existing output without --force."
)]
pub struct ReportArgs {
    /// The manifest (TOML or JSON).
    pub manifest: PathBuf,
    /// Write the HTML here (atomically) instead of to standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace an existing output file (a private key file is never replaced).
    #[arg(long)]
    pub force: bool,
    /// Validate as of this date (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DATE", value_parser = super::validate::parse_date)]
    pub as_of: Option<time::Date>,
}

/// Runs `report`: exit 0 written, 2 when the manifest cannot be read.
pub fn run(a: &ReportArgs, color: ColorChoice) -> u8 {
    let limits = Limits::default();
    let bytes = match output::read_limited(&a.manifest, limits.max_bytes) {
        Ok(b) => b,
        Err(e) => {
            output::error(&e);
            return EXIT_OPERATIONAL;
        }
    };
    let mut map = SourceMap::new();
    let library = match super::profiles::builtin_library(&mut map) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let as_of = a.as_of.unwrap_or_else(super::validate::today);
    let options = ValidateOptions {
        schema_only: false,
        as_of,
        limits,
        selection: Selection::Auto,
    };
    let name = a.manifest.display().to_string();
    let report = validate_bytes(&mut map, Some(&library), &name, &bytes, &options);
    let Some(doc) = &report.document else {
        print_diagnostics(&map, &report.diagnostics, color);
        output::error(&format!("{name} cannot be read as a manifest"));
        return EXIT_OPERATIONAL;
    };
    let digest = match Digest::of_value(&doc.value) {
        Ok(d) => d.to_string(),
        Err(e) => {
            output::error(&format!("{name}: {e}"));
            return EXIT_OPERATIONAL;
        }
    };
    let html = render(
        &ReportInput {
            manifest: &doc.value,
            source_name: &name,
            digest: &digest,
            validation: &report,
            map: &map,
            library: &library,
            as_of,
        },
        &FlowOptions::default(),
    );
    let replace = output::Replace {
        force: a.force,
        key: None,
    };
    if let Err(e) = output::write_output(a.output.as_deref(), html.as_bytes(), replace) {
        output::error(&e);
        return EXIT_OPERATIONAL;
    }
    if let Some(p) = &a.output {
        output::stderr_line(&format!(
            "wrote {} ({}: {}, {} as of {as_of})",
            p.display(),
            if report.passed() {
                "passes"
            } else {
                "does not pass"
            },
            output::plural(report.counts.error as u64, "error", "errors"),
            output::plural(report.counts.warning as u64, "warning", "warnings"),
        ));
    }
    EXIT_OK
}
