//! The explorer as static files (`blueprint registry site DIR --out WWW`):
//! `index.html`, `devices/<safe-name>.html` and `style.css`, with relative
//! links ([`LinkStyle::Static`]), to host next to the log's tiles
//! (`blueprint registry tiles DIR --out WWW` writes `WWW/checkpoint`, which
//! the index links to).
//!
//! Nothing is written outside `out`: file names come from
//! [`super::site::safe_name`] (never a path, never `..`), `out/devices`
//! must be a directory and not a symbolic link, and every file is written
//! to a temporary file in its directory, fsynced and renamed over the old
//! one, so a symbolic link planted at a page's name is replaced, never
//! followed.

use super::site::{LinkStyle, STYLESHEET, Site, SiteError, device_page, index_page, safe_name};
use crate::escrow::registry::Registry;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Why the export stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// A page could not be made.
    #[error(transparent)]
    Site(#[from] SiteError),
    /// A file or directory could not be written.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: io::Error,
    },
    /// A directory the export writes into is not a directory, or (inside
    /// the output directory) a symbolic link that could lead outside it.
    #[error("{0} is a symbolic link or not a directory; refusing to write through it")]
    NotADirectory(PathBuf),
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportReport {
    /// Paths written, relative to the output directory, in order.
    pub written: Vec<String>,
    /// Device pages among them.
    pub devices: usize,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Creates `out` (and its parents) if missing; it may be a symbolic link
/// to a directory: where the export goes is the caller's choice.
fn out_dir(out: &Path) -> Result<(), ExportError> {
    fs::create_dir_all(out).map_err(io_err(out))?;
    if fs::metadata(out).map_err(io_err(out))?.is_dir() {
        Ok(())
    } else {
        Err(ExportError::NotADirectory(out.to_owned()))
    }
}

/// Creates `dir` if missing and checks that it is a real directory.
fn real_dir(dir: &Path) -> Result<(), ExportError> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(ExportError::NotADirectory(dir.to_owned())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => fs::create_dir(dir).map_err(io_err(dir)),
        Err(e) => Err(io_err(dir)(e)),
    }
}

/// Replaces `dir/name` with `bytes`: temporary file, fsync, rename, fsync
/// of the directory.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ExportError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(&path)(e));
    }
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Writes the index, one page per deposited blueprint id and the
/// stylesheet into `out` (created if missing). Device pages validate the
/// latest deposited manifest again as of `as_of`. Pages of ids exported
/// earlier stay (an id, once deposited, is never removed from the log).
pub fn export(
    reg: &mut Registry,
    site: &Site,
    out: &Path,
    as_of: time::Date,
) -> Result<ExportReport, ExportError> {
    let links = LinkStyle::Static;
    // Make every page before writing any, so a registry that cannot be read
    // leaves the old export as it was.
    let index = index_page(reg, site, links)?;
    let ids: Vec<String> = reg
        .blueprints()
        .map_err(SiteError::from)?
        .into_iter()
        .map(|b| b.blueprint_id)
        .collect();
    let mut pages = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(page) = device_page(reg, site, links, id, as_of)? {
            pages.push((format!("{}.html", safe_name(id)), page));
        }
    }
    out_dir(out)?;
    let devices = out.join("devices");
    real_dir(&devices)?;
    let mut written = Vec::with_capacity(pages.len() + 2);
    write_atomic(out, "style.css", STYLESHEET.as_bytes())?;
    written.push("style.css".to_owned());
    for (name, page) in &pages {
        write_atomic(&devices, name, page.as_bytes())?;
        written.push(format!("devices/{name}"));
    }
    write_atomic(out, "index.html", index.as_bytes())?;
    written.push("index.html".to_owned());
    Ok(ExportReport {
        written,
        devices: pages.len(),
    })
}
