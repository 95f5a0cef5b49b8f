//! `blueprint validate FILE...`

use super::render::{self, ReportFormat, RunInfo};
use super::{ColorChoice, EXIT_FINDINGS, EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::diag::Severity;
use blueprint::manifest::document::Limits;
use blueprint::profile::Selection;
use blueprint::source::SourceMap;
use blueprint::validate::{FileReport, ValidateOptions, validate_bytes};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest files (TOML or JSON).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Check the schema only: no reference resolution, no profiles.
    #[arg(long)]
    pub schema_only: bool,

    /// Evaluate date-gated rules as of this date (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<time::Date>,

    /// Profile id or path to a profile file (repeatable). Default: every
    /// profile whose scope matches the manifest's markets, plus report-baseline.
    /// A chosen profile that does not apply to the manifest is reported as
    /// such, and its rules stay silent.
    #[arg(long = "profile", value_name = "ID|PATH")]
    pub profiles: Vec<String>,

    /// Evaluate this profile even where it does not apply (a what-if;
    /// repeatable; id or path).
    #[arg(long = "force-profile", value_name = "ID|PATH")]
    pub force_profiles: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,

    #[command(flatten)]
    pub view: HumanView,
}

/// What human output shows. Machine formats (json, sarif, junit) always
/// carry every finding and ignore these flags.
#[derive(Debug, Clone, Args)]
pub struct HumanView {
    /// Print only the summary of each file.
    #[arg(short, long, conflicts_with_all = ["verbose", "min_severity"])]
    pub quiet: bool,

    /// Also show info-level findings (same as `--min-severity info`).
    #[arg(short, long, conflicts_with = "min_severity")]
    pub verbose: bool,

    /// Least severe finding shown in human output (default: warning).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub min_severity: Option<MinSeverity>,

    /// Page human output through `$PAGER` (default `less -R`).
    #[arg(long)]
    pub pager: bool,
}

/// `--min-severity` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MinSeverity {
    /// Errors only.
    Error,
    /// Errors and warnings.
    Warning,
    /// Everything, notices included.
    Info,
}

impl HumanView {
    /// The least severe finding to show.
    pub fn min_severity(&self) -> Severity {
        match (self.verbose, self.min_severity) {
            (true, _) | (_, Some(MinSeverity::Info)) => Severity::Info,
            (_, Some(MinSeverity::Error)) => Severity::Error,
            _ => Severity::Warning,
        }
    }

    /// Writes human output, through the pager when asked for.
    pub fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        if self.pager {
            output::paged(bytes)
        } else {
            output::stdout(bytes)
        }
    }
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<time::Date, String> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .map_err(|e| format!("`{s}` is not a date of the form YYYY-MM-DD ({e})"))
}

/// Today in UTC.
pub fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

pub fn run(args: &ValidateArgs, color: ColorChoice) -> u8 {
    let as_of = args.as_of.unwrap_or_else(today);
    let mut map = SourceMap::new();
    let library = if args.schema_only {
        None
    } else {
        match super::profiles::library_for(&mut map, &args.profiles, &args.force_profiles) {
            Ok(l) => Some(l),
            Err(code) => return code,
        }
    };
    let (library, selection) = match library {
        Some((l, s)) => (Some(l), s),
        None => (None, Selection::Auto),
    };
    let options = ValidateOptions {
        schema_only: args.schema_only,
        as_of,
        limits: Limits::default(),
        selection,
    };
    let mut reports: Vec<FileReport> = Vec::new();
    for path in &args.files {
        let bytes = match output::read_limited(path, options.limits.max_bytes) {
            Ok(b) => b,
            Err(e) => {
                output::error(&e);
                return EXIT_OPERATIONAL;
            }
        };
        let name = path.display().to_string();
        reports.push(validate_bytes(
            &mut map,
            library.as_ref(),
            &name,
            &bytes,
            &options,
        ));
    }
    let as_of_text = as_of.to_string();
    let info = RunInfo {
        as_of: &as_of_text,
        color: output::use_color(color),
        min_severity: args.view.min_severity(),
        quiet: args.view.quiet,
    };
    let rendered = match args.format {
        ReportFormat::Human => render::human(&map, &reports, &info),
        ReportFormat::Json => pretty(&render::json_report(&map, &reports, &info)),
        ReportFormat::Sarif => pretty(&render::sarif(&map, &reports)),
        ReportFormat::Junit => render::junit(&map, &reports).into_bytes(),
    };
    let written = match args.format {
        ReportFormat::Human => args.view.write(&rendered),
        _ => output::stdout(&rendered),
    };
    if let Err(e) = written {
        output::error(&format!("cannot write output: {e}"));
        return EXIT_OPERATIONAL;
    }
    if reports.iter().all(FileReport::passed) {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    }
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).unwrap_or_default();
    s.push(b'\n');
    s
}
