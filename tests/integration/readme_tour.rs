//! The README's "Sign and verify" and "Escrow" tours run as written: every
//! `$ ` command of their console blocks, in order, in a fresh folder that
//! holds a copy of `examples/`, with the binary under test first on `PATH`.
//! Each must exit 0, except a `diff` between the two meter versions, which
//! finds a forfeit-worthy deviation and exits 1 by contract.

use crate::util::{repo_file, text};
use std::path::Path;
use std::process::Command;

/// The `$ ` commands of the console blocks between two headings, with
/// continuation lines (`\` at the end) joined.
fn commands(readme: &str, from: &str, to: &str) -> Vec<String> {
    let start = readme.find(from).expect("section start in README");
    let end = start + readme[start..].find(to).expect("section end in README");
    let mut out: Vec<String> = Vec::new();
    let mut in_block = false;
    for line in readme[start..end].lines() {
        if line.starts_with("```") {
            in_block = line.starts_with("```console");
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push(cmd.to_owned());
        } else if out.last().is_some_and(|c| c.trim_end().ends_with('\\')) {
            let last = out.last_mut().expect("checked");
            last.push('\n');
            last.push_str(line);
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn readme_sign_and_escrow_tours_run_as_written() {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let mut cmds = commands(&readme, "### Sign and verify", "### Diff a shipped device");
    let escrow = commands(&readme, "### Escrow", "### Command reference");
    assert!(
        escrow.len() >= 10,
        "the escrow tour lost its commands: {escrow:?}"
    );
    cmds.extend(escrow);

    let dir = tempfile::tempdir().unwrap();
    copy_dir(&repo_file("examples"), &dir.path().join("examples"));
    copy_dir(&repo_file("schemas"), &dir.path().join("schemas"));
    let bin = Path::new(env!("CARGO_BIN_EXE_blueprint"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    // One shell, so that variables (`REPORT=…`) carry over; each command's
    // status is printed after it.
    let mut script = String::new();
    for (i, c) in cmds.iter().enumerate() {
        script.push_str(c);
        script.push_str(&format!("\necho \"@@status {i} $?\"\n"));
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    let statuses: Vec<i32> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("@@status "))
        .map(|l| l.split(' ').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        statuses.len(),
        cmds.len(),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    for (c, status) in cmds.iter().zip(&statuses) {
        let expected = if c.starts_with("blueprint diff meter.dsse.json meter-v3.dsse.json") {
            1
        } else {
            0
        };
        assert_eq!(
            *status,
            expected,
            "`{c}` exited {status}\nstdout:\n{stdout}\nstderr:\n{}",
            text(&out.stderr)
        );
    }
    assert!(
        stdout.contains("50000 EUR forfeited"),
        "the tour's ruling forfeits the v2 bond:\n{stdout}"
    );
    assert!(stdout.contains("state matches the stored state"));
}
