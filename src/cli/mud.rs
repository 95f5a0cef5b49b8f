//! `blueprint mud`: RFC 8520 MUD export of a blueprint.

use super::{EXIT_OK, EXIT_OPERATIONAL, output};
use blueprint::device::mud::{MudOptions, mud};
use std::path::PathBuf;

/// Arguments of `mud`.
#[derive(Debug, clap::Args)]
pub struct MudArgs {
    /// The blueprint manifest (JSON or TOML).
    pub blueprint: PathBuf,
    /// The https URL the MUD file will be served from (RFC 8520 §3.3).
    #[arg(long)]
    pub mud_url: Option<String>,
    /// How long a MUD manager may cache the file, in hours (1–168).
    #[arg(long, default_value_t = 48)]
    pub cache_validity: u8,
    /// Write the MUD file here instead of stdout.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

/// Runs `mud`; exit 0, or 2 on an unreadable blueprint.
pub fn run(a: &MudArgs) -> u8 {
    match export(a) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            output::error(&format!("{e:#}"));
            EXIT_OPERATIONAL
        }
    }
}

fn export(a: &MudArgs) -> anyhow::Result<()> {
    let bp = super::diff::load_manifest(&a.blueprint)?;
    let id = bp
        .pointer("/blueprint/id")
        .and_then(|v| v.as_str())
        .unwrap_or("device");
    let mud_url = a
        .mud_url
        .clone()
        .unwrap_or_else(|| format!("https://mud.example.invalid/{id}.json"));
    if !mud_url.starts_with("https://") {
        anyhow::bail!("--mud-url must be an https URL (RFC 8520 §3.3)");
    }
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .format(&time::format_description::well_known::Rfc3339)?;
    let m = mud(
        &bp,
        &MudOptions {
            mud_url,
            now,
            cache_validity_hours: a.cache_validity,
        },
    );
    for s in &m.skipped {
        eprintln!(
            "warning: {}: not expressible in MUD: {}",
            s.pointer, s.reason
        );
    }
    let mut text = serde_json::to_string_pretty(&m.json)?;
    text.push('\n');
    super::diff::emit(a.output.as_deref(), &text)
}
