//! `docs/seed-coverage.md` maps every passage of the seed report (Finding
//! Firmer Ground) that implies a device requirement to the rules carrying it.

use crate::util::repo_file;
use blueprint::profile::ProfileLibrary;
use blueprint::source::SourceMap;
use std::collections::BTreeSet;

/// `(passage, rule ids)` per table row.
fn rows() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(repo_file("docs/seed-coverage.md"))
        .expect("docs/seed-coverage.md is readable");
    text.lines()
        .filter(|l| l.starts_with("| R"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let rules = cells
                .last()
                .map(|c| {
                    c.split(',')
                        .map(|x| x.trim().trim_matches('`').to_string())
                        .filter(|x| !x.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            (cells[0].to_string(), rules)
        })
        .collect()
}

#[test]
fn every_seed_passage_is_carried_by_shipped_rules() {
    let mut map = SourceMap::new();
    let lib = ProfileLibrary::builtin(&mut map).expect("shipped profiles load");
    let rows = rows();
    let passages: BTreeSet<&str> = rows.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        rows.len(),
        27,
        "the seed report has 27 passages with device requirements"
    );
    assert_eq!(passages.len(), 27, "a passage is listed twice");
    let numbered: Vec<String> = (1..=27).map(|n| format!("R{n}")).collect();
    let listed: Vec<&str> = rows.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        listed, numbered,
        "passages are numbered R1… in report order"
    );
    let mut unknown = Vec::new();
    for (passage, rules) in &rows {
        assert!(!rules.is_empty(), "passage {passage} has no rule");
        for r in rules {
            if lib.find_rule(r).is_none() {
                unknown.push(format!("{passage}: {r}"));
            }
        }
    }
    assert!(
        unknown.is_empty(),
        "rule ids not in the shipped profiles: {unknown:?}"
    );
}
