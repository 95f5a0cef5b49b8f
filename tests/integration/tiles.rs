//! The log as static C2SP tlog-tiles files: exported from a registry, then
//! rebuilt and checked from the files and the log key alone.

use crate::util::{blueprint, text};
use blueprint::attest::keys::SigningKeyFile;
use blueprint::escrow::event::{Event, EventKind, EventTime, MemberEvent, MemberRole, Text};
use blueprint::escrow::registry::{InitOptions, Registry};
use blueprint::escrow::tiles::{TilesError, export, read_tiles};
use std::fs;
use std::path::Path;

const ORIGIN: &str = "registry.example/tiles";

fn now() -> EventTime {
    EventTime::parse("2026-12-03T10:00:00Z").unwrap()
}

/// A member registration with a key derived from `i`: a cheap, valid entry.
fn member(i: u64) -> Event {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&i.to_le_bytes());
    seed[31] = 9;
    let k = SigningKeyFile::from_seed(&seed).public();
    Event {
        time: now(),
        kind: EventKind::Member(MemberEvent {
            name: Text::parse(&format!("Lab {i}")).unwrap(),
            role: MemberRole::Lab,
            public_key: k,
            keyid: k.id(),
        }),
    }
}

/// A registry of `size` entries (entry 0 is `init`).
fn registry(dir: &Path, size: u64) -> Registry {
    let mut r = Registry::init(
        dir,
        &InitOptions {
            origin: ORIGIN.into(),
            quorum: 2,
            window_days: 14,
        },
        now(),
    )
    .unwrap();
    r.append_batch((1..size).map(member).collect()).unwrap();
    r
}

fn flip(path: &Path, at: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[at] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

#[test]
fn tiles_of_300_entries_rebuild_the_signed_root_from_the_files_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let mut reg = registry(&tmp.path().join("reg"), 300);
    let www = tmp.path().join("www");
    let report = export(&mut reg, &www).unwrap();
    assert_eq!(report.size, 300);
    assert_eq!(
        report.written,
        [
            "tile/0/000",
            "tile/entries/000",
            "tile/0/001.p/44",
            "tile/entries/001.p/44",
            "tile/1/000.p/1",
            "checkpoint"
        ]
    );
    assert_eq!(
        fs::metadata(www.join("tile/0/000")).unwrap().len(),
        256 * 32
    );
    assert_eq!(
        fs::read_to_string(www.join("checkpoint")).unwrap(),
        reg.latest_checkpoint().unwrap().note
    );

    // A reader with only the directory and the log key.
    let key = reg.log_public_key().unwrap();
    let log = read_tiles(&www, &key, Some(ORIGIN)).unwrap();
    assert_eq!(log.checkpoint.checkpoint.size, 300);
    assert_eq!(
        log.checkpoint.checkpoint.root,
        reg.latest_checkpoint().unwrap().root
    );
    assert_eq!(log.entries.len(), 300);
    for i in [0u64, 1, 255, 256, 299] {
        assert_eq!(
            log.entries[i as usize],
            reg.event(i).unwrap().0,
            "entry {i}"
        );
    }

    // Ten more entries: the full tiles stay, the partial ones are added.
    reg.append_batch((300..310).map(member).collect()).unwrap();
    let again = export(&mut reg, &www).unwrap();
    assert_eq!(again.kept, 2, "full tile and bundle 000 are kept");
    assert_eq!(
        again.written,
        [
            "tile/0/001.p/54",
            "tile/entries/001.p/54",
            "tile/1/000.p/1",
            "checkpoint"
        ]
    );
    assert!(
        www.join("tile/0/001.p/44").exists(),
        "older partial tiles still serve older checkpoints"
    );
    let log = read_tiles(&www, &key, Some(ORIGIN)).unwrap();
    assert_eq!(log.entries.len(), 310);

    // The wrong key or origin is refused before any tile is read.
    let other = SigningKeyFile::from_seed(&[3; 32]).public();
    assert!(matches!(
        read_tiles(&www, &other, None),
        Err(TilesError::Checkpoint(_))
    ));
    assert!(matches!(
        read_tiles(&www, &key, Some("registry.example/other")),
        Err(TilesError::Checkpoint(_))
    ));
}

#[test]
fn a_tampered_tile_bundle_or_checkpoint_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let mut reg = registry(&tmp.path().join("reg"), 300);
    let key = reg.log_public_key().unwrap();
    let www = tmp.path().join("www");
    export(&mut reg, &www).unwrap();
    read_tiles(&www, &key, Some(ORIGIN)).unwrap();

    let cases: [(&str, usize, &str); 4] = [
        // A leaf hash in the full level-0 tile: its level-1 hash disagrees.
        ("tile/0/000", 5 * 32, "tile/0/000"),
        // A leaf hash in the partial tile: the root disagrees.
        ("tile/0/001.p/44", 0, "checkpoint"),
        // A byte of entry 0: it no longer hashes to its leaf.
        ("tile/entries/000", 10, "tile/entries/000"),
        // The level-1 hash: the root disagrees.
        ("tile/1/000.p/1", 31, "tile/0/000"),
    ];
    for (file, at, blamed) in cases {
        let path = www.join(file);
        let original = fs::read(&path).unwrap();
        flip(&path, at);
        match read_tiles(&www, &key, Some(ORIGIN)) {
            Err(TilesError::Mismatch { path, .. }) => assert_eq!(path, blamed, "{file}"),
            other => panic!("{file}: tampering not detected: {other:?}"),
        }
        fs::write(&path, original).unwrap();
    }

    // A truncated partial tile is malformed.
    let partial = www.join("tile/0/001.p/44");
    let original = fs::read(&partial).unwrap();
    fs::write(&partial, &original[..original.len() - 1]).unwrap();
    assert!(matches!(
        read_tiles(&www, &key, Some(ORIGIN)),
        Err(TilesError::Malformed { .. })
    ));
    fs::write(&partial, original).unwrap();

    // A changed checkpoint fails its signature.
    let cp = www.join("checkpoint");
    let note = fs::read_to_string(&cp).unwrap();
    fs::write(&cp, note.replacen("\n300\n", "\n299\n", 1)).unwrap();
    assert!(matches!(
        read_tiles(&www, &key, Some(ORIGIN)),
        Err(TilesError::Checkpoint(_))
    ));
    // ...and export refuses to overwrite what it cannot verify.
    assert!(matches!(
        export(&mut reg, &www),
        Err(TilesError::Published { .. })
    ));
    fs::write(&cp, note).unwrap();
    read_tiles(&www, &key, Some(ORIGIN)).unwrap();
}

#[test]
fn registry_tiles_command_exports_and_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = tmp.path().join("reg");
    let init = blueprint()
        .args(["registry", "init"])
        .arg(&reg)
        .args(["--origin", ORIGIN, "--now", "2026-12-03T10:00:00Z"])
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", text(&init.stderr));
    let www = tmp.path().join("www");
    let out = blueprint()
        .args(["registry", "tiles"])
        .arg(&reg)
        .arg("--out")
        .arg(&www)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("exported tree size 1 to "),
        "{}",
        text(&out.stdout)
    );
    assert!(www.join("tile/0/000.p/1").exists());
    assert!(www.join("tile/entries/000.p/1").exists());
    let key = Registry::open(&reg).unwrap().log_public_key().unwrap();
    assert_eq!(read_tiles(&www, &key, None).unwrap().entries.len(), 1);
}
