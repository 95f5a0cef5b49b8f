//! Escrow scenarios through the CLI: deposit the bundled smart meter with a
//! bond, register three lab keys (quorum 2, 14-day rebuttal window), file
//! deviation reports and see what the rule rules — and after every scenario,
//! `registry replay` must rebuild exactly the stored state.

use crate::util::{blueprint, repo_file, text, write};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const METER: &str = "examples/smart-meter.toml";
const T_DEPOSIT: &str = "2026-12-01T09:00:00Z";
const T_REPORT: &str = "2026-12-02T10:00:00Z";
const T_BEFORE_WINDOW: &str = "2026-12-16T09:59:59Z";
const T_AFTER_WINDOW: &str = "2026-12-16T10:00:00Z";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = blueprint().current_dir(dir).args(args).output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: text(&out.stdout),
        stderr: text(&out.stderr),
    }
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let r = run(dir, args);
    assert_eq!(
        r.code, 0,
        "{args:?}\nstdout: {}\nstderr: {}",
        r.stdout, r.stderr
    );
    r.stdout
}

/// A registry with the meter deposited (entry 1) and members lab1..lab3.
pub(crate) struct Registry {
    tmp: tempfile::TempDir,
    pub(crate) digest: String,
}

impl Registry {
    pub(crate) fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for who in ["vendor", "lab1", "lab2", "lab3", "stranger"] {
            ok(d, &["keygen", "--out", who]);
        }
        let meter = repo_file(METER);
        let meter = meter.to_str().unwrap();
        ok(
            d,
            &[
                "sign",
                meter,
                "--key",
                "vendor.key",
                "-o",
                "meter.dsse.json",
            ],
        );
        let database = crate::util::database_args();
        let mut init = vec![
            "registry",
            "init",
            "R",
            "--origin",
            "escrow.test/log",
            "--quorum",
            "2",
            "--window",
            "14",
            "--now",
            "2026-12-01T08:00:00Z",
        ];
        init.extend(database.iter().map(String::as_str));
        ok(d, &init);
        ok(
            d,
            &[
                "registry",
                "deposit",
                "R",
                "meter.dsse.json",
                "--bond",
                "50000",
                "EUR",
                "--pubkey",
                "vendor.pub",
                "--now",
                T_DEPOSIT,
            ],
        );
        for lab in ["lab1", "lab2", "lab3"] {
            ok(
                d,
                &[
                    "registry",
                    "member",
                    "add",
                    "R",
                    "--name",
                    lab,
                    "--role",
                    "lab",
                    "--pubkey",
                    &format!("{lab}.pub"),
                    "--now",
                    T_DEPOSIT,
                ],
            );
        }
        let digest = ok(d, &["hash", meter]).trim().to_owned();
        Registry { tmp, digest }
    }

    pub(crate) fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// `blueprint diff` of the meter against a copy with `from` replaced by `to`.
    fn deviations(&self, name: &str, from: &str, to: &str) -> PathBuf {
        let meter = std::fs::read_to_string(repo_file(METER)).unwrap();
        assert!(meter.contains(from), "{from}");
        let changed = write(
            self.dir(),
            &format!("{name}.toml"),
            meter.replacen(from, to, 1),
        );
        let out = self.dir().join(format!("{name}.json"));
        run(
            self.dir(),
            &[
                "diff",
                repo_file(METER).to_str().unwrap(),
                changed.to_str().unwrap(),
                "--format",
                "json",
                "-o",
                out.to_str().unwrap(),
            ],
        );
        out
    }

    /// A longer retention than declared (more than twice): P10.
    pub(crate) fn retention_p10(&self) -> PathBuf {
        self.deviations("p10", "period_days = 90,", "period_days = 400,")
    }

    /// Files a report by `key`; returns its id.
    fn report(&self, deviations: &Path, key: &str) -> String {
        let out = ok(
            self.dir(),
            &[
                "registry",
                "report",
                "R",
                deviations.to_str().unwrap(),
                "--blueprint-digest",
                &self.digest,
                "--evidence",
                deviations.to_str().unwrap(),
                "--key",
                key,
                "--now",
                T_REPORT,
            ],
        );
        out.lines().next().unwrap().to_owned()
    }

    fn escrow(&self) -> Value {
        let out = ok(
            self.dir(),
            &[
                "registry",
                "escrow",
                "R",
                "voltaris-em5",
                "--format",
                "json",
            ],
        );
        serde_json::from_str(&out).unwrap()
    }

    fn bond(&self) -> Value {
        self.escrow()["versions"][0]["bond"].clone()
    }

    fn rule(&self, id: &str, now: &str) -> Run {
        run(
            self.dir(),
            &[
                "registry", "rule", "R", id, "--now", now, "--format", "json",
            ],
        )
    }

    fn assert_replays(&self) {
        let out = ok(self.dir(), &["registry", "replay", "R"]);
        assert!(out.contains("matches the stored state"), "{out}");
    }
}

fn ruling(r: &Run) -> Value {
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn quorum_after_the_window_forfeits_the_bond() {
    let reg = Registry::new();
    let id = reg.report(&reg.retention_p10(), "lab1.key");
    assert!(id.starts_with("sha256:"), "{id}");
    ok(
        reg.dir(),
        &[
            "registry", "cosign", "R", &id, "--key", "lab2.key", "--now", T_REPORT,
        ],
    );
    // Before the window closes: refused, nothing recorded, until when is said.
    let early = reg.rule(&id, T_BEFORE_WINDOW);
    assert_eq!(early.code, 1, "{}", early.stdout);
    assert!(
        early.stderr.contains("open until 2026-12-16T10:00:00Z"),
        "{}",
        early.stderr
    );
    assert_eq!(reg.bond()["state"], "held");
    let r = ruling(&reg.rule(&id, T_AFTER_WINDOW));
    assert_eq!(r["outcome"], "forfeit");
    assert_eq!(r["decided_by"], "blueprint-escrow-rule/1");
    let bond = reg.bond();
    assert_eq!(bond["state"], "forfeited");
    assert_eq!(bond["amount"], "50000");
    assert_eq!(bond["decided_by"], json!([5, r["index"]]));
    // A second ruling on the same report is refused.
    assert_eq!(reg.rule(&id, T_AFTER_WINDOW).code, 1);
    reg.assert_replays();
}

#[test]
fn a_report_below_quorum_is_dismissed() {
    let reg = Registry::new();
    let id = reg.report(&reg.retention_p10(), "lab1.key");
    let r = ruling(&reg.rule(&id, T_AFTER_WINDOW));
    assert_eq!(r["outcome"], "dismissed");
    assert_eq!(r["reason"], "below-quorum");
    assert_eq!(reg.bond()["state"], "held");
    reg.assert_replays();
}

#[test]
fn the_same_member_signing_twice_is_not_a_quorum() {
    let reg = Registry::new();
    let id = reg.report(&reg.retention_p10(), "lab1.key");
    let again = run(
        reg.dir(),
        &[
            "registry", "cosign", "R", &id, "--key", "lab1.key", "--now", T_REPORT,
        ],
    );
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains("already signed"), "{}", again.stderr);
    // A key that is not a member cannot co-sign either.
    let stranger = run(
        reg.dir(),
        &[
            "registry",
            "cosign",
            "R",
            &id,
            "--key",
            "stranger.key",
            "--now",
            T_REPORT,
        ],
    );
    assert_eq!(stranger.code, 1, "{}", stranger.stderr);
    assert!(
        stranger.stderr.contains("not a registered member"),
        "{}",
        stranger.stderr
    );
    let r = ruling(&reg.rule(&id, T_AFTER_WINDOW));
    assert_eq!(r["reason"], "below-quorum");
    assert_eq!(reg.bond()["state"], "held");
    reg.assert_replays();
}

#[test]
fn a_rebuttal_accepted_by_a_quorum_stops_forfeiture() {
    let reg = Registry::new();
    let id = reg.report(&reg.retention_p10(), "lab1.key");
    ok(
        reg.dir(),
        &[
            "registry", "cosign", "R", &id, "--key", "lab2.key", "--now", T_REPORT,
        ],
    );
    let statement = "The 400-day copy is the billing archive declared under another item.";
    // Only the pinned vendor key may rebut.
    let by_lab = run(
        reg.dir(),
        &[
            "registry",
            "rebut",
            "R",
            &id,
            "--key",
            "lab3.key",
            "--statement",
            statement,
            "--now",
            T_REPORT,
        ],
    );
    assert_eq!(by_lab.code, 1, "{}", by_lab.stderr);
    // Not after the window.
    let late = run(
        reg.dir(),
        &[
            "registry",
            "rebut",
            "R",
            &id,
            "--key",
            "vendor.key",
            "--statement",
            statement,
            "--now",
            T_AFTER_WINDOW,
        ],
    );
    assert_eq!(late.code, 1, "{}", late.stderr);
    assert!(late.stderr.contains("window closed"), "{}", late.stderr);
    ok(
        reg.dir(),
        &[
            "registry",
            "rebut",
            "R",
            &id,
            "--key",
            "vendor.key",
            "--statement",
            statement,
            "--now",
            T_REPORT,
        ],
    );
    // One acceptance is not a quorum: the report still forfeits... so a
    // second member accepts before the ruling.
    for lab in ["lab2", "lab3"] {
        ok(
            reg.dir(),
            &[
                "registry",
                "accept-rebuttal",
                "R",
                &id,
                "--key",
                &format!("{lab}.key"),
                "--now",
                T_REPORT,
            ],
        );
    }
    let r = ruling(&reg.rule(&id, T_AFTER_WINDOW));
    assert_eq!(r["outcome"], "dismissed");
    assert_eq!(r["reason"], "rebutted");
    assert_eq!(reg.bond()["state"], "held");
    reg.assert_replays();
}

#[test]
fn minor_classes_only_never_forfeit() {
    let reg = Registry::new();
    // A shorter retention is protective: M1.
    let minor = reg.deviations("m1", "period_days = 90,", "period_days = 30,");
    let id = reg.report(&minor, "lab1.key");
    ok(
        reg.dir(),
        &[
            "registry", "cosign", "R", &id, "--key", "lab2.key", "--now", T_REPORT,
        ],
    );
    let r = ruling(&reg.rule(&id, T_AFTER_WINDOW));
    assert_eq!(r["outcome"], "dismissed");
    assert_eq!(r["reason"], "minor-only");
    assert_eq!(reg.bond()["state"], "held");
    reg.assert_replays();
}

#[test]
fn insufficient_evidence_never_forfeits() {
    let reg = Registry::new();
    let path = reg.deviations("same", "period_days = 90,", "period_days = 90,");
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    doc["insufficient_evidence"] =
        json!([{"source": "capture.pcap", "reason": "truncated after 12 packets"}]);
    doc["verdict"] = json!("insufficient-evidence");
    let thin = write(reg.dir(), "thin.json", serde_json::to_vec(&doc).unwrap());
    let id = reg.report(&thin, "lab1.key");
    ok(
        reg.dir(),
        &[
            "registry", "cosign", "R", &id, "--key", "lab2.key", "--now", T_REPORT,
        ],
    );
    let r = ruling(&reg.rule(&id, T_AFTER_WINDOW));
    assert_eq!(r["reason"], "insufficient-evidence");
    assert_eq!(reg.bond()["state"], "held");
    // A document whose verdict its deviations do not support is refused.
    doc["verdict"] = json!("forfeit-worthy");
    let lie = write(reg.dir(), "lie.json", serde_json::to_vec(&doc).unwrap());
    let refused = run(
        reg.dir(),
        &[
            "registry",
            "report",
            "R",
            "lie.json",
            "--blueprint-digest",
            &reg.digest,
            "--key",
            "lab1.key",
            "--now",
            T_REPORT,
        ],
    );
    assert_eq!(refused.code, 1, "{} {}", refused.stderr, lie.display());
    reg.assert_replays();
}

#[test]
fn release_only_after_support_end_with_nothing_pending() {
    let reg = Registry::new();
    // The meter is supported through 2041-06-30.
    let release = |now: &str| {
        run(
            reg.dir(),
            &[
                "registry",
                "release",
                "R",
                "voltaris-em5",
                "--version",
                "2",
                "--now",
                now,
            ],
        )
    };
    let during = release("2041-06-30T23:59:59Z");
    assert_eq!(during.code, 1);
    assert!(during.stderr.contains("2041-06-30"), "{}", during.stderr);
    let id = reg.report(&reg.retention_p10(), "lab1.key");
    let pending = release("2041-07-01T00:00:00Z");
    assert_eq!(pending.code, 1);
    assert!(
        pending.stderr.contains("awaits a ruling"),
        "{}",
        pending.stderr
    );
    ruling(&reg.rule(&id, T_AFTER_WINDOW));
    let released = release("2041-07-01T00:00:00Z");
    assert_eq!(released.code, 0, "{}", released.stderr);
    let bond = reg.bond();
    assert_eq!(bond["state"], "released");
    assert_eq!(bond["decided_by"].as_array().unwrap().len(), 1);
    assert_eq!(release("2041-07-02T00:00:00Z").code, 1, "released once");
    reg.assert_replays();
}

#[test]
fn a_report_is_never_a_blueprint_and_a_blueprint_never_a_report() {
    let reg = Registry::new();
    let deviations = reg.retention_p10();
    ok(
        reg.dir(),
        &[
            "registry",
            "report",
            "R",
            deviations.to_str().unwrap(),
            "--blueprint-digest",
            &reg.digest,
            "--key",
            "lab1.key",
            "--now",
            T_REPORT,
            "-o",
            "report.dsse.json",
        ],
    );
    // The signed report envelope offered as a blueprint deposit.
    let deposit = run(
        reg.dir(),
        &[
            "registry",
            "deposit",
            "R",
            "report.dsse.json",
            "--bond",
            "1",
            "EUR",
            "--pubkey",
            "lab1.pub",
            "--now",
            T_REPORT,
        ],
    );
    assert_ne!(deposit.code, 0, "{}", deposit.stdout);
    assert!(
        deposit.stderr.contains("predicateType") || deposit.stderr.contains("payloadType"),
        "{}",
        deposit.stderr
    );
    // `verify` of a blueprint refuses it too.
    let verify = run(
        reg.dir(),
        &["verify", "report.dsse.json", "--pubkey", "lab1.pub"],
    );
    assert_ne!(verify.code, 0);
    // The signed blueprint offered as the deviations of a report.
    let filed = run(
        reg.dir(),
        &[
            "registry",
            "report",
            "R",
            "meter.dsse.json",
            "--blueprint-digest",
            &reg.digest,
            "--key",
            "lab1.key",
            "--now",
            T_REPORT,
        ],
    );
    assert_eq!(filed.code, 1, "{}", filed.stderr);
    // A report on a digest the registry never saw.
    let unknown = run(
        reg.dir(),
        &[
            "registry",
            "report",
            "R",
            deviations.to_str().unwrap(),
            "--blueprint-digest",
            &format!("sha256:{}", "0".repeat(64)),
            "--key",
            "lab1.key",
            "--now",
            T_REPORT,
        ],
    );
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    reg.assert_replays();
}

#[test]
fn escrow_human_output_names_bond_and_reports() {
    let reg = Registry::new();
    let id = reg.report(&reg.retention_p10(), "lab1.key");
    let out = ok(reg.dir(), &["registry", "escrow", "R", "voltaris-em5"]);
    assert!(
        out.starts_with("voltaris-em5 v2 (entry 1): 50000 EUR held\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "report {id} (entry 5): deviations [P10], 1 signer(s), pending"
        )),
        "{out}"
    );
}

#[test]
fn demo_tells_the_escrow_story_in_one_screen() {
    let out = blueprint()
        .args(["demo", "--color", "never", "--as-of", "2026-11-26"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.lines().count() <= 25, "{s}");
    insta::with_settings!({filters => vec![(r"key id [0-9a-f]{64}", "key id [KEYID]")]}, {
        insta::assert_snapshot!(s);
    });
}
