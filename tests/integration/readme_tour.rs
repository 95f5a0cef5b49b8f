//! The README's tour runs as written and prints what the README shows.
//!
//! Every `$ ` command of the console blocks from "A short tour" to
//! "Command reference" runs, in order, in one shell (so `REPORT=$(…)`
//! carries over), in a fresh folder holding a copy of `examples/`,
//! `schemas/` and `samples/`, with the binary under test first on `PATH`. Standard output
//! and standard error together must match the lines under the command:
//!
//! - a line `…` stands for any number of lines (also none);
//! - `[..]` inside a line stands for any text (key ids, dates, roots);
//! - trailing blanks are ignored.
//!
//! A command exits 0 unless its comment says `# exit N`.
//!
//! The shell is needed for variables and pipes, which is why this is not a
//! `trycmd` case: trycmd runs each command without a shell.

use crate::util::{repo_file, text};
use std::path::Path;
use std::process::Command;

/// One `$ ` command with the output the README shows under it.
#[derive(Debug)]
struct Step {
    command: String,
    expected: Vec<String>,
    exit: i32,
}

/// The steps of the console blocks between two headings; continuation
/// lines (`\` at the end) are joined to their command.
fn steps(readme: &str, from: &str, to: &str) -> Vec<Step> {
    let start = readme.find(from).expect("section start in README");
    let end = start + readme[start..].find(to).expect("section end in README");
    let mut out: Vec<Step> = Vec::new();
    let mut in_block = false;
    let mut continued = false;
    for line in readme[start..end].lines() {
        if line.starts_with("```") {
            in_block = line.starts_with("```console");
            continued = false;
            continue;
        }
        if !in_block {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push(Step {
                command: cmd.to_owned(),
                expected: Vec::new(),
                exit: 0,
            });
            continued = cmd.trim_end().ends_with('\\');
        } else if continued {
            let last = out.last_mut().expect("a command before its continuation");
            last.command.push('\n');
            last.command.push_str(line);
            continued = line.trim_end().ends_with('\\');
        } else if let Some(last) = out.last_mut() {
            last.expected.push(line.trim_end().to_owned());
        }
    }
    for s in &mut out {
        if let Some(n) = s.command.split("# exit ").nth(1) {
            let digits: String = n.chars().take_while(char::is_ascii_digit).collect();
            s.exit = digits.parse().expect("`# exit N` names a number");
        }
    }
    out
}

/// Does one actual line match one expected line (`[..]` = any text)?
fn line_matches(expected: &str, actual: &str) -> bool {
    let parts: Vec<&str> = expected.split("[..]").collect();
    if parts.len() == 1 {
        return expected == actual;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !actual.starts_with(first) || actual.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &actual[first.len()..];
    if !rest.ends_with(last) {
        return false;
    }
    rest = &rest[..rest.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

/// Do the actual lines match the expected ones (`…` = any lines)?
fn output_matches(expected: &[String], actual: &[&str]) -> bool {
    // ok[i][j]: expected[i..] matches actual[j..].
    let (n, m) = (expected.len(), actual.len());
    let mut ok = vec![vec![false; m + 1]; n + 1];
    ok[n][m] = true;
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            ok[i][j] = if expected[i] == "…" {
                ok[i + 1][j] || (j < m && ok[i][j + 1])
            } else {
                j < m && line_matches(&expected[i], actual[j]) && ok[i + 1][j + 1]
            };
        }
    }
    ok[0][0]
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
fn readme_tour_runs_as_written_and_prints_what_it_shows() {
    let readme = std::fs::read_to_string(repo_file("README.md")).unwrap();
    let steps = steps(&readme, "## A short tour", "### Command reference");
    assert!(steps.len() >= 30, "the tour lost its commands: {steps:?}");

    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    copy_dir(&repo_file("examples"), &work.join("examples"));
    copy_dir(&repo_file("schemas"), &work.join("schemas"));
    copy_dir(&repo_file("samples"), &work.join("samples"));
    let bin = Path::new(env!("CARGO_BIN_EXE_blueprint"))
        .parent()
        .unwrap()
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    // One shell; each command's output and status go to files of their own.
    let mut script = String::new();
    for (i, s) in steps.iter().enumerate() {
        let log = logs.join(i.to_string());
        script.push_str(&format!(
            "{{\n{}\n}} > '{}.out' 2>&1\necho $? > '{}.rc'\n",
            s.command,
            log.display(),
            log.display()
        ));
    }
    let run = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("PAGER")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));

    let mut failures = Vec::new();
    for (i, s) in steps.iter().enumerate() {
        let log = logs.join(i.to_string());
        let out = std::fs::read_to_string(log.with_extension("out")).unwrap_or_default();
        let rc: i32 = std::fs::read_to_string(log.with_extension("rc"))
            .unwrap_or_default()
            .trim()
            .parse()
            .unwrap_or(-1);
        let actual: Vec<&str> = out.lines().map(str::trim_end).collect();
        if rc != s.exit || !output_matches(&s.expected, &actual) {
            failures.push(format!(
                "$ {}\n--- exit {rc} (README: {}); README shows:\n{}\n--- actual output:\n{}",
                s.command,
                s.exit,
                s.expected.join("\n"),
                out
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} tour commands differ from the README:\n\n{}",
        failures.len(),
        steps.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_matcher_is_strict_outside_its_wildcards() {
    let exp = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(output_matches(
        &exp(&["a", "…", "z"]),
        &["a", "b", "c", "z"]
    ));
    assert!(output_matches(&exp(&["a", "…", "z"]), &["a", "z"]));
    assert!(!output_matches(&exp(&["a", "…", "z"]), &["a", "b"]));
    assert!(!output_matches(&exp(&["a"]), &["a", "extra"]));
    assert!(!output_matches(&exp(&[]), &["unexpected output"]));
    assert!(line_matches("keyid [..]", "keyid 2bb8"));
    assert!(line_matches("by [..], [..]", "by k1, k2"));
    assert!(!line_matches("by [..], [..]", "by k1 k2"));
    assert!(!line_matches(
        "wrote [..] and x.pub",
        "wrote a.key and y.pub"
    ));
}
