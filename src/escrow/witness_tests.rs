use super::*;
use crate::attest::keys::SigningKeyFile;
use crate::escrow::merkle::MemoryTree;
use std::sync::Arc;

const ORIGIN: &str = "registry.example/log";

fn log_key() -> SigningKeyFile {
    SigningKeyFile::from_seed(&[11u8; 32])
}

fn tree(n: u64, salt: &str) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.push_entry(format!("{salt}{i}").as_bytes());
    }
    t
}

fn note(t: &MemoryTree, size: u64) -> String {
    Checkpoint::new(ORIGIN, size, merkle::root(t, size).unwrap())
        .unwrap()
        .sign(&log_key())
        .unwrap()
}

fn witness(dir: &Path) -> Witness {
    Witness::new(&dir.join("state.json"), log_key().public())
}

fn proof(t: &MemoryTree, from: u64, to: u64) -> Vec<Hash> {
    merkle::consistency_proof(t, from, to).unwrap()
}

fn offered(p: &[Hash]) -> Option<Offered<'_>> {
    Some(Offered {
        from_size: None,
        proof: p,
    })
}

fn evidence_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".evidence-"))
        .collect();
    v.sort();
    v
}

#[test]
fn first_use_then_same_then_growth_with_a_proof() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let t = tree(20, "e");
    assert!(w.held().unwrap().is_none());
    let first = w.update(note(&t, 5).as_bytes(), None, 100).unwrap();
    assert!(matches!(first, Outcome::FirstUse(ref c) if c.size == 5));
    assert!(matches!(
        w.update(note(&t, 5).as_bytes(), None, 200).unwrap(),
        Outcome::Unchanged(_)
    ));
    let p = proof(&t, 5, 13);
    let adv = w.update(note(&t, 13).as_bytes(), offered(&p), 300).unwrap();
    assert!(
        matches!(adv, Outcome::Advanced { ref from, ref to } if from.size == 5 && to.size == 13)
    );
    let held = w.held().unwrap().unwrap();
    assert_eq!(held.checkpoint.size, 13);
    assert_eq!(held.since, 300);
    assert_eq!(held.note, note(&t, 13));
    assert!(evidence_files(dir.path()).is_empty());
    // No lock or temporary file left behind.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["state.json".to_owned()]);
}

#[test]
fn growth_without_a_proof_is_refused_and_state_kept() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let t = tree(20, "e");
    w.update(note(&t, 5).as_bytes(), None, 0).unwrap();
    assert!(matches!(
        w.update(note(&t, 9).as_bytes(), None, 0),
        Err(WitnessError::MissingProof {
            held: 5,
            offered: 9
        })
    ));
    assert_eq!(w.held().unwrap().unwrap().checkpoint.size, 5);
    assert!(evidence_files(dir.path()).is_empty());
}

#[test]
fn rollback_is_reported_with_both_checkpoints_kept() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let t = tree(20, "e");
    w.update(note(&t, 12).as_bytes(), None, 0).unwrap();
    let err = w.update(note(&t, 7).as_bytes(), None, 0).unwrap_err();
    let WitnessError::Rollback {
        held: 12,
        offered: 7,
        evidence,
    } = err
    else {
        panic!("expected a rollback, got {err}");
    };
    let e = read_evidence(&evidence).unwrap();
    assert_eq!(e.kind, EvidenceKind::Rollback);
    assert_eq!(e.held, note(&t, 12));
    assert_eq!(e.offered, note(&t, 7));
    assert_eq!(w.held().unwrap().unwrap().checkpoint.size, 12);
}

#[test]
fn split_view_same_size_other_root() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let (a, b) = (tree(10, "a"), tree(10, "b"));
    w.update(note(&a, 10).as_bytes(), None, 0).unwrap();
    let err = w.update(note(&b, 10).as_bytes(), None, 0).unwrap_err();
    let WitnessError::SplitView {
        size: 10, evidence, ..
    } = err
    else {
        panic!("expected a split view, got {err}");
    };
    let e = read_evidence(&evidence).unwrap();
    assert_eq!(e.kind, EvidenceKind::SplitView);
    assert_eq!(
        (e.held.as_str(), e.offered.as_str()),
        (note(&a, 10).as_str(), note(&b, 10).as_str())
    );
    // Both notes verify: the evidence stands on its own.
    checkpoint::verify(e.held.as_bytes(), &log_key().public(), None).unwrap();
    checkpoint::verify(e.offered.as_bytes(), &log_key().public(), None).unwrap();
    assert_eq!(w.held().unwrap().unwrap().note, note(&a, 10));
}

#[test]
fn failing_consistency_proof_is_a_split_view() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let (a, b) = (tree(16, "a"), tree(16, "b"));
    w.update(note(&a, 6).as_bytes(), None, 0).unwrap();
    // b's tree of 16 does not extend a's tree of 6: b's own proof fails.
    let p = proof(&b, 6, 16);
    let err = w
        .update(note(&b, 16).as_bytes(), offered(&p), 0)
        .unwrap_err();
    let WitnessError::Inconsistent {
        held: 6,
        offered: 16,
        evidence,
        ..
    } = err
    else {
        panic!("expected inconsistency, got {err}");
    };
    let e = read_evidence(&evidence).unwrap();
    assert_eq!(e.kind, EvidenceKind::Inconsistent);
    assert_eq!(e.proof.len(), p.len());
    assert_eq!(w.held().unwrap().unwrap().checkpoint.size, 6);
}

#[test]
fn proof_from_another_size_is_a_conflict_not_an_alarm() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let t = tree(20, "e");
    w.update(note(&t, 8).as_bytes(), None, 0).unwrap();
    let p = proof(&t, 5, 20);
    assert!(matches!(
        w.update(
            note(&t, 20).as_bytes(),
            Some(Offered {
                from_size: Some(5),
                proof: &p
            }),
            0
        ),
        Err(WitnessError::Conflict { held: 8, from: 5 })
    ));
    assert!(evidence_files(dir.path()).is_empty());
}

#[test]
fn unverified_or_foreign_checkpoints_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path());
    let t = tree(20, "e");
    let forged = Checkpoint::new(ORIGIN, 5, t.root())
        .unwrap()
        .sign(&SigningKeyFile::from_seed(&[12u8; 32]))
        .unwrap();
    assert!(matches!(
        w.update(forged.as_bytes(), None, 0),
        Err(WitnessError::Checkpoint(_))
    ));
    assert!(w.held().unwrap().is_none());
    w.update(note(&t, 5).as_bytes(), None, 0).unwrap();
    let other = Checkpoint::new("other.example/log", 5, merkle::root(&t, 5).unwrap())
        .unwrap()
        .sign(&log_key())
        .unwrap();
    assert!(matches!(
        w.update(other.as_bytes(), None, 0),
        Err(WitnessError::OriginChanged { .. })
    ));
    // A state file signed by another key is not trusted.
    let stranger = Witness::new(
        w.state_path(),
        SigningKeyFile::from_seed(&[12u8; 32]).public(),
    );
    assert!(matches!(
        stranger.held(),
        Err(WitnessError::CorruptState { .. })
    ));
}

#[test]
fn a_frozen_log_is_reported_stale() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path()).with_max_age(3600);
    let t = tree(4, "e");
    w.update(note(&t, 4).as_bytes(), None, 1_000).unwrap();
    assert!(matches!(
        w.update(note(&t, 4).as_bytes(), None, 4_600).unwrap(),
        Outcome::Unchanged(_)
    ));
    assert!(matches!(
        w.update(note(&t, 4).as_bytes(), None, 4_601).unwrap(),
        Outcome::Stale { age: 3601, .. }
    ));
}

#[test]
fn a_held_lock_makes_updates_wait_then_fail() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness(dir.path()).with_lock_wait(Duration::from_millis(30));
    fs::write(dir.path().join("state.json.lock"), "1\n").unwrap();
    let t = tree(2, "e");
    assert!(matches!(
        w.update(note(&t, 2).as_bytes(), None, 0),
        Err(WitnessError::Locked { .. })
    ));
    assert!(w.held().unwrap().is_none());
}

#[test]
fn concurrent_updaters_end_at_the_largest_size() {
    // Held M; one updater offers N, another N+K, each with a proof from M,
    // re-fetching the proof from the held size on a conflict.
    let (m, n, k) = (10u64, 30u64, 25u64);
    let t = Arc::new(tree(n + k, "e"));
    for round in 0..10 {
        let dir = tempfile::tempdir().unwrap();
        let w = witness(dir.path());
        w.update(note(&t, m).as_bytes(), None, 0).unwrap();
        let handles: Vec<_> = [n, n + k]
            .into_iter()
            .map(|size| {
                let (w, t) = (w.clone(), Arc::clone(&t));
                std::thread::spawn(move || {
                    let mut from = m;
                    loop {
                        let p = proof(&t, from, size);
                        let offer = Offered {
                            from_size: Some(from),
                            proof: &p,
                        };
                        match w.update(note(&t, size).as_bytes(), Some(offer), 0) {
                            Err(WitnessError::Conflict { held, .. }) if held < size => from = held,
                            other => return other,
                        }
                    }
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        // The larger offer always lands; the smaller one either advanced
        // first or arrived after and is refused as a rollback.
        assert!(
            matches!(results[1], Ok(Outcome::Advanced { .. })),
            "round {round}"
        );
        assert!(
            matches!(
                results[0],
                Ok(Outcome::Advanced { .. }) | Err(WitnessError::Rollback { .. })
            ),
            "round {round}: {:?}",
            results[0]
        );
        let held = w.held().unwrap().unwrap();
        assert_eq!(held.checkpoint.size, n + k, "round {round}");
        assert_eq!(held.checkpoint.root, t.root());
    }
}
