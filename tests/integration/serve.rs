//! `blueprint serve` end to end: the binary on a free loopback port;
//! deposits over HTTP whose receipts verify offline; the registry commands
//! given a URL print what they print for the directory; each bad request
//! is a JSON 4xx that leaves the log as it was; the served OpenAPI
//! document is the committed one; SIGTERM during deposits loses no
//! acknowledged deposit.

use crate::registry::{envelope, key};
use crate::util::{blueprint, repo_file, text};
use blueprint::attest::keys::{PublicKey, SigningKeyFile};
use blueprint::escrow::receipt::Receipt;
use blueprint::escrow::registry::Registry;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running `blueprint serve`, stopped (SIGKILL) when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    log: Arc<Mutex<String>>,
    drain: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    pub(crate) fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_blueprint"))
            .arg("serve")
            .arg("--registry")
            .arg(dir)
            .args(["--addr", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stderr.take().unwrap());
        let mut seen = String::new();
        let url = loop {
            let mut line = String::new();
            if lines.read_line(&mut line).unwrap() == 0 {
                let _ = child.kill();
                panic!("serve exited before listening: {seen}");
            }
            seen.push_str(&line);
            if let Some((_, url)) = line.trim().split_once(" on ") {
                break url.to_owned();
            }
        };
        let log = Arc::new(Mutex::new(seen));
        let sink = Arc::clone(&log);
        let drain = std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = lines.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        Server {
            child,
            url,
            log,
            drain: Some(drain),
        }
    }

    /// SIGKILL, and waits for the process to end.
    pub(crate) fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit status and everything it logged.
    fn terminate(mut self) -> (ExitStatus, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        if let Some(d) = self.drain.take() {
            d.join().unwrap();
        }
        let log = self.log.lock().unwrap().clone();
        (exit, log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// Status and body of a response.
type Response = (u16, Vec<u8>);

/// Status and body of a request.
pub(crate) fn call(method: &str, url: &str, body: Option<&[u8]>) -> Response {
    let a = agent();
    let resp = match (method, body) {
        ("GET", _) => a.get(url).call(),
        ("POST", Some(b)) => a
            .post(url)
            .header("content-type", "application/json")
            .send(b),
        ("POST", None) => a.post(url).send_empty(),
        ("DELETE", _) => a.delete(url).call(),
        _ => unreachable!("method {method}"),
    };
    let mut resp = resp.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap();
    (status, bytes)
}

fn json_of(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{e}: {}", text(bytes)))
}

/// The error code of a JSON error body (panics on any other body).
pub(crate) fn error_code(bytes: &[u8]) -> String {
    let v = json_of(bytes);
    assert!(v["error"]["message"].is_string(), "{v}");
    v["error"]["code"].as_str().unwrap().to_owned()
}

/// A raw request line, so that `..` reaches the server as written.
fn raw_get(url: &str, path: &str) -> (u16, Vec<u8>) {
    let host = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let head_end = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = text(&out[..head_end]);
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = out[head_end + 4..].to_vec();
    // Small bodies come unchunked with a content-length.
    (status, body)
}

pub(crate) struct Reg {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    pub(crate) dir: PathBuf,
    vendor: SigningKeyFile,
    vendor_pub: PathBuf,
}

pub(crate) fn init() -> Reg {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_owned();
    let dir = root.join("reg");
    let o = blueprint()
        .args(["registry", "init"])
        .arg(&dir)
        .args(["--origin", "registry.example/escrow"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let (vendor, _, vendor_pub) = key(&root, "vendor", 7);
    Reg {
        _tmp: tmp,
        root,
        dir,
        vendor,
        vendor_pub,
    }
}

fn deposit_body(env: &Path, pubkey: Option<&Path>) -> Vec<u8> {
    let envelope: Value = json_of(&std::fs::read(env).unwrap());
    let mut body = json!({"envelope": envelope, "bond": {"amount": "50000", "currency": "EUR"}});
    if let Some(p) = pubkey {
        body["vendor_public_key"] = Value::from(std::fs::read_to_string(p).unwrap());
    }
    serde_json::to_vec(&body).unwrap()
}

pub(crate) fn size(url: &str) -> u64 {
    let (status, body) = call("GET", &format!("{url}/api/v1/checkpoint"), None);
    assert_eq!(status, 200);
    text(&body).lines().nth(1).unwrap().parse().unwrap()
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn cli(dir: &Path, args: &[&str]) -> Out {
    let o = blueprint().current_dir(dir).args(args).output().unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: text(&o.stdout),
        stderr: text(&o.stderr),
    }
}

#[test]
fn a_deposit_over_http_returns_a_receipt_that_verifies_offline() {
    let r = init();
    let server = Server::start(&r.dir, &[]);
    let env = envelope(&r.root, "meter", 2, &r.vendor);
    let (status, body) = call(
        "POST",
        &format!("{}/api/v1/deposits", server.url),
        Some(&deposit_body(&env, Some(&r.vendor_pub))),
    );
    assert_eq!(status, 201, "{}", text(&body));
    let receipt = Receipt::from_json(&body).unwrap();

    // The served key is the registry's key file; the receipt verifies
    // under it with nothing else.
    let (status, pem) = call(
        "GET",
        &format!("{}/api/v1/log/public-key", server.url),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(pem, std::fs::read(r.dir.join("log.pub")).unwrap());
    let key = PublicKey::from_pem(&text(&pem), Path::new("served")).unwrap();
    let verified = receipt.verify(&key).unwrap();
    assert_eq!(
        (
            verified.blueprint_id.as_str(),
            verified.version,
            verified.index
        ),
        ("meter", 2, 1)
    );
    let saved = r.root.join("receipt.json");
    std::fs::write(&saved, &body).unwrap();
    std::fs::write(r.root.join("served.pub"), &pem).unwrap();
    let o = cli(
        &r.root,
        &[
            "proof",
            "verify-receipt",
            "receipt.json",
            "--log-key",
            "served.pub",
        ],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);

    // The served inclusion proof checks offline with `proof verify-inclusion`.
    let (status, proof) = call(
        "GET",
        &format!("{}/api/v1/proofs/inclusion/1?size=2", server.url),
        None,
    );
    assert_eq!(status, 200, "{}", text(&proof));
    let p = json_of(&proof);
    let hashes: Vec<&str> = p["inclusion_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    let o = cli(
        &r.root,
        &[
            "proof",
            "verify-inclusion",
            "--leaf-hash",
            p["leaf_hash"].as_str().unwrap(),
            "--index",
            "1",
            "--size",
            "2",
            "--root",
            p["root"].as_str().unwrap(),
            "--proof",
            &hashes.join(","),
        ],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);

    // The entry and the tlog-tiles paths serve the same log.
    let (status, entry) = call("GET", &format!("{}/api/v1/entries/1", server.url), None);
    assert_eq!(status, 200);
    let entry = json_of(&entry);
    assert_eq!(entry["kind"], "deposit");
    assert_eq!(entry["event"]["blueprint_id"], "meter", "{entry}");
    let (status, note) = call("GET", &format!("{}/checkpoint", server.url), None);
    assert_eq!((status, text(&note)), (200, receipt.checkpoint.clone()));
    let (status, tile) = call("GET", &format!("{}/tile/0/000.p/2", server.url), None);
    assert_eq!((status, tile.len()), (200, 64));
    let (status, bundle) = call("GET", &format!("{}/tile/entries/000.p/2", server.url), None);
    assert_eq!(status, 200);
    assert!(bundle.len() > 4, "{} bytes", bundle.len());
    let (status, body) = call("GET", &format!("{}/tile/0/000.p/3", server.url), None);
    assert_eq!((status, error_code(&body).as_str()), (404, "not_found"));

    let (exit, log) = server.terminate();
    assert!(exit.success(), "{exit:?}\n{log}");
    // One structured line per request, on standard error.
    assert!(log.contains("/api/v1/deposits"), "{log}");
    assert!(log.contains("status=201"), "{log}");
}

#[test]
fn registry_commands_take_a_url_and_print_what_they_print_for_the_directory() {
    let r = init();
    let server = Server::start(&r.dir, &[]);
    let url = server.url.as_str();
    let env = envelope(&r.root, "meter", 2, &r.vendor);
    let pubkey = r.vendor_pub.to_str().unwrap();
    let env = env.to_str().unwrap();
    let o = cli(
        &r.root,
        &[
            "registry", "deposit", url, env, "--bond", "50000", "EUR", "--pubkey", pubkey, "-o",
            "r.json",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stderr.contains("Deposited meter version 2 as entry 1"),
        "{}",
        o.stderr
    );
    let receipt = Receipt::from_json(&std::fs::read(r.root.join("r.json")).unwrap()).unwrap();
    receipt
        .verify(&PublicKey::load(&r.dir.join("log.pub")).unwrap())
        .unwrap();
    let v3 = envelope(&r.root, "meter", 3, &r.vendor);
    let o = cli(
        &r.root,
        &[
            "registry",
            "deposit",
            url,
            v3.to_str().unwrap(),
            "--bond",
            "1",
            "EUR",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);

    let dir = r.dir.to_str().unwrap();
    for args in [
        vec!["list"],
        vec!["show", "meter"],
        vec!["escrow", "meter"],
        vec!["checkpoint"],
        vec!["prove", "--index", "1"],
        vec!["prove", "--index", "1", "--size", "2"],
        vec!["consistency", "--from", "2"],
        vec!["consistency", "--from", "1", "--to", "2"],
    ] {
        for format in ["human", "json"] {
            let run = |target: &str| {
                let mut a = vec!["registry", args[0], target];
                a.extend(&args[1..]);
                a.extend(["--format", format]);
                cli(&r.root, &a)
            };
            let (local, remote) = (run(dir), run(url));
            assert_eq!(local.code, 0, "{args:?}: {}", local.stderr);
            assert_eq!(remote.code, 0, "{args:?}: {}", remote.stderr);
            assert_eq!(local.stdout, remote.stdout, "{args:?} {format}");
        }
    }

    // Refusals and errors keep their exit codes and messages.
    let again = cli(
        &r.root,
        &[
            "registry",
            "deposit",
            url,
            v3.to_str().unwrap(),
            "--bond",
            "1",
            "EUR",
        ],
    );
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(
        again.stderr.contains("versions only grow"),
        "{}",
        again.stderr
    );
    let unknown = cli(&r.root, &["registry", "show", url, "nothing"]);
    assert_eq!(unknown.code, 1);
    assert!(
        unknown
            .stderr
            .contains("no deposits of blueprint id \"nothing\"")
    );
    let beyond = cli(&r.root, &["registry", "prove", url, "--index", "99"]);
    assert_eq!(beyond.code, 2, "{}", beyond.stderr);
    let now = cli(
        &r.root,
        &[
            "registry",
            "deposit",
            url,
            env,
            "--bond",
            "1",
            "EUR",
            "--now",
            "2026-12-03T10:00:00Z",
        ],
    );
    assert_eq!(now.code, 2);
    assert!(
        now.stderr.contains("the server records the time"),
        "{}",
        now.stderr
    );
    let fsck = cli(&r.root, &["registry", "fsck", url]);
    assert_eq!(fsck.code, 2);
    assert!(fsck.stderr.contains("needs the registry directory"));
    let down = cli(&r.root, &["registry", "list", "http://127.0.0.1:9"]);
    assert_eq!(down.code, 2, "{}", down.stderr);
    assert_eq!(size(url), 3);
}

#[test]
fn bad_requests_are_json_4xx_and_leave_the_log_unchanged() {
    let r = init();
    let server = Server::start(&r.dir, &["--max-body-bytes", "262144"]);
    let url = server.url.as_str();
    let env = envelope(&r.root, "meter", 2, &r.vendor);
    let (status, body) = call(
        "POST",
        &format!("{url}/api/v1/deposits"),
        Some(&deposit_body(&env, Some(&r.vendor_pub))),
    );
    assert_eq!(status, 201, "{}", text(&body));
    let before = size(url);
    let deposits = format!("{url}/api/v1/deposits");

    let mut checks: Vec<(&str, u16, &str, Response)> = Vec::new();
    checks.push((
        "traversal in a tile path",
        400,
        "bad_path",
        raw_get(url, "/tile/../../reg/registry.db"),
    ));
    checks.push((
        "traversal in an entry index",
        400,
        "bad_index",
        raw_get(url, "/api/v1/entries/..%2f..%2flog.key"),
    ));
    checks.push((
        "a dot-dot route",
        404,
        "not_found",
        raw_get(url, "/api/v1/../../log.key"),
    ));
    checks.push((
        "unknown entry",
        404,
        "not_found",
        call("GET", &format!("{url}/api/v1/entries/12345"), None),
    ));
    checks.push((
        "no such route",
        404,
        "not_found",
        call("GET", &format!("{url}/api/v1/nothing"), None),
    ));
    checks.push((
        "wrong method",
        405,
        "method_not_allowed",
        call("DELETE", &deposits, None),
    ));
    checks.push((
        "malformed JSON",
        400,
        "malformed_json",
        call("POST", &deposits, Some(b"{\"envelope\": {")),
    ));
    checks.push((
        "unknown member",
        400,
        "malformed_json",
        call(
            "POST",
            &deposits,
            Some(br#"{"envelope": {}, "bond": {"amount": "1", "currency": "EUR"}, "extra": 1}"#),
        ),
    ));
    checks.push((
        "bad bond",
        400,
        "malformed_json",
        call(
            "POST",
            &deposits,
            Some(br#"{"envelope": {}, "bond": {"amount": "-1", "currency": "euro"}}"#),
        ),
    ));
    checks.push((
        "oversized body",
        413,
        "payload_too_large",
        call("POST", &deposits, Some(&vec![b' '; 300 * 1024])),
    ));
    checks.push((
        "bad query",
        400,
        "bad_query",
        call(
            "GET",
            &format!("{url}/api/v1/proofs/consistency?from=x"),
            None,
        ),
    ));
    // The same envelope again: a replayed deposit is a rollback.
    checks.push((
        "replayed deposit",
        409,
        "rollback",
        call("POST", &deposits, Some(&deposit_body(&env, None))),
    ));
    // Version 3 signed by another key: not the pinned vendor key.
    let (stranger, _, stranger_pub) = key(&r.root, "stranger", 9);
    let forged = envelope(&r.root, "meter", 3, &stranger);
    checks.push((
        "wrong signer",
        403,
        "wrong_key",
        call(
            "POST",
            &deposits,
            Some(&deposit_body(&forged, Some(&stranger_pub))),
        ),
    ));
    // A signature that does not verify: one byte of it flipped.
    let mut tampered: Value =
        json_of(&std::fs::read(envelope(&r.root, "meter", 4, &r.vendor)).unwrap());
    let sig = tampered["signatures"][0]["sig"]
        .as_str()
        .unwrap()
        .to_owned();
    let flipped = match sig.strip_prefix('A') {
        Some(rest) => format!("B{rest}"),
        None => format!("A{}", &sig[1..]),
    };
    tampered["signatures"][0]["sig"] = Value::from(flipped);
    let body = serde_json::to_vec(
        &json!({"envelope": tampered, "bond": {"amount": "1", "currency": "EUR"}}),
    )
    .unwrap();
    checks.push((
        "bad signature",
        403,
        "wrong_key",
        call("POST", &deposits, Some(&body)),
    ));
    checks.push((
        "not a report id",
        400,
        "bad_report_id",
        call(
            "POST",
            &format!("{url}/api/v1/reports/nope/cosignatures"),
            Some(b"{}"),
        ),
    ));
    checks.push((
        "unknown report",
        404,
        "unknown_report",
        call(
            "POST",
            &format!("{url}/api/v1/reports/sha256:{}/ruling", "0".repeat(64)),
            None,
        ),
    ));
    checks.push((
        "bad co-signature",
        400,
        "bad_signature",
        call(
            "POST",
            &format!(
                "{url}/api/v1/reports/sha256:{}/cosignatures",
                "0".repeat(64)
            ),
            Some(
                format!(
                    r#"{{"keyid": "sha256:{}", "signature": "AAAA"}}"#,
                    "1".repeat(64)
                )
                .as_bytes(),
            ),
        ),
    ));
    checks.push((
        "release too early",
        422,
        "refused",
        call(
            "POST",
            &format!("{url}/api/v1/releases"),
            Some(br#"{"blueprint_id": "meter"}"#),
        ),
    ));

    for (what, status, code, (got_status, body)) in &checks {
        assert_eq!(got_status, status, "{what}: {}", text(body));
        assert_eq!(error_code(body), *code, "{what}");
    }
    assert_eq!(size(url), before, "a bad request changed the log");
    drop(server);
    let o = cli(&r.root, &["registry", "replay", r.dir.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
}

#[test]
fn the_served_openapi_document_is_the_committed_one() {
    let r = init();
    let server = Server::start(&r.dir, &[]);
    let (status, body) = call("GET", &format!("{}/api/v1/openapi.json", server.url), None);
    assert_eq!(status, 200);
    let committed = std::fs::read_to_string(repo_file("docs/openapi.json")).unwrap();
    assert!(
        text(&body) == committed,
        "docs/openapi.json is stale: write the served document there \
         (curl {}/api/v1/openapi.json > docs/openapi.json)",
        server.url
    );
    // Every route the server answers is described.
    let doc = json_of(&body);
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/api/v1/log/public-key",
        "/api/v1/checkpoint",
        "/api/v1/entries/{index}",
        "/api/v1/proofs/inclusion/{index}",
        "/api/v1/proofs/consistency",
        "/api/v1/deposits",
        "/api/v1/blueprints",
        "/api/v1/blueprints/{id}",
        "/api/v1/escrow",
        "/api/v1/reports",
        "/api/v1/reports/{id}/cosignatures",
        "/api/v1/reports/{id}/rebuttals",
        "/api/v1/reports/{id}/rebuttal-acceptances",
        "/api/v1/reports/{id}/ruling",
        "/api/v1/releases",
        "/checkpoint",
        "/tile/{path}",
        "/api/v1/openapi.json",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not described");
    }
}

#[test]
fn escrow_over_http_reports_cosigns_and_rebuttals_carry_their_signatures() {
    let reg = crate::escrow::Registry::new();
    let d = reg.dir();
    let server = Server::start(&d.join("R"), &[]);
    let url = server.url.as_str();
    let deviations = reg.retention_p10();
    let dev = deviations.to_str().unwrap();
    let report = |key: &str| {
        cli(
            d,
            &[
                "registry",
                "report",
                url,
                dev,
                "--blueprint-digest",
                &reg.digest,
                "--evidence",
                dev,
                "--key",
                key,
                "--format",
                "json",
            ],
        )
    };
    // A key that is not a registered member cannot file.
    let o = report("stranger.key");
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    let o = report("lab1.key");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let filed = json_of(o.stdout.as_bytes());
    let id = filed["report_id"].as_str().unwrap().to_owned();
    assert_eq!(filed["classes"], json!(["P10"]));

    let o = cli(d, &["registry", "cosign", url, &id, "--key", "lab2.key"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("2 distinct member key(s), quorum 2"),
        "{}",
        o.stdout
    );
    // The same key again, and a stranger: refused, nothing appended.
    let o = cli(d, &["registry", "cosign", url, &id, "--key", "lab2.key"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let o = cli(
        d,
        &["registry", "cosign", url, &id, "--key", "stranger.key"],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    // The window is open: no ruling yet.
    let o = cli(d, &["registry", "rule", url, &id]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("window"), "{}", o.stderr);
    // Only the vendor key rebuts.
    let rebut = |key: &str| {
        cli(
            d,
            &[
                "registry",
                "rebut",
                url,
                &id,
                "--key",
                key,
                "--statement",
                "we fixed it",
            ],
        )
    };
    assert_eq!(rebut("lab1.key").code, 1);
    let o = rebut("vendor.key");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = cli(
        d,
        &["registry", "accept-rebuttal", url, &id, "--key", "lab3.key"],
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout.contains("1 distinct member key(s)"),
        "{}",
        o.stdout
    );

    let local = cli(
        d,
        &[
            "registry",
            "escrow",
            "R",
            "voltaris-em5",
            "--format",
            "json",
        ],
    );
    let remote = cli(
        d,
        &[
            "registry",
            "escrow",
            url,
            "voltaris-em5",
            "--format",
            "json",
        ],
    );
    assert_eq!(local.stdout, remote.stdout);
    let v = json_of(remote.stdout.as_bytes());
    let rep = &v["versions"][0]["reports"][0];
    assert_eq!(rep["signers"].as_array().unwrap().len(), 2);
    assert_eq!(rep["rebuttal_accepted_by"].as_array().unwrap().len(), 1);
    drop(server);
    let o = cli(d, &["registry", "replay", "R"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
}

#[test]
fn sigterm_during_deposits_loses_no_acknowledged_deposit() {
    let r = init();
    let server = Server::start(&r.dir, &[]);
    let url = server.url.clone();
    let bodies: Vec<(String, Vec<u8>)> = (0..48)
        .map(|i| {
            let id = format!("meter-{i}");
            let env = envelope(&r.root, &id, 1, &r.vendor);
            (id, deposit_body(&env, Some(&r.vendor_pub)))
        })
        .collect();
    let acked: Arc<Mutex<Vec<Receipt>>> = Arc::default();
    let started = Arc::new(std::sync::Barrier::new(5));
    let clients: Vec<_> = bodies
        .chunks(12)
        .map(|chunk| {
            let (chunk, url, acked, started) = (
                chunk.to_vec(),
                url.clone(),
                Arc::clone(&acked),
                Arc::clone(&started),
            );
            std::thread::spawn(move || {
                started.wait();
                for (_, body) in chunk {
                    let a = agent();
                    let Ok(mut resp) = a
                        .post(&format!("{url}/api/v1/deposits"))
                        .header("content-type", "application/json")
                        .send(&body[..])
                    else {
                        break; // the server has gone
                    };
                    if resp.status().as_u16() == 201 {
                        let bytes = resp.body_mut().read_to_vec().unwrap();
                        acked
                            .lock()
                            .unwrap()
                            .push(Receipt::from_json(&bytes).unwrap());
                    }
                }
            })
        })
        .collect();
    started.wait();
    // Let some deposits through, then stop the server mid-stream.
    while acked.lock().unwrap().len() < 4 {
        std::thread::sleep(Duration::from_millis(5));
    }
    let (exit, log) = server.terminate();
    for c in clients {
        c.join().unwrap();
    }
    assert!(exit.success(), "{exit:?}\n{log}");
    let acked = acked.lock().unwrap();
    assert!(acked.len() >= 4);
    let mut registry = Registry::open(&r.dir).unwrap();
    let key = registry.log_public_key().unwrap();
    for receipt in acked.iter() {
        let v = receipt.verify(&key).unwrap();
        let (bytes, _) = registry.event(v.index).unwrap();
        assert_eq!(
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes),
            receipt.entry,
            "acknowledged entry {} is not in the log",
            v.index
        );
    }
    let o = cli(&r.root, &["registry", "fsck", r.dir.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let o = cli(&r.root, &["registry", "replay", r.dir.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
}

/// A GET's status, content type and body.
fn page(url: &str) -> (u16, String, String) {
    let mut resp = agent().get(url).call().unwrap();
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let csp = resp
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp.body_mut().read_to_string().unwrap();
    assert!(
        !kind.starts_with("text/html") || csp.contains("default-src 'none'"),
        "HTML without a content security policy: {csp:?}"
    );
    (status, kind, body)
}

#[test]
fn the_explorer_is_served_next_to_the_api() {
    let r = init();
    let server = Server::start(&r.dir, &[]);
    // Before any deposit: an index that says so.
    let (status, kind, body) = page(&format!("{}/", server.url));
    assert_eq!((status, kind.as_str()), (200, "text/html; charset=utf-8"));
    assert!(body.contains("<h1>"), "{body}");

    let env = envelope(&r.root, "meter", 2, &r.vendor);
    let (status, body) = call(
        "POST",
        &format!("{}/api/v1/deposits", server.url),
        Some(&deposit_body(&env, Some(&r.vendor_pub))),
    );
    assert_eq!(status, 201, "{}", text(&body));

    // The index links the device; its page draws the map and the bond.
    let (_, _, index) = page(&format!("{}/", server.url));
    assert!(index.contains("href=\"/devices/meter\""), "{index}");
    assert!(index.contains("50000 EUR held"), "{index}");
    let (status, _, device) = page(&format!("{}/devices/meter", server.url));
    assert_eq!(status, 200);
    assert!(device.contains("<svg"), "no data-flow map");
    assert!(
        device.contains("/api/v1/proofs/inclusion/1"),
        "no proof link"
    );
    let (status, kind, css) = page(&format!("{}/style.css", server.url));
    assert_eq!((status, kind.as_str()), (200, "text/css; charset=utf-8"));
    assert!(!css.is_empty());

    // An unknown device is a JSON 404, like every other miss.
    let (status, body) = call("GET", &format!("{}/devices/nope", server.url), None);
    assert_eq!(status, 404);
    assert_eq!(error_code(&body), "not_found", "{}", text(&body));
}
