//! `blueprint init`: write a new manifest for the given markets, product
//! class and sensors, holding every field the applicable profiles read.

use super::{EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::manifest::scaffold::{
    self, Choice, DEFAULT_SCHEMA_REF, ScaffoldError, ScaffoldSpec,
};
use blueprint::profile::ProfileLibrary;
use blueprint::source::SourceMap;
use clap::Args;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Arguments of `init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Markets, comma-separated (e.g. EU,US,US-CA,GB,CN). Asked for on a terminal when missing.
    #[arg(long, value_delimiter = ',', value_name = "CODE,...")]
    pub markets: Vec<String>,

    /// Product class (e.g. consumer, toy, smart_meter). Asked for on a terminal when missing.
    #[arg(long = "class", value_name = "CLASS")]
    pub class: Option<String>,

    /// Sensor types, comma-separated (e.g. camera,microphone), or `none`.
    /// Asked for on a terminal when missing.
    #[arg(long, value_delimiter = ',', value_name = "TYPE,...")]
    pub sensors: Vec<String>,

    /// Write to this file (never overwritten) instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Product name: sets `device.model` and `blueprint.id`.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// Vendor's legal name: sets `vendor.legal_name`.
    #[arg(long, value_name = "NAME")]
    pub vendor: Option<String>,

    /// What to write after `#:schema` on the first line (a path or URL of
    /// the manifest schema; default: the schema's `$id`).
    #[arg(long, value_name = "PATH|URL")]
    pub schema_ref: Option<String>,

    /// Decide which profiles may apply as of this date (YYYY-MM-DD; default: today, UTC).
    #[arg(long, value_name = "DATE", value_parser = super::validate::parse_date)]
    pub as_of: Option<time::Date>,
}

/// Sensor list meaning "this device has no sensors".
const NO_SENSORS: &str = "none";

pub fn run(args: &InitArgs) -> u8 {
    let interactive = std::io::stdin().is_terminal();
    let spec = match gather(args, interactive) {
        Ok(s) => s,
        Err(msg) => {
            output::error(&msg);
            return EXIT_OPERATIONAL;
        }
    };
    let mut map = SourceMap::new();
    let Ok(lib) = ProfileLibrary::builtin(&mut map) else {
        output::error(&ScaffoldError::Profiles.to_string());
        return EXIT_OPERATIONAL;
    };
    let s = match scaffold::scaffold(&lib, &spec) {
        Ok(s) => s,
        Err(e) => {
            output::error(&e.to_string());
            return EXIT_OPERATIONAL;
        }
    };
    match &args.output {
        None => {
            if let Err(e) = output::stdout(s.text.as_bytes()) {
                output::error(&format!("cannot write output: {e}"));
                return EXIT_OPERATIONAL;
            }
        }
        Some(path) => {
            if let Err(msg) = write_new(path, s.text.as_bytes()) {
                output::error(&msg);
                return EXIT_OPERATIONAL;
            }
            output::stderr_line(&format!(
                "wrote {}: {} placeholders to decide, for the profiles {}",
                path.display(),
                s.placeholders,
                s.profiles.join(", ")
            ));
            output::stderr_line(&format!(
                "next: fill in every `# TODO`, then run `blueprint validate {}`",
                path.display()
            ));
        }
    }
    EXIT_OK
}

/// Creates `path` with `bytes`, refusing an existing file, and syncs it.
fn write_new(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => format!(
                "{} already exists; init never overwrites a file (choose another name with -o, or remove it first)",
                path.display()
            ),
            _ => format!("cannot create {}: {e}", path.display()),
        })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The spec from the flags, asking on a terminal for what is missing.
fn gather(args: &InitArgs, interactive: bool) -> Result<ScaffoldSpec, String> {
    let mut missing = Vec::new();
    if args.markets.is_empty() {
        missing.push("--markets");
    }
    if args.class.is_none() {
        missing.push("--class");
    }
    if args.sensors.is_empty() {
        missing.push("--sensors");
    }
    if !interactive && !missing.is_empty() {
        return Err(format!(
            "missing {} (standard input is not a terminal, so init cannot ask); \
             e.g. blueprint init --markets EU --class consumer --sensors camera",
            missing.join(", ")
        ));
    }
    let markets = match args.markets.as_slice() {
        [] => ask_list(Choice::Market, "Markets", false)?,
        given => checked(Choice::Market, given)?,
    };
    let class = match &args.class {
        Some(c) => {
            scaffold::check_choice(Choice::ProductClass, c).map_err(|e| with_list(&e))?;
            c.clone()
        }
        None => ask_list(Choice::ProductClass, "Product class", true)?
            .pop()
            .unwrap_or_default(),
    };
    let sensors = match args.sensors.as_slice() {
        [] => ask_list(Choice::Sensor, "Sensors (or `none`)", false)?,
        [n] if n == NO_SENSORS => Vec::new(),
        given => checked(Choice::Sensor, given)?,
    };
    Ok(ScaffoldSpec {
        markets,
        product_class: class,
        sensors,
        name: args.name.clone(),
        vendor: args.vendor.clone(),
        schema_ref: args
            .schema_ref
            .clone()
            .unwrap_or_else(|| DEFAULT_SCHEMA_REF.to_string()),
        as_of: args.as_of.unwrap_or_else(super::validate::today),
    })
}

fn checked(choice: Choice, given: &[String]) -> Result<Vec<String>, String> {
    let given: Vec<String> = given
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for g in &given {
        scaffold::check_choice(choice, g).map_err(|e| with_list(&e))?;
    }
    Ok(given)
}

/// The error plus, when no close value was found, where to see the list.
fn with_list(e: &ScaffoldError) -> String {
    match e {
        ScaffoldError::UnknownValue {
            choice,
            suggestion: None,
            ..
        } => format!(
            "{e}\nhelp: allowed: {}",
            scaffold::choices(*choice).join(", ")
        ),
        _ => e.to_string(),
    }
}

/// Asks on standard error until the answer is valid; `single` takes one value.
fn ask_list(choice: Choice, label: &str, single: bool) -> Result<Vec<String>, String> {
    let allowed = scaffold::choices(choice);
    output::stderr_line(&format!("{label}, one of: {}", allowed.join(", ")));
    let stdin = std::io::stdin();
    loop {
        let _ = output::stderr_bytes(
            format!(
                "{label}{}: ",
                if single { "" } else { " (comma-separated)" }
            )
            .as_bytes(),
        );
        let mut line = String::new();
        match stdin.lock().read_line(&mut line) {
            Ok(0) => return Err(format!("no answer for {label}")),
            Ok(_) => {}
            Err(e) => return Err(format!("cannot read the answer: {e}")),
        }
        let line = line.trim();
        if choice == Choice::Sensor && line == NO_SENSORS {
            return Ok(Vec::new());
        }
        let parts: Vec<String> = line
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if parts.is_empty() || (single && parts.len() != 1) {
            output::stderr_line(if single {
                "please give exactly one value"
            } else {
                "please give at least one value"
            });
            continue;
        }
        match checked(choice, &parts) {
            Ok(v) => return Ok(v),
            Err(msg) => output::stderr_line(&msg),
        }
    }
}
