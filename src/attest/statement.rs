//! The signed deposit: an in-toto Statement v1 (in-toto/attestation
//! `spec/v1/statement.md`) inside a DSSE envelope.
//!
//! ```json
//! {"_type": "https://in-toto.io/Statement/v1",
//!  "subject": [{"name": "<vendor.legal_name>/<device.model>",
//!               "digest": {"sha256": "<hex of SHA-256 over the JCS manifest>"}}],
//!  "predicateType": "https://blueprint.dev/deposit/v1",
//!  "predicate": {"manifest": <the manifest>,
//!                "validation": {"profiles": [...], "asOf": "YYYY-MM-DD",
//!                               "toolVersion": "x.y.z",
//!                               "counts": {"error": 0, "warning": n, "info": n}}}}
//! ```
//!
//! The payload bytes are the RFC 8785 canonical form of that statement, so a
//! verifier can re-canonicalize and demand identical bytes: one deposit has
//! exactly one encoding.

use std::num::NonZeroUsize;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::attest::canon::{self, CanonError, Digest};
use crate::attest::dsse::{self, Envelope, Rejection};
use crate::attest::keys::{KeyId, PublicKey, SigningKeyFile};
use crate::diag::Counts;
use crate::validated::ValidatedManifest;

/// DSSE `payloadType` of a blueprint deposit: in-toto's own, so that
/// in-toto and securesystemslib verifiers accept the envelope as it is
/// (in-toto attestation `spec/v1/envelope.md`). What makes the statement a
/// blueprint is its `predicateType` ([`PREDICATE_TYPE`]), checked on every
/// read: a statement with any other predicate is never a deposit.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The `payloadType` that blueprint 0.1 envelopes carry; still verified so
/// that deposits signed before the switch stay valid. Never written.
pub const LEGACY_PAYLOAD_TYPE: &str = "application/vnd.blueprint.statement.v1+json";

/// Is `payload_type` one a deposit envelope may carry?
pub fn is_deposit_payload_type(payload_type: &str) -> bool {
    payload_type == PAYLOAD_TYPE || payload_type == LEGACY_PAYLOAD_TYPE
}
/// in-toto Statement v1 `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// `predicateType` of a blueprint deposit.
pub const PREDICATE_TYPE: &str = "https://blueprint.dev/deposit/v1";

/// What validation found, recorded in the signed predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValidationSummary {
    /// Profile ids the manifest was checked against.
    pub profiles: Vec<String>,
    /// Evaluation date (`YYYY-MM-DD`) used for date-gated rules.
    pub as_of: String,
    /// Version of the tool that validated.
    pub tool_version: String,
    /// Findings per severity.
    #[serde(with = "CountsDef")]
    pub counts: Counts,
}

#[derive(Serialize, Deserialize)]
#[serde(remote = "Counts", deny_unknown_fields)]
struct CountsDef {
    error: usize,
    warning: usize,
    info: usize,
}

/// A statement that is well-formed JSON but not a blueprint deposit.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// The manifest lacks a field the subject name is made of.
    #[error("manifest has no string at `{0}` (needed for the subject name vendor/model)")]
    MissingSubjectField(&'static str),
    /// The manifest cannot be canonicalized.
    #[error(transparent)]
    Canon(#[from] CanonError),
    /// The payload is not JSON.
    #[error("payload is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// A required member is missing or has the wrong type or value.
    #[error("statement member `{pointer}` is missing or invalid: expected {expected}")]
    Field {
        /// JSON pointer inside the statement.
        pointer: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// The validation summary does not parse.
    #[error("predicate validation summary is invalid: {0}")]
    Summary(#[source] serde_json::Error),
    /// The signed summary records error-level findings: never a deposit.
    #[error("predicate records {0} error-level finding(s); such a manifest is never signed")]
    ErrorFindings(usize),
    /// The subject digest is not the digest of the enclosed manifest.
    #[error("subject digest {subject} is not the digest of the enclosed manifest ({manifest})")]
    DigestMismatch {
        /// From the subject.
        subject: Digest,
        /// Of the predicate's manifest.
        manifest: Digest,
    },
    /// The subject name is not vendor/model of the enclosed manifest.
    #[error("subject name {subject:?} does not match the enclosed manifest ({manifest:?})")]
    NameMismatch {
        /// From the subject.
        subject: String,
        /// Derived from the predicate's manifest.
        manifest: String,
    },
}

/// `vendor.legal_name` + `/` + `device.model`.
pub fn subject_name(manifest: &Value) -> Result<String, StatementError> {
    let vendor = manifest
        .pointer("/vendor/legal_name")
        .and_then(Value::as_str)
        .ok_or(StatementError::MissingSubjectField("/vendor/legal_name"))?;
    let model = manifest
        .pointer("/device/model")
        .and_then(Value::as_str)
        .ok_or(StatementError::MissingSubjectField("/device/model"))?;
    Ok(format!("{vendor}/{model}"))
}

/// The canonical statement bytes for `manifest` (the DSSE payload).
pub fn statement_bytes(manifest: &ValidatedManifest) -> Result<Vec<u8>, StatementError> {
    deposit_payload(manifest.value(), manifest.summary())
}

/// The canonical statement bytes for any manifest value and summary. Only
/// [`sign_manifest`] turns them into a signature, and it takes a
/// [`ValidatedManifest`]; building the bytes alone proves nothing.
pub fn deposit_payload(
    value: &Value,
    summary: &ValidationSummary,
) -> Result<Vec<u8>, StatementError> {
    // The statement's canonical bytes, written directly: member order is
    // fixed (RFC 8785 §3.2.3: `_type` < `predicate` < `predicateType` <
    // `subject`; `manifest` < `validation`; `digest` < `name`), so the
    // manifest is canonicalized once and reused for its digest. The tests
    // check the result against a full re-canonicalization.
    let manifest = canon::canonicalize(value)?;
    let digest = Digest::of_bytes(&manifest);
    let summary = serde_json::to_value(summary).map_err(StatementError::Summary)?;
    let mut out = Vec::with_capacity(manifest.len() + 512);
    out.extend_from_slice(b"{\"_type\":");
    canon::write_canonical(&json!(STATEMENT_TYPE), &mut out)?;
    out.extend_from_slice(b",\"predicate\":{\"manifest\":");
    out.extend_from_slice(&manifest);
    out.extend_from_slice(b",\"validation\":");
    canon::write_canonical(&summary, &mut out)?;
    out.extend_from_slice(b"},\"predicateType\":");
    canon::write_canonical(&json!(PREDICATE_TYPE), &mut out)?;
    out.extend_from_slice(b",\"subject\":[{\"digest\":{\"sha256\":\"");
    out.extend_from_slice(digest.hex().as_bytes());
    out.extend_from_slice(b"\"},\"name\":");
    canon::write_canonical(&Value::String(subject_name(value)?), &mut out)?;
    out.extend_from_slice(b"}]}");
    Ok(out)
}

/// Signs a validated manifest into a DSSE envelope.
pub fn sign_manifest(
    manifest: &ValidatedManifest,
    key: &SigningKeyFile,
) -> Result<Envelope, StatementError> {
    Ok(Envelope::sign(
        PAYLOAD_TYPE,
        &statement_bytes(manifest)?,
        key,
    ))
}

/// A deposit read back from verified payload bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Deposit {
    /// `vendor/model`.
    pub name: String,
    /// Digest of the canonical manifest.
    pub digest: Digest,
    /// The manifest.
    pub manifest: Value,
    /// The recorded validation summary.
    pub summary: ValidationSummary,
}

/// The one subject of an in-toto Statement: its name and its SHA-256
/// digest (64 lower-case hex digits). On failure, the JSON pointer of the
/// member at fault and what was expected there.
pub fn single_subject(v: &Value) -> Result<(&str, Digest), (&'static str, &'static str)> {
    let subjects = v
        .get("subject")
        .and_then(Value::as_array)
        .filter(|s| s.len() == 1)
        .ok_or(("/subject", "an array of exactly one subject"))?;
    let name = subjects[0]
        .get("name")
        .and_then(Value::as_str)
        .ok_or(("/subject/0/name", "a string"))?;
    let digest = subjects[0]
        .pointer("/digest/sha256")
        .and_then(Value::as_str)
        .filter(|h| h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .and_then(|h| Digest::from_hex(h).ok())
        .ok_or(("/subject/0/digest/sha256", "64 lower-case hex digits"))?;
    Ok((name, digest))
}

/// Parses and checks canonical statement bytes.
pub fn parse_deposit(payload: &[u8]) -> Result<Deposit, StatementError> {
    let v: Value = serde_json::from_slice(payload).map_err(StatementError::NotJson)?;
    let field =
        |pointer: &'static str, expected: &'static str| StatementError::Field { pointer, expected };
    if v.pointer("/_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(field("/_type", STATEMENT_TYPE));
    }
    if v.pointer("/predicateType").and_then(Value::as_str) != Some(PREDICATE_TYPE) {
        return Err(field("/predicateType", PREDICATE_TYPE));
    }
    let (name, digest) = single_subject(&v).map_err(|(p, e)| field(p, e))?;
    let manifest = v
        .pointer("/predicate/manifest")
        .filter(|m| m.is_object())
        .ok_or(field("/predicate/manifest", "an object"))?;
    let summary: ValidationSummary = serde_json::from_value(
        v.pointer("/predicate/validation")
            .cloned()
            .ok_or(field("/predicate/validation", "an object"))?,
    )
    .map_err(StatementError::Summary)?;
    if summary.counts.error > 0 {
        return Err(StatementError::ErrorFindings(summary.counts.error));
    }
    let manifest_digest = Digest::of_value(manifest)?;
    if manifest_digest != digest {
        return Err(StatementError::DigestMismatch {
            subject: digest,
            manifest: manifest_digest,
        });
    }
    let derived = subject_name(manifest)?;
    if derived != name {
        return Err(StatementError::NameMismatch {
            subject: name.to_owned(),
            manifest: derived,
        });
    }
    Ok(Deposit {
        name: name.to_owned(),
        digest,
        manifest: manifest.clone(),
        summary,
    })
}

/// Why a deposit envelope was not verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DepositRejection {
    /// The envelope or its signatures.
    #[error(transparent)]
    Envelope(#[from] Rejection),
    /// The signed payload is not in RFC 8785 canonical form (or not JSON):
    /// one deposit must have exactly one encoding.
    #[error("signed payload is not RFC 8785 canonical JSON")]
    NonCanonicalPayload,
    /// The signed statement is not a valid deposit.
    #[error("signed statement is invalid: {0}")]
    Statement(#[from] StatementError),
    /// The envelope's subject is not the manifest the caller holds.
    #[error("subject mismatch: envelope is for {found}, the given manifest is {expected}")]
    SubjectMismatch {
        /// Digest of the caller's manifest.
        expected: Digest,
        /// Digest in the envelope's subject.
        found: Digest,
    },
}

/// A verified deposit.
#[derive(Debug, Clone)]
pub struct VerifiedDeposit {
    /// The statement's content.
    pub deposit: Deposit,
    /// Distinct trusted keys that signed.
    pub signers: Vec<KeyId>,
    /// Signatures that did not count, with reasons.
    pub notes: Vec<dsse::SignatureNote>,
}

/// Verifies a deposit envelope: DSSE signatures by `threshold` distinct
/// trusted keys, canonical payload, a well-formed statement, and, when
/// `expected` is given, that its subject digest equals it.
pub fn verify_deposit(
    envelope: &Envelope,
    trusted: &[PublicKey],
    threshold: NonZeroUsize,
    expected: Option<Digest>,
) -> Result<VerifiedDeposit, DepositRejection> {
    // The PAE binds whichever accepted type the envelope names; the
    // predicateType check in `parse_deposit` keeps other statements out.
    let payload_type = if envelope.payload_type == LEGACY_PAYLOAD_TYPE {
        LEGACY_PAYLOAD_TYPE
    } else {
        PAYLOAD_TYPE
    };
    let verified = dsse::verify(envelope, payload_type, trusted, threshold)?;
    // Only the verified bytes are parsed.
    let reparsed: Value = serde_json::from_slice(&verified.payload)
        .map_err(|_| DepositRejection::NonCanonicalPayload)?;
    match canon::canonicalize(&reparsed) {
        Ok(bytes) if bytes == verified.payload => {}
        _ => return Err(DepositRejection::NonCanonicalPayload),
    }
    let deposit = parse_deposit(&verified.payload)?;
    if let Some(expected) = expected
        && expected != deposit.digest
    {
        return Err(DepositRejection::SubjectMismatch {
            expected,
            found: deposit.digest,
        });
    }
    Ok(VerifiedDeposit {
        deposit,
        signers: verified.signers,
        notes: verified.notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: NonZeroUsize = NonZeroUsize::MIN;

    pub(crate) fn sample(model: &str) -> ValidatedManifest {
        let value = json!({
            "format": "blueprint/v1",
            "blueprint": {"id": "acme-cam", "version": 3},
            "vendor": {"legal_name": "Acme GmbH", "hq_country": "DE"},
            "device": {"model": model, "firmware": {"version": "1.2.0"}},
            "data_items": [{"id": "video", "category": "user.sensor.camera", "retention_days": 30.5}],
        });
        let summary = ValidationSummary {
            profiles: vec!["eu-gdpr".into(), "etsi-en-303-645".into()],
            as_of: "2026-11-26".into(),
            tool_version: "0.1.0".into(),
            counts: Counts {
                error: 0,
                warning: 2,
                info: 1,
            },
        };
        ValidatedManifest::new_unchecked_by_validator(value, summary).unwrap()
    }

    fn reseal(payload: &[u8], key: &SigningKeyFile) -> Envelope {
        Envelope::sign(PAYLOAD_TYPE, payload, key)
    }

    #[test]
    fn deposits_carry_the_in_toto_type_or_the_legacy_one() {
        // `sign --append` co-signs only envelopes of these two types.
        assert!(is_deposit_payload_type(PAYLOAD_TYPE));
        assert!(is_deposit_payload_type(LEGACY_PAYLOAD_TYPE));
        for other in [
            "",
            "application/json",
            "application/vnd.in-toto+json; charset=utf-8",
            crate::escrow::report::REPORT_PAYLOAD_TYPE,
            crate::escrow::report::REBUTTAL_PAYLOAD_TYPE,
            crate::escrow::ledger::ROTATION_PAYLOAD_TYPE,
        ] {
            assert!(!is_deposit_payload_type(other), "{other:?}");
        }
    }

    #[test]
    fn statement_layout() {
        let m = sample("Cam 1");
        let bytes = statement_bytes(&m).unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["_type"], STATEMENT_TYPE);
        assert_eq!(v["predicateType"], PREDICATE_TYPE);
        assert_eq!(v["subject"][0]["name"], "Acme GmbH/Cam 1");
        assert_eq!(
            v["subject"][0]["digest"]["sha256"],
            Digest::of_value(m.value()).unwrap().hex()
        );
        assert_eq!(v["predicate"]["validation"]["asOf"], "2026-11-26");
        assert_eq!(v["predicate"]["validation"]["counts"]["warning"], 2);
        assert_eq!(canon::canonicalize(&v).unwrap(), bytes);
        let built = json!({
            "_type": STATEMENT_TYPE,
            "subject": [{"name": "Acme GmbH/Cam 1", "digest": {"sha256": Digest::of_value(m.value()).unwrap().hex()}}],
            "predicateType": PREDICATE_TYPE,
            "predicate": {"manifest": m.value(), "validation": serde_json::to_value(m.summary()).unwrap()},
        });
        assert_eq!(canon::canonicalize(&built).unwrap(), bytes);
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let k = SigningKeyFile::from_seed(&[9; 32]);
        let m = sample("Cam 1");
        let env = sign_manifest(&m, &k).unwrap();
        let digest = Digest::of_value(m.value()).unwrap();
        let v = verify_deposit(&env, &[k.public()], ONE, Some(digest)).unwrap();
        assert_eq!(v.deposit.name, "Acme GmbH/Cam 1");
        assert_eq!(&v.deposit.manifest, m.value());
        assert_eq!(v.deposit.summary, *m.summary());
        assert_eq!(v.signers, vec![k.id()]);
    }

    #[test]
    fn swapped_subject_is_rejected() {
        let k = SigningKeyFile::from_seed(&[9; 32]);
        let env = sign_manifest(&sample("Cam 1"), &k).unwrap();
        let other = Digest::of_value(sample("Cam 2").value()).unwrap();
        assert!(matches!(
            verify_deposit(&env, &[k.public()], ONE, Some(other)),
            Err(DepositRejection::SubjectMismatch { .. })
        ));
    }

    #[test]
    fn tampered_payload_is_rejected() {
        let k = SigningKeyFile::from_seed(&[9; 32]);
        let mut env = sign_manifest(&sample("Cam 1"), &k).unwrap();
        let mut p = env.payload_bytes().unwrap();
        let at = p.windows(5).position(|w| w == b"Cam 1").unwrap();
        p[at + 4] = b'2';
        env.payload = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &p);
        assert!(matches!(
            verify_deposit(&env, &[k.public()], ONE, None),
            Err(DepositRejection::Envelope(
                Rejection::ThresholdNotMet { .. }
            ))
        ));
    }

    #[test]
    fn non_canonical_payload_is_rejected_even_when_signed() {
        let k = SigningKeyFile::from_seed(&[9; 32]);
        let bytes = statement_bytes(&sample("Cam 1")).unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        let dup = [&bytes[..1], br#""_type":"x","#, &bytes[1..]].concat();
        for payload in [pretty, dup, b"not json".to_vec()] {
            assert!(matches!(
                verify_deposit(&reseal(&payload, &k), &[k.public()], ONE, None),
                Err(DepositRejection::NonCanonicalPayload)
            ));
        }
    }

    #[test]
    fn inconsistent_statements_are_rejected() {
        let k = SigningKeyFile::from_seed(&[9; 32]);
        let good: Value =
            serde_json::from_slice(&statement_bytes(&sample("Cam 1")).unwrap()).unwrap();
        let mutate = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            reseal(&canon::canonicalize(&v).unwrap(), &k)
        };
        let cases: Vec<(Envelope, &str)> = vec![
            (
                mutate(&|v| v["predicate"]["manifest"]["device"]["model"] = json!("Cam 9")),
                "digest",
            ),
            (
                mutate(&|v| {
                    v["subject"][0]["name"] = json!("Evil/Cam 1");
                }),
                "name",
            ),
            (
                mutate(&|v| v["predicateType"] = json!("https://slsa.dev/provenance/v1")),
                "field",
            ),
            (
                mutate(&|v| v["_type"] = json!("https://in-toto.io/Statement/v0.1")),
                "field",
            ),
            (
                mutate(&|v| v["predicate"]["validation"]["counts"]["error"] = json!(1)),
                "errors",
            ),
            (
                mutate(&|v| v["predicate"]["validation"]["extra"] = json!(1)),
                "summary",
            ),
        ];
        for (env, what) in cases {
            let r = verify_deposit(&env, &[k.public()], ONE, None);
            let ok = matches!(
                (&r, what),
                (
                    Err(DepositRejection::Statement(
                        StatementError::DigestMismatch { .. }
                    )),
                    "digest"
                ) | (
                    Err(DepositRejection::Statement(
                        StatementError::NameMismatch { .. }
                    )),
                    "name"
                ) | (
                    Err(DepositRejection::Statement(StatementError::Field { .. })),
                    "field"
                ) | (
                    Err(DepositRejection::Statement(StatementError::ErrorFindings(
                        1
                    ))),
                    "errors"
                ) | (
                    Err(DepositRejection::Statement(StatementError::Summary(_))),
                    "summary"
                )
            );
            assert!(ok, "{what}: {r:?}");
        }
    }

    #[test]
    fn generic_json_payload_type_is_not_a_deposit() {
        let k = SigningKeyFile::from_seed(&[9; 32]);
        let bytes = statement_bytes(&sample("Cam 1")).unwrap();
        let env = Envelope::sign("application/json", &bytes, &k);
        assert!(matches!(
            verify_deposit(&env, &[k.public()], ONE, None),
            Err(DepositRejection::Envelope(Rejection::PayloadType { .. }))
        ));
    }

    #[test]
    fn manifest_missing_subject_fields_cannot_be_signed() {
        let summary = sample("x").summary().clone();
        let m =
            ValidatedManifest::new_unchecked_by_validator(json!({"vendor": {}}), summary).unwrap();
        assert!(matches!(
            statement_bytes(&m),
            Err(StatementError::MissingSubjectField("/vendor/legal_name"))
        ));
    }
}
