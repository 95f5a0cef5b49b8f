//! The commands that write files and sign: sign validates as of today,
//! verify shows the age of a validation and can redo it, diff with
//! `--pubkey` never falls back to an unverified blueprint, outputs are
//! atomic and never clobber (a private key never, even with --force),
//! observe/mud/completions/man.

use crate::util::{blueprint, repo_file, text, write};
use blueprint::attest::dsse::Envelope;
use blueprint::attest::keys::SigningKeyFile;
use blueprint::attest::statement::{PAYLOAD_TYPE, ValidationSummary, deposit_payload};
use blueprint::diag::Counts;
use blueprint::manifest::document::{Limits, load};
use blueprint::source::SourceMap;
use serde_json::{Value, json};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;

const SIGNABLE_TOML: &str = include_str!("../../examples/smart-meter.toml");

/// The smart meter without an EEA establishment: GDPR Art. 27 (EU
/// representative) makes it fail today, but GDPR was not in force in 2000.
fn fails_today() -> String {
    let out: String = SIGNABLE_TOML
        .lines()
        .filter(|l| !l.starts_with("established_in = "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(out, SIGNABLE_TOML);
    out
}

fn key_pair(dir: &Path, seed: u8) -> (PathBuf, PathBuf, SigningKeyFile) {
    let key = SigningKeyFile::from_seed(&[seed; 32]);
    let private = dir.join(format!("k{seed}.key"));
    let public = dir.join(format!("k{seed}.pub"));
    fs::write(&private, key.to_pem().unwrap().as_bytes()).unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(&public, key.public().to_pem().unwrap()).unwrap();
    (private, public, key)
}

/// An envelope as an older `sign --as-of 2000-01-01` wrote it: a validly
/// signed deposit whose recorded validation is 2000-01-01.
fn backdated_envelope(dir: &Path, key: &SigningKeyFile) -> PathBuf {
    let mut map = SourceMap::new();
    let doc = load(
        &mut map,
        "m.toml",
        fails_today().as_bytes(),
        &Limits::default(),
    )
    .unwrap();
    let summary = ValidationSummary {
        profiles: vec!["eu-cra".into(), "eu-gdpr".into(), "report-baseline".into()],
        as_of: "2000-01-01".into(),
        tool_version: "0.1.0".into(),
        counts: Counts {
            error: 0,
            warning: 3,
            info: 1,
        },
    };
    let payload = deposit_payload(&doc.value, &summary).unwrap();
    let env = Envelope::sign(PAYLOAD_TYPE, &payload, key);
    write(dir, "old.dsse.json", env.to_json())
}

fn run(args: &[&std::ffi::OsStr]) -> Output {
    blueprint()
        .args(["--color", "never"])
        .args(args)
        .output()
        .unwrap()
}

macro_rules! os {
    ($($a:expr),* $(,)?) => { &[$(std::ffi::OsStr::new($a)),*] };
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// No line of a message quotes a whole manifest.
fn assert_no_long_lines(s: &str) {
    for l in s.lines() {
        assert!(l.len() < 400, "a line of {} bytes: {}…", l.len(), &l[..120]);
    }
}

// ---------------------------------------------------------------------------
// sign

#[test]
fn sign_validates_as_of_today_and_has_no_as_of() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.toml", fails_today());
    let (key, _, _) = key_pair(dir.path(), 1);
    let out = dir.path().join("m.dsse.json");
    // What-if dates belong to `validate`; `sign` does not take one.
    let o = run(os![
        "sign",
        &m,
        "--key",
        &key,
        "--as-of",
        "2000-01-01",
        "-o",
        &out
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(!out.exists());
    // As of today the manifest fails: refused, findings shown, nothing written.
    let o = run(os!["sign", &m, "--key", &key, "-o", &out]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("gdpr.eu-representative"), "{err}");
    assert!(err.contains("refusing to sign"), "{err}");
    assert!(err.contains("1 error-level finding as of"), "{err}");
    assert_no_long_lines(&err);
    assert!(!out.exists());
}

#[test]
fn sign_prints_one_line_per_file_and_no_findings_when_it_signs() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.toml", SIGNABLE_TOML);
    let (key, _, k) = key_pair(dir.path(), 1);
    let out = dir.path().join("m.dsse.json");
    // `--out` is kept as a hidden alias of `-o/--output`.
    let o = run(os!["sign", &m, "--key", &key, "--out", &out]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let digest = text(&run(os!["hash", &m]).stdout);
    assert_eq!(
        text(&o.stdout),
        format!(
            "wrote {} ({}, signed by {})\n",
            out.display(),
            digest.trim(),
            k.id()
        )
    );
    assert!(o.stderr.is_empty(), "{}", text(&o.stderr));
    assert!(Envelope::from_json(&fs::read(&out).unwrap()).is_ok());
}

#[test]
fn sign_append_loads_the_key_before_validating() {
    let dir = tempfile::tempdir().unwrap();
    let (_, _, vendor) = key_pair(dir.path(), 1);
    let env = backdated_envelope(dir.path(), &vendor);
    // The enclosed manifest fails today; a missing key is still what is reported.
    let missing = dir.path().join("lab.key");
    let o = run(os!["sign", "--append", &env, "--key", &missing]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("lab.key"), "{err}");
    assert!(!err.contains("refusing"), "{err}");
    // With the key, the co-signer validates as of today and refuses, quoting
    // lines of the manifest, not the whole manifest.
    let (lab, _, _) = key_pair(dir.path(), 2);
    let o = run(os!["sign", "--append", &env, "--key", &lab]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(err.contains("gdpr.eu-representative"), "{err}");
    assert_no_long_lines(&err);
    assert!(o.stdout.is_empty());
}

// ---------------------------------------------------------------------------
// verify

#[test]
fn verify_shows_the_age_of_the_validation_and_revalidates_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let (_, public, key) = key_pair(dir.path(), 1);
    let env = backdated_envelope(dir.path(), &key);
    let m = write(dir.path(), "m.toml", fails_today());
    let days =
        (time::OffsetDateTime::now_utc().date() - time::macros::date!(2000 - 01 - 01)).whole_days();
    // The signature is good and the manifest is the one signed: verified,
    // but the age of the claim is plain.
    let o = run(os!["verify", &env, "--pubkey", &public, "--manifest", &m]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(
        out.contains(&format!("validated 2000-01-01, {days} days ago")),
        "{out}"
    );
    assert!(out.contains("signed by 1 trusted key:"), "{out}");
    assert!(out.contains("0 errors, 3 warnings, 1 info"), "{out}");
    // Revalidated as of today it fails: exit 1, the error shown.
    let o = run(os!["verify", &env, "--pubkey", &public, "--revalidate"]);
    assert_eq!(code(&o), 1, "{}", text(&o.stdout));
    let out = text(&o.stdout);
    assert!(out.contains("revalidated as of "), "{out}");
    assert!(out.contains("1 error,"), "{out}");
    assert!(text(&o.stderr).contains("gdpr.eu-representative"));
    assert_no_long_lines(&text(&o.stderr));
    let o = run(os![
        "verify",
        &env,
        "--pubkey",
        &public,
        "--revalidate",
        "--format",
        "json"
    ]);
    assert_eq!(code(&o), 1);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["validation_age_days"], json!(days));
    assert_eq!(v["revalidation"]["passes"], false);
    assert_eq!(v["revalidation"]["counts"]["error"], 1);
    // A manifest that passes today revalidates cleanly.
    let good = write(dir.path(), "good.toml", SIGNABLE_TOML);
    let private = dir.path().join("k1.key");
    let fresh = dir.path().join("fresh.dsse.json");
    let o = run(os!["sign", &good, "--key", &private, "-o", &fresh]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = run(os!["verify", &fresh, "--pubkey", &public, "--revalidate"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains(", today against"));
}

// ---------------------------------------------------------------------------
// diff --pubkey

#[test]
fn diff_with_pubkey_accepts_only_a_verified_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let (key, public, _) = key_pair(dir.path(), 1);
    let m = write(dir.path(), "m.toml", SIGNABLE_TOML);
    // A plain manifest: nothing was verified, so nothing is compared.
    let o = run(os!["diff", &m, &m, "--pubkey", &public]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("not a signed envelope"));
    assert!(o.stdout.is_empty());
    // An envelope with a key this tool does not recognise (`payloadType `).
    let env = dir.path().join("m.dsse.json");
    assert_eq!(code(&run(os!["sign", &m, "--key", &key, "-o", &env])), 0);
    let mut v: Value = serde_json::from_slice(&fs::read(&env).unwrap()).unwrap();
    let pt = v.as_object_mut().unwrap().remove("payloadType").unwrap();
    v["payloadType "] = pt;
    let odd = write(dir.path(), "odd.json", serde_json::to_vec(&v).unwrap());
    let o = run(os!["diff", &odd, &m, "--pubkey", &public]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("not a DSSE envelope"));
    assert!(o.stdout.is_empty());
    // Without --pubkey it is still not taken for a manifest.
    let o = run(os!["diff", &odd, &m]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--pubkey"));
    // The real envelope verifies and matches its manifest.
    let o = run(os!["diff", &env, &m, "--pubkey", &public]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
}

#[test]
fn diff_junit_has_a_case_per_class_failing_on_forfeit_worthy() {
    let dir = tempfile::tempdir().unwrap();
    let base = repo_file("tests/fixtures/diff/base.json");
    let mut v: Value = serde_json::from_slice(&fs::read(&base).unwrap()).unwrap();
    *v.pointer_mut("/security/update/signed").unwrap() = json!(false);
    let new = write(dir.path(), "new.json", serde_json::to_vec(&v).unwrap());
    let o = run(os!["diff", &base, &new, "--format", "junit"]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    let x = text(&o.stdout);
    assert!(x.starts_with("<?xml"), "{x}");
    assert!(x.contains("tests=\"23\" failures=\"1\""), "{x}");
    let p8 = x.find("name=\"P8 ").expect(&x);
    let fail = x[p8..].find("<failure").unwrap();
    assert!(fail < x[p8..].find("</testcase>").unwrap(), "{x}");
    let o = run(os!["diff", &base, &base, "--format", "junit"]);
    assert_eq!(code(&o), 0);
    assert!(text(&o.stdout).contains("failures=\"0\""));
}

// ---------------------------------------------------------------------------
// Writing files

#[test]
fn outputs_never_clobber_without_force_and_never_replace_a_private_key() {
    let dir = tempfile::tempdir().unwrap();
    let (key, _, _) = key_pair(dir.path(), 1);
    let m = write(dir.path(), "m.toml", SIGNABLE_TOML);
    let key_before = fs::read(&key).unwrap();
    // Onto the signing key itself: refused, with or without --force.
    for extra in [&[][..], &["--force"][..]] {
        let o = blueprint()
            .arg("sign")
            .arg(&m)
            .arg("--key")
            .arg(&key)
            .arg("-o")
            .arg(&key)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("private key"),
            "{}",
            text(&o.stderr)
        );
        assert_eq!(fs::read(&key).unwrap(), key_before);
        let mode = fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // Onto another private key file (by its PEM contents), even with --force.
    let other = write(
        dir.path(),
        "other.pem",
        SigningKeyFile::from_seed(&[9; 32])
            .to_pem()
            .unwrap()
            .as_bytes(),
    );
    let other_before = fs::read(&other).unwrap();
    let base = repo_file("tests/fixtures/diff/base.json");
    let o = run(os!["diff", &base, &base, "-o", &other, "--force"]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("private key"));
    assert_eq!(fs::read(&other).unwrap(), other_before);
    // An ordinary existing file: only with --force, and then whole.
    let report = write(dir.path(), "report.txt", "keep me\n");
    let o = run(os!["diff", &base, &base, "-o", &report]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("--force"), "{}", text(&o.stderr));
    assert_eq!(fs::read_to_string(&report).unwrap(), "keep me\n");
    let o = run(os!["diff", &base, &base, "-o", &report, "--force"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(fs::read_to_string(&report).unwrap().contains("matches"));
    // The same for mud and observe.
    let o = run(os![
        "mud",
        &m,
        "--mud-url",
        "https://voltaris.example/em5.json",
        "-o",
        &report
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    let cap = write(dir.path(), "c.pcap", capture());
    let o = run(os![
        "observe",
        "pcap",
        &cap,
        "--device",
        "192.168.1.20",
        "-o",
        &report
    ]);
    assert_eq!(code(&o), 2, "{}", text(&o.stderr));
    assert!(fs::read_to_string(&report).unwrap().contains("matches"));
    // No temporary file is left behind.
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.ends_with(".tmp")), "{names:?}");
}

// ---------------------------------------------------------------------------
// observe

/// MAC, IPv4 address, port.
type Endpoint = ([u8; 6], [u8; 4], u16);

/// Appends one Ethernet/IPv4 frame to a classic pcap: TCP with `flags`,
/// or UDP when `flags` is `None`.
fn frame(out: &mut Vec<u8>, src: Endpoint, dst: Endpoint, flags: Option<u8>) {
    let udp = flags.is_none();
    let mut f = Vec::new();
    f.extend_from_slice(&dst.0);
    f.extend_from_slice(&src.0);
    f.extend_from_slice(&[0x08, 0x00]);
    let l4_len = if udp { 8 } else { 20 };
    let total = (20 + l4_len) as u16;
    f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0x40, 0, 64]);
    f.push(if udp { 17 } else { 6 });
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(&src.1);
    f.extend_from_slice(&dst.1);
    f.extend_from_slice(&src.2.to_be_bytes());
    f.extend_from_slice(&dst.2.to_be_bytes());
    if udp {
        f.extend_from_slice(&8u16.to_be_bytes());
        f.extend_from_slice(&[0, 0]);
    } else {
        // seq, ack, data offset 5, flags, window, checksum, urgent.
        f.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50]);
        f.push(flags.unwrap_or(0));
        f.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
    }
    out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(f.len() as u32).to_le_bytes());
    out.extend_from_slice(&(f.len() as u32).to_le_bytes());
    out.extend_from_slice(&f);
}

/// A small capture: the camera 192.168.1.20 opens two TLS connections to
/// one server; the phone 192.168.1.30 asks a DNS question. The gateway
/// carries the remote side.
pub fn capture() -> Vec<u8> {
    let cam = [2, 0, 0, 0, 0, 0x20];
    let phone = [2, 0, 0, 0, 0, 0x30];
    let gw = [2, 0, 0, 0, 0, 0x01];
    let mut c = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ];
    let (cam_at, server) = ([192, 168, 1, 20], [93, 184, 216, 34]);
    frame(&mut c, (cam, cam_at, 50000), (gw, server, 443), Some(0x02));
    frame(&mut c, (gw, server, 443), (cam, cam_at, 50000), Some(0x12));
    frame(&mut c, (cam, cam_at, 50001), (gw, server, 443), Some(0x02));
    let dns = (gw, [192, 168, 1, 1], 53);
    frame(&mut c, (phone, [192, 168, 1, 30], 40000), dns, None);
    c
}

#[test]
fn observe_lists_hosts_summarises_and_treats_an_absent_device_as_insufficient() {
    let dir = tempfile::tempdir().unwrap();
    let cap = write(dir.path(), "home.pcap", capture());
    let o = run(os!["observe", "pcap", &cap, "--list-hosts"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let table = text(&o.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("MAC"), "{table}");
    // Busiest first: the gateway (4 packets, 3 conversations), then the camera.
    let cols = |l: &str| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        cols(lines[1]),
        ["02:00:00:00:00:01", "192.168.1.1", "4", "3"]
    );
    assert_eq!(
        cols(lines[2]),
        ["02:00:00:00:00:20", "192.168.1.20", "3", "2"]
    );
    assert_eq!(
        cols(lines[3]),
        ["02:00:00:00:00:30", "192.168.1.30", "1", "1"]
    );
    assert_eq!(lines.len(), 4, "{table}");
    // One summary line on standard error.
    let o = run(os![
        "observe",
        "pcap",
        &cap,
        "--device",
        "02:00:00:00:00:20"
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert_eq!(
        text(&o.stderr),
        format!(
            "observed {}: 4 packets read, 3 from or to device 02:00:00:00:00:20, 1 flow, 1 host contacted\n",
            cap.display()
        )
    );
    // A device that is not in the capture: no observation, exit 2.
    let out = dir.path().join("obs.json");
    let o = run(os![
        "observe",
        "pcap",
        &cap,
        "--device",
        "192.168.1.99",
        "-o",
        &out
    ]);
    assert_eq!(code(&o), 2);
    let err = text(&o.stderr);
    assert!(err.contains("insufficient evidence"), "{err}");
    assert!(err.contains("--list-hosts"), "{err}");
    assert!(!out.exists());
    // Neither --device nor --list-hosts is a usage error.
    assert_eq!(code(&run(os!["observe", "pcap", &cap])), 2);
}

// ---------------------------------------------------------------------------
// mud

#[test]
fn mud_needs_a_url_and_a_manifest_without_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "m.toml", SIGNABLE_TOML);
    // No invented URL: the flag is required.
    let o = run(os!["mud", &good]);
    assert_eq!(code(&o), 2);
    assert!(text(&o.stderr).contains("--mud-url"));
    let o = run(os![
        "mud",
        &good,
        "--mud-url",
        "https://voltaris.example/em5.json"
    ]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        v["ietf-mud:mud"]["mud-url"],
        "https://voltaris.example/em5.json"
    );
    assert!(!text(&o.stdout).contains("example.invalid"));
    // Error-level findings refuse the export unless --allow-errors.
    let bad = write(dir.path(), "bad.toml", fails_today());
    let url = "https://voltaris.example/em5.json";
    let o = run(os!["mud", &bad, "--mud-url", url]);
    assert_eq!(code(&o), 1, "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("--allow-errors"));
    assert!(o.stdout.is_empty());
    let o = run(os!["mud", &bad, "--mud-url", url, "--allow-errors"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
}

// ---------------------------------------------------------------------------
// completions and man

const SUBCOMMANDS: &[&str] = &[
    "demo",
    "validate",
    "profiles",
    "explain",
    "schema",
    "canon",
    "hash",
    "keygen",
    "sign",
    "verify",
    "diff",
    "observe",
    "mud",
    "completions",
    "man",
];

#[test]
fn completions_and_man_page_cover_every_subcommand() {
    let o = run(os!["completions", "bash"]);
    assert_eq!(code(&o), 0);
    let script = text(&o.stdout);
    assert!(script.contains("complete -F _blueprint"), "{script}");
    for s in SUBCOMMANDS {
        assert!(script.contains(&format!("blueprint,{s})")), "{s}");
    }
    assert_eq!(code(&run(os!["completions", "no-such-shell"])), 2);

    let dir = tempfile::tempdir().unwrap();
    let page_path = dir.path().join("blueprint.1");
    let o = run(os!["man", "-o", &page_path]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let page = fs::read_to_string(&page_path).unwrap();
    assert_eq!(page, text(&run(os!["man"]).stdout));
    assert!(page.contains(".TH blueprint 1"), "{page}");
    for s in SUBCOMMANDS {
        assert!(
            page.contains(&format!(".SH \"BLUEPRINT {}\"", s.to_uppercase())),
            "{s}"
        );
    }
    assert!(page.contains(".SH \"EXIT STATUS\""));
    assert!(page.contains("insufficient evidence"));
    // Rendered by man(1) when the machine has it.
    if let Ok(r) = std::process::Command::new("man")
        .arg("-l")
        .arg(&page_path)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .output()
    {
        if r.status.success() {
            let shown = text(&r.stdout);
            assert!(shown.contains("BLUEPRINT SIGN"), "{shown}");
        }
    }
}

/// The help of the commands that sign, check and write files: a change to
/// their options shows up here and has to be accepted on purpose.
#[test]
fn help_of_the_signing_and_writing_commands() {
    for cmd in [
        "sign",
        "verify",
        "diff",
        "observe pcap",
        "observe sbom",
        "mud",
        "keygen",
        "completions",
        "man",
    ] {
        let o = blueprint()
            .args(cmd.split(' '))
            .arg("--help")
            .env("COLUMNS", "100")
            // Not a terminal anywhere: the width is the fixed maximum.
            .write_stdin("")
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{cmd}");
        insta::assert_snapshot!(format!("help_{}", cmd.replace(' ', "_")), text(&o.stdout));
    }
}
