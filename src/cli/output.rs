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

/// Writes to standard output through a buffer, for output written in
/// pieces.
pub fn stdout_with(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    ignore_broken_pipe(write(&mut out).and_then(|()| out.flush()))
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

/// Reads a regular file of at most `limit` bytes through the bounded
/// reader (docs/limits.md): directories, FIFOs and devices are refused
/// before they are opened, and no more than `limit + 1` bytes are read.
pub fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, String> {
    blueprint::input::read_bounded(path, limit as u64).map_err(|e| e.to_string())
}

/// Prints `error: MESSAGE` on standard error.
pub fn error(message: &str) {
    stderr_line(&format!("error: {message}"));
}

/// How [`write_file`] treats an existing file at the destination.
#[derive(Debug, Clone, Copy, Default)]
pub struct Replace<'a> {
    /// Replace an existing file (`--force`); a private key is never replaced.
    pub force: bool,
    /// A private key the command reads (`--key`): never the destination.
    pub key: Option<&'a Path>,
}

/// Bytes of an existing file read to decide whether it holds a private key.
const KEY_SNIFF_BYTES: u64 = 64 * 1024;

/// Writes `bytes` to `path` so that a reader sees the old file or the new
/// one, never half of either, and the data is on disk before the command
/// says it wrote it: a temporary file in the same directory, fsynced,
/// renamed over `path`, then the directory fsynced. An existing file is
/// replaced only with `force`; a private key (PEM `PRIVATE KEY` contents,
/// or the `key` path itself) never.
pub fn write_file(path: &Path, bytes: &[u8], replace: Replace<'_>) -> Result<(), String> {
    let shown = path.display();
    if let Some(key) = replace.key {
        if same_file(path, key) {
            return Err(format!(
                "refusing to write {shown}: it is the private key given with --key"
            ));
        }
    }
    let existing = std::fs::metadata(path);
    if let Ok(meta) = &existing {
        if meta.is_dir() {
            return Err(format!("cannot write {shown}: it is a directory"));
        }
        if holds_private_key(path) {
            return Err(format!(
                "refusing to write {shown}: it holds a private key (not replaced, even with --force)"
            ));
        }
        if !replace.force {
            return Err(format!("{shown} exists; pass --force to replace it"));
        }
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let (tmp, mut file) = create_temporary(&dir, path).map_err(|e| {
        format!(
            "cannot write {shown}: cannot create a temporary file in {}: {e}",
            dir.display()
        )
    })?;
    let result = (|| {
        // A replaced file keeps its permissions (a 0600 report stays 0600).
        if let Ok(meta) = &existing {
            file.set_permissions(meta.permissions())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        if replace.force {
            std::fs::rename(&tmp, path)
        } else {
            // No-clobber publication: a file created meanwhile is not
            // replaced. Filesystems without hard links get a plain rename.
            match std::fs::hard_link(&tmp, path) {
                Ok(()) => std::fs::remove_file(&tmp),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
                Err(_) if std::fs::symlink_metadata(path).is_ok() => {
                    Err(io::Error::from(io::ErrorKind::AlreadyExists))
                }
                Err(_) => std::fs::rename(&tmp, path),
            }
        }
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(if e.kind() == io::ErrorKind::AlreadyExists {
            format!("{shown} exists; pass --force to replace it")
        } else {
            format!("cannot write {shown}: {e}")
        });
    }
    // The rename is durable only once the directory entry is.
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("cannot sync {}: {e}", dir.display()))
}

/// Standard output, or the file `path` through [`write_file`].
pub fn write_output(path: Option<&Path>, bytes: &[u8], replace: Replace<'_>) -> Result<(), String> {
    match path {
        Some(p) => write_file(p, bytes, replace),
        None => stdout(bytes).map_err(|e| format!("cannot write output: {e}")),
    }
}

/// A new file next to `target`, created exclusively (never follows or
/// reuses an existing name), mode 0644 before the umask.
fn create_temporary(dir: &Path, target: &Path) -> io::Result<(std::path::PathBuf, std::fs::File)> {
    let stem = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    let mut last = None;
    for attempt in 0..16u32 {
        let mut nonce = [0u8; 8];
        if getrandom::fill(&mut nonce).is_err() {
            nonce = (u64::from(std::process::id()) << 8 | u64::from(attempt)).to_le_bytes();
        }
        let suffix: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = dir.join(format!(".{stem}.{suffix}.tmp"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary name")))
}

/// True when `a` and `b` name the same file (after links).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// True when the file's first bytes contain a PEM private key label
/// (`PRIVATE KEY`, `ENCRYPTED PRIVATE KEY`, `OPENSSH PRIVATE KEY`, …).
/// An unreadable file is treated as a key: better to refuse than to guess.
fn holds_private_key(path: &Path) -> bool {
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else {
        return true;
    };
    let mut head = Vec::new();
    if file.take(KEY_SNIFF_BYTES).read_to_end(&mut head).is_err() {
        return true;
    }
    head.windows(b"PRIVATE KEY-----".len())
        .any(|w| w == b"PRIVATE KEY-----")
}

/// `1 error`, `0 errors`, `11 warnings`.
pub fn plural(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const PEM: &str =
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n";

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_new_files_and_replaces_only_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.json");
        write_file(&p, b"one", Replace::default()).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        let e = write_file(&p, b"two", Replace::default()).unwrap_err();
        assert!(e.contains("--force"), "{e}");
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let force = Replace {
            force: true,
            key: None,
        };
        write_file(&p, b"two", force).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(entries(dir.path()), ["out.json"]);
    }

    #[test]
    fn a_private_key_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let force = |key| Replace { force: true, key };
        // By contents.
        let pem = dir.path().join("lab.pem");
        std::fs::write(&pem, PEM).unwrap();
        let e = write_file(&pem, b"x", force(None)).unwrap_err();
        assert!(e.contains("private key"), "{e}");
        // By path, also through a symbolic link, whatever the contents.
        let key = dir.path().join("k");
        std::fs::write(&key, b"not yet a key").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        for target in [&key, &link] {
            let e = write_file(target, b"x", force(Some(&key))).unwrap_err();
            assert!(e.contains("--key"), "{e}");
        }
        assert_eq!(std::fs::read(&key).unwrap(), b"not yet a key");
        assert_eq!(std::fs::read_to_string(&pem).unwrap(), PEM);
        assert_eq!(entries(dir.path()), ["k", "lab.pem", "link"]);
    }

    #[test]
    fn a_directory_or_a_missing_directory_is_an_error_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let e = write_file(dir.path(), b"x", Replace::default()).unwrap_err();
        assert!(e.contains("directory"), "{e}");
        let p = dir.path().join("no/such/dir/out.json");
        let e = write_file(&p, b"x", Replace::default()).unwrap_err();
        assert!(e.contains("out.json"), "{e}");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(0, "error", "errors"), "0 errors");
        assert_eq!(plural(1, "error", "errors"), "1 error");
        assert_eq!(plural(11, "warning", "warnings"), "11 warnings");
    }
}
