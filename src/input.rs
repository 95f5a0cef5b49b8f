//! Reading a user's input file with a hard bound (docs/limits.md).
//!
//! A file's reported size is not trusted: `/dev/zero` reports 0 bytes and a
//! FIFO fed by `yes` has no size at all. Only regular files are read, the
//! kind is checked before the file is opened (so a FIFO without a writer
//! never blocks), and the read itself stops one byte past the limit.

use std::fs::{File, Metadata};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Why an input file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be inspected or read (missing, no permission, a
    /// symlink loop).
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The operating system's reason.
        source: io::Error,
    },
    /// The path names a directory.
    #[error("{} is a directory, not a file", path.display())]
    Directory {
        /// The path as given.
        path: PathBuf,
    },
    /// The path names a FIFO, a device or a socket: something that may
    /// never end or never answer.
    #[error("{} is {kind}, not a regular file", path.display())]
    NotRegular {
        /// The path as given.
        path: PathBuf,
        /// What it is instead ("a FIFO", "a character device" …).
        kind: &'static str,
    },
    /// The file is larger than the limit.
    #[error("{} is {len} bytes, over the limit of {limit} bytes", path.display())]
    TooLarge {
        /// The path as given.
        path: PathBuf,
        /// Its size (as reported, or as far as it was read).
        len: u64,
        /// The limit.
        limit: u64,
    },
}

/// Metadata of `path` when it names a regular file (after following
/// symlinks), checked without opening it.
pub fn regular_file(path: &Path) -> Result<Metadata, ReadError> {
    let meta = std::fs::metadata(path).map_err(|source| ReadError::Io {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_dir() {
        return Err(ReadError::Directory {
            path: path.to_owned(),
        });
    }
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_owned(),
            kind: kind_of(&meta),
        });
    }
    Ok(meta)
}

/// Reads the regular file `path`, refusing it when it holds more than
/// `limit` bytes: at most `limit + 1` bytes are ever read, whatever size
/// the file reports.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let meta = regular_file(path)?;
    let too_large = |len| ReadError::TooLarge {
        path: path.to_owned(),
        len,
        limit,
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    Ok(bytes)
}

#[cfg(unix)]
fn kind_of(meta: &Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn kind_of(_: &Metadata) -> &'static str {
    "not a regular file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_bounded_regular_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("a.toml");
        std::fs::write(&f, b"12345").unwrap();
        assert_eq!(read_bounded(&f, 5).unwrap(), b"12345");
        let e = read_bounded(&f, 4).unwrap_err().to_string();
        assert!(e.ends_with("is 5 bytes, over the limit of 4 bytes"), "{e}");
        let e = read_bounded(dir.path(), 4).unwrap_err().to_string();
        assert!(e.ends_with("is a directory, not a file"), "{e}");
        #[cfg(unix)]
        {
            let e = read_bounded(Path::new("/dev/zero"), 4)
                .unwrap_err()
                .to_string();
            assert!(
                e.ends_with("is a character device, not a regular file"),
                "{e}"
            );
            let a = dir.path().join("loop-a");
            let b = dir.path().join("loop-b");
            std::os::unix::fs::symlink(&b, &a).unwrap();
            std::os::unix::fs::symlink(&a, &b).unwrap();
            let e = read_bounded(&a, 4).unwrap_err().to_string();
            assert!(e.starts_with("cannot read "), "{e}");
        }
    }
}
