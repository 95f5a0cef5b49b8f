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
use super::registry::{emit, fail, op, open};
use super::{EXIT_FINDINGS, output};
use blueprint::attest::canon::Digest;
use blueprint::attest::dsse::{self, Envelope};
use blueprint::attest::keys::{PublicKey, SigningKeyFile};
use blueprint::escrow::event::{
    CosignEvent, Event, EventKind, EventTime, MemberEvent, MemberRole, RebuttalAcceptEvent,
    RebuttalEvent, ReleaseEvent, ReportEvent, SignatureBytes, Text, Verdict, keyid_string,
};
use blueprint::escrow::ledger::{Config, DepositRecord, ReportRecord, State};
use blueprint::escrow::registry::{Appended, Registry};
use blueprint::escrow::report::{
    self, BlueprintRef, DeviationReport, EvidenceDigest, MAX_DEVIATIONS_BYTES, Rebuttal,
};
use blueprint::escrow::rule::{self, Outcome};
use blueprint::escrow::state::{self as escrow_state, EscrowRefusal};
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

fn append(r: &mut Registry, time: Option<EventTime>, kind: EventKind) -> Result<Appended, u8> {
    r.append(Event {
        time: time.unwrap_or_else(EventTime::now),
        kind,
    })
    .map_err(fail)
}

fn state_of(r: &mut Registry) -> Result<State, u8> {
    r.stored_state().map_err(fail)
}

fn config_of(state: &State) -> Result<&Config, u8> {
    state
        .config
        .as_ref()
        .ok_or_else(|| op("the registry has no init entry"))
}

fn report_of(state: &State, id: &Digest) -> Result<ReportRecord, u8> {
    state
        .reports
        .get(id)
        .cloned()
        .ok_or_else(|| refused(format!("no report {id} in this registry")))
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
        let appended = append(
            &mut r,
            a.now,
            EventKind::Member(MemberEvent {
                name,
                role,
                public_key: public,
                keyid: public.id(),
            }),
        )?;
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

fn deposit_by_digest(state: &State, digest: &Digest) -> Result<DepositRecord, u8> {
    state
        .deposits
        .values()
        .find(|d| d.digest == *digest)
        .cloned()
        .ok_or_else(|| refused(format!("no deposit with digest {digest} in this registry")))
}

fn blueprint_ref(d: &DepositRecord) -> BlueprintRef {
    BlueprintRef {
        id: d.blueprint_id.clone(),
        version: d.version,
        digest: d.digest,
    }
}

/// `registry report`.
pub fn file_report(a: &ReportArgs) -> u8 {
    done((|| {
        let bytes = output::read_limited(&a.deviations, MAX_DEVIATIONS_BYTES).map_err(op)?;
        let deviations: Value = serde_json::from_slice(&bytes)
            .map_err(|e| op(format!("{}: not JSON: {e}", a.deviations.display())))?;
        let evidence = a
            .evidence
            .iter()
            .map(|p| file_digest(p))
            .collect::<Result<Vec<_>, _>>()?;
        let key = load_key(&a.key)?;
        let mut r = open(&a.common)?;
        let state = state_of(&mut r)?;
        let window_days = config_of(&state)?.window_days;
        let deposit = deposit_by_digest(&state, &a.blueprint_digest)?;
        let report = DeviationReport::new(blueprint_ref(&deposit), deviations, evidence)
            .map_err(|e| refused(format!("{}: {e}", a.deviations.display())))?;
        let (envelope, id) = report.sign(&key).map_err(op)?;
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
        let classes: Vec<String> = report.classes.iter().map(|c| c.code().to_owned()).collect();
        let appended = append(
            &mut r,
            a.now,
            EventKind::Report(Box::new(ReportEvent {
                report_id: id,
                blueprint_id: deposit.blueprint_id.clone(),
                version: deposit.version,
                blueprint_digest: deposit.digest,
                evidence_digests: report.evidence.iter().map(|e| e.digest).collect(),
                classes: classes.clone(),
                verdict: escrow_state::verdict_of(report.verdict),
                envelope,
            })),
        )?;
        let filed = state_of(&mut r)?;
        let until = escrow_state::window_end(&report_of(&filed, &id)?, window_days);
        emit(
            a.common.format,
            format!(
                "{id}\nfiled at entry {} on {} version {}: {} ({}); rebuttal window until {until}\n",
                appended.index,
                deposit.blueprint_id,
                deposit.version,
                if classes.is_empty() {
                    "no classes".to_owned()
                } else {
                    classes.join(", ")
                },
                report.verdict.as_str(),
            ),
            json!({"report_id": id.to_string(), "index": appended.index,
                   "blueprint_id": deposit.blueprint_id, "version": deposit.version,
                   "classes": classes, "verdict": report.verdict.as_str(),
                   "window_until": until.to_string()}),
        )
    })())
}

/// `registry cosign`.
pub fn cosign(a: &SignReportArgs) -> u8 {
    done((|| {
        let key = load_key(&a.key)?;
        let mut r = open(&a.common)?;
        let state = state_of(&mut r)?;
        let quorum = config_of(&state)?.quorum;
        let rep = report_of(&state, &a.report_id)?;
        let appended = append(
            &mut r,
            a.now,
            EventKind::Cosign(CosignEvent {
                report_id: a.report_id,
                keyid: key.id(),
                signature: cosignature(&key, &rep.envelope)?,
            }),
        )?;
        let signers = report_of(&state_of(&mut r)?, &a.report_id)?.signers.len();
        emit(
            a.common.format,
            format!(
                "co-signed at entry {}: {signers} distinct member key(s), quorum {quorum}\n",
                appended.index
            ),
            json!({"index": appended.index, "report_id": a.report_id.to_string(),
                   "signers": signers, "quorum": quorum}),
        )
    })())
}

/// `registry rebut`.
pub fn rebut(a: &RebutArgs) -> u8 {
    let s = &a.report;
    done((|| {
        let evidence = a
            .evidence
            .iter()
            .map(|p| file_digest(p))
            .collect::<Result<Vec<_>, _>>()?;
        let key = load_key(&s.key)?;
        let mut r = open(&s.common)?;
        let state = state_of(&mut r)?;
        let rep = report_of(&state, &s.report_id)?;
        let deposit = state
            .deposits
            .get(&(rep.blueprint_id.clone(), rep.version))
            .ok_or_else(|| op("the reported deposit is missing"))?;
        let rebuttal = Rebuttal {
            report_id: s.report_id,
            blueprint: blueprint_ref(deposit),
            statement: a.statement.clone(),
            evidence,
        };
        let envelope = rebuttal.sign(&key).map_err(refused)?;
        let appended = append(
            &mut r,
            s.now,
            EventKind::Rebuttal(RebuttalEvent {
                report_id: s.report_id,
                envelope,
            }),
        )?;
        emit(
            s.common.format,
            format!(
                "rebuttal of {} recorded at entry {}\n",
                s.report_id, appended.index
            ),
            json!({"index": appended.index, "report_id": s.report_id.to_string()}),
        )
    })())
}

/// `registry accept-rebuttal`.
pub fn accept_rebuttal(a: &SignReportArgs) -> u8 {
    done((|| {
        let key = load_key(&a.key)?;
        let mut r = open(&a.common)?;
        let state = state_of(&mut r)?;
        let quorum = config_of(&state)?.quorum;
        let rep = report_of(&state, &a.report_id)?;
        let envelope = rep
            .rebuttal_envelope
            .ok_or_else(|| refused(format!("report {} has no rebuttal", a.report_id)))?;
        let appended = append(
            &mut r,
            a.now,
            EventKind::RebuttalAccept(RebuttalAcceptEvent {
                report_id: a.report_id,
                keyid: key.id(),
                signature: signature_of(&key, &envelope)?,
            }),
        )?;
        let accepted = report_of(&state_of(&mut r)?, &a.report_id)?
            .rebuttal_accepted_by
            .len();
        emit(
            a.common.format,
            format!(
                "rebuttal accepted at entry {}: {accepted} distinct member key(s), quorum {quorum}\n",
                appended.index
            ),
            json!({"index": appended.index, "report_id": a.report_id.to_string(),
                   "accepted_by": accepted, "quorum": quorum}),
        )
    })())
}

/// `registry rule`: appends the ruling the rule computes, or says until
/// when the window is open (exit 1, nothing appended).
pub fn rule_report(a: &RuleArgs) -> u8 {
    done((|| {
        let now = a.now.unwrap_or_else(EventTime::now);
        let mut r = open(&a.common)?;
        let state = state_of(&mut r)?;
        let config = config_of(&state)?;
        let rep = report_of(&state, &a.report_id)?;
        if let Some((index, outcome)) = rep.ruling {
            return Err(refused(format!(
                "report {} was ruled on at entry {index} ({outcome:?})",
                a.report_id
            )));
        }
        let (event, outcome) = match escrow_state::ruling_event(config, a.report_id, &rep, now) {
            Ok(x) => x,
            Err(EscrowRefusal::WindowOpen { until }) => {
                return Err(refused(format!(
                    "not yet: the rebuttal window of {} is open until {until}",
                    a.report_id
                )));
            }
            Err(e) => return Err(op(e)),
        };
        let appended = append(&mut r, Some(now), EventKind::Ruling(event))?;
        let (word, detail) = match &outcome {
            Outcome::Forfeit { classes, signers } => (
                "forfeit",
                format!(
                    "bond of {} version {} forfeited: {} signed by {} member key(s)",
                    rep.blueprint_id,
                    rep.version,
                    classes
                        .iter()
                        .map(|c| c.code())
                        .collect::<Vec<_>>()
                        .join(", "),
                    signers.len()
                ),
            ),
            Outcome::Dismissed { reason } => ("dismissed", format!("dismissed: {reason}")),
            Outcome::NotYet { .. } => ("not-yet", String::new()),
        };
        emit(
            a.common.format,
            format!(
                "ruling at entry {} ({}): {detail}\n",
                appended.index,
                rule::RULE_VERSION
            ),
            json!({"index": appended.index, "report_id": a.report_id.to_string(),
                   "outcome": word, "reason": outcome.reason(),
                   "decided_by": rule::RULE_VERSION}),
        )
    })())
}

/// `registry release`.
pub fn release(a: &ReleaseArgs) -> u8 {
    done((|| {
        let mut r = open(&a.common)?;
        let history = r.history(&a.id).map_err(fail)?;
        let version = match a.version {
            Some(v) => v,
            None => history
                .iter()
                .map(|d| d.version)
                .max()
                .ok_or_else(|| refused(format!("no deposit of {}", a.id)))?,
        };
        let appended = append(
            &mut r,
            a.now,
            EventKind::Release(ReleaseEvent {
                blueprint_id: a.id.clone(),
                version,
            }),
        )?;
        emit(
            a.common.format,
            format!(
                "bond of {} version {version} released at entry {}\n",
                a.id, appended.index
            ),
            json!({"index": appended.index, "blueprint_id": a.id, "version": version}),
        )
    })())
}

/// `registry escrow`: each version's bond and the entries that decided it.
pub fn escrow(a: &EscrowArgs) -> u8 {
    done((|| {
        let mut r = open(&a.common)?;
        let state = state_of(&mut r)?;
        let mut deposits: Vec<&DepositRecord> = state
            .deposits
            .values()
            .filter(|d| d.blueprint_id == a.id)
            .collect();
        if deposits.is_empty() {
            return Err(refused(format!("no deposit of {}", a.id)));
        }
        deposits.sort_by_key(|d| d.version);
        let mut human = String::new();
        let mut versions = Vec::new();
        for d in deposits {
            let reports: Vec<(&Digest, &ReportRecord)> = state
                .reports
                .iter()
                .filter(|(_, r)| r.blueprint_id == d.blueprint_id && r.version == d.version)
                .collect();
            // A forfeiture is decided by a ruling and the report it rules on.
            let mut decided_by: Vec<u64> = Vec::new();
            if let Some(at) = d.bond_changed_at {
                if let Some((_, rep)) = reports
                    .iter()
                    .find(|(_, r)| r.ruling.is_some_and(|(i, _)| i == at))
                {
                    decided_by.push(rep.index);
                }
                decided_by.push(at);
            }
            human.push_str(&format!(
                "{} v{} (entry {}): {} {} {}{}\n",
                d.blueprint_id,
                d.version,
                d.index,
                d.bond.amount,
                d.bond.currency,
                d.bond_state.as_str(),
                if decided_by.is_empty() {
                    String::new()
                } else {
                    format!(
                        " by entries {}",
                        decided_by
                            .iter()
                            .map(u64::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ));
            let mut report_json = Vec::new();
            for (id, rep) in &reports {
                let status = match rep.ruling {
                    Some((i, o)) => format!("{o:?} at entry {i}").to_lowercase(),
                    None => "pending".to_owned(),
                };
                human.push_str(&format!(
                    "  report {id} (entry {}): {} [{}], {} signer(s), {status}\n",
                    rep.index,
                    verdict_word(rep.verdict),
                    rep.classes.join(", "),
                    rep.signers.len()
                ));
                report_json.push(json!({
                    "report_id": id.to_string(), "index": rep.index, "classes": rep.classes,
                    "signers": rep.signers, "rebuttal": rep.rebuttal,
                    "rebuttal_accepted_by": rep.rebuttal_accepted_by,
                    "ruling": rep.ruling.map(|(i, o)| json!({"index": i, "outcome": o})),
                }));
            }
            versions.push(json!({
                "version": d.version, "index": d.index, "digest": d.digest.to_string(),
                "support_end": d.support_end.map(|e| e.to_string()),
                "bond": {"amount": d.bond.amount.as_str(), "currency": d.bond.currency.as_str(),
                         "state": d.bond_state.as_str(), "decided_by": decided_by},
                "reports": report_json,
            }));
        }
        emit(
            a.common.format,
            human,
            json!({"blueprint_id": a.id, "versions": versions}),
        )
    })())
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Deviations => "deviations",
        Verdict::Insufficient => "insufficient",
        Verdict::None => "none",
    }
}
