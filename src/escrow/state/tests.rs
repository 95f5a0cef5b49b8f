use super::*;
use crate::attest::dsse::Envelope;
use crate::attest::keys::SigningKeyFile;
use crate::attest::statement::{self, ValidationSummary};
use crate::diag::Counts;
use crate::escrow::report::tests::diff_json;
use crate::escrow::report::{BlueprintRef, DeviationReport, EvidenceDigest};
use crate::validated::ValidatedManifest;
use serde_json::json;
use time::Duration;
use time::macros::{date, datetime};

const T0: OffsetDateTime = datetime!(2026-12-01 10:00 UTC);
const PARAMS: Params = Params {
    quorum: 2,
    window_days: 14,
};

fn key(n: u8) -> SigningKeyFile {
    SigningKeyFile::from_seed(&[n; 32])
}

fn vendor() -> SigningKeyFile {
    key(100)
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

/// A registry with members 1, 2, 3 and `acme-cam` v3 deposited at entry 4.
struct Fixture {
    state: RegistryState,
    envelope: Envelope,
    digest: Digest,
}

fn at(hours: i64) -> OffsetDateTime {
    T0 + Duration::hours(hours)
}

fn fixture() -> Fixture {
    let mut state = RegistryState::init(0, T0, PARAMS).unwrap();
    for n in 1..=3u8 {
        let k = key(n).public();
        state
            .add_member(n as u64, T0, &format!("Lab {n}"), "lab", k, k.id())
            .unwrap();
    }
    let m = manifest(3);
    let envelope = statement::sign_manifest(&m, &vendor()).unwrap();
    let digest = Digest::of_value(m.value()).unwrap();
    let mut f = Fixture {
        state,
        envelope,
        digest,
    };
    let env = f.envelope.clone();
    f.state
        .deposit(4, T0, &deposit_input(&env, 3, digest, None))
        .unwrap();
    f
}

fn deposit_input(
    envelope: &Envelope,
    version: u64,
    digest: Digest,
    supersedes: Option<u64>,
) -> DepositInput<'_> {
    DepositInput {
        blueprint_id: "acme-cam",
        version,
        digest,
        subject: "Acme GmbH/Cam 1",
        vendor_keyid: vendor().id(),
        vendor_public_key: vendor().public(),
        envelope,
        amount: "50000",
        currency: "EUR",
        support_end: Some(date!(2030 - 06 - 30)),
        supersedes,
    }
}

impl Fixture {
    /// Files a report of `classes` signed by member `by`; returns its id and envelope.
    fn file(
        &mut self,
        index: u64,
        time: OffsetDateTime,
        classes: &[Class],
        gaps: usize,
        by: u8,
    ) -> (Digest, Envelope) {
        let r = DeviationReport::new(
            BlueprintRef {
                id: "acme-cam".into(),
                version: 3,
                digest: self.digest,
            },
            diff_json(classes, gaps),
            vec![EvidenceDigest::of("capture.pcap", b"pcap")],
        )
        .unwrap();
        let (env, id) = r.sign(&key(by)).unwrap();
        let codes: Vec<String> = r.classes.iter().map(|c| c.code().to_owned()).collect();
        let evidence = [Digest::of_bytes(b"pcap")];
        self.state
            .report(
                index,
                time,
                &ReportInput {
                    report_id: id,
                    blueprint_id: "acme-cam",
                    version: 3,
                    blueprint_digest: self.digest,
                    evidence_digests: &evidence,
                    classes: &codes,
                    verdict: r.verdict,
                    envelope: &env,
                },
            )
            .unwrap();
        (id, env)
    }

    fn cosign(&mut self, index: u64, id: Digest, env: &Envelope, by: u8) -> Result<(), Refusal> {
        let time = self.state.last_time;
        self.state
            .cosign(index, time, id, key(by).id(), &raw_sig(env, by))
    }

    /// Records the ruling the rule computes at `now`.
    fn rule(&mut self, index: u64, id: Digest, now: OffsetDateTime) -> Result<Outcome, Refusal> {
        let outcome = self.state.decide(&id, now)?;
        let code = outcome.code().unwrap_or("none");
        self.state
            .ruling(index, now, id, code, &outcome.reason(), rule::RULE_VERSION)?;
        Ok(outcome)
    }

    fn bond(&self) -> &Bond {
        &self.state.deposit_of("acme-cam", 3).unwrap().bond
    }
}

/// Member `by`'s signature over the envelope's PAE (also when it signed already).
fn raw_sig(env: &Envelope, by: u8) -> String {
    use base64::Engine as _;
    let pae = crate::attest::dsse::pae(&env.payload_type, &env.payload_bytes().unwrap());
    base64::engine::general_purpose::STANDARD.encode(key(by).sign(&pae).to_bytes())
}

const AFTER_WINDOW: i64 = 14 * 24;

#[test]
fn quorum_after_the_window_forfeits() {
    let mut f = fixture();
    let (id, env) = f.file(5, at(0), &[Class::P3, Class::M2], 0, 1);
    f.cosign(6, id, &env, 2).unwrap();
    // Before the window closes: refused, nothing recorded.
    match f.rule(7, id, at(AFTER_WINDOW - 1)) {
        Err(Refusal::WindowOpen { until }) => assert_eq!(until, at(AFTER_WINDOW)),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.bond().state, BondState::Held);
    let outcome = f.rule(7, id, at(AFTER_WINDOW)).unwrap();
    assert!(matches!(outcome, Outcome::Forfeit { .. }));
    assert_eq!(f.bond().state, BondState::Forfeited);
    assert_eq!(f.bond().decided_by, vec![5, 7]);
    // Nothing more on a ruled report.
    assert!(matches!(
        f.cosign(8, id, &env, 3),
        Err(Refusal::AlreadyRuled(_))
    ));
}

#[test]
fn the_same_member_twice_is_not_a_quorum() {
    let mut f = fixture();
    let (id, env) = f.file(5, at(0), &[Class::P5], 0, 1);
    assert!(matches!(
        f.cosign(6, id, &env, 1),
        Err(Refusal::AlreadySigned(_))
    ));
    // A non-member's signature under a member's keyid does not verify.
    let forged = report::cosign(&env, &key(9)).unwrap();
    assert!(matches!(
        f.state.cosign(6, at(1), id, key(2).id(), &forged.sig),
        Err(Refusal::BadSignature(_))
    ));
    assert!(matches!(
        f.state.cosign(6, at(1), id, key(9).id(), &forged.sig),
        Err(Refusal::NotAMember(_))
    ));
    let outcome = f.rule(6, id, at(AFTER_WINDOW)).unwrap();
    assert_eq!(
        outcome,
        Outcome::Dismissed {
            reason: rule::DismissReason::BelowQuorum {
                signers: 1,
                quorum: 2
            }
        }
    );
    assert_eq!(f.bond().state, BondState::Held);
}

#[test]
fn an_accepted_rebuttal_stops_forfeiture() {
    let mut f = fixture();
    let (id, env) = f.file(5, at(0), &[Class::P3], 0, 1);
    f.cosign(6, id, &env, 2).unwrap();
    let rebuttal = report::Rebuttal {
        report_id: id,
        blueprint: BlueprintRef {
            id: "acme-cam".into(),
            version: 3,
            digest: f.digest,
        },
        statement: "The host is our own CDN, declared under another name.".into(),
        evidence: vec![],
    };
    // Signed by a member rather than the vendor: refused.
    let wrong = rebuttal.sign(&key(1)).unwrap();
    assert!(matches!(
        f.state.rebuttal(7, at(2), id, &wrong),
        Err(Refusal::Rebuttal(_))
    ));
    // After the window: refused.
    let renv = rebuttal.sign(&vendor()).unwrap();
    assert!(matches!(
        f.state.rebuttal(7, at(AFTER_WINDOW), id, &renv),
        Err(Refusal::WindowClosed { .. })
    ));
    f.state.rebuttal(7, at(2), id, &renv).unwrap();
    for (i, by) in [(8, 2u8), (9, 3)] {
        let sig = report::cosign(&renv, &key(by)).unwrap();
        f.state
            .accept_rebuttal(i, at(3), id, key(by).id(), &sig.sig)
            .unwrap();
    }
    let sig = report::cosign(&renv, &key(3)).unwrap();
    assert!(matches!(
        f.state
            .accept_rebuttal(10, at(3), id, key(3).id(), &sig.sig),
        Err(Refusal::AlreadySigned(_))
    ));
    assert_eq!(
        f.rule(10, id, at(AFTER_WINDOW)).unwrap(),
        Outcome::Dismissed {
            reason: rule::DismissReason::Rebutted
        }
    );
    assert_eq!(f.bond().state, BondState::Held);
}

#[test]
fn minor_and_insufficient_reports_are_dismissed() {
    let mut f = fixture();
    let (minor, env) = f.file(5, at(0), &[Class::M2, Class::M6], 0, 1);
    f.cosign(6, minor, &env, 2).unwrap();
    let (thin, env) = f.file(7, at(1), &[Class::M4], 1, 2);
    f.cosign(8, thin, &env, 3).unwrap();
    assert_eq!(
        f.rule(9, minor, at(AFTER_WINDOW)).unwrap(),
        Outcome::Dismissed {
            reason: rule::DismissReason::MinorOnly
        }
    );
    assert_eq!(
        f.rule(10, thin, at(AFTER_WINDOW + 1)).unwrap(),
        Outcome::Dismissed {
            reason: rule::DismissReason::InsufficientEvidence
        }
    );
    assert_eq!(f.bond().state, BondState::Held);
}

#[test]
fn a_ruling_must_be_what_the_rule_computes() {
    let mut f = fixture();
    let (id, _) = f.file(5, at(0), &[Class::M2], 0, 1);
    let reason = "forfeit-worthy P3 signed by 2 distinct member key(s), not rebutted";
    assert!(matches!(
        f.state.ruling(
            6,
            at(AFTER_WINDOW),
            id,
            "forfeit",
            reason,
            rule::RULE_VERSION
        ),
        Err(Refusal::Ruling { .. })
    ));
    assert!(matches!(
        f.state
            .ruling(6, at(AFTER_WINDOW), id, "dismissed", "minor-only", "rule/0"),
        Err(Refusal::Ruling { .. })
    ));
    f.state
        .ruling(
            6,
            at(AFTER_WINDOW),
            id,
            "dismissed",
            "minor-only",
            rule::RULE_VERSION,
        )
        .unwrap();
}

#[test]
fn release_only_after_support_end_with_nothing_pending() {
    let mut f = fixture();
    let (id, _) = f.file(5, at(0), &[Class::P3], 0, 1);
    let after_end = datetime!(2030-07-01 00:00 UTC);
    assert!(matches!(
        f.state.release(6, after_end, "acme-cam", 3),
        Err(Refusal::PendingReport { .. })
    ));
    f.rule(6, id, at(AFTER_WINDOW)).unwrap();
    assert!(matches!(
        f.state
            .release(7, datetime!(2030-06-30 23:59 UTC), "acme-cam", 3),
        Err(Refusal::SupportNotEnded { .. })
    ));
    f.state.release(7, after_end, "acme-cam", 3).unwrap();
    assert_eq!(f.bond().state, BondState::Released);
    assert_eq!(f.bond().decided_by, vec![7]);
    assert!(matches!(
        f.state.release(8, after_end, "acme-cam", 3),
        Err(Refusal::BondNotHeld { .. })
    ));
}

#[test]
fn deposits_pin_the_vendor_key_and_only_go_forward() {
    let mut f = fixture();
    let m4 = manifest(4);
    let d4 = Digest::of_value(m4.value()).unwrap();
    // Another vendor key for the same blueprint id.
    let other = statement::sign_manifest(&m4, &key(50)).unwrap();
    let mut input = deposit_input(&other, 4, d4, Some(4));
    input.vendor_keyid = key(50).id();
    input.vendor_public_key = key(50).public();
    assert!(matches!(
        f.state.deposit(5, at(1), &input),
        Err(Refusal::VendorKey { .. })
    ));
    // Event fields that differ from what was signed.
    let env4 = statement::sign_manifest(&m4, &vendor()).unwrap();
    let mut lie = deposit_input(&env4, 5, d4, Some(4));
    assert!(matches!(
        f.state.deposit(5, at(1), &lie),
        Err(Refusal::Mismatch {
            field: "version",
            ..
        })
    ));
    lie.version = 4;
    lie.supersedes = None;
    assert!(matches!(
        f.state.deposit(5, at(1), &lie),
        Err(Refusal::Mismatch {
            field: "supersedes",
            ..
        })
    ));
    // Re-depositing v3 is refused; v4 superseding entry 4 is accepted.
    let env3 = f.envelope.clone();
    assert!(matches!(
        f.state
            .deposit(5, at(1), &deposit_input(&env3, 3, f.digest, Some(4))),
        Err(Refusal::VersionNotNewer { .. })
    ));
    f.state
        .deposit(5, at(1), &deposit_input(&env4, 4, d4, Some(4)))
        .unwrap();
    // A report envelope is not a deposit.
    let (_, report_env) = f.file(6, at(2), &[Class::P3], 0, 1);
    assert!(matches!(
        f.state
            .deposit(7, at(2), &deposit_input(&report_env, 5, d4, Some(5))),
        Err(Refusal::Deposit(_))
    ));
    // Time never goes back.
    assert!(matches!(
        f.state
            .add_member(7, at(0), "Late", "lab", key(7).public(), key(7).id()),
        Err(Refusal::TimeWentBack { .. })
    ));
}

#[test]
fn members_are_counted_by_key() {
    let mut f = fixture();
    let k = key(1).public();
    assert!(matches!(
        f.state
            .add_member(5, at(0), "Lab 1 again", "lab", k, k.id()),
        Err(Refusal::MemberExists(_))
    ));
    assert!(matches!(
        f.state
            .add_member(5, at(0), "Lab 4", "lab", key(4).public(), key(5).id()),
        Err(Refusal::KeyIdMismatch { .. })
    ));
    // A report signed by a non-member is refused.
    let r = DeviationReport::new(
        BlueprintRef {
            id: "acme-cam".into(),
            version: 3,
            digest: f.digest,
        },
        diff_json(&[Class::P3], 0),
        vec![],
    )
    .unwrap();
    let (env, id) = r.sign(&key(9)).unwrap();
    assert!(matches!(
        f.state.report(
            5,
            at(0),
            &ReportInput {
                report_id: id,
                blueprint_id: "acme-cam",
                version: 3,
                blueprint_digest: f.digest,
                evidence_digests: &[],
                classes: &["P3".into()],
                verdict: ReportVerdict::Deviations,
                envelope: &env,
            }
        ),
        Err(Refusal::Report(_))
    ));
}
