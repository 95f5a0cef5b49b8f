//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test module uses its own subset

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The `blueprint` binary under test.
pub fn blueprint() -> Command {
    let mut c = Command::cargo_bin("blueprint").expect("binary built");
    c.env_remove("NO_COLOR");
    c
}

/// Repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the repository.
pub fn repo_file(rel: &str) -> PathBuf {
    root().join(rel)
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: impl AsRef<[u8]>) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write temp file");
    p
}

/// Output as UTF-8 text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
