//! The project speaks only of itself: no source, profile, schema or doc
//! points at a document outside the repository (a line of a file, a
//! section of a team document, a sibling directory).

use crate::util::repo_file;
use std::path::Path;

const FORBIDDEN: &[&str] = &[
    "seed L",
    "catalog §",
    "engine.md §",
    "../shared",
    "DESIGN.md",
    "PROFILES.md",
    "reliability.md",
    "reliability T",
    "reliability P",
];

fn scan(path: &Path, hits: &mut Vec<String>) {
    if path.is_dir() {
        let mut entries: Vec<_> = std::fs::read_dir(path)
            .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        for e in entries {
            scan(&e, hits);
        }
        return;
    }
    let Ok(text) = std::fs::read_to_string(path) else {
        return; // not text
    };
    for (n, line) in text.lines().enumerate() {
        for f in FORBIDDEN {
            if line.contains(f) {
                hits.push(format!("{}:{}: `{f}`", path.display(), n + 1));
            }
        }
    }
}

#[test]
fn no_file_points_outside_the_repository() {
    let mut hits = Vec::new();
    // The CI and conformance scripts name where the public vectors live; this
    // file names what it forbids.
    for rel in [
        "src",
        "profiles",
        "schemas",
        "docs",
        "README.md",
        "benches",
        "examples",
        "fuzz/fuzz_targets",
        "scripts/fuzz.sh",
        "clippy.toml",
    ] {
        let p = repo_file(rel);
        assert!(p.exists(), "{rel} is missing");
        scan(&p, &mut hits);
    }
    for e in std::fs::read_dir(repo_file("tests/integration")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().is_some_and(|n| n != "self_contained.rs") {
            scan(&p, &mut hits);
        }
    }
    assert!(hits.is_empty(), "outside references:\n{}", hits.join("\n"));
}
