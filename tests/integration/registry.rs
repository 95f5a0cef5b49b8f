//! The escrow registry end to end: deposits and receipts, version and key
//! rules, replay and fsck, crash safety under SIGKILL, damaged stores,
//! injected write failures, and concurrent writers.

use crate::util::{blueprint, repo_file, text};
use blueprint::attest::dsse::Envelope;
use blueprint::attest::keys::{PublicKey, SigningKeyFile};
use blueprint::attest::statement::{self, PAYLOAD_TYPE, ValidationSummary};
use blueprint::escrow::checkpoint;
use blueprint::escrow::merkle::{self, hash_from_hex};
use blueprint::escrow::receipt::Receipt;
use blueprint::escrow::registry::Registry;
use blueprint::manifest::document::Limits;
use blueprint::profile::{ProfileLibrary, Selection};
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_for_signing};
use serde_json::Value;
use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const NOW: &str = "2026-12-03T10:00:00Z";
const DAY: &str = "2026-12-03";

/// The smart meter validated once (as of [`DAY`]): its JSON value and the
/// validation summary, from which variants with other ids and versions are
/// signed cheaply. The registry re-validates every one of them itself.
pub(crate) fn base() -> &'static (Value, ValidationSummary) {
    static BASE: OnceLock<(Value, ValidationSummary)> = OnceLock::new();
    BASE.get_or_init(|| {
        let bytes = fs::read(repo_file("examples/smart-meter.toml")).unwrap();
        let mut map = SourceMap::new();
        let library = ProfileLibrary::builtin(&mut map).unwrap();
        let options = ValidateOptions {
            schema_only: false,
            as_of: time::Date::parse(
                DAY,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .unwrap(),
            limits: Limits::default(),
            selection: Selection::Auto,
        };
        let (_, validated) =
            validate_for_signing(&mut map, &library, "smart-meter.toml", &bytes, &options);
        let v = validated.expect("the smart meter validates");
        (v.value().clone(), v.summary().clone())
    })
}

/// A vendor key with a fixed seed, written as `dir/NAME.key` (0600) and `.pub`.
pub(crate) fn key(dir: &Path, name: &str, seed: u8) -> (SigningKeyFile, PathBuf, PathBuf) {
    let k = SigningKeyFile::from_seed(&[seed; 32]);
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    fs::write(&private, k.to_pem().unwrap().as_bytes()).unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&public, k.public().to_pem().unwrap()).unwrap();
    (k, private, public)
}

/// An envelope for the smart meter with `blueprint.id = id` and `version`.
pub(crate) fn envelope(dir: &Path, id: &str, version: u64, key: &SigningKeyFile) -> PathBuf {
    envelope_with(dir, id, version, key, |_| {})
}

fn envelope_with(
    dir: &Path,
    id: &str,
    version: u64,
    key: &SigningKeyFile,
    edit: impl FnOnce(&mut Value),
) -> PathBuf {
    let (value, summary) = base();
    let mut m = value.clone();
    m["blueprint"]["id"] = Value::from(id);
    m["blueprint"]["version"] = Value::from(version);
    edit(&mut m);
    let payload = statement::deposit_payload(&m, summary).unwrap();
    let env = Envelope::sign(PAYLOAD_TYPE, &payload, key);
    let path = dir.join(format!("{id}.v{version}.{}.json", key.id()));
    fs::write(&path, env.to_json()).unwrap();
    path
}

struct Reg {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    dir: PathBuf,
    vendor: SigningKeyFile,
    vendor_pub: PathBuf,
}

/// A new registry, on PostgreSQL when the suite runs under
/// `scripts/with-postgres.sh`, else on SQLite.
fn init() -> Reg {
    init_with(crate::util::database_args())
}

/// A new registry on SQLite, for the tests that open or damage its
/// database file (their PostgreSQL counterparts are in `registry_pg.rs`).
fn init_sqlite() -> Reg {
    init_with(Vec::new())
}

fn init_with(database: Vec<String>) -> Reg {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_owned();
    let dir = root.join("reg");
    let o = blueprint()
        .args(["registry", "init"])
        .arg(&dir)
        .args(["--origin", "registry.example/escrow", "--now", NOW])
        .args(database)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        fs::metadata(dir.join("log.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let (vendor, _, vendor_pub) = key(&root, "vendor", 7);
    Reg {
        _tmp: tmp,
        root,
        dir,
        vendor,
        vendor_pub,
    }
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn registry(args: &[&str], dir: &Path, extra: &[&Path]) -> Out {
    let o = blueprint()
        .arg("registry")
        .arg(args[0])
        .arg(dir)
        .args(&args[1..])
        .args(extra)
        .output()
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: text(&o.stdout),
        stderr: text(&o.stderr),
    }
}

fn deposit(r: &Reg, env: &Path, pin: bool, now: &str) -> Out {
    let mut args = vec!["deposit", "--bond", "50000", "EUR", "--now", now];
    let p = r.vendor_pub.to_string_lossy().into_owned();
    if pin {
        args.extend(["--pubkey", &p]);
    }
    registry(&args, &r.dir, &[env])
}

fn log_key(r: &Reg) -> PublicKey {
    PublicKey::load(&r.dir.join("log.pub")).unwrap()
}

fn assert_clean(r: &Reg) {
    let f = registry(&["fsck"], &r.dir, &[]);
    assert_eq!(f.code, 0, "fsck: {}{}", f.stdout, f.stderr);
    assert!(f.stdout.contains("clean"), "{}", f.stdout);
    let p = registry(&["replay"], &r.dir, &[]);
    assert_eq!(p.code, 0, "replay: {}{}", p.stdout, p.stderr);
    assert!(p.stdout.contains("state matches"), "{}", p.stdout);
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn deposit_receipt_supersede_and_rollback() {
    let r = init();
    let v2 = envelope(&r.root, "meter", 2, &r.vendor);
    let out = deposit(&r, &v2, true, "2026-12-03T10:05:00Z");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("Deposited meter version 2 as entry 1"));
    let receipt = Receipt::from_json(out.stdout.as_bytes()).unwrap();
    let verified = receipt.verify(&log_key(&r)).unwrap();
    assert_eq!((verified.index, verified.version), (1, 2));
    assert_eq!(verified.blueprint_id, "meter");
    assert_clean(&r);

    // A newer version supersedes; the old bond stays held.
    let v3 = envelope(&r.root, "meter", 3, &r.vendor);
    let out = deposit(&r, &v3, false, "2026-12-03T11:00:00Z");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let receipt3 = Receipt::from_json(out.stdout.as_bytes()).unwrap();
    receipt3.verify(&log_key(&r)).unwrap();
    let show = json(&registry(&["show", "--format", "json"], &r.dir, &[Path::new("meter")]).stdout);
    let versions = show["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["status"], "superseded");
    assert_eq!(versions[0]["bond_state"], "held");
    assert_eq!(versions[0]["superseded_by"], 2);
    assert_eq!(versions[1]["supersedes"], 1);
    assert_eq!(versions[1]["status"], "held");
    assert_clean(&r);

    // Replaying the same version, or an older one, is refused (exit 1).
    for (env, what) in [(&v3, "same"), (&v2, "older")] {
        let out = deposit(&r, env, false, "2026-12-03T12:00:00Z");
        assert_eq!(out.code, 1, "{what}: {}", out.stderr);
        assert!(out.stderr.contains("versions only grow"), "{}", out.stderr);
        assert!(out.stdout.is_empty());
    }
    let older = envelope(&r.root, "meter", 1, &r.vendor);
    assert_eq!(deposit(&r, &older, false, "2026-12-03T12:00:00Z").code, 1);

    // The old receipt still verifies against a later checkpoint via a
    // consistency proof from its tree size.
    let c = json(
        &registry(
            &["consistency", "--format", "json", "--from", "2"],
            &r.dir,
            &[],
        )
        .stdout,
    );
    let proof: Vec<_> = c["consistency_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hash_from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    let root1 = hash_from_hex(&receipt.root).unwrap();
    let root2 = hash_from_hex(&receipt3.root).unwrap();
    merkle::verify_consistency(2, 3, &root1, &root2, &proof).unwrap();
    let p = json(&registry(&["prove", "--format", "json", "--index", "1"], &r.dir, &[]).stdout);
    assert_eq!(p["tree_size"], 3);
    let cp = registry(&["checkpoint"], &r.dir, &[]).stdout;
    let v =
        checkpoint::verify(cp.as_bytes(), &log_key(&r), Some("registry.example/escrow")).unwrap();
    assert_eq!(v.checkpoint.size, 3);
    assert_clean(&r);
}

#[test]
fn keys_are_pinned_and_rotation_needs_the_old_key() {
    let r = init();
    let (other, other_key, other_pub) = key(&r.root, "other", 9);
    // The first deposit of an id needs the vendor key.
    let v2 = envelope(&r.root, "cam", 2, &r.vendor);
    let out = deposit(&r, &v2, false, NOW);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("no pinned vendor key"),
        "{}",
        out.stderr
    );
    assert_eq!(deposit(&r, &v2, true, NOW).code, 0);
    // Signed by another key: refused.
    let forged = envelope(&r.root, "cam", 3, &other);
    let out = deposit(&r, &forged, false, NOW);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("pinned vendor key"), "{}", out.stderr);
    // Rotation signed by the wrong key: refused; by the old key: accepted.
    let rotate = |signer: &Path| {
        registry(
            &["rotate", "--blueprint", "cam", "--now", NOW],
            &r.dir,
            &[
                Path::new("--new-key"),
                &other_pub,
                Path::new("--key"),
                signer,
            ],
        )
    };
    let out = rotate(&other_key);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("pinned vendor key"), "{}", out.stderr);
    let old_key = r.root.join("vendor.key");
    let out = rotate(&old_key);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("Rotated the vendor key of cam"));
    // Now only the new key deposits.
    let by_old = envelope(&r.root, "cam", 3, &r.vendor);
    assert_eq!(deposit(&r, &by_old, false, NOW).code, 1);
    assert_eq!(deposit(&r, &forged, false, NOW).code, 0);
    // Rotating back with the (now stale) old key is refused.
    assert_eq!(rotate(&old_key).code, 1);
    let list = json(&registry(&["list", "--format", "json"], &r.dir, &[]).stdout);
    assert_eq!(list["blueprints"][0]["rotations"], serde_json::json!([2]));
    assert_clean(&r);
}

#[test]
fn the_registry_revalidates_instead_of_trusting_the_signed_summary() {
    let r = init();
    // A manifest with a schema error, signed with a summary claiming none.
    let bad = envelope_with(&r.root, "bad", 1, &r.vendor, |m| {
        m["vendor"]["hq_country"] = Value::from("Germany");
    });
    let out = deposit(&r, &bad, true, NOW);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("refusing the deposit") && out.stderr.contains("error-level"),
        "{}",
        out.stderr
    );
    // Bad bonds and times are usage errors.
    let good = envelope(&r.root, "good", 1, &r.vendor);
    for bond in [
        ["50,000", "EUR"],
        ["1.23456", "EUR"],
        ["100", "eur"],
        ["1e3", "EUR"],
    ] {
        let out = registry(
            &["deposit", "--bond", bond[0], bond[1], "--now", NOW],
            &r.dir,
            &[&good],
        );
        assert_eq!(out.code, 2, "{bond:?}: {}", out.stderr);
        assert!(out.stderr.contains("bond"), "{}", out.stderr);
    }
    let out = registry(
        &["deposit", "--bond", "1", "EUR", "--now", "2026-12-03"],
        &r.dir,
        &[&good],
    );
    assert_eq!(out.code, 2);
    let size =
        json(&registry(&["checkpoint", "--format", "json"], &r.dir, &[]).stdout)["size"].clone();
    assert_eq!(size, 1, "nothing was appended");
    assert_clean(&r);
}

/// Registry size and latest checkpoint note.
fn head(r: &Reg) -> (u64, String) {
    let c = json(&registry(&["checkpoint", "--format", "json"], &r.dir, &[]).stdout);
    (
        c["size"].as_u64().unwrap(),
        c["note"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn injected_write_failures_leave_the_registry_unchanged() {
    let r = init();
    let first = envelope(&r.root, "fp", 1, &r.vendor);
    assert_eq!(deposit(&r, &first, true, NOW).code, 0);
    let before = head(&r);
    let next = envelope(&r.root, "fp", 2, &r.vendor);
    for point in ["after-entry", "sign-checkpoint", "before-commit"] {
        let o = blueprint()
            .env("BLUEPRINT_FAILPOINT", point)
            .args(["registry", "deposit"])
            .arg(&r.dir)
            .arg(&next)
            .args(["--bond", "1", "EUR", "--now", NOW])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{point}");
        let err = text(&o.stderr);
        assert!(
            err.contains(&format!("injected failure at `{point}`")),
            "{err}"
        );
        assert!(!err.contains("Deposited"), "{err}");
        assert!(o.stdout.is_empty(), "no receipt for a failed write");
        assert_eq!(head(&r), before, "{point}: no entry and no new checkpoint");
        assert_clean(&r);
    }
    assert_eq!(deposit(&r, &next, false, NOW).code, 0);
    assert_eq!(head(&r).0, before.0 + 1);
}

#[test]
fn a_writer_that_cannot_get_the_lock_gets_a_clear_busy_error() {
    let r = init_sqlite();
    let env = envelope(&r.root, "busy", 1, &r.vendor);
    let conn = rusqlite::Connection::open(r.dir.join("registry.db")).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let out = registry(
        &[
            "deposit",
            "--bond",
            "1",
            "EUR",
            "--now",
            NOW,
            "--lock-timeout",
            "200",
        ],
        &r.dir,
        &[Path::new("--pubkey"), &r.vendor_pub, &env],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("registry is busy (another writer holds the lock); try again"),
        "{}",
        out.stderr
    );
    conn.execute_batch("ROLLBACK").unwrap();
    drop(conn);
    assert_eq!(deposit(&r, &env, true, NOW).code, 0);
}

/// A SQLite registry with three deposits, all connections closed (WAL
/// folded in).
fn three_deposits() -> Reg {
    let r = init_sqlite();
    for v in 1..=3 {
        let env = envelope(&r.root, "flip", v, &r.vendor);
        assert_eq!(deposit(&r, &env, v == 1, NOW).code, 0);
    }
    r
}

#[test]
fn an_altered_entry_blob_is_located_and_never_accepted() {
    let r = three_deposits();
    let conn = rusqlite::Connection::open(r.dir.join("registry.db")).unwrap();
    let mut bytes: Vec<u8> = conn
        .query_row("SELECT bytes FROM entries WHERE idx = 3", [], |row| {
            row.get(0)
        })
        .unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    conn.execute("UPDATE entries SET bytes = ?1 WHERE idx = 3", [&bytes])
        .unwrap();
    drop(conn);
    let f = registry(&["fsck"], &r.dir, &[]);
    assert_eq!(f.code, 1, "{}", f.stdout);
    assert!(f.stdout.contains("entries row 3"), "{}", f.stdout);
    assert!(f.stdout.contains("check hash"), "{}", f.stdout);
    let p = registry(&["replay"], &r.dir, &[]);
    assert_eq!(p.code, 1, "{}{}", p.stdout, p.stderr);
    assert!(p.stderr.contains("entries row 3"), "{}", p.stderr);
    let env = envelope(&r.root, "flip", 4, &r.vendor);
    let d = deposit(&r, &env, false, NOW);
    assert_eq!(d.code, 2, "{}", d.stderr);
    assert!(d.stderr.contains("entries row 3"), "{}", d.stderr);
    assert!(!d.stderr.contains("Deposited"));
}

#[test]
fn a_flipped_byte_in_the_database_file_is_located() {
    let r = three_deposits();
    let db = r.dir.join("registry.db");
    assert!(
        !r.dir.join("registry.db-wal").exists()
            || fs::metadata(r.dir.join("registry.db-wal")).unwrap().len() == 0,
        "the WAL is folded into the database when the last connection closes"
    );
    let mut raw = fs::read(&db).unwrap();
    // Inside the entry of version 2: its canonical bytes contain this text.
    let needle = br#""supersedes":1,"support_end""#;
    let at = raw
        .windows(needle.len())
        .position(|w| w == needle)
        .expect("entry bytes are in the file");
    raw[at + 13] ^= 0x02; // "1" becomes "3"
    fs::write(&db, &raw).unwrap();
    let f = registry(&["fsck"], &r.dir, &[]);
    assert_eq!(f.code, 1, "{}{}", f.stdout, f.stderr);
    assert!(f.stdout.contains("entries row 2"), "{}", f.stdout);
    let p = registry(&["replay"], &r.dir, &[]);
    assert_eq!(p.code, 1, "{}{}", p.stdout, p.stderr);
    assert!(p.stderr.contains("entries row 2"), "{}", p.stderr);
}

/// Iterations of the SIGKILL loop (`BLUEPRINT_KILL_ITERATIONS`, default 50).
fn kill_iterations() -> usize {
    std::env::var("BLUEPRINT_KILL_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

fn random_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_le_bytes(b) % n
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_deposit() {
    let r = init();
    let iterations = kill_iterations();
    let bin = env!("CARGO_BIN_EXE_blueprint");
    let mut acknowledged: BTreeSet<u64> = BTreeSet::new();
    let mut next_id = 0usize;
    let (mut kills, mut completed) = (0usize, 0usize);
    for _ in 0..iterations {
        // Each child deposits three fresh blueprint ids, one per transaction.
        let envs: Vec<PathBuf> = (0..3)
            .map(|_| {
                next_id += 1;
                envelope(&r.root, &format!("k{next_id}"), 1, &r.vendor)
            })
            .collect();
        let mut child = Command::new(bin)
            .args(["registry", "deposit-each"])
            .arg(&r.dir)
            .args(["--bond", "10", "EUR", "--now", NOW, "--pubkey"])
            .arg(&r.vendor_pub)
            .args(&envs)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(random_below(400)));
        match child.try_wait().unwrap() {
            Some(_) => completed += 1,
            None => {
                child.kill().unwrap(); // SIGKILL
                kills += 1;
            }
        }
        child.wait().unwrap();
        // Every line the child printed was printed after its commit.
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.unwrap();
            let index: u64 = line.split(' ').nth(1).unwrap().parse().unwrap();
            acknowledged.insert(index);
        }
        let f = registry(&["fsck", "--format", "json"], &r.dir, &[]);
        assert_eq!(f.code, 0, "after a kill: {}{}", f.stdout, f.stderr);
        let size = json(&f.stdout)["entries"].as_u64().unwrap();
        for i in &acknowledged {
            assert!(*i < size, "acknowledged entry {i} lost (size {size})");
        }
    }
    assert_clean(&r);
    eprintln!(
        "sigkill loop: {iterations} iterations, {kills} killed mid-run, {completed} finished, {} acknowledged deposits, final size {}",
        acknowledged.len(),
        head(&r).0
    );
}

#[test]
fn concurrent_writers_get_contiguous_indices_and_consistent_checkpoints() {
    const PROCS: usize = 8;
    let per_proc: usize = std::env::var("BLUEPRINT_CONCURRENT_DEPOSITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let r = init();
    let bin = env!("CARGO_BIN_EXE_blueprint");
    let batches: Vec<Vec<PathBuf>> = (0..PROCS)
        .map(|p| {
            (0..per_proc)
                .map(|i| envelope(&r.root, &format!("c{p}-{i}"), 1, &r.vendor))
                .collect()
        })
        .collect();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let dir = r.dir.clone();
        let stop = stop.clone();
        std::thread::spawn(move || -> usize {
            let mut reg = Registry::open(&dir).unwrap();
            let key = PublicKey::load(&dir.join("log.pub")).unwrap();
            let mut last: Option<(u64, merkle::Hash)> = None;
            let mut checked = 0;
            loop {
                let done = stop.load(std::sync::atomic::Ordering::SeqCst);
                let cp = reg.latest_checkpoint().unwrap();
                checkpoint::verify(cp.note.as_bytes(), &key, None).unwrap();
                if let Some((m, old)) = last
                    && m != cp.size
                {
                    let (_, _, to, proof) = reg.consistency(m, Some(cp.size)).unwrap();
                    assert_eq!(to.root, cp.root);
                    merkle::verify_consistency(m, cp.size, &old, &cp.root, &proof)
                        .unwrap_or_else(|e| panic!("checkpoint {m} -> {}: {e}", cp.size));
                    checked += 1;
                }
                last = Some((cp.size, cp.root));
                if done {
                    return checked;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let children: Vec<_> = batches
        .iter()
        .map(|envs| {
            Command::new(bin)
                .args(["registry", "deposit-each"])
                .arg(&r.dir)
                .args([
                    "--bond",
                    "10",
                    "EUR",
                    "--now",
                    NOW,
                    "--lock-timeout",
                    "60000",
                ])
                .arg("--pubkey")
                .arg(&r.vendor_pub)
                .args(envs)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut indices = Vec::new();
    for child in children {
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        for line in text(&o.stdout).lines() {
            indices.push(line.split(' ').nth(1).unwrap().parse::<u64>().unwrap());
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let checked = reader.join().unwrap();
    indices.sort_unstable();
    let total = (PROCS * per_proc) as u64;
    assert_eq!(
        indices,
        (1..=total).collect::<Vec<_>>(),
        "contiguous, no duplicates"
    );
    assert_eq!(head(&r).0, total + 1);
    assert!(checked > 0, "the reader saw the log grow");
    assert_clean(&r);
}
