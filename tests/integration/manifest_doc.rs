//! The committed field reference `docs/manifest.md` is what `blueprint
//! schema doc` generates now, and it names the rules that read each field.

use crate::util::{blueprint, repo_file};
use blueprint::profile::ProfileLibrary;
use blueprint::source::SourceMap;

fn generated() -> String {
    let mut map = SourceMap::new();
    let lib = ProfileLibrary::builtin(&mut map).expect("shipped profiles load");
    blueprint::manifest::doc::reference(&lib)
}

#[test]
fn committed_manifest_reference_is_up_to_date() {
    let committed = std::fs::read_to_string(repo_file("docs/manifest.md")).unwrap_or_default();
    let now = generated();
    if committed != now {
        let line = committed
            .lines()
            .zip(now.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(now.lines().count()));
        panic!(
            "docs/manifest.md is out of date (first difference at line {}); \
             run `cargo run -- schema doc -o docs/manifest.md` and commit the result",
            line + 1
        );
    }
}

fn row<'a>(doc: &'a str, field: &str) -> &'a str {
    let head = format!("| `{field}` |");
    doc.lines()
        .find(|l| l.starts_with(&head))
        .unwrap_or_else(|| panic!("no row for {field}"))
}

#[test]
fn rows_give_type_values_and_the_rules_that_read_the_field() {
    let doc = generated();
    let age_gate = row(&doc, "/data_items/*/consent/age_gate");
    assert!(age_gate.contains("boolean"), "{age_gate}");
    assert!(age_gate.contains("`gdpr.child-consent`"), "{age_gate}");
    let kind = row(&doc, "/network_endpoints/*/tls/min_version");
    assert!(kind.contains("`1.2`") && kind.contains("`1.3`"), "{kind}");
    let markets = row(&doc, "/markets");
    assert!(markets.contains("array"), "{markets}");
}

#[test]
fn schema_doc_writes_to_a_file_and_plain_schema_still_prints_the_schema() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("manifest.md");
    blueprint()
        .args(["schema", "doc", "-o"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap_or_default(),
        generated()
    );
    let plain = blueprint().arg("schema").output().expect("runs");
    assert!(String::from_utf8_lossy(&plain.stdout).contains("urn:blueprint:schema:blueprint:v1"));
}
