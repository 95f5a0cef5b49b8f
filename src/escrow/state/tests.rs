//! Escrow scenarios through the registry's one apply function, over the
//! in-memory state replay uses.

use super::*;
use crate::attest::dsse::{self, Envelope};
use crate::attest::keys::SigningKeyFile;
use crate::attest::statement::{self, ValidationSummary};
use crate::diag::Counts;
use crate::escrow::event::{
    Amount, Bond, CosignEvent, Currency, Day, DepositEvent, DepositValidation, Event, EventKind,
    InitEvent, MemberEvent, MemberRole, RebuttalAcceptEvent, ReleaseEvent, SignatureBytes, Text,
};
use crate::escrow::ledger::{self, ApplyError, Refusal, State};
use crate::escrow::report::tests::diff_json;
use crate::escrow::report::{BlueprintRef, DeviationReport, EvidenceDigest, Rebuttal};
use crate::escrow::rule::DismissReason;
use crate::validated::ValidatedManifest;
use serde_json::json;

const DAY: i64 = 86_400;
/// 2026-12-01T10:00:00Z.
const T0: i64 = 1_796_119_200;

fn key(n: u8) -> SigningKeyFile {
    SigningKeyFile::from_seed(&[n; 32])
}

fn vendor() -> SigningKeyFile {
    key(100)
}

fn at(secs: i64) -> EventTime {
    EventTime::from_unix(T0 + secs).unwrap()
}

fn manifest(version: u64) -> ValidatedManifest {
    let value = json!({
        "format": "blueprint/v1",
        "blueprint": {"id": "acme-cam", "version": version},
        "vendor": {"legal_name": "Acme GmbH", "hq_country": "DE"},
        "device": {"model": "Cam 1"},
        "security": {"support_period": {"end_date": "2030-06-30"}},
    });
    let summary = ValidationSummary {
        profiles: vec![],
        as_of: "2026-12-01".into(),
        tool_version: "0.1.0".into(),
        counts: Counts {
            error: 0,
            warning: 0,
            info: 0,
        },
    };
    ValidatedManifest::new_unchecked_by_validator(value, summary).unwrap()
}

/// Member `by`'s signature over the envelope's PAE (also when it signed already).
fn sig(env: &Envelope, by: u8) -> SignatureBytes {
    let pae = dsse::pae(&env.payload_type, &env.payload_bytes().unwrap());
    SignatureBytes(key(by).sign(&pae).to_bytes())
}

/// A log of quorum 2, window 14 days, members 1..=3, `acme-cam` v3 at entry 4.
struct Log {
    state: State,
    next: u64,
    digest: Digest,
}

impl Log {
    fn new() -> Self {
        let mut log = Log {
            state: State::default(),
            next: 0,
            digest: Digest::of_value(manifest(3).value()).unwrap(),
        };
        let lk = key(200).public();
        log.push(
            at(0),
            EventKind::Init(InitEvent {
                origin: Text::parse("registry.test/log").unwrap(),
                log_public_key: lk,
                log_keyid: lk.id(),
                quorum: 2,
                window_days: 14,
            }),
        )
        .unwrap();
        for n in 1..=3u8 {
            let k = key(n).public();
            log.push(
                at(0),
                EventKind::Member(MemberEvent {
                    name: Text::parse(&format!("Lab {n}")).unwrap(),
                    role: MemberRole::Lab,
                    public_key: k,
                    keyid: k.id(),
                }),
            )
            .unwrap();
        }
        let m = manifest(3);
        let envelope = statement::sign_manifest(&m, &vendor()).unwrap();
        log.push(
            at(0),
            EventKind::Deposit(Box::new(DepositEvent {
                blueprint_id: "acme-cam".into(),
                version: 3,
                digest: log.digest,
                subject: "Acme GmbH/Cam 1".into(),
                vendor_keyid: vendor().id(),
                vendor_public_key: vendor().public(),
                envelope,
                bond: Bond {
                    amount: Amount::parse("50000").unwrap(),
                    currency: Currency::parse("EUR").unwrap(),
                },
                support_end: Day::parse("2030-06-30"),
                supersedes: None,
                validation: DepositValidation {
                    as_of: Day(at(0).date()),
                    errors: 0,
                    warnings: 0,
                    profiles: vec![],
                },
            })),
        )
        .unwrap();
        log
    }

    /// Applies the next entry; on success it takes the next index.
    fn push(&mut self, time: EventTime, kind: EventKind) -> Result<u64, Refusal> {
        let index = self.next;
        match ledger::apply(&mut self.state, index, &Event { time, kind }) {
            Ok(()) => {
                self.next += 1;
                Ok(index)
            }
            Err(ApplyError::Refused(r)) => Err(r),
            Err(ApplyError::Store(never)) => match never {},
        }
    }

    fn report(&self, classes: &[Class], gaps: usize) -> DeviationReport {
        DeviationReport::new(
            BlueprintRef {
                id: "acme-cam".into(),
                version: 3,
                digest: self.digest,
            },
            diff_json(classes, gaps),
            vec![EvidenceDigest::of("capture.pcap", b"pcap")],
        )
        .unwrap()
    }

    fn report_event(r: &DeviationReport, env: &Envelope, id: Digest) -> EventKind {
        EventKind::Report(Box::new(ReportEvent {
            report_id: id,
            blueprint_id: "acme-cam".into(),
            version: 3,
            blueprint_digest: r.blueprint.digest,
            evidence_digests: r.evidence.iter().map(|e| e.digest).collect(),
            classes: r.classes.iter().map(|c| c.code().to_owned()).collect(),
            verdict: verdict_of(r.verdict),
            envelope: env.clone(),
        }))
    }

    /// Files a report signed by member `by` at `time`.
    fn file(
        &mut self,
        time: EventTime,
        classes: &[Class],
        gaps: usize,
        by: u8,
    ) -> (Digest, Envelope) {
        let r = self.report(classes, gaps);
        let (env, id) = r.sign(&key(by)).unwrap();
        self.push(time, Self::report_event(&r, &env, id)).unwrap();
        (id, env)
    }

    fn cosign(
        &mut self,
        time: EventTime,
        id: Digest,
        env: &Envelope,
        by: u8,
    ) -> Result<u64, Refusal> {
        self.push(
            time,
            EventKind::Cosign(CosignEvent {
                report_id: id,
                keyid: key(by).id(),
                signature: sig(env, by),
            }),
        )
    }

    /// Records the ruling the rule computes at `time`.
    fn rule(&mut self, time: EventTime, id: Digest) -> Result<Outcome, EscrowRefusal> {
        let config = self.state.config.clone().unwrap();
        let rep = self.state.reports[&id].clone();
        let (event, outcome) = ruling_event(&config, id, &rep, time)?;
        self.push(time, EventKind::Ruling(event)).unwrap();
        Ok(outcome)
    }

    fn bond(&self) -> (BondState, Option<u64>) {
        let d = &self.state.deposits[&("acme-cam".to_owned(), 3)];
        (d.bond_state, d.bond_changed_at)
    }
}

fn escrow(r: Result<u64, Refusal>) -> EscrowRefusal {
    match r {
        Err(Refusal::Escrow { source, .. }) => source,
        other => panic!("{other:?}"),
    }
}

const WINDOW: i64 = 14 * DAY;

#[test]
fn quorum_after_the_window_forfeits() {
    let mut log = Log::new();
    let (id, env) = log.file(at(0), &[Class::P3, Class::M2], 0, 1);
    log.cosign(at(60), id, &env, 2).unwrap();
    match log.rule(at(WINDOW - 1), id) {
        Err(EscrowRefusal::WindowOpen { until }) => assert_eq!(until, at(WINDOW)),
        other => panic!("{other:?}"),
    }
    assert_eq!(log.bond(), (BondState::Held, None));
    assert!(matches!(
        log.rule(at(WINDOW), id).unwrap(),
        Outcome::Forfeit { .. }
    ));
    assert_eq!(log.bond(), (BondState::Forfeited, Some(7)));
    // Nothing more on a ruled report, and no new report on a forfeited bond.
    assert!(log.cosign(at(WINDOW), id, &env, 3).is_err());
    let r = log.report(&[Class::P1], 0);
    let (env, id) = r.sign(&key(3)).unwrap();
    assert!(matches!(
        escrow(log.push(at(WINDOW), Log::report_event(&r, &env, id))),
        EscrowRefusal::BondNotHeld { .. }
    ));
}

#[test]
fn a_ruling_must_be_what_the_rule_computes() {
    let mut log = Log::new();
    let (id, _) = log.file(at(0), &[Class::M2], 0, 1);
    let forged = RulingEvent {
        report_id: id,
        outcome: EventOutcome::Forfeit,
        reason: Text::parse("forfeit-worthy P3").unwrap(),
        decided_by: Text::parse(rule::RULE_VERSION).unwrap(),
    };
    assert!(matches!(
        escrow(log.push(at(WINDOW), EventKind::Ruling(forged))),
        EscrowRefusal::Ruling { .. }
    ));
    let early = RulingEvent {
        report_id: id,
        outcome: EventOutcome::Dismissed,
        reason: Text::parse("minor-only").unwrap(),
        decided_by: Text::parse(rule::RULE_VERSION).unwrap(),
    };
    assert!(matches!(
        escrow(log.push(at(WINDOW - 1), EventKind::Ruling(early.clone()))),
        EscrowRefusal::WindowOpen { .. }
    ));
    let mut other_rule = early.clone();
    other_rule.decided_by = Text::parse("blueprint-escrow-rule/0").unwrap();
    assert!(log.push(at(WINDOW), EventKind::Ruling(other_rule)).is_err());
    log.push(at(WINDOW), EventKind::Ruling(early)).unwrap();
}

#[test]
fn the_same_member_twice_is_not_a_quorum() {
    let mut log = Log::new();
    let (id, env) = log.file(at(0), &[Class::P5], 0, 1);
    assert!(log.cosign(at(1), id, &env, 1).is_err());
    // A non-member's signature under a member's keyid does not verify.
    let forged = CosignEvent {
        report_id: id,
        keyid: key(2).id(),
        signature: sig(&env, 9),
    };
    assert!(log.push(at(1), EventKind::Cosign(forged)).is_err());
    // An envelope signed twice by one key counts that key once.
    let r = log.report(&[Class::P6], 0);
    let (mut twice, id2) = r.sign(&key(2)).unwrap();
    twice.signatures.push(twice.signatures[0].clone());
    log.push(at(2), Log::report_event(&r, &twice, id2)).unwrap();
    assert_eq!(log.state.reports[&id2].signers.len(), 1);
    let below = Outcome::Dismissed {
        reason: DismissReason::BelowQuorum {
            signers: 1,
            quorum: 2,
        },
    };
    assert_eq!(log.rule(at(WINDOW), id).unwrap(), below);
    assert_eq!(log.rule(at(WINDOW + 2), id2).unwrap(), below);
    assert_eq!(log.bond().0, BondState::Held);
}

#[test]
fn an_accepted_rebuttal_stops_forfeiture() {
    let mut log = Log::new();
    let (id, env) = log.file(at(0), &[Class::P3], 0, 1);
    log.cosign(at(1), id, &env, 2).unwrap();
    let rebuttal = Rebuttal {
        report_id: id,
        blueprint: BlueprintRef {
            id: "acme-cam".into(),
            version: 3,
            digest: log.digest,
        },
        statement: "The host is our own CDN, declared under another name.".into(),
        evidence: vec![],
    };
    let push_rebuttal = |log: &mut Log, time, env: Envelope| {
        log.push(
            time,
            EventKind::Rebuttal(RebuttalEvent {
                report_id: id,
                envelope: env,
            }),
        )
    };
    // Signed by a member rather than the vendor: refused.
    assert!(matches!(
        escrow(push_rebuttal(
            &mut log,
            at(2),
            rebuttal.sign(&key(1)).unwrap()
        )),
        EscrowRefusal::Rebuttal(_)
    ));
    // Naming another digest of the deposit: refused.
    let mut elsewhere = rebuttal.clone();
    elsewhere.blueprint.digest = Digest::of_bytes(b"another manifest");
    assert!(matches!(
        escrow(push_rebuttal(
            &mut log,
            at(2),
            elsewhere.sign(&vendor()).unwrap()
        )),
        EscrowRefusal::Mismatch {
            field: "blueprint",
            ..
        }
    ));
    let renv = rebuttal.sign(&vendor()).unwrap();
    assert!(matches!(
        escrow(push_rebuttal(&mut log, at(WINDOW), renv.clone())),
        EscrowRefusal::WindowClosed { .. }
    ));
    push_rebuttal(&mut log, at(2), renv.clone()).unwrap();
    // Member 3 accepting twice is refused the second time.
    for (by, ok) in [(2u8, true), (3, true), (3, false)] {
        let accepted = log.push(
            at(3),
            EventKind::RebuttalAccept(RebuttalAcceptEvent {
                report_id: id,
                keyid: key(by).id(),
                signature: sig(&renv, by),
            }),
        );
        assert_eq!(accepted.is_ok(), ok, "{accepted:?}");
    }
    assert_eq!(log.state.reports[&id].rebuttal_accepted_by.len(), 2);
    assert_eq!(
        log.rule(at(WINDOW), id).unwrap(),
        Outcome::Dismissed {
            reason: DismissReason::Rebutted
        }
    );
    assert_eq!(log.bond().0, BondState::Held);
}

#[test]
fn minor_and_insufficient_reports_are_dismissed() {
    let mut log = Log::new();
    let (minor, env) = log.file(at(0), &[Class::M2, Class::M6], 0, 1);
    log.cosign(at(1), minor, &env, 2).unwrap();
    let (thin, env) = log.file(at(1), &[Class::M4], 1, 2);
    log.cosign(at(1), thin, &env, 3).unwrap();
    assert_eq!(
        log.rule(at(WINDOW + 1), minor).unwrap(),
        Outcome::Dismissed {
            reason: DismissReason::MinorOnly
        }
    );
    assert_eq!(
        log.rule(at(WINDOW + 1), thin).unwrap(),
        Outcome::Dismissed {
            reason: DismissReason::InsufficientEvidence
        }
    );
    assert_eq!(log.bond().0, BondState::Held);
}

#[test]
fn report_event_fields_must_be_what_was_signed() {
    let mut log = Log::new();
    let r = log.report(&[Class::M2], 0);
    let (env, id) = r.sign(&key(1)).unwrap();
    let EventKind::Report(mut lie) = Log::report_event(&r, &env, id) else {
        unreachable!()
    };
    lie.classes = vec!["P5".into()];
    assert!(matches!(
        escrow(log.push(at(0), EventKind::Report(lie.clone()))),
        EscrowRefusal::Mismatch {
            field: "classes",
            ..
        }
    ));
    lie.classes = vec!["M2".into()];
    lie.verdict = Verdict::Insufficient;
    assert!(matches!(
        escrow(log.push(at(0), EventKind::Report(lie))),
        EscrowRefusal::Mismatch {
            field: "verdict",
            ..
        }
    ));
    // Signed by a non-member: refused.
    let (env9, id9) = r.sign(&key(9)).unwrap();
    assert!(matches!(
        escrow(log.push(at(0), Log::report_event(&r, &env9, id9))),
        EscrowRefusal::Report(_)
    ));
    // A blueprint deposit envelope filed as a report: refused.
    let deposit_env = statement::sign_manifest(&manifest(3), &key(1)).unwrap();
    let digest = Digest::of_bytes(&deposit_env.payload_bytes().unwrap());
    assert!(matches!(
        escrow(log.push(at(0), Log::report_event(&r, &deposit_env, digest))),
        EscrowRefusal::Report(_)
    ));
}

#[test]
fn release_only_after_support_end_with_nothing_pending() {
    let mut log = Log::new();
    let (id, _) = log.file(at(0), &[Class::P3], 0, 1);
    let release = |log: &mut Log, time| {
        log.push(
            time,
            EventKind::Release(ReleaseEvent {
                blueprint_id: "acme-cam".into(),
                version: 3,
            }),
        )
    };
    let after_end = EventTime::parse("2030-07-01T00:00:00Z").unwrap();
    let last_day = EventTime::parse("2030-06-30T23:59:59Z").unwrap();
    assert!(release(&mut log, after_end).is_err(), "a report is pending");
    log.rule(at(WINDOW), id).unwrap();
    assert!(
        release(&mut log, last_day).is_err(),
        "supported through the end date"
    );
    let index = release(&mut log, after_end).unwrap();
    assert_eq!(log.bond(), (BondState::Released, Some(index)));
    assert!(release(&mut log, after_end).is_err());
}
