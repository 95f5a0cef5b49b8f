//! The registry state: what the log's events add up to — members, deposits
//! with their bonds, pinned vendor keys, reports with their signers,
//! rebuttals with their acceptances, rulings.
//!
//! Every event passes through one validation here, whether the live
//! registry is about to append it or `registry replay` is folding the log
//! from entry 0: an event the state refuses is never appended, and a log
//! whose replay is refused somewhere was not written by this registry. The
//! handlers are pure: no clock, no files, no randomness (`docs/escrow.md`).

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;

use time::{Date, OffsetDateTime};

use crate::attest::canon::Digest;
use crate::attest::dsse::Envelope;
use crate::attest::keys::{KeyId, PublicKey};
use crate::attest::statement::{DepositRejection, verify_deposit};
use crate::device::diff::Class;
use crate::escrow::report::{self, ReportError, ReportVerdict};
use crate::escrow::rule::{self, Outcome, Params, ReportFacts};

/// Why an event is refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// Entry 0 must be `init`, and only entry 0.
    #[error("entry {index}: `init` must be entry 0 and only entry 0")]
    Init {
        /// The entry.
        index: u64,
    },
    /// Events are recorded in time order.
    #[error("event time {time} is before the previous entry's time {previous}")]
    TimeWentBack {
        /// The event's time.
        time: OffsetDateTime,
        /// The latest time recorded.
        previous: OffsetDateTime,
    },
    /// A keyid that is not the id of the key it comes with.
    #[error("keyid {claimed} is not the id of the given public key ({actual})")]
    KeyIdMismatch {
        /// As claimed.
        claimed: KeyId,
        /// Of the key.
        actual: KeyId,
    },
    /// The key is already a registered member.
    #[error("key {0} is already a registered member")]
    MemberExists(KeyId),
    /// A signer that is not a registered member.
    #[error("key {0} is not a registered member")]
    NotAMember(KeyId),
    /// The deposit envelope did not verify.
    #[error("deposit refused: {0}")]
    Deposit(#[from] DepositRejection),
    /// A field of the event disagrees with the signed statement it carries.
    #[error("event field `{field}` is {event}, but the signed statement says {signed}")]
    Mismatch {
        /// The event field.
        field: &'static str,
        /// What the event says.
        event: String,
        /// What the signed statement says.
        signed: String,
    },
    /// The blueprint id is pinned to another vendor key.
    #[error("blueprint {blueprint_id} is pinned to vendor key {pinned}, not {found}")]
    VendorKey {
        /// The blueprint id.
        blueprint_id: String,
        /// The pinned key.
        pinned: KeyId,
        /// The key given.
        found: KeyId,
    },
    /// Versions of a blueprint only increase.
    #[error(
        "blueprint {blueprint_id} version {version} is not above the deposited version {latest}"
    )]
    VersionNotNewer {
        /// The blueprint id.
        blueprint_id: String,
        /// The version given.
        version: u64,
        /// The latest deposited.
        latest: u64,
    },
    /// No such deposit.
    #[error("no deposit of {0}")]
    UnknownDeposit(String),
    /// No such report.
    #[error("no report {0}")]
    UnknownReport(Digest),
    /// The report was filed already.
    #[error("report {0} was filed already")]
    DuplicateReport(Digest),
    /// The report statement is invalid or not signed by a member.
    #[error("report refused: {0}")]
    Report(#[source] ReportError),
    /// The rebuttal statement is invalid or not signed by the vendor key.
    #[error("rebuttal refused: {0}")]
    Rebuttal(#[source] ReportError),
    /// The report has been ruled on; nothing more can be added to it.
    #[error("report {0} has been ruled on already")]
    AlreadyRuled(Digest),
    /// This key signed already.
    #[error("key {0} has signed this already")]
    AlreadySigned(KeyId),
    /// The signature does not verify under the member's key.
    #[error("the signature does not verify under member key {0}")]
    BadSignature(KeyId),
    /// The rebuttal window has closed.
    #[error("the rebuttal window closed at {until}")]
    WindowClosed {
        /// When it closed.
        until: OffsetDateTime,
    },
    /// The rebuttal window is still open: no ruling yet.
    #[error("the rebuttal window is open until {until}; no ruling before then")]
    WindowOpen {
        /// When it closes.
        until: OffsetDateTime,
    },
    /// The report has a rebuttal already (one per report).
    #[error("report {0} has a rebuttal already")]
    RebuttalExists(Digest),
    /// The report has no rebuttal to accept.
    #[error("report {0} has no rebuttal")]
    NoRebuttal(Digest),
    /// A ruling that is not what the rule computes.
    #[error("ruling says {event}, the rule ({version}) computes {computed}")]
    Ruling {
        /// What the event says.
        event: String,
        /// What the rule computes.
        computed: String,
        /// The rule version.
        version: &'static str,
    },
    /// The bond is no longer held.
    #[error("the bond of {deposit} is {state}, not held")]
    BondNotHeld {
        /// The deposit.
        deposit: String,
        /// Its state.
        state: BondState,
    },
    /// Release before the support period ended.
    #[error("{deposit} is supported until {support_end}; its bond is released only after that")]
    SupportNotEnded {
        /// The deposit.
        deposit: String,
        /// Its support end.
        support_end: Date,
    },
    /// No support end: nothing releases the bond automatically.
    #[error("{0} states no support end date; its bond is never released automatically")]
    NoSupportEnd(String),
    /// A report on the deposit awaits its ruling.
    #[error("report {report_id} on {deposit} awaits a ruling")]
    PendingReport {
        /// The deposit.
        deposit: String,
        /// The pending report.
        report_id: Digest,
    },
    /// The key-rotation statement does not verify under the pinned key.
    #[error("key rotation refused: {0}")]
    Rotation(String),
}

/// Where a bond stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BondState {
    /// Held in escrow.
    Held,
    /// Forfeited by a ruling.
    Forfeited,
    /// Released after the support period.
    Released,
}

impl BondState {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            BondState::Held => "held",
            BondState::Forfeited => "forfeited",
            BondState::Released => "released",
        }
    }
}

impl std::fmt::Display for BondState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deposit's bond.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bond {
    /// Decimal amount, as deposited.
    pub amount: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Where it stands.
    pub state: BondState,
    /// Entries that decided the state (report and ruling, or release).
    pub decided_by: Vec<u64>,
}

/// A registered member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Display name.
    pub name: String,
    /// `lab`, `regulator`, ...
    pub role: String,
    /// The key.
    pub public_key: PublicKey,
    /// Entry that registered it.
    pub index: u64,
}

/// One deposited version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deposit {
    /// Entry index.
    pub index: u64,
    /// When deposited.
    pub time: OffsetDateTime,
    /// Digest of the canonical manifest.
    pub digest: Digest,
    /// `vendor/model`.
    pub subject: String,
    /// End of the support period, if stated.
    pub support_end: Option<Date>,
    /// The bond.
    pub bond: Bond,
}

/// Everything deposited under one blueprint id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blueprint {
    /// The vendor key pinned by the first deposit (or a rotation).
    pub vendor_key: PublicKey,
    /// Versions, ascending.
    pub versions: BTreeMap<u64, Deposit>,
}

/// A ruling recorded on a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruling {
    /// Entry index.
    pub index: u64,
    /// `forfeit` or `dismissed`.
    pub outcome: String,
    /// Why.
    pub reason: String,
    /// The rule version that decided.
    pub rule_version: String,
}

/// A rebuttal and the members who accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebuttal {
    /// Entry index.
    pub index: u64,
    /// The vendor-signed envelope.
    pub envelope: Envelope,
    /// Member keys whose acceptance verified, in log order.
    pub acceptances: Vec<KeyId>,
}

/// A filed report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Entry index.
    pub index: u64,
    /// When filed (the rebuttal window runs from here).
    pub time: OffsetDateTime,
    /// The blueprint id.
    pub blueprint_id: String,
    /// The version reported on.
    pub version: u64,
    /// Derived classes.
    pub classes: Vec<Class>,
    /// Derived verdict.
    pub verdict: ReportVerdict,
    /// The member-signed envelope, as filed.
    pub envelope: Envelope,
    /// Member keys whose signatures verified (filing, then co-signatures).
    pub signers: Vec<KeyId>,
    /// The vendor's rebuttal, if any.
    pub rebuttal: Option<Rebuttal>,
    /// The ruling, once made.
    pub ruling: Option<Ruling>,
}

/// The whole registry state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryState {
    /// Rule parameters from `init`.
    pub params: Params,
    /// Entries applied so far.
    pub size: u64,
    /// Time of the latest entry.
    pub last_time: OffsetDateTime,
    /// Members by keyid.
    pub members: BTreeMap<KeyId, Member>,
    /// Deposits by blueprint id.
    pub blueprints: BTreeMap<String, Blueprint>,
    /// Reports by id.
    pub reports: BTreeMap<Digest, Report>,
}

/// What a deposit event carries, as the state checks it.
#[derive(Debug, Clone)]
pub struct DepositInput<'a> {
    /// `blueprint.id`.
    pub blueprint_id: &'a str,
    /// `blueprint.version`.
    pub version: u64,
    /// Manifest digest.
    pub digest: Digest,
    /// `vendor/model`.
    pub subject: &'a str,
    /// Claimed keyid of the vendor key.
    pub vendor_keyid: KeyId,
    /// The vendor key.
    pub vendor_public_key: PublicKey,
    /// The envelope.
    pub envelope: &'a Envelope,
    /// Bond amount.
    pub amount: &'a str,
    /// Bond currency.
    pub currency: &'a str,
    /// Support end as recorded.
    pub support_end: Option<Date>,
    /// Index of the previous version's deposit.
    pub supersedes: Option<u64>,
}

/// What a report event carries, as the state checks it.
#[derive(Debug, Clone)]
pub struct ReportInput<'a> {
    /// Claimed report id.
    pub report_id: Digest,
    /// Blueprint id.
    pub blueprint_id: &'a str,
    /// Version.
    pub version: u64,
    /// Blueprint digest.
    pub blueprint_digest: Digest,
    /// Evidence digests.
    pub evidence_digests: &'a [Digest],
    /// Classes as recorded in the event.
    pub classes: &'a [String],
    /// Verdict as recorded in the event.
    pub verdict: ReportVerdict,
    /// The member-signed envelope.
    pub envelope: &'a Envelope,
}

/// What a key-rotation event carries, as the state checks it.
#[derive(Debug, Clone, Copy)]
pub struct RotateInput<'a> {
    /// The blueprint id.
    pub blueprint_id: &'a str,
    /// The key pinned until now.
    pub old_keyid: KeyId,
    /// The new key.
    pub new_key: PublicKey,
    /// Its claimed keyid.
    pub new_keyid: KeyId,
    /// The rotation statement, signed by the old key.
    pub envelope: &'a Envelope,
}

fn mismatch(field: &'static str, event: impl ToString, signed: impl ToString) -> Refusal {
    Refusal::Mismatch {
        field,
        event: event.to_string(),
        signed: signed.to_string(),
    }
}

/// `blueprint-id vN`.
fn deposit_name(id: &str, version: u64) -> String {
    format!("{id} v{version}")
}

impl RegistryState {
    /// The state after `init` (entry 0).
    pub fn init(index: u64, time: OffsetDateTime, params: Params) -> Result<Self, Refusal> {
        if index != 0 {
            return Err(Refusal::Init { index });
        }
        Ok(RegistryState {
            params,
            size: 1,
            last_time: time,
            members: BTreeMap::new(),
            blueprints: BTreeMap::new(),
            reports: BTreeMap::new(),
        })
    }

    /// Every handler starts here: entries come in order and in time order.
    fn next(&self, index: u64, time: OffsetDateTime) -> Result<(), Refusal> {
        if index == 0 {
            return Err(Refusal::Init { index });
        }
        if time < self.last_time {
            return Err(Refusal::TimeWentBack {
                time,
                previous: self.last_time,
            });
        }
        Ok(())
    }

    fn done(&mut self, index: u64, time: OffsetDateTime) {
        self.size = self.size.max(index + 1);
        self.last_time = time;
    }

    /// The registered member keys.
    pub fn member_keys(&self) -> Vec<PublicKey> {
        self.members.values().map(|m| m.public_key).collect()
    }

    /// `member`: registers a key (the operator's act, authorised by the log key).
    pub fn add_member(
        &mut self,
        index: u64,
        time: OffsetDateTime,
        name: &str,
        role: &str,
        public_key: PublicKey,
        keyid: KeyId,
    ) -> Result<(), Refusal> {
        self.next(index, time)?;
        if keyid != public_key.id() {
            return Err(Refusal::KeyIdMismatch {
                claimed: keyid,
                actual: public_key.id(),
            });
        }
        if self.members.contains_key(&keyid) {
            return Err(Refusal::MemberExists(keyid));
        }
        self.members.insert(
            keyid,
            Member {
                name: name.to_owned(),
                role: role.to_owned(),
                public_key,
                index,
            },
        );
        self.done(index, time);
        Ok(())
    }

    /// `deposit`: a vendor-signed blueprint version with its bond. The
    /// envelope must verify under the vendor key (pinned by the first
    /// deposit of the id) and every event field must be what it signed.
    pub fn deposit(
        &mut self,
        index: u64,
        time: OffsetDateTime,
        d: &DepositInput<'_>,
    ) -> Result<(), Refusal> {
        self.next(index, time)?;
        if d.vendor_keyid != d.vendor_public_key.id() {
            return Err(Refusal::KeyIdMismatch {
                claimed: d.vendor_keyid,
                actual: d.vendor_public_key.id(),
            });
        }
        let existing = self.blueprints.get(d.blueprint_id);
        if let Some(b) = existing
            && b.vendor_key != d.vendor_public_key
        {
            return Err(Refusal::VendorKey {
                blueprint_id: d.blueprint_id.to_owned(),
                pinned: b.vendor_key.id(),
                found: d.vendor_keyid,
            });
        }
        let verified = verify_deposit(
            d.envelope,
            std::slice::from_ref(&d.vendor_public_key),
            NonZeroUsize::MIN,
            Some(d.digest),
        )?;
        let m = &verified.deposit.manifest;
        let signed_id = m.pointer("/blueprint/id").and_then(|v| v.as_str());
        if signed_id != Some(d.blueprint_id) {
            return Err(mismatch(
                "blueprint_id",
                d.blueprint_id,
                format!("{signed_id:?}"),
            ));
        }
        let signed_version = m.pointer("/blueprint/version").and_then(|v| v.as_u64());
        if signed_version != Some(d.version) {
            return Err(mismatch(
                "version",
                d.version,
                format!("{signed_version:?}"),
            ));
        }
        if verified.deposit.name != d.subject {
            return Err(mismatch("subject", d.subject, &verified.deposit.name));
        }
        let signed_end = m
            .pointer("/security/support_period/end_date")
            .and_then(|v| v.as_str());
        let recorded_end = d.support_end.map(|e| e.to_string());
        if signed_end != recorded_end.as_deref() {
            return Err(mismatch(
                "support_end",
                format!("{recorded_end:?}"),
                format!("{signed_end:?}"),
            ));
        }
        let latest = existing.and_then(|b| b.versions.last_key_value());
        if let Some((&v, _)) = latest
            && d.version <= v
        {
            return Err(Refusal::VersionNotNewer {
                blueprint_id: d.blueprint_id.to_owned(),
                version: d.version,
                latest: v,
            });
        }
        let previous = latest.map(|(_, dep)| dep.index);
        if d.supersedes != previous {
            return Err(mismatch(
                "supersedes",
                format!("{:?}", d.supersedes),
                format!("{previous:?} (the previous version's entry)"),
            ));
        }
        let deposit = Deposit {
            index,
            time,
            digest: d.digest,
            subject: d.subject.to_owned(),
            support_end: d.support_end,
            bond: Bond {
                amount: d.amount.to_owned(),
                currency: d.currency.to_owned(),
                state: BondState::Held,
                decided_by: Vec::new(),
            },
        };
        self.blueprints
            .entry(d.blueprint_id.to_owned())
            .or_insert_with(|| Blueprint {
                vendor_key: d.vendor_public_key,
                versions: BTreeMap::new(),
            })
            .versions
            .insert(d.version, deposit);
        self.done(index, time);
        Ok(())
    }

    /// `rotate`: the pinned vendor key of a blueprint id changes. The
    /// caller has checked the rotation statement's own format; here the
    /// envelope must verify under the currently pinned key.
    pub fn rotate(
        &mut self,
        index: u64,
        time: OffsetDateTime,
        rotation: &RotateInput<'_>,
    ) -> Result<(), Refusal> {
        let RotateInput {
            blueprint_id,
            old_keyid,
            new_key,
            new_keyid,
            envelope,
        } = *rotation;
        self.next(index, time)?;
        if new_keyid != new_key.id() {
            return Err(Refusal::KeyIdMismatch {
                claimed: new_keyid,
                actual: new_key.id(),
            });
        }
        let b = self
            .blueprints
            .get(blueprint_id)
            .ok_or_else(|| Refusal::UnknownDeposit(blueprint_id.to_owned()))?;
        if b.vendor_key.id() != old_keyid {
            return Err(Refusal::VendorKey {
                blueprint_id: blueprint_id.to_owned(),
                pinned: b.vendor_key.id(),
                found: old_keyid,
            });
        }
        crate::attest::dsse::verify(
            envelope,
            &envelope.payload_type,
            std::slice::from_ref(&b.vendor_key),
            NonZeroUsize::MIN,
        )
        .map_err(|e| Refusal::Rotation(e.to_string()))?;
        if let Some(b) = self.blueprints.get_mut(blueprint_id) {
            b.vendor_key = new_key;
        }
        self.done(index, time);
        Ok(())
    }

    fn deposit_mut(&mut self, id: &str, version: u64) -> Result<&mut Deposit, Refusal> {
        self.blueprints
            .get_mut(id)
            .and_then(|b| b.versions.get_mut(&version))
            .ok_or_else(|| Refusal::UnknownDeposit(deposit_name(id, version)))
    }

    /// The deposit of `id` version `version`.
    pub fn deposit_of(&self, id: &str, version: u64) -> Option<&Deposit> {
        self.blueprints.get(id)?.versions.get(&version)
    }

    /// The deposit whose manifest digest is `digest`: (id, version, deposit).
    pub fn deposit_by_digest(&self, digest: &Digest) -> Option<(&str, u64, &Deposit)> {
        self.blueprints.iter().find_map(|(id, b)| {
            b.versions
                .iter()
                .find(|(_, d)| d.digest == *digest)
                .map(|(v, d)| (id.as_str(), *v, d))
        })
    }

    /// `report`: a member files a signed deviation report on a deposit
    /// whose bond is held. Classes and verdict in the event must be those
    /// the signed deviations show.
    pub fn report(
        &mut self,
        index: u64,
        time: OffsetDateTime,
        r: &ReportInput<'_>,
    ) -> Result<(), Refusal> {
        self.next(index, time)?;
        let verified =
            report::verify_report(r.envelope, &self.member_keys()).map_err(Refusal::Report)?;
        let signed = &verified.report;
        if verified.id != r.report_id {
            return Err(mismatch("report_id", r.report_id, verified.id));
        }
        if self.reports.contains_key(&r.report_id) {
            return Err(Refusal::DuplicateReport(r.report_id));
        }
        if signed.blueprint.id != r.blueprint_id {
            return Err(mismatch(
                "blueprint_id",
                r.blueprint_id,
                &signed.blueprint.id,
            ));
        }
        if signed.blueprint.version != r.version {
            return Err(mismatch("version", r.version, signed.blueprint.version));
        }
        if signed.blueprint.digest != r.blueprint_digest {
            return Err(mismatch(
                "blueprint_digest",
                r.blueprint_digest,
                signed.blueprint.digest,
            ));
        }
        let evidence: Vec<Digest> = signed.evidence.iter().map(|e| e.digest).collect();
        if evidence != r.evidence_digests {
            return Err(mismatch(
                "evidence_digests",
                format!("{:?}", r.evidence_digests),
                format!("{evidence:?}"),
            ));
        }
        let classes: Vec<&str> = signed.classes.iter().map(|c| c.code()).collect();
        if classes != r.classes {
            return Err(mismatch("classes", r.classes.join(","), classes.join(",")));
        }
        if signed.verdict != r.verdict {
            return Err(mismatch(
                "verdict",
                r.verdict.as_str(),
                signed.verdict.as_str(),
            ));
        }
        let name = deposit_name(r.blueprint_id, r.version);
        let deposit = self.deposit_mut(r.blueprint_id, r.version)?;
        if deposit.digest != r.blueprint_digest {
            return Err(mismatch(
                "blueprint_digest",
                r.blueprint_digest,
                format!("{} (the deposit's digest)", deposit.digest),
            ));
        }
        if deposit.bond.state != BondState::Held {
            return Err(Refusal::BondNotHeld {
                deposit: name,
                state: deposit.bond.state,
            });
        }
        self.reports.insert(
            r.report_id,
            Report {
                index,
                time,
                blueprint_id: r.blueprint_id.to_owned(),
                version: r.version,
                classes: signed.classes.clone(),
                verdict: signed.verdict,
                envelope: r.envelope.clone(),
                signers: verified.signers,
                rebuttal: None,
                ruling: None,
            },
        );
        self.done(index, time);
        Ok(())
    }

    /// A report that has not been ruled on.
    fn open_report(&mut self, id: &Digest) -> Result<&mut Report, Refusal> {
        let r = self
            .reports
            .get_mut(id)
            .ok_or(Refusal::UnknownReport(*id))?;
        if r.ruling.is_some() {
            return Err(Refusal::AlreadyRuled(*id));
        }
        Ok(r)
    }

    /// The member's key, checked to sign `envelope` with `signature`.
    fn member_signature(
        &self,
        keyid: KeyId,
        envelope: &Envelope,
        signature: &str,
    ) -> Result<KeyId, Refusal> {
        let member = self.members.get(&keyid).ok_or(Refusal::NotAMember(keyid))?;
        // Counted by the key that verifies; the keyid only selects it, and
        // member keyids were checked against their keys at registration.
        if !report::verify_detached(envelope, signature, &member.public_key) {
            return Err(Refusal::BadSignature(keyid));
        }
        Ok(member.public_key.id())
    }

    /// `cosign`: a member adds its signature over the report envelope's PAE.
    pub fn cosign(
        &mut self,
        index: u64,
        time: OffsetDateTime,
        report_id: Digest,
        keyid: KeyId,
        signature: &str,
    ) -> Result<(), Refusal> {
        self.next(index, time)?;
        let envelope = self.open_report(&report_id)?.envelope.clone();
        let key = self.member_signature(keyid, &envelope, signature)?;
        let r = self.open_report(&report_id)?;
        if r.signers.contains(&key) {
            return Err(Refusal::AlreadySigned(key));
        }
        r.signers.push(key);
        self.done(index, time);
        Ok(())
    }

    /// `rebuttal`: the vendor answers within the window, with a statement
    /// signed by the blueprint's pinned key.
    pub fn rebuttal(
        &mut self,
        index: u64,
        time: OffsetDateTime,
        report_id: Digest,
        envelope: &Envelope,
    ) -> Result<(), Refusal> {
        self.next(index, time)?;
        let window_days = self.params.window_days;
        let r = self
            .reports
            .get(&report_id)
            .ok_or(Refusal::UnknownReport(report_id))?;
        let vendor = self
            .blueprints
            .get(&r.blueprint_id)
            .map(|b| b.vendor_key)
            .ok_or_else(|| Refusal::UnknownDeposit(r.blueprint_id.clone()))?;
        let rebuttal = report::verify_rebuttal(envelope, &vendor).map_err(Refusal::Rebuttal)?;
        if rebuttal.report_id != report_id {
            return Err(mismatch("report_id", report_id, rebuttal.report_id));
        }
        if rebuttal.blueprint.id != r.blueprint_id || rebuttal.blueprint.version != r.version {
            return Err(mismatch(
                "blueprint",
                deposit_name(&r.blueprint_id, r.version),
                deposit_name(&rebuttal.blueprint.id, rebuttal.blueprint.version),
            ));
        }
        let until = rule::window_end(r.time, window_days);
        let r = self.open_report(&report_id)?;
        if time >= until {
            return Err(Refusal::WindowClosed { until });
        }
        if r.rebuttal.is_some() {
            return Err(Refusal::RebuttalExists(report_id));
        }
        r.rebuttal = Some(Rebuttal {
            index,
            envelope: envelope.clone(),
            acceptances: Vec::new(),
        });
        self.done(index, time);
        Ok(())
    }

    /// `rebuttal_accept`: a member signs the rebuttal envelope's PAE.
    pub fn accept_rebuttal(
        &mut self,
        index: u64,
        time: OffsetDateTime,
        report_id: Digest,
        keyid: KeyId,
        signature: &str,
    ) -> Result<(), Refusal> {
        self.next(index, time)?;
        let envelope = self
            .open_report(&report_id)?
            .rebuttal
            .as_ref()
            .map(|b| b.envelope.clone())
            .ok_or(Refusal::NoRebuttal(report_id))?;
        let key = self.member_signature(keyid, &envelope, signature)?;
        let r = self.open_report(&report_id)?;
        let Some(rebuttal) = r.rebuttal.as_mut() else {
            return Err(Refusal::NoRebuttal(report_id));
        };
        if rebuttal.acceptances.contains(&key) {
            return Err(Refusal::AlreadySigned(key));
        }
        rebuttal.acceptances.push(key);
        self.done(index, time);
        Ok(())
    }

    /// What the rule decides for a report at `now` (no state change).
    pub fn decide(&self, report_id: &Digest, now: OffsetDateTime) -> Result<Outcome, Refusal> {
        let r = self
            .reports
            .get(report_id)
            .ok_or(Refusal::UnknownReport(*report_id))?;
        let acceptances: Vec<Vec<KeyId>> =
            r.rebuttal.iter().map(|b| b.acceptances.clone()).collect();
        let facts = ReportFacts {
            filed: r.time,
            classes: &r.classes,
            verdict: r.verdict,
            signers: &r.signers,
            rebuttal_acceptances: &acceptances,
        };
        let members: BTreeSet<KeyId> = self.members.keys().copied().collect();
        Ok(rule::decide(self.params, &facts, &members, now))
    }

    /// `ruling`: records the outcome, which must be exactly what the rule
    /// computes from the state and the ruling's time.
    pub fn ruling(
        &mut self,
        index: u64,
        time: OffsetDateTime,
        report_id: Digest,
        outcome: &str,
        reason: &str,
        decided_by: &str,
    ) -> Result<(), Refusal> {
        self.next(index, time)?;
        self.open_report(&report_id)?;
        let computed = self.decide(&report_id, time)?;
        let code = match &computed {
            Outcome::NotYet { until } => return Err(Refusal::WindowOpen { until: *until }),
            Outcome::Forfeit { .. } => "forfeit",
            Outcome::Dismissed { .. } => "dismissed",
        };
        let expected_reason = computed.reason();
        if (outcome, reason, decided_by) != (code, expected_reason.as_str(), rule::RULE_VERSION) {
            return Err(Refusal::Ruling {
                event: format!("{outcome} ({reason}) by {decided_by}"),
                computed: format!("{code} ({expected_reason})"),
                version: rule::RULE_VERSION,
            });
        }
        let r = self.open_report(&report_id)?;
        r.ruling = Some(Ruling {
            index,
            outcome: code.to_owned(),
            reason: expected_reason,
            rule_version: rule::RULE_VERSION.to_owned(),
        });
        let (id, version, report_index) = (r.blueprint_id.clone(), r.version, r.index);
        if matches!(computed, Outcome::Forfeit { .. }) {
            let bond = &mut self.deposit_mut(&id, version)?.bond;
            if bond.state == BondState::Held {
                bond.state = BondState::Forfeited;
                bond.decided_by = vec![report_index, index];
            }
        }
        self.done(index, time);
        Ok(())
    }

    /// `release`: after the support period, with no report pending, the bond is released.
    pub fn release(
        &mut self,
        index: u64,
        time: OffsetDateTime,
        blueprint_id: &str,
        version: u64,
    ) -> Result<(), Refusal> {
        self.next(index, time)?;
        let name = deposit_name(blueprint_id, version);
        if let Some((id, _)) = self.reports.iter().find(|(_, r)| {
            r.blueprint_id == blueprint_id && r.version == version && r.ruling.is_none()
        }) {
            return Err(Refusal::PendingReport {
                deposit: name,
                report_id: *id,
            });
        }
        let deposit = self.deposit_mut(blueprint_id, version)?;
        if deposit.bond.state != BondState::Held {
            return Err(Refusal::BondNotHeld {
                deposit: name,
                state: deposit.bond.state,
            });
        }
        let Some(end) = deposit.support_end else {
            return Err(Refusal::NoSupportEnd(name));
        };
        // Supported through the end date itself.
        if time.date() <= end {
            return Err(Refusal::SupportNotEnded {
                deposit: name,
                support_end: end,
            });
        }
        deposit.bond.state = BondState::Released;
        deposit.bond.decided_by = vec![index];
        self.done(index, time);
        Ok(())
    }
}

#[cfg(test)]
mod tests;
