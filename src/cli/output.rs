//! Writing to standard output and error, and reading inputs.
//!
//! A closed pipe (`blueprint validate … | head`) is not an error
//! (ripgrep's rule): writes stop quietly.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

/// Writes `bytes` to standard output; a broken pipe is ignored.
pub fn stdout(bytes: &[u8]) -> io::Result<()> {
    ignore_broken_pipe(io::stdout().lock().write_all(bytes))
}

/// Writes `bytes` to standard error.
pub fn stderr_bytes(bytes: &[u8]) -> io::Result<()> {
    ignore_broken_pipe(io::stderr().lock().write_all(bytes))
}

/// Writes a line to standard error.
pub fn stderr_line(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

fn ignore_broken_pipe(r: io::Result<()>) -> io::Result<()> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// True when colour should be used on standard output.
pub fn use_color(choice: super::ColorChoice) -> bool {
    match choice {
        super::ColorChoice::Always => true,
        super::ColorChoice::Never => false,
        super::ColorChoice::Auto => {
            io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

/// Reads a file of at most `limit` bytes, refusing larger ones before
/// reading them (reliability.md P8).
pub fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if meta.is_dir() {
        return Err(format!("{} is a directory, not a file", path.display()));
    }
    if meta.len() > limit as u64 {
        return Err(format!(
            "{} is {} bytes, over the limit of {limit} bytes",
            path.display(),
            meta.len()
        ));
    }
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Prints `error: MESSAGE` on standard error.
pub fn error(message: &str) {
    stderr_line(&format!("error: {message}"));
}

/// Pipes `bytes` through `$PAGER` (default `less -R`); when the pager
/// cannot start, writes them to standard output instead.
pub fn paged(bytes: &[u8]) -> io::Result<()> {
    let pager = std::env::var("PAGER")
        .ok()
        .filter(|p| !p.trim().is_empty())
        .unwrap_or_else(|| "less -R".to_string());
    let mut words = pager.split_whitespace();
    let Some(program) = words.next() else {
        return stdout(bytes);
    };
    let child = std::process::Command::new(program)
        .args(words)
        .stdin(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            stderr_line(&format!(
                "warning: cannot start pager `{pager}` ({e}); printing instead"
            ));
            return stdout(bytes);
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // The reader may quit early; that is not an error.
        ignore_broken_pipe(stdin.write_all(bytes))?;
    }
    child.wait()?;
    Ok(())
}
