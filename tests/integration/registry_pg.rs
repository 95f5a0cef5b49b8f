//! The registry on PostgreSQL: the registry commands over a database
//! recorded at `init --database`; fsck locating damage; a writer that
//! cannot get the table lock; processes and servers sharing one database
//! appending to one log with contiguous indices; one server killed with
//! SIGKILL while the other goes on, losing no acknowledged deposit.
//!
//! Each test makes its own database on the server named by
//! `BLUEPRINT_TEST_DATABASE_URL` and is skipped (saying so) when it is not
//! set; `scripts/with-postgres.sh` sets it, and `.ci/run` runs these tests
//! under it.

use crate::registry::{envelope, key};
use crate::serve::Server;
use crate::util::{blueprint, text};
use blueprint::attest::keys::{PublicKey, SigningKeyFile};
use blueprint::escrow::receipt::Receipt;
use blueprint::escrow::registry::Registry;
use serde_json::{Value, json};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const NOW: &str = "2026-12-03T10:00:00Z";
const VAR: &str = "BLUEPRINT_TEST_DATABASE_URL";

/// The server's URL, or `None` (with a note on standard error) to skip.
fn server_url(test: &str) -> Option<String> {
    match std::env::var(VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipped {test}: {VAR} is not set (run it with scripts/with-postgres.sh cargo test --test integration registry_pg)"
            );
            None
        }
    }
}

struct Reg {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    dir: PathBuf,
    url: String,
    vendor: SigningKeyFile,
    vendor_pub: PathBuf,
}

fn init(server: &str) -> Reg {
    let url = crate::util::fresh_database(server);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_owned();
    let dir = root.join("reg");
    let o = blueprint()
        .args(["registry", "init"])
        .arg(&dir)
        .args(["--origin", "registry.example/escrow", "--now", NOW])
        .args(["--database", &url])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let password = password_of(&url);
    assert!(!text(&o.stdout).contains(&password), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains(":***@"), "{}", text(&o.stdout));
    let record = dir.join("database.toml");
    assert_eq!(
        fs::metadata(&record).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!dir.join("registry.db").exists(), "no SQLite file");
    let (vendor, _, vendor_pub) = key(&root, "vendor", 7);
    Reg {
        _tmp: tmp,
        root,
        dir,
        url,
        vendor,
        vendor_pub,
    }
}

fn password_of(url: &str) -> String {
    let authority = url.split_once("://").unwrap().1.split('/').next().unwrap();
    let userinfo = authority.rsplit_once('@').map(|(u, _)| u).unwrap_or("");
    userinfo
        .split_once(':')
        .map(|(_, p)| p)
        .unwrap_or("")
        .to_owned()
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

fn deposit(r: &Reg, env: &Path, pin: bool) -> Out {
    let mut args = vec!["deposit", "--bond", "50000", "EUR", "--now", NOW];
    let p = r.vendor_pub.to_string_lossy().into_owned();
    if pin {
        args.extend(["--pubkey", &p]);
    }
    registry(&args, &r.dir, &[env])
}

fn assert_clean(dir: &Path) {
    let f = registry(&["fsck"], dir, &[]);
    assert_eq!(f.code, 0, "fsck: {}{}", f.stdout, f.stderr);
    assert!(f.stdout.contains("clean"), "{}", f.stdout);
    let p = registry(&["replay"], dir, &[]);
    assert_eq!(p.code, 0, "replay: {}{}", p.stdout, p.stderr);
    assert!(p.stdout.contains("state matches"), "{}", p.stdout);
}

#[test]
fn registry_commands_run_on_the_recorded_database() {
    let Some(server) = server_url("registry_commands_run_on_the_recorded_database") else {
        return;
    };
    let r = init(&server);
    let v1 = envelope(&r.root, "meter", 1, &r.vendor);
    let v2 = envelope(&r.root, "meter", 2, &r.vendor);
    let o = deposit(&r, &v1, true);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = deposit(&r, &v2, false);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // The version rules hold as on SQLite: a rollback is refused (exit 1).
    let o = deposit(&r, &v1, false);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert_clean(&r.dir);

    // Receipts and proofs come from the database.
    let mut reg = Registry::open(&r.dir).unwrap();
    assert_eq!(reg.size().unwrap(), 3);
    let key = PublicKey::load(&r.dir.join("log.pub")).unwrap();
    let (appended, _) = reg.prove(2, None).unwrap();
    let receipt = Receipt::new(
        &appended.entry,
        appended.index,
        &appended.checkpoint.note,
        &appended.inclusion_proof,
    )
    .unwrap();
    let v = receipt.verify(&key).unwrap();
    assert_eq!(
        (v.blueprint_id.as_str(), v.version, v.index),
        ("meter", 2, 2)
    );
    drop(reg);

    // A database holds one registry: a second init on it is refused
    // before any key is written.
    let other = r.root.join("other");
    let o = blueprint()
        .args(["registry", "init"])
        .arg(&other)
        .args(["--origin", "registry.example/escrow", "--database", &r.url])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(err.contains("already holds a registry"), "{err}");
    assert!(!err.contains(&password_of(&r.url)), "{err}");
    assert!(!other.join("log.key").exists());

    // A bad URL is an error that does not print the password.
    let o = blueprint()
        .args(["registry", "init"])
        .arg(r.root.join("bad"))
        .args([
            "--origin",
            "x",
            "--database",
            "postgres://u:s3cret@h:port/db",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(!text(&o.stderr).contains("s3cret"), "{}", text(&o.stderr));
}

#[test]
fn fsck_locates_an_altered_entry_in_the_database() {
    let Some(server) = server_url("fsck_locates_an_altered_entry_in_the_database") else {
        return;
    };
    let r = init(&server);
    for v in 1..=3 {
        let env = envelope(&r.root, "meter", v, &r.vendor);
        assert_eq!(deposit(&r, &env, v == 1).code, 0);
    }
    let mut c = postgres::Client::connect(&r.url, postgres::NoTls).unwrap();
    c.batch_execute(
        "UPDATE entries SET bytes = overlay(bytes placing '\\x58'::bytea from 20) WHERE idx = 3",
    )
    .unwrap();
    let f = registry(&["fsck"], &r.dir, &[]);
    assert_eq!(f.code, 1, "{}{}", f.stdout, f.stderr);
    assert!(f.stdout.contains("entries row 3"), "{}", f.stdout);
    // A damaged log is refused, not extended.
    let env = envelope(&r.root, "meter", 4, &r.vendor);
    let o = deposit(&r, &env, false);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("entries row 3"), "{}", o.stderr);
}

#[test]
fn a_writer_that_cannot_get_the_table_lock_gets_a_clear_busy_error() {
    let Some(server) =
        server_url("a_writer_that_cannot_get_the_table_lock_gets_a_clear_busy_error")
    else {
        return;
    };
    let r = init(&server);
    let env = envelope(&r.root, "busy", 1, &r.vendor);
    let mut c = postgres::Client::connect(&r.url, postgres::NoTls).unwrap();
    let mut tx = c.transaction().unwrap();
    tx.batch_execute("LOCK TABLE entries IN EXCLUSIVE MODE")
        .unwrap();
    let o = registry(
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
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("registry is busy (another writer holds the lock); try again"),
        "{}",
        o.stderr
    );
    // Readers are not blocked by a writer.
    let p = registry(&["replay"], &r.dir, &[]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    tx.rollback().unwrap();
    assert_eq!(deposit(&r, &env, true).code, 0);
}

/// A copy of the registry directory (key files and database record), as a
/// second host would hold it.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for name in ["log.key", "log.pub", "database.toml"] {
        fs::copy(from.join(name), to.join(name)).unwrap();
    }
}

#[test]
fn processes_with_copied_directories_append_to_one_log() {
    let Some(server) = server_url("processes_with_copied_directories_append_to_one_log") else {
        return;
    };
    const PROCS: usize = 6;
    const EACH: usize = 12;
    let r = init(&server);
    let second = r.root.join("second");
    copy_dir(&r.dir, &second);
    let children: Vec<Child> = (0..PROCS)
        .map(|p| {
            let dir = if p % 2 == 0 { &r.dir } else { &second };
            let envs: Vec<PathBuf> = (0..EACH)
                .map(|i| envelope(&r.root, &format!("p{p}-{i}"), 1, &r.vendor))
                .collect();
            Command::new(env!("CARGO_BIN_EXE_blueprint"))
                .args(["registry", "deposit-each"])
                .arg(dir)
                .args(["--bond", "10", "EUR", "--now", NOW])
                .args(["--lock-timeout", "60000"])
                .arg("--pubkey")
                .arg(&r.vendor_pub)
                .args(&envs)
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
    indices.sort_unstable();
    let total = (PROCS * EACH) as u64;
    assert_eq!(indices, (1..=total).collect::<Vec<_>>());
    assert_clean(&r.dir);
    assert_clean(&second);
}

fn deposit_body(env: &Path, pubkey: &Path) -> Vec<u8> {
    let envelope: Value = serde_json::from_slice(&fs::read(env).unwrap()).unwrap();
    let body = json!({
        "envelope": envelope,
        "bond": {"amount": "50000", "currency": "EUR"},
        "vendor_public_key": fs::read_to_string(pubkey).unwrap(),
    });
    serde_json::to_vec(&body).unwrap()
}

/// What a deposit request got.
enum Posted {
    Receipt(Box<Receipt>),
    /// A 4xx status with its body.
    Refused(u16, String),
    /// No response: the server is gone.
    Gone,
}

/// POSTs a deposit; the receipt on 201, `None` when the server is gone.
fn post_deposit(url: &str, body: &[u8]) -> Option<Receipt> {
    match post(url, body) {
        Posted::Receipt(r) => Some(*r),
        Posted::Refused(status, body) => panic!("{status}: {body}"),
        Posted::Gone => None,
    }
}

fn post(url: &str, body: &[u8]) -> Posted {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let Ok(mut resp) = agent
        .post(&format!("{url}/api/v1/deposits"))
        .header("content-type", "application/json")
        .send(body)
    else {
        return Posted::Gone;
    };
    let status = resp.status().as_u16();
    let Ok(bytes) = resp.body_mut().read_to_vec() else {
        return Posted::Gone;
    };
    match status {
        201 => Posted::Receipt(Box::new(Receipt::from_json(&bytes).unwrap())),
        400..500 => Posted::Refused(status, text(&bytes)),
        _ => panic!("{status}: {}", text(&bytes)),
    }
}

/// Every receipt verifies offline and its entry is the log's entry at its
/// index; returns the indices, sorted.
fn check_receipts(dir: &Path, receipts: &[Receipt]) -> Vec<u64> {
    let key = PublicKey::load(&dir.join("log.pub")).unwrap();
    let mut reg = Registry::open(dir).unwrap();
    let mut indices: Vec<u64> = receipts
        .iter()
        .map(|receipt| {
            let v = receipt.verify(&key).unwrap();
            let (bytes, _) = reg.event(v.index).unwrap();
            assert_eq!(
                base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes),
                receipt.entry,
                "acknowledged entry {} is not in the log",
                v.index
            );
            v.index
        })
        .collect();
    indices.sort_unstable();
    indices
}

#[test]
fn two_servers_on_one_database_append_one_log() {
    let Some(server) = server_url("two_servers_on_one_database_append_one_log") else {
        return;
    };
    const CLIENTS: usize = 4;
    const EACH: usize = 15;
    let r = init(&server);
    let a = Server::start(&r.dir, &[]);
    // The second server names the database on its command line.
    let second = r.root.join("second");
    fs::create_dir_all(&second).unwrap();
    for name in ["log.key", "log.pub"] {
        fs::copy(r.dir.join(name), second.join(name)).unwrap();
    }
    let b = Server::start(&second, &["--database", &r.url]);
    let urls = [a.url.clone(), b.url.clone()];
    let receipts: Arc<Mutex<Vec<Receipt>>> = Arc::default();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let bodies: Vec<Vec<u8>> = (0..EACH)
                .map(|i| {
                    let env = envelope(&r.root, &format!("c{c}-{i}"), 1, &r.vendor);
                    deposit_body(&env, &r.vendor_pub)
                })
                .collect();
            let (urls, receipts) = (urls.clone(), Arc::clone(&receipts));
            std::thread::spawn(move || {
                for (i, body) in bodies.iter().enumerate() {
                    // Each client alternates between the servers.
                    let url = &urls[(c + i) % 2];
                    let receipt = post_deposit(url, body).expect("both servers are up");
                    receipts.lock().unwrap().push(receipt);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let receipts = receipts.lock().unwrap();
    let total = (CLIENTS * EACH) as u64;
    // One log: contiguous indices, no deposit lost or acknowledged twice.
    assert_eq!(
        check_receipts(&r.dir, &receipts),
        (1..=total).collect::<Vec<_>>()
    );
    let mut ids: Vec<String> = receipts
        .iter()
        .map(|rc| {
            rc.verify(&PublicKey::load(&r.dir.join("log.pub")).unwrap())
                .unwrap()
                .blueprint_id
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), CLIENTS * EACH);
    // Both servers serve the same head.
    let head = |url: &str| {
        let agent = ureq::Agent::new_with_defaults();
        let mut resp = agent
            .get(&format!("{url}/api/v1/checkpoint"))
            .call()
            .unwrap();
        resp.body_mut().read_to_string().unwrap()
    };
    assert_eq!(head(&a.url), head(&b.url));
    drop((a, b));
    assert_clean(&r.dir);
}

#[test]
fn sigkill_of_one_server_mid_load_loses_no_acknowledged_deposit() {
    let Some(server) = server_url("sigkill_of_one_server_mid_load_loses_no_acknowledged_deposit")
    else {
        return;
    };
    const CLIENTS: usize = 4;
    const EACH: usize = 20;
    let r = init(&server);
    let mut a = Server::start(&r.dir, &[]);
    let b = Server::start(&r.dir, &[]);
    let urls = [a.url.clone(), b.url.clone()];
    let acked: Arc<Mutex<Vec<Receipt>>> = Arc::default();
    // Deposits the killed server may have committed without answering,
    // which the survivor then refused as already deposited.
    let unanswered: Arc<Mutex<Vec<String>>> = Arc::default();
    let killed = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let bodies: Vec<(String, Vec<u8>)> = (0..EACH)
                .map(|i| {
                    let id = format!("k{c}-{i}");
                    let env = envelope(&r.root, &id, 1, &r.vendor);
                    (id, deposit_body(&env, &r.vendor_pub))
                })
                .collect();
            let (urls, acked, unanswered, killed) = (
                urls.clone(),
                Arc::clone(&acked),
                Arc::clone(&unanswered),
                Arc::clone(&killed),
            );
            std::thread::spawn(move || {
                for (i, (id, body)) in bodies.iter().enumerate() {
                    let mut posted = post(&urls[(c + i) % 2], body);
                    if let Posted::Gone = posted {
                        // Only the killed server goes away; the client
                        // retries the unacknowledged deposit on the other.
                        assert!(killed.load(Ordering::SeqCst), "a server failed unkilled");
                        posted = post(&urls[1], body);
                        if let Posted::Refused(_, why) = &posted {
                            assert!(why.contains(id), "{why}");
                            unanswered.lock().unwrap().push(id.clone());
                            continue;
                        }
                    }
                    match posted {
                        Posted::Receipt(r) => acked.lock().unwrap().push(*r),
                        Posted::Refused(status, why) => panic!("{status}: {why}"),
                        Posted::Gone => panic!("the surviving server failed"),
                    }
                }
            })
        })
        .collect();
    while acked.lock().unwrap().len() < 10 {
        std::thread::sleep(Duration::from_millis(5));
    }
    killed.store(true, Ordering::SeqCst);
    a.kill();
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap();
    // Every acknowledged deposit is in the log, each at its own index.
    let indices = check_receipts(&r.dir, &acked);
    let mut dedup = indices.clone();
    dedup.dedup();
    assert_eq!(dedup, indices, "no index acknowledged twice");
    let mut reg = Registry::open(&r.dir).unwrap();
    for id in unanswered.lock().unwrap().iter() {
        assert_eq!(reg.history(id).unwrap().len(), 1, "{id}");
    }
    // No deposit is lost or doubled: each id is in the log once.
    for c in 0..CLIENTS {
        for i in 0..EACH {
            assert_eq!(reg.history(&format!("k{c}-{i}")).unwrap().len(), 1);
        }
    }
    drop(reg);
    // The survivor goes on after the kill.
    let env = envelope(&r.root, "after-kill", 1, &r.vendor);
    let receipt = post_deposit(&b.url, &deposit_body(&env, &r.vendor_pub)).unwrap();
    let last = check_receipts(&r.dir, std::slice::from_ref(&receipt))[0];
    let size = Registry::open(&r.dir).unwrap().size().unwrap();
    assert_eq!(last, size - 1);
    drop(b);
    assert_clean(&r.dir);
}
