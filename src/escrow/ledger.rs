//! The registry's derived state and the one function that advances it.
//!
//! Every piece of state (the log's configuration, member keys, pinned vendor
//! keys, deposits and their bonds, reports) is a function of the log's
//! entries: [`apply`] checks one event against the state built from the
//! entries before it and records its effect. The live registry calls it
//! inside the append transaction (against the SQLite tables, through
//! [`StateStore`]); `registry replay` folds it over all entries from index 0
//! into an in-memory [`State`] and compares. One function, so the live path
//! and replay cannot disagree about what is valid.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::num::NonZeroUsize;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::attest::canon::{self, Digest};
use crate::attest::dsse::{self, Envelope};
use crate::attest::keys::{KeyId, PublicKey};
use crate::attest::statement::{self, DepositRejection};
use crate::escrow::event::{
    self, Bond, Day, DepositEvent, Event, EventKind, EventTime, MemberRole, Outcome, Text, Verdict,
};
use crate::escrow::state as escrow_state;

/// DSSE `payloadType` of a vendor key rotation statement.
pub const ROTATION_PAYLOAD_TYPE: &str = "application/vnd.blueprint.rotation.v1+json";

/// The log's parameters, from the `init` entry.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct Config {
    /// Checkpoint origin line.
    pub origin: Text,
    /// Checkpoint-signing key.
    #[serde(with = "event::public_key_serde")]
    pub log_key: PublicKey,
    /// Distinct member keys a report needs.
    pub quorum: u32,
    /// Rebuttal window in days.
    pub window_days: u32,
}

/// A blueprint id: its pinned vendor key and latest deposit.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct BlueprintRecord {
    /// `blueprint.id`.
    pub blueprint_id: String,
    /// The vendor key deposits must be signed by.
    #[serde(with = "event::public_key_serde")]
    pub vendor_key: PublicKey,
    /// Highest deposited version.
    pub latest_version: u64,
    /// Its entry index.
    pub latest_index: u64,
    /// Entry indices of key rotations, in order.
    pub rotations: Vec<u64>,
}

/// A bond's state.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BondState {
    /// Held by the registry.
    Held,
    /// Forfeited by a ruling.
    Forfeited,
    /// Released to the vendor.
    Released,
}

impl BondState {
    /// As written in output.
    pub fn as_str(self) -> &'static str {
        match self {
            BondState::Held => "held",
            BondState::Forfeited => "forfeited",
            BondState::Released => "released",
        }
    }
}

/// One deposited version.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct DepositRecord {
    /// `blueprint.id`.
    pub blueprint_id: String,
    /// `blueprint.version`.
    pub version: u64,
    /// Entry index of the deposit.
    pub index: u64,
    /// Manifest digest.
    #[serde(with = "event::digest_serde")]
    pub digest: Digest,
    /// When it was deposited.
    pub time: EventTime,
    /// The bond.
    pub bond: Bond,
    /// End of the security support period, if stated.
    pub support_end: Option<Day>,
    /// Entry index of the version it superseded.
    pub supersedes: Option<u64>,
    /// Entry index of the version that superseded it.
    pub superseded_by: Option<u64>,
    /// The bond's state.
    pub bond_state: BondState,
    /// Entry index of the event that last changed the bond's state.
    pub bond_changed_at: Option<u64>,
}

/// A registered member.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct MemberRecord {
    /// Display name.
    pub name: Text,
    /// Role.
    pub role: MemberRole,
    /// The key.
    #[serde(with = "event::public_key_serde")]
    pub public_key: PublicKey,
    /// Entry index of the registration.
    pub index: u64,
}

/// A filed deviation report and what happened to it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct ReportRecord {
    /// The report's entry index.
    pub index: u64,
    /// When it was filed.
    pub time: EventTime,
    /// The blueprint reported on.
    pub blueprint_id: String,
    /// Its version.
    pub version: u64,
    /// Deviation classes.
    pub classes: Vec<String>,
    /// Verdict.
    pub verdict: Verdict,
    /// Distinct member keys that signed (filing and co-signatures), as
    /// `sha256:<hex>` keyids.
    pub signers: Vec<String>,
    /// The report's DSSE envelope (co-signatures are over its PAE).
    pub envelope: Envelope,
    /// Entry index of the vendor's rebuttal.
    pub rebuttal: Option<u64>,
    /// The rebuttal's DSSE envelope (acceptances are over its PAE).
    pub rebuttal_envelope: Option<Envelope>,
    /// Distinct member keys that accepted the rebuttal.
    pub rebuttal_accepted_by: Vec<String>,
    /// The ruling: entry index and outcome.
    pub ruling: Option<(u64, Outcome)>,
}

/// Why an event is not valid at its place in the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Entry 0 must be `init`, and only entry 0.
    #[error("entry {index}: {what}")]
    Sequence {
        /// The entry.
        index: u64,
        /// What is wrong.
        what: &'static str,
    },
    /// A version that is not larger than the latest deposited one.
    #[error(
        "blueprint {blueprint_id}: version {got} is not newer than the deposited version {have}; versions only grow"
    )]
    Rollback {
        /// The blueprint id.
        blueprint_id: String,
        /// Latest deposited version.
        have: u64,
        /// The version offered.
        got: u64,
    },
    /// First deposit of an id without the vendor's public key.
    #[error(
        "blueprint {blueprint_id} has no pinned vendor key yet: give the vendor's public key (--pubkey) with its first deposit"
    )]
    KeyNotPinned {
        /// The blueprint id.
        blueprint_id: String,
    },
    /// Not signed by the pinned vendor key.
    #[error(
        "blueprint {blueprint_id}: not signed by its pinned vendor key sha256:{pinned} ({why})"
    )]
    WrongKey {
        /// The blueprint id.
        blueprint_id: String,
        /// The pinned key.
        pinned: KeyId,
        /// What verification said.
        why: String,
    },
    /// The deposit envelope does not verify as a blueprint deposit.
    #[error("deposit envelope rejected: {0}")]
    Envelope(#[from] DepositRejection),
    /// A member of the event disagrees with what it must equal.
    #[error("entry {index}: `{field}` is {found}, expected {expected}")]
    Mismatch {
        /// The entry.
        index: u64,
        /// The member.
        field: &'static str,
        /// What the entry says.
        found: String,
        /// What it must be.
        expected: String,
    },
    /// A report, rebuttal or ruling the escrow checks refuse.
    #[error("entry {index}: {source}")]
    Escrow {
        /// The entry.
        index: u64,
        /// What the escrow checks refused.
        #[source]
        source: escrow_state::EscrowRefusal,
    },
    /// Something the event refers to does not exist or is in the wrong state.
    #[error("entry {index}: {what}")]
    Invalid {
        /// The entry.
        index: u64,
        /// What is wrong.
        what: String,
    },
}

/// [`apply`] failed: the event is refused, or the state could not be read
/// or written.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError<E> {
    /// The event is not valid here.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The state store failed.
    #[error(transparent)]
    Store(E),
}

/// Read and write access to the derived state: in memory for replay, the
/// SQLite tables for the live registry.
pub trait StateStore {
    /// The store's failure.
    type Error;
    /// The `init` parameters.
    fn config(&self) -> Result<Option<Config>, Self::Error>;
    /// Sets them (once, from entry 0).
    fn put_config(&mut self, c: &Config) -> Result<(), Self::Error>;
    /// A blueprint id's record.
    fn blueprint(&self, id: &str) -> Result<Option<BlueprintRecord>, Self::Error>;
    /// Writes it.
    fn put_blueprint(&mut self, r: &BlueprintRecord) -> Result<(), Self::Error>;
    /// One deposit.
    fn deposit(&self, id: &str, version: u64) -> Result<Option<DepositRecord>, Self::Error>;
    /// The deposit at an entry index.
    fn deposit_at(&self, index: u64) -> Result<Option<DepositRecord>, Self::Error>;
    /// Writes it.
    fn put_deposit(&mut self, r: &DepositRecord) -> Result<(), Self::Error>;
    /// A member by keyid.
    fn member(&self, keyid: &KeyId) -> Result<Option<MemberRecord>, Self::Error>;
    /// Writes it.
    fn put_member(&mut self, keyid: &KeyId, r: &MemberRecord) -> Result<(), Self::Error>;
    /// A report by id.
    fn report(&self, id: &Digest) -> Result<Option<ReportRecord>, Self::Error>;
    /// Writes it.
    fn put_report(&mut self, id: &Digest, r: &ReportRecord) -> Result<(), Self::Error>;
    /// Reports on one deposit.
    fn reports_on(&self, id: &str, version: u64) -> Result<Vec<ReportRecord>, Self::Error>;
}

/// The whole derived state in memory (what replay builds).
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct State {
    /// From `init`.
    pub config: Option<Config>,
    /// By blueprint id.
    pub blueprints: BTreeMap<String, BlueprintRecord>,
    /// By (blueprint id, version).
    pub deposits: BTreeMap<(String, u64), DepositRecord>,
    /// By keyid.
    pub members: BTreeMap<KeyId, MemberRecord>,
    /// By report id.
    pub reports: BTreeMap<Digest, ReportRecord>,
}

impl StateStore for State {
    type Error = Infallible;
    fn config(&self) -> Result<Option<Config>, Infallible> {
        Ok(self.config.clone())
    }
    fn put_config(&mut self, c: &Config) -> Result<(), Infallible> {
        self.config = Some(c.clone());
        Ok(())
    }
    fn blueprint(&self, id: &str) -> Result<Option<BlueprintRecord>, Infallible> {
        Ok(self.blueprints.get(id).cloned())
    }
    fn put_blueprint(&mut self, r: &BlueprintRecord) -> Result<(), Infallible> {
        self.blueprints.insert(r.blueprint_id.clone(), r.clone());
        Ok(())
    }
    fn deposit(&self, id: &str, version: u64) -> Result<Option<DepositRecord>, Infallible> {
        Ok(self.deposits.get(&(id.to_owned(), version)).cloned())
    }
    fn deposit_at(&self, index: u64) -> Result<Option<DepositRecord>, Infallible> {
        Ok(self.deposits.values().find(|d| d.index == index).cloned())
    }
    fn put_deposit(&mut self, r: &DepositRecord) -> Result<(), Infallible> {
        self.deposits
            .insert((r.blueprint_id.clone(), r.version), r.clone());
        Ok(())
    }
    fn member(&self, keyid: &KeyId) -> Result<Option<MemberRecord>, Infallible> {
        Ok(self.members.get(keyid).cloned())
    }
    fn put_member(&mut self, keyid: &KeyId, r: &MemberRecord) -> Result<(), Infallible> {
        self.members.insert(*keyid, r.clone());
        Ok(())
    }
    fn report(&self, id: &Digest) -> Result<Option<ReportRecord>, Infallible> {
        Ok(self.reports.get(id).cloned())
    }
    fn put_report(&mut self, id: &Digest, r: &ReportRecord) -> Result<(), Infallible> {
        self.reports.insert(*id, r.clone());
        Ok(())
    }
    fn reports_on(&self, id: &str, version: u64) -> Result<Vec<ReportRecord>, Infallible> {
        Ok(self
            .reports
            .values()
            .filter(|r| r.blueprint_id == id && r.version == version)
            .cloned()
            .collect())
    }
}

/// The payload a rotation envelope signs: the JCS bytes of
/// `{"blueprint_id", "new_keyid", "new_public_key", "old_keyid", "type"}`.
pub fn rotation_payload(blueprint_id: &str, old: &KeyId, new: &PublicKey) -> Vec<u8> {
    let v = json!({
        "type": "blueprint-vendor-key-rotation",
        "blueprint_id": blueprint_id,
        "old_keyid": event::keyid_string(old),
        "new_keyid": event::keyid_string(&new.id()),
        "new_public_key": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, new.to_bytes()),
    });
    // Strings only: canonicalization cannot fail.
    canon::canonicalize(&v).unwrap_or_default()
}

const ONE: NonZeroUsize = NonZeroUsize::MIN;

/// Checks `event` (entry `index`) against `state` and records its effect.
/// On `Err` nothing has been written for this event by this function
/// except through a store that the caller rolls back.
pub fn apply<S: StateStore>(
    state: &mut S,
    index: u64,
    event: &Event,
) -> Result<(), ApplyError<S::Error>> {
    let config = state.config().map_err(ApplyError::Store)?;
    let refuse = |what: String| ApplyError::Refused(Refusal::Invalid { index, what });
    match (&event.kind, &config) {
        (EventKind::Init(init), None) => {
            if index != 0 {
                return Err(Refusal::Sequence {
                    index,
                    what: "`init` may only be entry 0",
                }
                .into());
            }
            expect_eq(index, "log_keyid", init.log_keyid, init.log_public_key.id())?;
            if init.quorum == 0 {
                return Err(refuse("quorum must be at least 1".into()));
            }
            state
                .put_config(&Config {
                    origin: init.origin.clone(),
                    log_key: init.log_public_key,
                    quorum: init.quorum,
                    window_days: init.window_days,
                })
                .map_err(ApplyError::Store)
        }
        (EventKind::Init(_), Some(_)) => Err(Refusal::Sequence {
            index,
            what: "the log is already initialised",
        }
        .into()),
        (_, None) => Err(Refusal::Sequence {
            index,
            what: "entry 0 must be `init`",
        }
        .into()),
        (EventKind::Member(m), Some(_)) => {
            expect_eq(index, "keyid", m.keyid, m.public_key.id())?;
            if state.member(&m.keyid).map_err(ApplyError::Store)?.is_some() {
                return Err(refuse(format!(
                    "member key {} is already registered",
                    event::keyid_string(&m.keyid)
                )));
            }
            let record = MemberRecord {
                name: m.name.clone(),
                role: m.role,
                public_key: m.public_key,
                index,
            };
            state
                .put_member(&m.keyid, &record)
                .map_err(ApplyError::Store)
        }
        (EventKind::Deposit(d), Some(_)) => apply_deposit(state, index, event.time, d),
        (EventKind::Rotate(r), Some(_)) => {
            let Some(mut bp) = state
                .blueprint(&r.blueprint_id)
                .map_err(ApplyError::Store)?
            else {
                return Err(Refusal::KeyNotPinned {
                    blueprint_id: r.blueprint_id.clone(),
                }
                .into());
            };
            let pinned = bp.vendor_key;
            expect_eq(index, "new_keyid", r.new_keyid, r.new_public_key.id())?;
            dsse::verify(&r.envelope, ROTATION_PAYLOAD_TYPE, &[pinned], ONE).map_err(|e| {
                Refusal::WrongKey {
                    blueprint_id: r.blueprint_id.clone(),
                    pinned: pinned.id(),
                    why: e.to_string(),
                }
            })?;
            expect_eq(index, "old_keyid", r.old_keyid, pinned.id())?;
            let payload = r
                .envelope
                .payload_bytes()
                .map_err(|e| refuse(e.to_string()))?;
            if payload != rotation_payload(&r.blueprint_id, &pinned.id(), &r.new_public_key) {
                return Err(refuse(
                    "the rotation envelope's statement does not name this blueprint and key".into(),
                ));
            }
            if r.new_public_key == pinned {
                return Err(refuse("the new key is the pinned key".into()));
            }
            bp.vendor_key = r.new_public_key;
            bp.rotations.push(index);
            state.put_blueprint(&bp).map_err(ApplyError::Store)
        }
        (EventKind::Report(r), Some(_)) => {
            let dep = state
                .deposit(&r.blueprint_id, r.version)
                .map_err(ApplyError::Store)?
                .ok_or_else(|| {
                    refuse(format!(
                        "report on {} version {}, which was never deposited",
                        r.blueprint_id, r.version
                    ))
                })?;
            expect_eq(index, "blueprint_digest", r.blueprint_digest, dep.digest)?;
            if state
                .report(&r.report_id)
                .map_err(ApplyError::Store)?
                .is_some()
            {
                return Err(refuse(format!("report {} was already filed", r.report_id)));
            }
            // The statement, its signers and the event's fields: the
            // escrow checks (`escrow::state`).
            let members = named_members(state, &r.envelope).map_err(ApplyError::Store)?;
            let signers = escrow_state::check_report(r, &members, &dep)
                .map_err(|source| Refusal::Escrow { index, source })?
                .iter()
                .map(event::keyid_string)
                .collect();
            let record = ReportRecord {
                index,
                time: event.time,
                blueprint_id: r.blueprint_id.clone(),
                version: r.version,
                classes: r.classes.clone(),
                verdict: r.verdict,
                signers,
                envelope: r.envelope.clone(),
                rebuttal: None,
                rebuttal_envelope: None,
                rebuttal_accepted_by: Vec::new(),
                ruling: None,
            };
            state
                .put_report(&r.report_id, &record)
                .map_err(ApplyError::Store)
        }
        (EventKind::Cosign(c), Some(_)) => {
            let mut rep = open_report(state, index, &c.report_id)?;
            let envelope = rep.envelope.clone();
            let msg = dsse::pae(&envelope.payload_type, &payload_of(&envelope, index)?);
            let keyid = member_signature(state, index, &c.keyid, &msg, &c.signature.0)?;
            // The same key twice is never a second signer.
            if rep.signers.contains(&keyid) {
                return Err(refuse(format!("{keyid} has already signed the report")));
            }
            rep.signers.push(keyid);
            state
                .put_report(&c.report_id, &rep)
                .map_err(ApplyError::Store)
        }
        (EventKind::Rebuttal(r), Some(config)) => {
            let mut rep = open_report(state, index, &r.report_id)?;
            if rep.rebuttal.is_some() {
                return Err(refuse("the report already has a rebuttal".into()));
            }
            let bp = state
                .blueprint(&rep.blueprint_id)
                .map_err(ApplyError::Store)?
                .ok_or_else(|| refuse("the reported blueprint has no vendor key".into()))?;
            let dep = state
                .deposit(&rep.blueprint_id, rep.version)
                .map_err(ApplyError::Store)?
                .ok_or_else(|| refuse("the reported deposit is missing".into()))?;
            escrow_state::check_rebuttal(
                r,
                event.time,
                &rep,
                &dep,
                &bp.vendor_key,
                config.window_days,
            )
            .map_err(|source| Refusal::Escrow { index, source })?;
            rep.rebuttal = Some(index);
            rep.rebuttal_envelope = Some(r.envelope.clone());
            state
                .put_report(&r.report_id, &rep)
                .map_err(ApplyError::Store)
        }
        (EventKind::RebuttalAccept(a), Some(_)) => {
            let mut rep = open_report(state, index, &a.report_id)?;
            let Some(envelope) = rep.rebuttal_envelope.clone() else {
                return Err(refuse("the report has no rebuttal to accept".into()));
            };
            let msg = dsse::pae(&envelope.payload_type, &payload_of(&envelope, index)?);
            let keyid = member_signature(state, index, &a.keyid, &msg, &a.signature.0)?;
            if rep.rebuttal_accepted_by.contains(&keyid) {
                return Err(refuse(format!("{keyid} has already accepted the rebuttal")));
            }
            rep.rebuttal_accepted_by.push(keyid);
            state
                .put_report(&a.report_id, &rep)
                .map_err(ApplyError::Store)
        }
        (EventKind::Ruling(r), Some(config)) => {
            let mut rep = open_report(state, index, &r.report_id)?;
            // The outcome must be what the rule computes at the ruling's time.
            escrow_state::check_ruling(r, event.time, config, &rep)
                .map_err(|source| Refusal::Escrow { index, source })?;
            rep.ruling = Some((index, r.outcome));
            if r.outcome == Outcome::Forfeit {
                let mut dep = state
                    .deposit(&rep.blueprint_id, rep.version)
                    .map_err(ApplyError::Store)?
                    .ok_or_else(|| refuse("the reported deposit is missing".into()))?;
                // Reports filed while the bond was held are still ruled on
                // after an earlier ruling forfeited it; the bond changes once.
                if dep.bond_state == BondState::Held {
                    dep.bond_state = BondState::Forfeited;
                    dep.bond_changed_at = Some(index);
                    state.put_deposit(&dep).map_err(ApplyError::Store)?;
                }
            }
            state
                .put_report(&r.report_id, &rep)
                .map_err(ApplyError::Store)
        }
        (EventKind::Release(r), Some(_)) => {
            let mut dep = state
                .deposit(&r.blueprint_id, r.version)
                .map_err(ApplyError::Store)?
                .ok_or_else(|| {
                    refuse(format!(
                        "{} version {} was never deposited",
                        r.blueprint_id, r.version
                    ))
                })?;
            if dep.bond_state != BondState::Held {
                return Err(refuse(format!(
                    "the bond is {}, not held",
                    dep.bond_state.as_str()
                )));
            }
            match dep.support_end {
                Some(end) if event.time.date() > end.0 => {}
                Some(end) => {
                    return Err(refuse(format!(
                        "the support period runs until {end}; the bond is held until it ends"
                    )));
                }
                None => {
                    return Err(refuse(
                        "the deposit states no support end; its bond is never released automatically"
                            .into(),
                    ));
                }
            }
            let pending = state
                .reports_on(&r.blueprint_id, r.version)
                .map_err(ApplyError::Store)?
                .iter()
                .any(|rep| rep.ruling.is_none());
            if pending {
                return Err(refuse("a report on this deposit awaits a ruling".into()));
            }
            dep.bond_state = BondState::Released;
            dep.bond_changed_at = Some(index);
            state.put_deposit(&dep).map_err(ApplyError::Store)
        }
    }
}

fn expect_eq<T: PartialEq + std::fmt::Debug, E>(
    index: u64,
    field: &'static str,
    found: T,
    expected: T,
) -> Result<(), ApplyError<E>> {
    if found == expected {
        return Ok(());
    }
    Err(Refusal::Mismatch {
        index,
        field,
        found: format!("{found:?}"),
        expected: format!("{expected:?}"),
    }
    .into())
}

fn apply_deposit<S: StateStore>(
    state: &mut S,
    index: u64,
    time: EventTime,
    d: &DepositEvent,
) -> Result<(), ApplyError<S::Error>> {
    let pinned = state
        .blueprint(&d.blueprint_id)
        .map_err(ApplyError::Store)?;
    let key = pinned
        .as_ref()
        .map_or(d.vendor_public_key, |b| b.vendor_key);
    let verified =
        statement::verify_deposit(&d.envelope, &[key], ONE, None).map_err(|e| {
            match (&pinned, e) {
                (Some(_), DepositRejection::Envelope(dsse::Rejection::ThresholdNotMet { .. })) => {
                    Refusal::WrongKey {
                        blueprint_id: d.blueprint_id.clone(),
                        pinned: key.id(),
                        why: "no valid signature by it".into(),
                    }
                }
                (_, e) => Refusal::Envelope(e),
            }
        })?;
    expect_eq(index, "vendor_public_key", d.vendor_public_key, key)?;
    expect_eq(index, "vendor_keyid", d.vendor_keyid, key.id())?;
    let dep = &verified.deposit;
    expect_eq(index, "digest", d.digest, dep.digest)?;
    expect_eq(index, "subject", d.subject.as_str(), dep.name.as_str())?;
    let m = &dep.manifest;
    let str_at = |p: &str| m.pointer(p).and_then(Value::as_str);
    expect_eq(
        index,
        "blueprint_id",
        Some(d.blueprint_id.as_str()),
        str_at("/blueprint/id"),
    )?;
    expect_eq(
        index,
        "version",
        Some(d.version),
        m.pointer("/blueprint/version").and_then(Value::as_u64),
    )?;
    let support_end = str_at("/security/support_period/end_date").and_then(Day::parse);
    expect_eq(index, "support_end", d.support_end, support_end)?;
    expect_eq(index, "validation.errors", d.validation.errors, 0)?;
    expect_eq(
        index,
        "validation.as_of",
        d.validation.as_of,
        Day(time.date()),
    )?;
    if let Some(bp) = &pinned
        && d.version <= bp.latest_version
    {
        return Err(Refusal::Rollback {
            blueprint_id: d.blueprint_id.clone(),
            have: bp.latest_version,
            got: d.version,
        }
        .into());
    }
    expect_eq(
        index,
        "supersedes",
        d.supersedes,
        pinned.as_ref().map(|b| b.latest_index),
    )?;
    if let Some(prev) = d.supersedes {
        let mut old = state
            .deposit_at(prev)
            .map_err(ApplyError::Store)?
            .ok_or_else(|| {
                ApplyError::Refused(Refusal::Invalid {
                    index,
                    what: format!("supersedes entry {prev}, which is not a deposit"),
                })
            })?;
        old.superseded_by = Some(index);
        state.put_deposit(&old).map_err(ApplyError::Store)?;
    }
    state
        .put_deposit(&DepositRecord {
            blueprint_id: d.blueprint_id.clone(),
            version: d.version,
            index,
            digest: d.digest,
            time,
            bond: d.bond.clone(),
            support_end: d.support_end,
            supersedes: d.supersedes,
            superseded_by: None,
            bond_state: BondState::Held,
            bond_changed_at: None,
        })
        .map_err(ApplyError::Store)?;
    let rotations = pinned.map(|b| b.rotations).unwrap_or_default();
    state
        .put_blueprint(&BlueprintRecord {
            blueprint_id: d.blueprint_id.clone(),
            vendor_key: key,
            latest_version: d.version,
            latest_index: index,
            rotations,
        })
        .map_err(ApplyError::Store)
}

/// The registered member keys that the signatures of `envelope` name. The
/// names only find keys; which of them signed is for the verifier to say.
fn named_members<S: StateStore>(
    state: &S,
    envelope: &Envelope,
) -> Result<Vec<PublicKey>, S::Error> {
    let mut out: Vec<PublicKey> = Vec::new();
    for s in &envelope.signatures {
        let Some(keyid) = event::parse_keyid(&format!("sha256:{}", s.keyid)) else {
            continue;
        };
        if let Some(member) = state.member(&keyid)?
            && !out.contains(&member.public_key)
        {
            out.push(member.public_key);
        }
    }
    Ok(out)
}

fn member_signature<S: StateStore>(
    state: &S,
    index: u64,
    keyid: &KeyId,
    msg: &[u8],
    sig: &[u8; 64],
) -> Result<String, ApplyError<S::Error>> {
    let member = state
        .member(keyid)
        .map_err(ApplyError::Store)?
        .ok_or_else(|| {
            ApplyError::Refused(Refusal::Invalid {
                index,
                what: format!(
                    "{} is not a registered member key",
                    event::keyid_string(keyid)
                ),
            })
        })?;
    if !dsse::verify_raw(&member.public_key.to_bytes(), msg, sig) {
        return Err(Refusal::Invalid {
            index,
            what: format!(
                "the signature does not verify under member key {}",
                event::keyid_string(keyid)
            ),
        }
        .into());
    }
    Ok(event::keyid_string(keyid))
}

fn open_report<S: StateStore>(
    state: &S,
    index: u64,
    id: &Digest,
) -> Result<ReportRecord, ApplyError<S::Error>> {
    let rep = state
        .report(id)
        .map_err(ApplyError::Store)?
        .ok_or_else(|| {
            ApplyError::Refused(Refusal::Invalid {
                index,
                what: format!("no report {id} was filed"),
            })
        })?;
    if rep.ruling.is_some() {
        return Err(Refusal::Invalid {
            index,
            what: format!("report {id} has already been ruled on"),
        }
        .into());
    }
    Ok(rep)
}

fn payload_of<E>(envelope: &Envelope, index: u64) -> Result<Vec<u8>, ApplyError<E>> {
    envelope.payload_bytes().map_err(|e| {
        ApplyError::Refused(Refusal::Invalid {
            index,
            what: e.to_string(),
        })
    })
}
