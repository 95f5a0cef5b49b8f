use super::*;
use crate::attest::statement::{self, DepositRejection, StatementError, verify_deposit};
use crate::device::diff::{Deviation, Gap, Mode, Report, Subject};
use std::num::NonZeroUsize;

fn key(n: u8) -> SigningKeyFile {
    SigningKeyFile::from_seed(&[n; 32])
}

fn blueprint() -> BlueprintRef {
    BlueprintRef {
        id: "acme-cam".into(),
        version: 3,
        digest: Digest::of_bytes(b"manifest"),
    }
}

/// A deviations document exactly as `blueprint diff --format json` writes it.
pub(crate) fn diff_json(classes: &[Class], gaps: usize) -> Value {
    let deviations = classes
        .iter()
        .enumerate()
        .map(|(i, c)| Deviation::new(*c, format!("/data_items/{i}")))
        .collect();
    let gaps = (0..gaps)
        .map(|i| Gap {
            source: format!("capture-{i}.pcap"),
            reason: "no TLS handshakes".into(),
        })
        .collect();
    let subject = Subject {
        blueprint_id: Some("acme-cam".into()),
        blueprint_version: Some(json!(3)),
        source: "acme-cam.dsse.json".into(),
        against: vec!["capture.pcap".into()],
    };
    serde_json::to_value(Report::new(Mode::Evidence, subject, deviations, gaps)).unwrap()
}

fn evidence() -> Vec<EvidenceDigest> {
    vec![EvidenceDigest::of("capture.pcap", b"pcap bytes")]
}

#[test]
fn classes_and_verdict_are_derived() {
    let r = DeviationReport::new(
        blueprint(),
        diff_json(&[Class::M2, Class::P3, Class::P3], 0),
        evidence(),
    )
    .unwrap();
    assert_eq!(r.classes, vec![Class::P3, Class::M2]);
    assert_eq!(r.verdict, ReportVerdict::Deviations);
    assert!(r.has_forfeit_class());
    let minor = DeviationReport::new(blueprint(), diff_json(&[Class::M2], 0), vec![]).unwrap();
    assert_eq!(minor.verdict, ReportVerdict::Deviations);
    assert!(!minor.has_forfeit_class());
    let gaps = DeviationReport::new(blueprint(), diff_json(&[Class::M4], 1), vec![]).unwrap();
    assert_eq!(gaps.verdict, ReportVerdict::Insufficient);
    let none = DeviationReport::new(blueprint(), diff_json(&[], 0), vec![]).unwrap();
    assert_eq!(none.verdict, ReportVerdict::None);
    // A forfeit-worthy deviation outranks missing evidence, as in the diff.
    let both = DeviationReport::new(blueprint(), diff_json(&[Class::P5], 2), vec![]).unwrap();
    assert_eq!(both.verdict, ReportVerdict::Deviations);
}

#[test]
fn sign_verify_round_trip_and_id() {
    let (a, b) = (key(1), key(2));
    let r = DeviationReport::new(blueprint(), diff_json(&[Class::P3], 0), evidence()).unwrap();
    let (mut env, id) = r.sign(&a).unwrap();
    assert_eq!(id, Digest::of_bytes(&env.payload_bytes().unwrap()));
    let v = verify_report(&env, &[a.public(), b.public()]).unwrap();
    assert_eq!(v.id, id);
    assert_eq!(v.report, r);
    assert_eq!(v.signers, vec![a.id()]);
    // A co-signature verifies detached and, appended, counts as a second key.
    let sig = cosign(&env, &b).unwrap();
    assert!(verify_detached(&env, &sig.sig, &b.public()));
    assert!(!verify_detached(&env, &sig.sig, &a.public()));
    assert!(matches!(
        cosign(&env, &a),
        Err(Rejection::AlreadySigned { .. })
    ));
    env.signatures.push(sig);
    let v = verify_report(&env, &[a.public(), b.public()]).unwrap();
    assert_eq!(v.signers, vec![a.id(), b.id()]);
    // A non-member's signature alone does not verify.
    assert!(matches!(
        verify_report(&env, &[key(3).public()]),
        Err(ReportError::Envelope(Rejection::ThresholdNotMet { .. }))
    ));
}

#[test]
fn recorded_classes_and_verdict_are_not_trusted() {
    let r = DeviationReport::new(blueprint(), diff_json(&[Class::M2], 0), evidence()).unwrap();
    let mut v: Value = serde_json::from_slice(&r.payload().unwrap()).unwrap();
    v["predicate"]["classes"] = json!(["M2", "P5"]);
    let err = parse_report(&canon::canonicalize(&v).unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            ReportError::Underived {
                what: "classes",
                ..
            }
        ),
        "{err}"
    );
    let mut v: Value = serde_json::from_slice(&r.payload().unwrap()).unwrap();
    v["predicate"]["verdict"] = json!("insufficient");
    let err = parse_report(&canon::canonicalize(&v).unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            ReportError::Underived {
                what: "verdict",
                ..
            }
        ),
        "{err}"
    );
    // An edited deviation class must keep its forfeit flag consistent.
    let mut doc = diff_json(&[Class::M2], 0);
    doc["deviations"][0]["class"] = json!("P5");
    let err = DeviationReport::new(blueprint(), doc, vec![]).unwrap_err();
    assert!(
        matches!(&err, ReportError::Deviations { pointer, .. } if pointer == "/deviations/0/forfeit_worthy"),
        "{err}"
    );
    // ...and the document's verdict must be the one its deviations make.
    let mut doc = diff_json(&[Class::P3], 0);
    doc["deviations"] = json!([]);
    let err = DeviationReport::new(blueprint(), doc, vec![]).unwrap_err();
    assert!(
        matches!(&err, ReportError::Deviations { pointer, .. } if pointer == "/verdict"),
        "{err}"
    );
}

#[test]
fn deviations_must_concern_the_reported_blueprint() {
    let mut other = blueprint();
    other.id = "other-device".into();
    assert!(matches!(
        DeviationReport::new(other, diff_json(&[Class::P3], 0), vec![]),
        Err(ReportError::WrongBlueprint { .. })
    ));
    let mut older = blueprint();
    older.version = 2;
    assert!(matches!(
        DeviationReport::new(older, diff_json(&[Class::P3], 0), vec![]),
        Err(ReportError::WrongBlueprint { .. })
    ));
    let mut doc = diff_json(&[Class::P3], 0);
    doc["format"] = json!("something-else/v1");
    assert!(matches!(
        DeviationReport::new(blueprint(), doc, vec![]),
        Err(ReportError::Deviations { .. })
    ));
}

#[test]
fn hostile_input_is_bounded() {
    let mut doc = diff_json(&[], 0);
    doc["padding"] = json!("x".repeat(MAX_DEVIATIONS_BYTES));
    assert!(matches!(
        DeviationReport::new(blueprint(), doc, vec![]),
        Err(ReportError::TooLarge { .. })
    ));
    let many = vec![EvidenceDigest::of("f", b""); MAX_EVIDENCE + 1];
    assert!(matches!(
        DeviationReport::new(blueprint(), diff_json(&[], 0), many),
        Err(ReportError::TooMany { .. })
    ));
    let long = Rebuttal {
        report_id: Digest::of_bytes(b"r"),
        blueprint: blueprint(),
        statement: "x".repeat(MAX_REBUTTAL_BYTES + 1),
        evidence: vec![],
    };
    assert!(long.payload().is_err());
    // Not canonical: the same report in another encoding is refused.
    let r = DeviationReport::new(blueprint(), diff_json(&[Class::P3], 0), vec![]).unwrap();
    let v: Value = serde_json::from_slice(&r.payload().unwrap()).unwrap();
    let pretty = serde_json::to_vec_pretty(&v).unwrap();
    assert!(matches!(
        parse_report(&pretty),
        Err(ReportError::NonCanonical)
    ));
    // An upper-case digest spelling is refused (one report, one id).
    let upper = String::from_utf8(r.payload().unwrap()).unwrap().replace(
        &format!("sha256:{}", blueprint().digest.hex()),
        &format!("sha256:{}", blueprint().digest.hex().to_uppercase()),
    );
    assert!(matches!(
        parse_report(upper.as_bytes()),
        Err(ReportError::Predicate(_))
    ));
}

#[test]
fn a_report_is_never_a_blueprint_and_a_blueprint_never_a_report() {
    let k = key(1);
    let one = NonZeroUsize::MIN;
    let r = DeviationReport::new(blueprint(), diff_json(&[Class::P3], 0), vec![]).unwrap();
    let (report_env, _) = r.sign(&k).unwrap();
    // The deposit verifier refuses a report envelope by its payload type...
    assert!(matches!(
        verify_deposit(&report_env, &[k.public()], one, None),
        Err(DepositRejection::Envelope(Rejection::PayloadType { .. }))
    ));
    // ...and a report statement re-signed as a deposit by its predicateType.
    let payload = report_env.payload_bytes().unwrap();
    let relabelled = Envelope::sign(statement::PAYLOAD_TYPE, &payload, &k);
    match verify_deposit(&relabelled, &[k.public()], one, None) {
        Err(DepositRejection::Statement(StatementError::Field { pointer, .. })) => {
            assert_eq!(pointer, "/predicateType")
        }
        other => panic!("{other:?}"),
    }
    assert!(statement::parse_deposit(&payload).is_err());
    // The report verifier refuses a signed blueprint deposit, also when it
    // is re-signed under the report payload type.
    let manifest = statement_sample();
    let deposit_env = statement::sign_manifest(&manifest, &k).unwrap();
    assert!(matches!(
        verify_report(&deposit_env, &[k.public()]),
        Err(ReportError::Envelope(Rejection::PayloadType { .. }))
    ));
    let deposit_payload = deposit_env.payload_bytes().unwrap();
    let relabelled = Envelope::sign(REPORT_PAYLOAD_TYPE, &deposit_payload, &k);
    match verify_report(&relabelled, &[k.public()]) {
        Err(ReportError::PredicateType { found, .. }) => {
            assert_eq!(found, statement::PREDICATE_TYPE)
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_report(&deposit_payload),
        Err(ReportError::PredicateType { .. })
    ));
    // A rebuttal is neither a report nor a blueprint, and vice versa.
    let rebuttal = Rebuttal {
        report_id: Digest::of_bytes(b"r"),
        blueprint: blueprint(),
        statement: "The endpoint is our own CDN.".into(),
        evidence: vec![],
    };
    let rebuttal_env = rebuttal.sign(&k).unwrap();
    let rebuttal_payload = rebuttal_env.payload_bytes().unwrap();
    assert!(matches!(
        verify_report(
            &Envelope::sign(REPORT_PAYLOAD_TYPE, &rebuttal_payload, &k),
            &[k.public()]
        ),
        Err(ReportError::PredicateType { .. })
    ));
    assert!(
        verify_deposit(
            &Envelope::sign(statement::PAYLOAD_TYPE, &rebuttal_payload, &k),
            &[k.public()],
            one,
            None
        )
        .is_err()
    );
    assert!(matches!(
        verify_rebuttal(
            &Envelope::sign(REBUTTAL_PAYLOAD_TYPE, &payload, &k),
            &k.public()
        ),
        Err(ReportError::PredicateType { .. })
    ));
    assert_eq!(
        verify_rebuttal(&rebuttal_env, &k.public()).unwrap(),
        rebuttal
    );
    // A foreign predicate type, and a foreign payload type.
    let mut v: Value = serde_json::from_slice(&r.payload().unwrap()).unwrap();
    v["predicateType"] = json!("https://slsa.dev/provenance/v1");
    let foreign = Envelope::sign(REPORT_PAYLOAD_TYPE, &canon::canonicalize(&v).unwrap(), &k);
    assert!(matches!(
        verify_report(&foreign, &[k.public()]),
        Err(ReportError::PredicateType { .. })
    ));
    let relabelled = Envelope::sign("application/json", &r.payload().unwrap(), &k);
    assert!(matches!(
        verify_report(&relabelled, &[k.public()]),
        Err(ReportError::Envelope(Rejection::PayloadType { .. }))
    ));
}

#[test]
fn rebuttal_subject_must_name_its_report() {
    let k = key(7);
    let rebuttal = Rebuttal {
        report_id: Digest::of_bytes(b"r"),
        blueprint: blueprint(),
        statement: "Measured on a unit with a test harness attached.".into(),
        evidence: vec![EvidenceDigest::of("lab-letter.pdf", b"%PDF")],
    };
    let mut v: Value = serde_json::from_slice(&rebuttal.payload().unwrap()).unwrap();
    v["subject"][0]["digest"]["sha256"] = json!(Digest::of_bytes(b"other").hex());
    let env = Envelope::sign(REBUTTAL_PAYLOAD_TYPE, &canon::canonicalize(&v).unwrap(), &k);
    assert!(matches!(
        verify_rebuttal(&env, &k.public()),
        Err(ReportError::SubjectMismatch { .. })
    ));
    // Signed by another key than the vendor's: refused.
    let env = rebuttal.sign(&key(8)).unwrap();
    assert!(matches!(
        verify_rebuttal(&env, &k.public()),
        Err(ReportError::Envelope(_))
    ));
}

fn statement_sample() -> crate::validated::ValidatedManifest {
    use crate::attest::statement::ValidationSummary;
    use crate::diag::Counts;
    let value = json!({
        "format": "blueprint/v1",
        "blueprint": {"id": "acme-cam", "version": 3},
        "vendor": {"legal_name": "Acme GmbH", "hq_country": "DE"},
        "device": {"model": "Cam 1", "firmware": {"version": "1.2.0"}},
    });
    let summary = ValidationSummary {
        profiles: vec![],
        as_of: "2026-11-26".into(),
        tool_version: "0.1.0".into(),
        counts: Counts {
            error: 0,
            warning: 0,
            info: 0,
        },
    };
    crate::validated::ValidatedManifest::new_unchecked_by_validator(value, summary).unwrap()
}

#[test]
fn statements_follow_their_published_schemas() {
    let check = |schema: &str, payload: &[u8]| {
        let schema: Value = serde_json::from_str(schema).unwrap();
        let v = jsonschema::validator_for(&schema).unwrap();
        let doc: Value = serde_json::from_slice(payload).unwrap();
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        // The schema is closed: an extra member is refused.
        let mut extra = doc;
        extra["predicate"]["extra"] = json!(1);
        assert!(!v.is_valid(&extra));
    };
    let r = DeviationReport::new(
        blueprint(),
        diff_json(&[Class::P3, Class::M2], 1),
        evidence(),
    )
    .unwrap();
    check(
        include_str!("../../../schemas/report-statement.v1.schema.json"),
        &r.payload().unwrap(),
    );
    let rebuttal = Rebuttal {
        report_id: report_id(&r.payload().unwrap()),
        blueprint: blueprint(),
        statement: "Not ours.".into(),
        evidence: evidence(),
    };
    check(
        include_str!("../../../schemas/rebuttal-statement.v1.schema.json"),
        &rebuttal.payload().unwrap(),
    );
}
