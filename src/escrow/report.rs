//! The statements members and vendors file with the escrow registry: a
//! deviation report, its co-signatures, and the vendor's rebuttal.
//!
//! Each is an in-toto Statement v1 inside a DSSE envelope, like a blueprint
//! deposit, with its own `payloadType` (bound into every signature by the
//! PAE) and its own `predicateType`, so a report can never be taken for a
//! blueprint (the deposit verifier demands the deposit's types) and a
//! blueprint or a rebuttal is never taken for a report (the parsers here
//! demand theirs), even if re-signed under another payload type. Payloads are RFC 8785 canonical
//! bytes: a report has exactly one encoding, so its id — `sha256:` of the
//! payload — names exactly one report.
//!
//! Report predicate (`docs/escrow.md`):
//!
//! ```json
//! {"blueprint": {"id": "acme-cam", "version": 3, "digest": "sha256:…"},
//!  "deviations": <the JSON `blueprint diff --format json` writes>,
//!  "evidence": [{"name": "capture.pcap", "digest": "sha256:…"}],
//!  "classes": ["M2", "P3"], "verdict": "deviations"}
//! ```
//!
//! `classes` and `verdict` are derived from `deviations` when building and
//! re-derived when parsing: a signer cannot claim a class its deviations do
//! not show.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::attest::canon::{self, CanonError, Digest};
use crate::attest::dsse::{self, Envelope, EnvelopeSignature, Rejection};
use crate::attest::keys::{KeyId, PublicKey, SigningKeyFile};
use crate::attest::statement::{self, STATEMENT_TYPE};
use crate::device::diff::{Class, REPORT_FORMAT};

/// DSSE `payloadType` of a deviation report.
pub const REPORT_PAYLOAD_TYPE: &str = "application/vnd.blueprint.report.v1+json";
/// DSSE `payloadType` of a vendor's rebuttal.
pub const REBUTTAL_PAYLOAD_TYPE: &str = "application/vnd.blueprint.rebuttal.v1+json";
/// `predicateType` of a deviation report.
pub const REPORT_PREDICATE_TYPE: &str = "https://blueprint.dev/deviation-report/v1";
/// `predicateType` of a vendor's rebuttal.
pub const REBUTTAL_PREDICATE_TYPE: &str = "https://blueprint.dev/rebuttal/v1";

/// Canonical size limit of the embedded deviations document.
pub const MAX_DEVIATIONS_BYTES: usize = 4 * 1024 * 1024;
/// At most this many deviations in one report.
pub const MAX_DEVIATIONS: usize = 10_000;
/// At most this many evidence files per statement.
pub const MAX_EVIDENCE: usize = 64;
/// Longest evidence file name (bytes).
pub const MAX_NAME_BYTES: usize = 256;
/// Longest rebuttal text (bytes).
pub const MAX_REBUTTAL_BYTES: usize = 16 * 1024;

/// Why a report or rebuttal statement could not be built or parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The payload is not JSON.
    #[error("payload is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// The payload is JSON but not its RFC 8785 canonical form.
    #[error("payload is not RFC 8785 canonical JSON")]
    NonCanonical,
    /// Canonicalization failed.
    #[error(transparent)]
    Canon(#[from] CanonError),
    /// A statement of another kind (a blueprint deposit, a rebuttal where a
    /// report was expected, a foreign predicate).
    #[error("predicateType is {found:?}, expected {expected:?}")]
    PredicateType {
        /// What the statement says.
        found: String,
        /// What the caller accepts.
        expected: &'static str,
    },
    /// A required member is missing or malformed.
    #[error("statement member `{pointer}` is missing or invalid: expected {expected}")]
    Field {
        /// JSON pointer inside the statement.
        pointer: String,
        /// What was expected.
        expected: &'static str,
    },
    /// The predicate does not have the expected shape.
    #[error("predicate is malformed: {0}")]
    Predicate(#[source] serde_json::Error),
    /// The embedded deviations are larger than [`MAX_DEVIATIONS_BYTES`].
    #[error("deviations document is {len} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Canonical length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// More items than a bound allows.
    #[error("{what}: {found} given, at most {limit} allowed")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many were given.
        found: usize,
        /// The bound.
        limit: usize,
    },
    /// The deviations document is not one `blueprint diff --format json` writes.
    #[error("deviations document, at `{pointer}`: {problem}")]
    Deviations {
        /// JSON pointer inside the deviations document.
        pointer: String,
        /// What is wrong there.
        problem: String,
    },
    /// The deviations concern another blueprint than the one reported on.
    #[error("the deviations are about {found}, not the reported blueprint {expected}")]
    WrongBlueprint {
        /// What the deviations' subject names.
        found: String,
        /// The reported deposit.
        expected: String,
    },
    /// Recorded classes or verdict differ from what the deviations show.
    #[error("recorded {what} {recorded} differ from those derived from the deviations ({derived})")]
    Underived {
        /// `classes` or `verdict`.
        what: &'static str,
        /// As recorded.
        recorded: String,
        /// As derived.
        derived: String,
    },
    /// The statement's subject does not name what its predicate names.
    #[error("subject {subject} does not match the predicate ({predicate})")]
    SubjectMismatch {
        /// From the subject.
        subject: String,
        /// From the predicate.
        predicate: String,
    },
    /// The signed envelope did not verify.
    #[error(transparent)]
    Envelope(#[from] Rejection),
}

/// Which deposit a report or rebuttal is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueprintRef {
    /// `blueprint.id`.
    pub id: String,
    /// `blueprint.version`.
    pub version: u64,
    /// Digest of the deposited canonical manifest.
    #[serde(with = "digest_string")]
    pub digest: Digest,
}

/// A file a statement rests on, by name and digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceDigest {
    /// File name as given (informational).
    pub name: String,
    /// SHA-256 of the file's bytes.
    #[serde(with = "digest_string")]
    pub digest: Digest,
}

impl EvidenceDigest {
    /// The digest of `bytes`, named `name`.
    pub fn of(name: impl Into<String>, bytes: &[u8]) -> Self {
        EvidenceDigest {
            name: name.into(),
            digest: Digest::of_bytes(bytes),
        }
    }
}

/// What a report concludes, derived from its deviations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportVerdict {
    /// At least one deviation (forfeit-worthy or minor).
    Deviations,
    /// No forfeit-worthy deviation and the evidence could not support a
    /// conclusion: never grounds for forfeiture.
    Insufficient,
    /// Nothing deviates.
    None,
}

impl ReportVerdict {
    /// The lower-case name used in statements and events.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportVerdict::Deviations => "deviations",
            ReportVerdict::Insufficient => "insufficient",
            ReportVerdict::None => "none",
        }
    }

    /// Parses [`ReportVerdict::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Deviations, Self::Insufficient, Self::None]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// A deviation report's content.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviationReport {
    /// The deposit reported on.
    pub blueprint: BlueprintRef,
    /// The deviations document, as `blueprint diff --format json` wrote it.
    pub deviations: Value,
    /// Digests of the files the deviations were found in.
    pub evidence: Vec<EvidenceDigest>,
    /// Distinct classes of the deviations, in class order.
    pub classes: Vec<Class>,
    /// The derived verdict.
    pub verdict: ReportVerdict,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportPredicate {
    blueprint: BlueprintRef,
    deviations: Value,
    evidence: Vec<EvidenceDigest>,
    classes: Vec<String>,
    verdict: ReportVerdict,
}

impl DeviationReport {
    /// A report on `blueprint` from a deviations document: checks its shape,
    /// that it concerns this blueprint, and derives classes and verdict.
    pub fn new(
        blueprint: BlueprintRef,
        deviations: Value,
        evidence: Vec<EvidenceDigest>,
    ) -> Result<Self, ReportError> {
        check_evidence(&evidence)?;
        let (classes, verdict) = derive(&deviations, &blueprint)?;
        Ok(DeviationReport {
            blueprint,
            deviations,
            evidence,
            classes,
            verdict,
        })
    }

    /// True when some class is forfeit-worthy (a P class).
    pub fn has_forfeit_class(&self) -> bool {
        self.classes.iter().any(|c| c.forfeit_worthy())
    }

    /// The canonical statement bytes (the DSSE payload).
    pub fn payload(&self) -> Result<Vec<u8>, ReportError> {
        let predicate = ReportPredicate {
            blueprint: self.blueprint.clone(),
            deviations: self.deviations.clone(),
            evidence: self.evidence.clone(),
            classes: self.classes.iter().map(|c| c.code().to_owned()).collect(),
            verdict: self.verdict,
        };
        let statement = json!({
            "_type": STATEMENT_TYPE,
            "subject": [subject(&self.blueprint.id, &self.blueprint.digest)],
            "predicateType": REPORT_PREDICATE_TYPE,
            "predicate": serde_json::to_value(predicate).map_err(ReportError::Predicate)?,
        });
        Ok(canon::canonicalize(&statement)?)
    }

    /// Signs the report: the envelope and the report id.
    pub fn sign(&self, key: &SigningKeyFile) -> Result<(Envelope, Digest), ReportError> {
        let payload = self.payload()?;
        Ok((
            Envelope::sign(REPORT_PAYLOAD_TYPE, &payload, key),
            report_id(&payload),
        ))
    }
}

/// A report's id: `sha256:` of its canonical payload bytes.
pub fn report_id(payload: &[u8]) -> Digest {
    Digest::of_bytes(payload)
}

fn subject(name: &str, digest: &Digest) -> Value {
    json!({"name": name, "digest": {"sha256": digest.hex()}})
}

fn check_evidence(evidence: &[EvidenceDigest]) -> Result<(), ReportError> {
    if evidence.len() > MAX_EVIDENCE {
        return Err(ReportError::TooMany {
            what: "evidence files",
            found: evidence.len(),
            limit: MAX_EVIDENCE,
        });
    }
    for (i, e) in evidence.iter().enumerate() {
        if e.name.is_empty() || e.name.len() > MAX_NAME_BYTES {
            return Err(ReportError::Field {
                pointer: format!("/predicate/evidence/{i}/name"),
                expected: "a non-empty name of at most 256 bytes",
            });
        }
    }
    Ok(())
}

/// Classes and verdict of a deviations document, after checking it is one
/// `blueprint diff --format json` writes, about `blueprint`.
fn derive(
    deviations: &Value,
    blueprint: &BlueprintRef,
) -> Result<(Vec<Class>, ReportVerdict), ReportError> {
    let len = canon::canonicalize(deviations)?.len();
    if len > MAX_DEVIATIONS_BYTES {
        return Err(ReportError::TooLarge {
            len,
            limit: MAX_DEVIATIONS_BYTES,
        });
    }
    let bad = |pointer: &str, problem: &str| ReportError::Deviations {
        pointer: pointer.to_owned(),
        problem: problem.to_owned(),
    };
    if deviations.get("format").and_then(Value::as_str) != Some(REPORT_FORMAT) {
        return Err(bad("/format", &format!("expected {REPORT_FORMAT:?}")));
    }
    // The deviations must be about the reported deposit (when they say).
    if let Some(id) = deviations
        .pointer("/subject/blueprint_id")
        .and_then(Value::as_str)
        && id != blueprint.id
    {
        return Err(ReportError::WrongBlueprint {
            found: format!("blueprint {id:?}"),
            expected: format!("{:?}", blueprint.id),
        });
    }
    if let Some(version) = deviations
        .pointer("/subject/blueprint_version")
        .and_then(Value::as_u64)
        && version != blueprint.version
    {
        return Err(ReportError::WrongBlueprint {
            found: format!("version {version}"),
            expected: format!("version {}", blueprint.version),
        });
    }
    let list = deviations
        .get("deviations")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("/deviations", "expected an array"))?;
    if list.len() > MAX_DEVIATIONS {
        return Err(ReportError::TooMany {
            what: "deviations",
            found: list.len(),
            limit: MAX_DEVIATIONS,
        });
    }
    let mut classes = BTreeSet::new();
    for (i, d) in list.iter().enumerate() {
        let code = d.get("class").and_then(Value::as_str);
        let class = code.and_then(Class::parse).ok_or_else(|| {
            bad(
                &format!("/deviations/{i}/class"),
                "expected a class code P1..P13 or M1..M9",
            )
        })?;
        if d.get("forfeit_worthy").and_then(Value::as_bool) != Some(class.forfeit_worthy()) {
            return Err(bad(
                &format!("/deviations/{i}/forfeit_worthy"),
                &format!(
                    "must be {} for class {}",
                    class.forfeit_worthy(),
                    class.code()
                ),
            ));
        }
        classes.insert(class);
    }
    let gaps = deviations
        .get("insufficient_evidence")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("/insufficient_evidence", "expected an array"))?;
    let classes: Vec<Class> = classes.into_iter().collect();
    let forfeit = classes.iter().any(|c| c.forfeit_worthy());
    // The diff's own verdict order: forfeit-worthy wins, then missing
    // evidence, then minor, then nothing.
    let (verdict, diff_verdict) = if forfeit {
        (ReportVerdict::Deviations, "forfeit-worthy")
    } else if !gaps.is_empty() {
        (ReportVerdict::Insufficient, "insufficient-evidence")
    } else if classes.is_empty() {
        (ReportVerdict::None, "matches")
    } else {
        (ReportVerdict::Deviations, "minor-only")
    };
    if deviations.get("verdict").and_then(Value::as_str) != Some(diff_verdict) {
        return Err(bad(
            "/verdict",
            &format!("the deviations listed make the verdict {diff_verdict:?}"),
        ));
    }
    Ok((classes, verdict))
}

/// Parses a statement's envelope-independent frame: canonical JSON, in-toto
/// `_type`, the expected `predicateType`, exactly one subject. Returns the
/// statement, the subject name and digest.
fn parse_frame(
    payload: &[u8],
    predicate_type: &'static str,
) -> Result<(Value, String, Digest), ReportError> {
    let v: Value = serde_json::from_slice(payload).map_err(ReportError::NotJson)?;
    if canon::canonicalize(&v)? != payload {
        return Err(ReportError::NonCanonical);
    }
    let field = |pointer: &str, expected| ReportError::Field {
        pointer: pointer.to_owned(),
        expected,
    };
    if v.get("_type").and_then(Value::as_str) != Some(STATEMENT_TYPE) {
        return Err(field("/_type", STATEMENT_TYPE));
    }
    match v.get("predicateType").and_then(Value::as_str) {
        Some(t) if t == predicate_type => {}
        Some(t) => {
            return Err(ReportError::PredicateType {
                found: t.to_owned(),
                expected: predicate_type,
            });
        }
        None => return Err(field("/predicateType", "a string")),
    }
    let obj = v.as_object().ok_or(field("", "an object"))?;
    if let Some(extra) = obj.keys().find(|k| {
        !matches!(
            k.as_str(),
            "_type" | "subject" | "predicateType" | "predicate"
        )
    }) {
        return Err(field(&format!("/{extra}"), "no such member"));
    }
    let (name, digest) = statement::single_subject(&v).map_err(|(p, e)| field(p, e))?;
    let name = name.to_owned();
    Ok((v, name, digest))
}

/// Parses and checks canonical report statement bytes: the frame, the
/// predicate's shape and bounds, and that the recorded classes and verdict
/// are exactly those its deviations show.
pub fn parse_report(payload: &[u8]) -> Result<DeviationReport, ReportError> {
    let (mut v, name, digest) = parse_frame(payload, REPORT_PREDICATE_TYPE)?;
    let predicate: ReportPredicate =
        serde_json::from_value(v["predicate"].take()).map_err(ReportError::Predicate)?;
    if name != predicate.blueprint.id || digest != predicate.blueprint.digest {
        return Err(ReportError::SubjectMismatch {
            subject: format!("{name} {digest}"),
            predicate: format!("{} {}", predicate.blueprint.id, predicate.blueprint.digest),
        });
    }
    let report = DeviationReport::new(
        predicate.blueprint,
        predicate.deviations,
        predicate.evidence,
    )?;
    let recorded = predicate.classes.join(",");
    let derived = report
        .classes
        .iter()
        .map(|c| c.code())
        .collect::<Vec<_>>()
        .join(",");
    if recorded != derived {
        return Err(ReportError::Underived {
            what: "classes",
            recorded,
            derived,
        });
    }
    if predicate.verdict != report.verdict {
        return Err(ReportError::Underived {
            what: "verdict",
            recorded: predicate.verdict.as_str().to_owned(),
            derived: report.verdict.as_str().to_owned(),
        });
    }
    Ok(report)
}

/// A report envelope checked against the registered member keys.
#[derive(Debug, Clone)]
pub struct VerifiedReport {
    /// The report's id.
    pub id: Digest,
    /// Its content.
    pub report: DeviationReport,
    /// Distinct member keys whose signatures verify, in envelope order.
    pub signers: Vec<KeyId>,
}

/// Verifies a report envelope: at least one signature by one of `members`
/// (strict Ed25519 over the recomputed PAE; keyid hints only order the
/// search) and a valid report statement.
pub fn verify_report(
    envelope: &Envelope,
    members: &[PublicKey],
) -> Result<VerifiedReport, ReportError> {
    let verified = dsse::verify(
        envelope,
        REPORT_PAYLOAD_TYPE,
        members,
        std::num::NonZeroUsize::MIN,
    )?;
    let report = parse_report(&verified.payload)?;
    Ok(VerifiedReport {
        id: report_id(&verified.payload),
        report,
        signers: verified.signers,
    })
}

/// A co-signature: `key`'s signature over the envelope's PAE, as `sign
/// --append` would add it. Refused when `key` already signed the envelope.
pub fn cosign(envelope: &Envelope, key: &SigningKeyFile) -> Result<EnvelopeSignature, Rejection> {
    let mut copy = envelope.clone();
    copy.append_signature(key)?;
    copy.signatures
        .pop()
        .ok_or(Rejection::AlreadySigned { keyid: key.id() })
}

/// True when `signature` (base64) is `key`'s strict Ed25519 signature over
/// the envelope's recomputed PAE.
pub fn verify_detached(envelope: &Envelope, signature: &str, key: &PublicKey) -> bool {
    let (Ok(payload), Some(sig)) = (envelope.payload_bytes(), dsse::decode_base64(signature))
    else {
        return false;
    };
    dsse::verify_raw(
        &key.to_bytes(),
        &dsse::pae(&envelope.payload_type, &payload),
        &sig,
    )
}

/// A vendor's answer to a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rebuttal {
    /// The report answered.
    #[serde(with = "digest_string")]
    pub report_id: Digest,
    /// The deposit the report is about.
    pub blueprint: BlueprintRef,
    /// The vendor's statement (at most [`MAX_REBUTTAL_BYTES`]).
    pub statement: String,
    /// Digests of the files the vendor offers.
    pub evidence: Vec<EvidenceDigest>,
}

impl Rebuttal {
    /// Checks bounds: a non-empty statement of bounded length, bounded evidence.
    pub fn check(&self) -> Result<(), ReportError> {
        if self.statement.trim().is_empty() || self.statement.len() > MAX_REBUTTAL_BYTES {
            return Err(ReportError::Field {
                pointer: "/predicate/statement".into(),
                expected: "a non-empty text of at most 16 KiB",
            });
        }
        check_evidence(&self.evidence)
    }

    /// The canonical statement bytes.
    pub fn payload(&self) -> Result<Vec<u8>, ReportError> {
        self.check()?;
        let statement = json!({
            "_type": STATEMENT_TYPE,
            "subject": [subject(&self.report_id.to_string(), &self.report_id)],
            "predicateType": REBUTTAL_PREDICATE_TYPE,
            "predicate": serde_json::to_value(self).map_err(ReportError::Predicate)?,
        });
        Ok(canon::canonicalize(&statement)?)
    }

    /// Signs the rebuttal with the vendor key.
    pub fn sign(&self, key: &SigningKeyFile) -> Result<Envelope, ReportError> {
        Ok(Envelope::sign(REBUTTAL_PAYLOAD_TYPE, &self.payload()?, key))
    }
}

/// Parses and checks canonical rebuttal statement bytes.
pub fn parse_rebuttal(payload: &[u8]) -> Result<Rebuttal, ReportError> {
    let (mut v, name, digest) = parse_frame(payload, REBUTTAL_PREDICATE_TYPE)?;
    let rebuttal: Rebuttal =
        serde_json::from_value(v["predicate"].take()).map_err(ReportError::Predicate)?;
    if name != rebuttal.report_id.to_string() || digest != rebuttal.report_id {
        return Err(ReportError::SubjectMismatch {
            subject: format!("{name} {digest}"),
            predicate: rebuttal.report_id.to_string(),
        });
    }
    rebuttal.check()?;
    Ok(rebuttal)
}

/// Verifies a rebuttal envelope against the vendor's pinned key.
pub fn verify_rebuttal(envelope: &Envelope, vendor: &PublicKey) -> Result<Rebuttal, ReportError> {
    let verified = dsse::verify(
        envelope,
        REBUTTAL_PAYLOAD_TYPE,
        std::slice::from_ref(vendor),
        std::num::NonZeroUsize::MIN,
    )?;
    parse_rebuttal(&verified.payload)
}

/// `sha256:<hex>` strings for [`Digest`] fields.
mod digest_string {
    use crate::attest::canon::Digest;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Digest, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        // Lower-case only: one digest, one spelling (the payload is canonical).
        if s.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(serde::de::Error::custom("digest must be lower-case"));
        }
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
pub(crate) mod tests;
