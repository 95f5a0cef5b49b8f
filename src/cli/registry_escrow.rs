//! `blueprint registry member|report|cosign|rebut|accept-rebuttal|rule|
//! release|escrow`: the escrow side of a registry — members file signed
//! deviation reports and co-sign them, the vendor rebuts, anyone triggers
//! the ruling the rule computes or a release, and anyone reads the bonds.
//!
//! Time is an explicit input (`--now`, RFC 3339, default: the clock), so a
//! scenario can be replayed to the second (`docs/escrow.md`).
//!
//! Exit codes: 0 recorded (or shown); 1 refused (not a member, window still
//! open, bond not held, ...); 2 operational (unreadable input, bad key, I/O).

use super::registry::Common;
use super::registry::{emit, emit_view, fail, no_now_remote, op, open, remote};
use super::remote::{self, Api};
use super::{EXIT_FINDINGS, EXIT_OPERATIONAL, output};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use blueprint::attest::canon::Digest;
use blueprint::attest::dsse::{self, Envelope};
use blueprint::attest::keys::{PublicKey, SigningKeyFile};
use blueprint::escrow::actions::{
    self, Accepted, ActionError, Cosigned, Filed, Rebutted, Released, ReportView, Ruled,
};
use blueprint::escrow::event::{
    Event, EventKind, EventTime, MemberEvent, MemberRole, SignatureBytes, Text, Verdict,
    keyid_string,
};
use blueprint::escrow::report::{
    self, BlueprintRef, DeviationReport, EvidenceDigest, MAX_DEVIATIONS_BYTES, Rebuttal,
};
use blueprint::escrow::views::{self, EscrowView};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// `registry member` subcommands.
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Register a member key (lab, regulator, auditor); needs the log key (DIR/log.key).
    Add(MemberAddArgs),
}

/// Member roles on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// A testing laboratory.
    Lab,
    /// A regulator or data-protection authority.
    Regulator,
    /// An independent auditor.
    Auditor,
}

/// Arguments of `registry member add`.
#[derive(Debug, Args)]
pub struct MemberAddArgs {
    #[command(flatten)]
    pub common: Common,
    /// Display name of the member.
    #[arg(long)]
    pub name: String,
    /// The member's role.
    #[arg(long, value_enum)]
    pub role: RoleArg,
    /// The member's public key (SPKI PEM).
    #[arg(long, value_name = "PUB")]
    pub pubkey: PathBuf,
    /// Time of the entry (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<EventTime>,
}

/// Arguments of `registry report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub common: Common,
    /// The deviations, as `blueprint diff --format json` wrote them.
    #[arg(value_name = "DEVIATIONS.json")]
    pub deviations: PathBuf,
    /// Digest of the deposited blueprint the deviations concern (`sha256:…`).
    #[arg(long, value_name = "DIGEST")]
    pub blueprint_digest: Digest,
    /// Files the deviations were found in (captures, SBOMs, observations); their digests are signed.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub evidence: Vec<PathBuf>,
    /// The filing member's private key.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Time of the entry (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<EventTime>,
    /// Also write the signed report envelope here.
    #[arg(short = 'o', long = "out", value_name = "ENVELOPE")]
    pub out: Option<PathBuf>,
}

/// Arguments naming a report, with a member's or the vendor's key.
#[derive(Debug, Args)]
pub struct SignReportArgs {
    #[command(flatten)]
    pub common: Common,
    /// The report id (`sha256:…`, printed by `registry report`).
    #[arg(value_name = "REPORT-ID")]
    pub report_id: Digest,
    /// The signer's private key.
    #[arg(long, value_name = "KEY")]
    pub key: PathBuf,
    /// Time of the entry (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<EventTime>,
}

/// Arguments of `registry rebut`.
#[derive(Debug, Args)]
pub struct RebutArgs {
    #[command(flatten)]
    pub report: SignReportArgs,
    /// The vendor's answer (at most 16 KiB).
    #[arg(long, value_name = "TEXT")]
    pub statement: String,
    /// Files the vendor offers; their digests are signed.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub evidence: Vec<PathBuf>,
}

/// Arguments of `registry rule`.
#[derive(Debug, Args)]
pub struct RuleArgs {
    #[command(flatten)]
    pub common: Common,
    /// The report id.
    #[arg(value_name = "REPORT-ID")]
    pub report_id: Digest,
    /// Time of the ruling (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<EventTime>,
}

/// Arguments of `registry release` (`--version` names the deposit here,
/// not the program's version).
#[derive(Debug, Args)]
#[command(disable_version_flag = true)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub common: Common,
    /// The blueprint id.
    #[arg(value_name = "ID")]
    pub id: String,
    /// The deposited version (default: the latest).
    #[arg(long, value_name = "N")]
    pub version: Option<u64>,
    /// Time of the entry (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<EventTime>,
}

/// Arguments of `registry escrow`.
#[derive(Debug, Args)]
pub struct EscrowArgs {
    #[command(flatten)]
    pub common: Common,
    /// The blueprint id.
    #[arg(value_name = "ID")]
    pub id: String,
}

fn parse_time(s: &str) -> Result<EventTime, String> {
    EventTime::parse(s).map_err(|e| e.to_string())
}

fn done(result: Result<u8, u8>) -> u8 {
    result.unwrap_or_else(|code| code)
}

fn refused(e: impl std::fmt::Display) -> u8 {
    output::error(&e.to_string());
    EXIT_FINDINGS
}

/// An action's error: refusals exit 1, the rest 2.
fn act(e: ActionError) -> u8 {
    output::error(&e.to_string());
    if e.is_refusal() {
        EXIT_FINDINGS
    } else {
        EXIT_OPERATIONAL
    }
}

fn load_key(path: &Path) -> Result<SigningKeyFile, u8> {
    SigningKeyFile::load(path).map_err(op)
}

/// SHA-256 of a file, streamed (captures can be large).
fn file_digest(path: &Path) -> Result<EvidenceDigest, u8> {
    blueprint::input::regular_file(path).map_err(|e| op(e.to_string()))?;
    let mut file = std::fs::File::open(path)
        .map_err(|e| op(format!("cannot read {}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| op(format!("cannot read {}: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    Ok(EvidenceDigest {
        name,
        digest: Digest(hasher.finalize().into()),
    })
}

fn now_or_clock(now: Option<EventTime>) -> EventTime {
    now.unwrap_or_else(EventTime::now)
}

fn signature_of(key: &SigningKeyFile, envelope: &Envelope) -> Result<SignatureBytes, u8> {
    let payload = envelope.payload_bytes().map_err(op)?;
    let sig = key.sign(&dsse::pae(&envelope.payload_type, &payload));
    Ok(SignatureBytes(sig.to_bytes()))
}

/// A co-signature over the report envelope, as `sign --append` adds one
/// (refused when the key signed the envelope already).
fn cosignature(key: &SigningKeyFile, envelope: &Envelope) -> Result<SignatureBytes, u8> {
    let sig = report::cosign(envelope, key).map_err(refused)?;
    dsse::decode_base64(&sig.sig)
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(SignatureBytes)
        .ok_or_else(|| op("the new signature is not 64 bytes"))
}

/// The JSON body of a detached signature request.
fn signature_body(key: &SigningKeyFile, sig: &SignatureBytes) -> Value {
    json!({"keyid": keyid_string(&key.id()), "signature": STANDARD.encode(sig.0)})
}

fn envelope_body(envelope: &Envelope) -> Result<Value, u8> {
    let v: Value = serde_json::from_slice(&envelope.to_json()).map_err(op)?;
    Ok(json!({ "envelope": v }))
}

/// A report as the server or the local state has it.
fn report_view(c: &Common, api: Option<&Api>, id: &Digest) -> Result<ReportView, u8> {
    match api {
        Some(api) => api.get_json(&format!(
            "/api/v1/reports/{}",
            remote::segment(&id.to_string())
        )),
        None => actions::report_view(&mut open(c)?, id).map_err(act),
    }
}

/// `registry member add`.
pub fn member(cmd: &MemberCommand) -> u8 {
    let MemberCommand::Add(a) = cmd;
    done((|| {
        let public = PublicKey::load(&a.pubkey).map_err(op)?;
        let name = Text::parse(&a.name).ok_or_else(|| {
            op("--name must be non-empty, at most 1024 bytes, without control characters")
        })?;
        let role = match a.role {
            RoleArg::Lab => MemberRole::Lab,
            RoleArg::Regulator => MemberRole::Regulator,
            RoleArg::Auditor => MemberRole::Auditor,
        };
        let mut r = open(&a.common)?;
        let appended = r
            .append(Event {
                time: now_or_clock(a.now),
                kind: EventKind::Member(MemberEvent {
                    name,
                    role,
                    public_key: public,
                    keyid: public.id(),
                }),
            })
            .map_err(fail)?;
        emit(
            a.common.format,
            format!(
                "registered {} ({}) key {} at entry {}\n",
                a.name,
                role.as_str(),
                keyid_string(&public.id()),
                appended.index
            ),
            json!({"index": appended.index, "name": a.name, "role": role.as_str(),
                   "keyid": keyid_string(&public.id())}),
        )
    })())
}

/// The deposit a report names by its manifest digest.
fn reported_deposit(c: &Common, api: Option<&Api>, digest: &Digest) -> Result<BlueprintRef, u8> {
    match api {
        Some(api) => {
            #[derive(serde::Deserialize)]
            struct All {
                blueprints: Vec<EscrowView>,
            }
            let all: All = api.get_json("/api/v1/escrow")?;
            all.blueprints
                .iter()
                .flat_map(|b| b.versions.iter().map(move |v| (b, v)))
                .find(|(_, v)| v.digest == digest.to_string())
                .map(|(b, v)| BlueprintRef {
                    id: b.blueprint_id.clone(),
                    version: v.version,
                    digest: *digest,
                })
                .ok_or_else(|| act(ActionError::NoDepositDigest(*digest)))
        }
        None => {
            let state = open(c)?.stored_state().map_err(fail)?;
            actions::deposit_by_digest(&state, digest)
                .map(|d| actions::blueprint_ref(&d))
                .map_err(act)
        }
    }
}

/// `registry report`.
pub fn file_report(a: &ReportArgs) -> u8 {
    done((|| {
        let api = remote(&a.common);
        if api.is_some() {
            no_now_remote(a.now)?;
        }
        let bytes = output::read_limited(&a.deviations, MAX_DEVIATIONS_BYTES).map_err(op)?;
        let deviations: Value = serde_json::from_slice(&bytes)
            .map_err(|e| op(format!("{}: not JSON: {e}", a.deviations.display())))?;
        let evidence = a
            .evidence
            .iter()
            .map(|p| file_digest(p))
            .collect::<Result<Vec<_>, _>>()?;
        let key = load_key(&a.key)?;
        let blueprint = reported_deposit(&a.common, api.as_ref(), &a.blueprint_digest)?;
        let report = DeviationReport::new(blueprint, deviations, evidence)
            .map_err(|e| refused(format!("{}: {e}", a.deviations.display())))?;
        let (envelope, _) = report.sign(&key).map_err(op)?;
        if let Some(out) = &a.out {
            super::output::write_file(
                out,
                &envelope.to_json(),
                super::output::Replace {
                    force: false,
                    key: Some(&a.key),
                },
            )
            .map_err(op)?;
        }
        let filed: Filed = match &api {
            Some(api) => api.post_json("/api/v1/reports", &envelope_body(&envelope)?)?,
            None => actions::file_report(&mut open(&a.common)?, envelope, now_or_clock(a.now))
                .map_err(act)?,
        };
        emit_view(
            a.common.format,
            format!(
                "{}\nfiled at entry {} on {} version {}: {} ({}); rebuttal window until {}\n",
                filed.report_id,
                filed.index,
                filed.blueprint_id,
                filed.version,
                if filed.classes.is_empty() {
                    "no classes".to_owned()
                } else {
                    filed.classes.join(", ")
                },
                filed.verdict,
                filed.window_until,
            ),
            &filed,
        )
    })())
}

/// `registry cosign`.
pub fn cosign(a: &SignReportArgs) -> u8 {
    done((|| {
        let api = remote(&a.common);
        if api.is_some() {
            no_now_remote(a.now)?;
        }
        let key = load_key(&a.key)?;
        let view = report_view(&a.common, api.as_ref(), &a.report_id)?;
        let sig = cosignature(&key, &view.report.envelope)?;
        let done: Cosigned = match &api {
            Some(api) => api.post_json(
                &format!(
                    "/api/v1/reports/{}/cosignatures",
                    remote::segment(&a.report_id.to_string())
                ),
                &signature_body(&key, &sig),
            )?,
            None => actions::cosign(
                &mut open(&a.common)?,
                a.report_id,
                key.id(),
                sig,
                now_or_clock(a.now),
            )
            .map_err(act)?,
        };
        emit_view(
            a.common.format,
            format!(
                "co-signed at entry {}: {} distinct member key(s), quorum {}\n",
                done.index, done.signers, done.quorum
            ),
            &done,
        )
    })())
}

/// `registry rebut`.
pub fn rebut(a: &RebutArgs) -> u8 {
    let s = &a.report;
    done((|| {
        let api = remote(&s.common);
        if api.is_some() {
            no_now_remote(s.now)?;
        }
        let evidence = a
            .evidence
            .iter()
            .map(|p| file_digest(p))
            .collect::<Result<Vec<_>, _>>()?;
        let key = load_key(&s.key)?;
        let view = report_view(&s.common, api.as_ref(), &s.report_id)?;
        let digest: Digest = view
            .blueprint_digest
            .parse()
            .map_err(|_| op("the reported deposit's digest does not parse"))?;
        let rebuttal = Rebuttal {
            report_id: s.report_id,
            blueprint: BlueprintRef {
                id: view.report.blueprint_id.clone(),
                version: view.report.version,
                digest,
            },
            statement: a.statement.clone(),
            evidence,
        };
        let envelope = rebuttal.sign(&key).map_err(refused)?;
        let done: Rebutted = match &api {
            Some(api) => api.post_json(
                &format!(
                    "/api/v1/reports/{}/rebuttals",
                    remote::segment(&s.report_id.to_string())
                ),
                &envelope_body(&envelope)?,
            )?,
            None => actions::rebut(
                &mut open(&s.common)?,
                s.report_id,
                envelope,
                now_or_clock(s.now),
            )
            .map_err(act)?,
        };
        emit_view(
            s.common.format,
            format!(
                "rebuttal of {} recorded at entry {}\n",
                done.report_id, done.index
            ),
            &done,
        )
    })())
}

/// `registry accept-rebuttal`.
pub fn accept_rebuttal(a: &SignReportArgs) -> u8 {
    done((|| {
        let api = remote(&a.common);
        if api.is_some() {
            no_now_remote(a.now)?;
        }
        let key = load_key(&a.key)?;
        let view = report_view(&a.common, api.as_ref(), &a.report_id)?;
        let envelope = view
            .report
            .rebuttal_envelope
            .ok_or_else(|| act(ActionError::NoRebuttal(a.report_id)))?;
        let sig = signature_of(&key, &envelope)?;
        let done: Accepted = match &api {
            Some(api) => api.post_json(
                &format!(
                    "/api/v1/reports/{}/rebuttal-acceptances",
                    remote::segment(&a.report_id.to_string())
                ),
                &signature_body(&key, &sig),
            )?,
            None => actions::accept_rebuttal(
                &mut open(&a.common)?,
                a.report_id,
                key.id(),
                sig,
                now_or_clock(a.now),
            )
            .map_err(act)?,
        };
        emit_view(
            a.common.format,
            format!(
                "rebuttal accepted at entry {}: {} distinct member key(s), quorum {}\n",
                done.index, done.accepted_by, done.quorum
            ),
            &done,
        )
    })())
}

/// `registry rule`: appends the ruling the rule computes, or says until
/// when the window is open (exit 1, nothing appended).
pub fn rule_report(a: &RuleArgs) -> u8 {
    done((|| {
        let done: Ruled = match remote(&a.common) {
            Some(api) => {
                no_now_remote(a.now)?;
                api.post_json(
                    &format!(
                        "/api/v1/reports/{}/ruling",
                        remote::segment(&a.report_id.to_string())
                    ),
                    &json!({}),
                )?
            }
            None => actions::rule_report(&mut open(&a.common)?, a.report_id, now_or_clock(a.now))
                .map_err(act)?,
        };
        emit_view(
            a.common.format,
            format!(
                "ruling at entry {} ({}): {}\n",
                done.index, done.decided_by, done.detail
            ),
            &done,
        )
    })())
}

/// `registry release`.
pub fn release(a: &ReleaseArgs) -> u8 {
    done((|| {
        let done: Released = match remote(&a.common) {
            Some(api) => {
                no_now_remote(a.now)?;
                let mut body = json!({"blueprint_id": a.id});
                if let Some(v) = a.version {
                    body["version"] = Value::from(v);
                }
                api.post_json("/api/v1/releases", &body)?
            }
            None => actions::release(&mut open(&a.common)?, &a.id, a.version, now_or_clock(a.now))
                .map_err(act)?,
        };
        emit_view(
            a.common.format,
            format!(
                "bond of {} version {} released at entry {}\n",
                done.blueprint_id, done.version, done.index
            ),
            &done,
        )
    })())
}

/// `registry escrow`: each version's bond and the entries that decided it.
pub fn escrow(a: &EscrowArgs) -> u8 {
    done((|| {
        let view: EscrowView = match remote(&a.common) {
            Some(api) => api.get_json(&format!("/api/v1/escrow/{}", remote::segment(&a.id)))?,
            None => views::escrow_of(&open(&a.common)?.stored_state().map_err(fail)?, &a.id),
        };
        if view.versions.is_empty() {
            return Err(refused(format!("no deposit of {}", a.id)));
        }
        let mut human = String::new();
        for d in &view.versions {
            human.push_str(&format!(
                "{} v{} (entry {}): {} {} {}{}\n",
                view.blueprint_id,
                d.version,
                d.index,
                d.bond.amount,
                d.bond.currency,
                d.bond.state,
                if d.bond.decided_by.is_empty() {
                    String::new()
                } else {
                    format!(
                        " by entries {}",
                        d.bond
                            .decided_by
                            .iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ));
            for rep in &d.reports {
                let status = match &rep.ruling {
                    Some(r) => format!("{:?} at entry {}", r.outcome, r.index).to_lowercase(),
                    None => "pending".to_owned(),
                };
                human.push_str(&format!(
                    "  report {} (entry {}): {} [{}], {} signer(s), {status}\n",
                    rep.report_id,
                    rep.index,
                    verdict_word(rep.verdict),
                    rep.classes.join(", "),
                    rep.signers.len()
                ));
            }
        }
        emit_view(a.common.format, human, &view)
    })())
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Deviations => "deviations",
        Verdict::Insufficient => "insufficient",
        Verdict::None => "none",
    }
}
