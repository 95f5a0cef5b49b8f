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

/// Runs the debug binary with `args` under an address-space cap of
/// `cap_kib` KiB (`ulimit -v`), from the repository root and without
/// colour: an unbounded blow-up fails the test instead of passing slowly.
pub fn capped(cap_kib: u64, args: &[&str]) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("blueprint");
    std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -v {cap_kib}; exec \"$0\" \"$@\""))
        .arg(bin)
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("bash runs")
}

/// A new empty database on the test server; its URL.
pub fn fresh_database(server: &str) -> String {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "bp_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let mut client = postgres::Client::connect(server, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (scheme, rest) = server.split_once("://").unwrap();
    let slash = rest.find('/').unwrap_or(rest.len());
    let query = rest[slash..]
        .find('?')
        .map(|q| &rest[slash + q..])
        .unwrap_or("");
    format!("{scheme}://{}/{name}{query}", &rest[..slash])
}

/// With `BLUEPRINT_TEST_DATABASE_URL` set (`scripts/with-postgres.sh`), the
/// `--database` arguments that put a new registry on a fresh PostgreSQL
/// database, so the registry suites run on both backends; else none.
pub fn database_args() -> Vec<String> {
    match std::env::var("BLUEPRINT_TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => vec!["--database".into(), fresh_database(&server)],
        _ => Vec::new(),
    }
}

/// Parses markup as XML: the HTML report, the data-flow map and the
/// explorer pages are well-formed XML as well as HTML.
pub fn parse_xml(markup: &str) -> roxmltree::Document<'_> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: true,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(markup, options)
        .unwrap_or_else(|e| panic!("not well-formed: {e}"))
}
