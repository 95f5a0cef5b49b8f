//! `blueprint validate FILE...`

use super::render::{self, RunInfo};
use super::validate_batch::{self as batch, Input, Tally};
use super::{ColorChoice, EXIT_OPERATIONAL, output};
use blueprint::diag::{Counts, Severity};
use blueprint::manifest::document::Limits;
use blueprint::profile::{ProfileLibrary, Selection};
use blueprint::source::SourceMap;
use blueprint::validate::{FileReport, ValidateOptions, validate_bytes};
use clap::Args;
use std::io::IsTerminal;
use std::num::NonZeroUsize;
use std::path::PathBuf;

/// Arguments of `validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest files (TOML or JSON), directories (their `*.toml` and
    /// `*.json` files, recursively, sorted) or glob patterns (`'dir/*.json'`).
    #[arg(required = true, value_name = "PATH")]
    pub files: Vec<PathBuf>,

    /// Files validated at once (default: one per core).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<NonZeroUsize>,

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
    #[arg(long, value_enum, default_value_t = ValidateFormat::Human)]
    pub format: ValidateFormat,

    #[command(flatten)]
    pub view: HumanView,
}

/// Output formats of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValidateFormat {
    /// Caret diagnostics for people.
    Human,
    /// Stable JSON (schemas/report.v1.schema.json).
    Json,
    /// JSON Lines: one `files` entry of the JSON report per line, in input
    /// order, written as each file is done; the summary goes to stderr.
    Jsonl,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
    /// JUnit XML for CI test dashboards.
    Junit,
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
    let as_of_text = as_of.to_string();
    let info = RunInfo {
        as_of: &as_of_text,
        color: output::use_color(color),
        min_severity: args.view.min_severity(),
        quiet: args.view.quiet,
    };
    let inputs = batch::expand(&args.files);
    let run = Run {
        args,
        base: &map,
        library: library.as_ref(),
        options: &options,
        info: &info,
        inputs: &inputs,
    };
    match args.format {
        ValidateFormat::Sarif | ValidateFormat::Junit => run.whole(map.clone()),
        _ => run.streamed(),
    }
}

/// One `validate` run: the shared, read-only state every file needs.
struct Run<'a> {
    args: &'a ValidateArgs,
    /// The profiles' source files; each manifest is added to its own copy.
    base: &'a SourceMap,
    library: Option<&'a ProfileLibrary>,
    options: &'a ValidateOptions,
    info: &'a RunInfo<'a>,
    inputs: &'a [Input],
}

/// What a worker hands back for one input, already rendered.
struct Checked {
    /// `None`: the input could not be read (the message says why).
    outcome: Result<Verdict, String>,
    /// Human text, or one JSON Lines line.
    bytes: Vec<u8>,
    /// `--format json`: the file's entry of `files`, rendered.
    json: Option<Vec<u8>>,
}

struct Verdict {
    passed: bool,
    profiles: Vec<String>,
    counts: Counts,
}

impl Run<'_> {
    /// Reads and validates one input in a copy of the base source map and
    /// renders it in the run's format.
    fn check(&self, input: &Input) -> Checked {
        let (path, bytes) = match input {
            Input::Unusable(p, why) => {
                let path = p.display().to_string();
                return self.unreadable(path.clone(), format!("{path}: {why}"));
            }
            Input::File(p) => (
                p.display().to_string(),
                output::read_limited(p, self.options.limits.max_bytes),
            ),
        };
        let bytes = match bytes {
            Ok(b) => b,
            Err(e) => return self.unreadable(path, e),
        };
        let mut map = self.base.clone();
        let report = validate_bytes(&mut map, self.library, &path, &bytes, self.options);
        let reports = std::slice::from_ref(&report);
        let mut checked = Checked {
            outcome: Ok(Verdict {
                passed: report.passed(),
                profiles: report.profiles.clone(),
                counts: report.counts,
            }),
            bytes: Vec::new(),
            json: None,
        };
        match self.args.format {
            ValidateFormat::Human => checked.bytes = render::human(&map, reports, self.info),
            ValidateFormat::Json => checked.json = Some(render::file_entry(&map, &report, true)),
            ValidateFormat::Jsonl => {
                checked.bytes = render::file_entry(&map, &report, false);
                checked.bytes.push(b'\n');
            }
            ValidateFormat::Sarif | ValidateFormat::Junit => {}
        }
        checked
    }

    fn unreadable(&self, path: String, message: String) -> Checked {
        let bytes = if self.args.format == ValidateFormat::Jsonl {
            line(&serde_json::json!({"path": path, "error": message}))
        } else {
            Vec::new()
        };
        Checked {
            outcome: Err(message),
            bytes,
            json: None,
        }
    }

    /// Human, JSON and JSON Lines: files validated in parallel, each
    /// written (or, for JSON, kept as its rendered entry) in input order
    /// as soon as it and every earlier one are done.
    fn streamed(&self) -> u8 {
        let format = self.args.format;
        let many = self.inputs.len() > 1;
        let bar = if format == ValidateFormat::Human && many && std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(self.inputs.len() as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} files {elapsed_precise} (eta {eta})",
            ) {
                bar.set_style(style);
            }
            bar
        } else {
            indicatif::ProgressBar::hidden()
        };
        let paged = format == ValidateFormat::Human && self.args.view.pager;
        let mut held: Vec<u8> = Vec::new();
        let mut files: Vec<Vec<u8>> = Vec::new();
        let mut total = Counts::default();
        let mut tally = Tally::default();
        let mut write_failed = None;
        let jobs = batch::jobs(self.args.jobs.map(|n| n.get()));
        let ran = batch::run_ordered(
            self.inputs.len(),
            jobs,
            |i| self.check(&self.inputs[i]),
            |_, c| {
                bar.inc(1);
                match &c.outcome {
                    Ok(v) => {
                        tally.add(v.passed, &v.profiles);
                        total.error += v.counts.error;
                        total.warning += v.counts.warning;
                        total.info += v.counts.info;
                    }
                    Err(message) => {
                        tally.add_unreadable();
                        bar.suspend(|| output::error(message));
                    }
                }
                if let Some(j) = c.json {
                    files.push(j);
                }
                if paged {
                    held.extend(c.bytes);
                } else if !c.bytes.is_empty()
                    && let Err(e) = bar.suspend(|| output::stdout(&c.bytes))
                {
                    write_failed = Some(e);
                    return false;
                }
                true
            },
        );
        bar.finish_and_clear();
        if let Err(e) = ran
            .map_err(Some)
            .and(write_failed.map_or(Ok(()), |e| Err(Some(e))))
        {
            output::error(&format!(
                "cannot write output: {}",
                e.map_or_else(String::new, |e| e.to_string())
            ));
            return EXIT_OPERATIONAL;
        }
        let written = match format {
            ValidateFormat::Human => {
                let mut tail = if many {
                    tally.render().into_bytes()
                } else {
                    Vec::new()
                };
                if paged {
                    held.append(&mut tail);
                    self.args.view.write(&held)
                } else {
                    output::stdout(&tail)
                }
            }
            ValidateFormat::Json => {
                output::stdout_with(|w| render::json_report(self.info, total, &files, w))
            }
            _ => {
                output::stderr_line(tally.render().trim_end());
                Ok(())
            }
        };
        if let Err(e) = written {
            output::error(&format!("cannot write output: {e}"));
            return EXIT_OPERATIONAL;
        }
        tally.exit_code()
    }

    /// SARIF and JUnit: one document over every file (rules are shared
    /// across files), so the reports are kept and rendered together.
    fn whole(&self, mut map: SourceMap) -> u8 {
        let mut reports: Vec<FileReport> = Vec::new();
        let mut tally = Tally::default();
        for input in self.inputs {
            let (name, bytes) = match input {
                Input::Unusable(p, why) => (p.display().to_string(), Err(why.clone())),
                Input::File(p) => (
                    p.display().to_string(),
                    output::read_limited(p, self.options.limits.max_bytes),
                ),
            };
            let bytes = match bytes {
                Ok(b) => b,
                Err(e) => {
                    tally.add_unreadable();
                    output::error(&if e.contains(&name) {
                        e
                    } else {
                        format!("{name}: {e}")
                    });
                    continue;
                }
            };
            let r = validate_bytes(&mut map, self.library, &name, &bytes, self.options);
            tally.add(r.passed(), &r.profiles);
            reports.push(r);
        }
        let rendered = match self.args.format {
            ValidateFormat::Sarif => pretty(&render::sarif(&map, &reports)),
            _ => render::junit(&map, &reports).into_bytes(),
        };
        if let Err(e) = output::stdout(&rendered) {
            output::error(&format!("cannot write output: {e}"));
            return EXIT_OPERATIONAL;
        }
        tally.exit_code()
    }
}

fn line(v: &serde_json::Value) -> Vec<u8> {
    let mut s = serde_json::to_vec(v).unwrap_or_default();
    s.push(b'\n');
    s
}

fn pretty(v: &serde_json::Value) -> Vec<u8> {
    let mut s = serde_json::to_vec_pretty(v).unwrap_or_default();
    s.push(b'\n');
    s
}
