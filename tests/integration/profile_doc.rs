//! The committed reference `docs/profiles.md` is what `blueprint profiles
//! doc` generates from the shipped profiles now.

use crate::util::{blueprint, repo_file};
use blueprint::profile::{ProfileLibrary, doc};
use blueprint::source::SourceMap;

fn generated() -> String {
    let mut map = SourceMap::new();
    let lib = ProfileLibrary::builtin(&mut map).expect("shipped profiles load");
    doc::reference(&lib)
}

#[test]
fn committed_profile_reference_is_up_to_date() {
    let committed = std::fs::read_to_string(repo_file("docs/profiles.md")).unwrap_or_default();
    let now = generated();
    if committed != now {
        let line = committed
            .lines()
            .zip(now.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(now.lines().count()));
        panic!(
            "docs/profiles.md is out of date (first difference at line {}); \
             run `cargo run -- profiles doc -o docs/profiles.md` and commit the result",
            line + 1
        );
    }
}

#[test]
fn profiles_doc_writes_the_reference_to_a_file_and_to_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("profiles.md");
    blueprint()
        .args(["profiles", "doc", "-o"])
        .arg(&out)
        .assert()
        .success()
        .stdout("");
    let written = std::fs::read_to_string(&out).expect("reference written");
    assert_eq!(written, generated());
    let stdout = blueprint()
        .args(["profiles", "doc"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(String::from_utf8_lossy(&stdout), written);
    assert!(written.contains("\n### gdpr.security-in-transit\n"));
    assert!(written.contains("\n### conflict.storage-region-per-market\n"));
}

#[test]
fn explain_describes_a_conflict_between_regimes() {
    let out = blueprint()
        .args(["explain", "conflict.storage-region-per-market"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("Reported when these profiles all apply: eu-gdpr, cn-pipl"),
        "{text}"
    );
    assert!(text.contains("split the item per market group"), "{text}");
}
