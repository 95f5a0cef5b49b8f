//! `blueprint registry site DIR --out WWW`: the registry's public explorer
//! as static files (index, one page per device, stylesheet) to host next to
//! the log's tiles.
//!
//! Exit codes: 0 written; 2 unreadable registry, a directory that is a
//! symbolic link, I/O error.

use super::registry::{Common, emit, fail, open};
use super::{EXIT_OPERATIONAL, output};
use blueprint::explore::site::{Site, SiteError};
use blueprint::explore::site_export::{ExportError, export};
use clap::Args;
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `registry site`.
#[derive(Debug, Args)]
#[command(
    after_long_help = "Writes WWW/index.html, WWW/devices/<name>.html and WWW/style.css, each file atomically, with relative links. <name> is the blueprint id when it is 1 to 64 characters of a-z, 0-9, '.', '_' and '-' (starting with a letter or digit), else '_' and 32 hex digits of its SHA-256. Export the tiles (`registry tiles DIR --out WWW`) into the same directory: the index links to their checkpoint. Each device page validates the latest deposited manifest again as of --as-of.\n\nExit status: 0 written; 2 unreadable registry, a directory in the way that is a symbolic link, I/O error."
)]
pub struct SiteArgs {
    #[command(flatten)]
    pub common: Common,
    /// The directory to serve (created if missing).
    #[arg(long, value_name = "WWW")]
    pub out: PathBuf,
    /// Validate the deposited manifests as of this date (YYYY-MM-DD; default: today).
    #[arg(long, value_name = "DATE", value_parser = super::validate::parse_date)]
    pub as_of: Option<time::Date>,
}

/// Runs `registry site`.
pub fn run(a: &SiteArgs) -> Result<u8, u8> {
    let mut r = open(&a.common)?;
    let site = Site::new().map_err(|e| {
        output::error(&e.to_string());
        EXIT_OPERATIONAL
    })?;
    let as_of = a.as_of.unwrap_or_else(super::validate::today);
    let report = export(&mut r, &site, &a.out, as_of).map_err(|e| match e {
        ExportError::Site(SiteError::Registry(e)) => fail(e),
        e => {
            output::error(&e.to_string());
            EXIT_OPERATIONAL
        }
    })?;
    emit(
        a.common.format,
        format!(
            "wrote {} to {}: the index, {} and the stylesheet\n",
            output::plural(report.written.len() as u64, "file", "files"),
            a.out.display(),
            output::plural(report.devices as u64, "device page", "device pages"),
        ),
        json!({"written": report.written, "devices": report.devices}),
    )
}
