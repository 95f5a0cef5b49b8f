//! DSSE envelopes (Dead Simple Signing Envelope, secure-systems-lab/dsse
//! `protocol.md` and `envelope.md`) with Ed25519 signatures.
//!
//! Verification follows the protocol exactly: the envelope is bounded in
//! size and signature count before it is parsed; the payload type is checked;
//! the PAE is recomputed from the decoded payload, never parsed; only strict
//! Ed25519 is used; the threshold counts distinct trusted keys, whatever the
//! `keyid` hints say; and the caller receives the verified payload bytes, the
//! only ones it should parse.

use std::fmt;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::Signature;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::attest::keys::{KeyId, PublicKey, SigningKeyFile};

/// Envelopes larger than this are refused before parsing (the manifest
/// loader's own limit plus room for the statement and signatures).
pub const MAX_ENVELOPE_BYTES: usize = 32 * 1024 * 1024;

/// More signatures than this are refused while parsing, before any is
/// decoded or verified.
pub const MAX_SIGNATURES: usize = 32;

/// A DSSE envelope (JSON form). Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Base64 of the payload bytes.
    pub payload: String,
    /// Media type of the payload, bound into every signature by the PAE.
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// Signatures over `PAE(payloadType, payload)`.
    #[serde(deserialize_with = "bounded_signatures")]
    pub signatures: Vec<EnvelopeSignature>,
}

/// One signature entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    /// Key id hint (hex SHA-256 of the signer's SPKI DER); optional in DSSE.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keyid: String,
    /// Base64 of the 64-byte Ed25519 signature.
    pub sig: String,
}

fn bounded_signatures<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<EnvelopeSignature>, D::Error> {
    struct Bounded;
    impl<'de> Visitor<'de> for Bounded {
        type Value = Vec<EnvelopeSignature>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "an array of at most {MAX_SIGNATURES} signatures")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = seq.next_element()? {
                if out.len() == MAX_SIGNATURES {
                    return Err(serde::de::Error::custom(TOO_MANY_SIGNATURES));
                }
                out.push(s);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Bounded)
}

const TOO_MANY_SIGNATURES: &str = "too many signatures";

/// DSSE v1 Pre-Authentication Encoding (protocol.md):
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in bytes as
/// ASCII decimal without leading zeros.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let t = payload_type.as_bytes();
    let mut out = Vec::with_capacity(t.len() + payload.len() + 32);
    out.extend_from_slice(b"DSSEv1 ");
    out.extend_from_slice(t.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(t);
    out.push(b' ');
    out.extend_from_slice(payload.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(payload);
    out
}

/// Standard base64 with padding, the form written into envelopes.
fn encode(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Accepts standard or URL-safe base64, padded or not (DSSE envelope.md).
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    const CFG: GeneralPurposeConfig =
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CFG);
    const URL: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CFG);
    STD.decode(s).or_else(|_| URL.decode(s)).ok()
}

impl Envelope {
    /// A new envelope over `payload` with one signature by `key`.
    pub fn sign(payload_type: &str, payload: &[u8], key: &SigningKeyFile) -> Self {
        let sig = key.sign(&pae(payload_type, payload));
        Envelope {
            payload: encode(payload),
            payload_type: payload_type.to_owned(),
            signatures: vec![EnvelopeSignature {
                keyid: key.id().to_string(),
                sig: encode(&sig.to_bytes()),
            }],
        }
    }

    /// Parses an envelope, enforcing [`MAX_ENVELOPE_BYTES`] before parsing
    /// and [`MAX_SIGNATURES`] during it.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Rejection> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(Rejection::TooLarge {
                len: bytes.len(),
                limit: MAX_ENVELOPE_BYTES,
            });
        }
        serde_json::from_slice(bytes).map_err(|e| {
            if e.to_string().starts_with(TOO_MANY_SIGNATURES) {
                Rejection::TooManySignatures {
                    limit: MAX_SIGNATURES,
                }
            } else {
                Rejection::Malformed(e)
            }
        })
    }

    /// Pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain strings into a Vec cannot fail.
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The decoded payload.
    pub fn payload_bytes(&self) -> Result<Vec<u8>, Rejection> {
        decode_base64(&self.payload).ok_or(Rejection::PayloadEncoding)
    }

    /// Adds a co-signature by `key` over the same PAE. Refused when `key`
    /// already has a valid signature here, or the envelope is full.
    pub fn append_signature(&mut self, key: &SigningKeyFile) -> Result<(), Rejection> {
        let payload = self.payload_bytes()?;
        let message = pae(&self.payload_type, &payload);
        let public = key.public();
        let already = self.signatures.iter().any(|s| {
            decode_signature(&s.sig).is_ok_and(|sig| public.verify_strict(&message, &sig))
        });
        if already {
            return Err(Rejection::AlreadySigned { keyid: key.id() });
        }
        if self.signatures.len() >= MAX_SIGNATURES {
            return Err(Rejection::TooManySignatures {
                limit: MAX_SIGNATURES,
            });
        }
        self.signatures.push(EnvelopeSignature {
            keyid: key.id().to_string(),
            sig: encode(&key.sign(&message).to_bytes()),
        });
        Ok(())
    }
}

/// Why an envelope was not verified.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// Over [`MAX_ENVELOPE_BYTES`]; not parsed.
    #[error("envelope is {len} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Over [`MAX_SIGNATURES`].
    #[error("envelope has more than {limit} signatures")]
    TooManySignatures {
        /// The limit.
        limit: usize,
    },
    /// Not a DSSE JSON envelope.
    #[error("not a DSSE envelope: {0}")]
    Malformed(#[source] serde_json::Error),
    /// `payloadType` is not the one the caller accepts (DSSE binds it into
    /// the signature; a valid signature over another type proves nothing
    /// about this one).
    #[error("payloadType is {found:?}, expected {expected:?}")]
    PayloadType {
        /// What the envelope says.
        found: String,
        /// What the caller accepts.
        expected: String,
    },
    /// The payload is not base64.
    #[error("payload is not valid base64")]
    PayloadEncoding,
    /// Fewer distinct trusted keys signed than required.
    #[error("threshold not met: {valid} distinct trusted key(s) signed, {required} required{}", SignatureNotes(.notes))]
    ThresholdNotMet {
        /// Distinct trusted keys with a valid signature.
        valid: usize,
        /// The threshold.
        required: usize,
        /// What was wrong with each signature that did not count.
        notes: Vec<SignatureNote>,
    },
    /// `sign --append` by a key that already signed.
    #[error("key {keyid} has already signed this envelope")]
    AlreadySigned {
        /// The signer.
        keyid: KeyId,
    },
}

/// Why one signature did not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureNote {
    /// Position in `signatures`.
    pub index: usize,
    /// The entry's keyid hint, as written.
    pub keyid: String,
    /// The reason.
    pub problem: SignatureProblem,
}

/// What was wrong with one signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureProblem {
    /// `sig` is not base64.
    Encoding,
    /// Not 64 bytes.
    Length(usize),
    /// S ≥ L: a malleated signature (RFC 8032 §5.1.7 requires S < L).
    NonCanonicalS,
    /// No trusted key verifies it; `hinted` says whether its keyid named a
    /// trusted key (the hint is never trusted).
    NoTrustedKey {
        /// The keyid named a trusted key.
        hinted: bool,
    },
    /// Verifies under a key that already counted.
    DuplicateKey(KeyId),
}

impl fmt::Display for SignatureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureProblem::Encoding => f.write_str("signature is not valid base64"),
            SignatureProblem::Length(n) => write!(f, "signature is {n} bytes, not 64"),
            SignatureProblem::NonCanonicalS => {
                f.write_str("non-canonical signature (S >= L): malleated")
            }
            SignatureProblem::NoTrustedKey { hinted: true } => f.write_str(
                "does not verify under the trusted key its keyid names, nor under any other trusted key",
            ),
            SignatureProblem::NoTrustedKey { hinted: false } => {
                f.write_str("does not verify under any trusted key")
            }
            SignatureProblem::DuplicateKey(k) => {
                write!(f, "another signature by key {k} already counted")
            }
        }
    }
}

struct SignatureNotes<'a>(&'a [SignatureNote]);

impl fmt::Display for SignatureNotes<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for n in self.0 {
            write!(f, "; signature #{}: {}", n.index, n.problem)?;
        }
        Ok(())
    }
}

/// The result of a successful verification.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The verified payload bytes: parse these and nothing else.
    pub payload: Vec<u8>,
    /// Distinct trusted keys that signed, in envelope order.
    pub signers: Vec<KeyId>,
    /// Signatures that did not count, with reasons.
    pub notes: Vec<SignatureNote>,
}

/// L, the order of the Ed25519 base point, little-endian (RFC 8032 §5.1).
const ORDER_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
];

/// True when the little-endian scalar `s` is below L.
fn scalar_is_canonical(s: &[u8]) -> bool {
    for i in (0..32).rev() {
        if s[i] != ORDER_L[i] {
            return s[i] < ORDER_L[i];
        }
    }
    false
}

fn decode_signature(b64: &str) -> Result<Signature, SignatureProblem> {
    parse_signature(&decode_base64(b64).ok_or(SignatureProblem::Encoding)?)
}

/// A 64-byte Ed25519 signature with S < L; anything else is refused before
/// any curve arithmetic.
pub fn parse_signature(raw: &[u8]) -> Result<Signature, SignatureProblem> {
    let bytes: [u8; 64] = raw
        .try_into()
        .map_err(|_| SignatureProblem::Length(raw.len()))?;
    if !scalar_is_canonical(&bytes[32..]) {
        return Err(SignatureProblem::NonCanonicalS);
    }
    Ok(Signature::from_bytes(&bytes))
}

/// The single-signature check every verification here uses: a non-weak
/// 32-byte public key, a canonical 64-byte signature, strict Ed25519. Used
/// directly by the Wycheproof and speccheck conformance checks.
pub fn verify_raw(public: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let Some(key) = <[u8; 32]>::try_from(public)
        .ok()
        .and_then(|pk| PublicKey::from_bytes(&pk))
    else {
        return false;
    };
    parse_signature(sig).is_ok_and(|sig| key.verify_strict(msg, &sig))
}

/// Verifies `envelope` against `trusted` keys: `payload_type` must match and
/// at least `threshold` distinct trusted keys must have a strictly valid
/// signature over the recomputed PAE. A key listed twice counts once; a
/// signature repeated counts once.
pub fn verify(
    envelope: &Envelope,
    payload_type: &str,
    trusted: &[PublicKey],
    threshold: std::num::NonZeroUsize,
) -> Result<Verified, Rejection> {
    if envelope.payload_type != payload_type {
        return Err(Rejection::PayloadType {
            found: envelope.payload_type.clone(),
            expected: payload_type.to_owned(),
        });
    }
    let payload = envelope.payload_bytes()?;
    // DSSE protocol.md: recompute the PAE from the decoded parts.
    let message = pae(payload_type, &payload);

    let mut keys: Vec<&PublicKey> = Vec::with_capacity(trusted.len());
    for k in trusted {
        if !keys.iter().any(|seen| seen.to_bytes() == k.to_bytes()) {
            keys.push(k);
        }
    }

    let mut signers: Vec<KeyId> = Vec::new();
    let mut notes = Vec::new();
    for (index, entry) in envelope.signatures.iter().enumerate() {
        let note = |problem| SignatureNote {
            index,
            keyid: entry.keyid.clone(),
            problem,
        };
        let sig = match decode_signature(&entry.sig) {
            Ok(sig) => sig,
            Err(p) => {
                notes.push(note(p));
                continue;
            }
        };
        // Try the hinted key first (cheap common case), then all others:
        // the hint only orders the search.
        let hinted = keys.iter().position(|k| k.id().to_string() == entry.keyid);
        let order = hinted
            .into_iter()
            .chain((0..keys.len()).filter(|&i| Some(i) != hinted));
        let mut found = None;
        for i in order {
            if keys[i].verify_strict(&message, &sig) {
                found = Some(keys[i].id());
                break;
            }
        }
        match found {
            Some(id) if signers.contains(&id) => {
                notes.push(note(SignatureProblem::DuplicateKey(id)))
            }
            Some(id) => signers.push(id),
            None => notes.push(note(SignatureProblem::NoTrustedKey {
                hinted: hinted.is_some(),
            })),
        }
    }
    if signers.len() < threshold.get() {
        return Err(Rejection::ThresholdNotMet {
            valid: signers.len(),
            required: threshold.get(),
            notes,
        });
    }
    Ok(Verified {
        payload,
        signers,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroUsize;

    const ONE: NonZeroUsize = NonZeroUsize::MIN;

    fn key(n: u8) -> SigningKeyFile {
        SigningKeyFile::from_seed(&[n; 32])
    }

    // DSSE protocol.md test vector.
    #[test]
    fn pae_known_answer() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
        // Lengths count bytes, not characters.
        assert_eq!(pae("ü/ü", "é".as_bytes()), "DSSEv1 5 ü/ü 2 é".as_bytes());
    }

    #[test]
    fn sign_then_verify() {
        let k = key(1);
        let env = Envelope::sign("t/x", b"{}", &k);
        let round = Envelope::from_json(&env.to_json()).unwrap();
        assert_eq!(round, env);
        let v = verify(&round, "t/x", &[k.public()], ONE).unwrap();
        assert_eq!(v.payload, b"{}");
        assert_eq!(v.signers, vec![k.id()]);
    }

    #[test]
    fn payload_type_is_bound() {
        let k = key(1);
        let mut env = Envelope::sign("t/x", b"{}", &k);
        assert!(matches!(
            verify(&env, "t/y", &[k.public()], ONE),
            Err(Rejection::PayloadType { .. })
        ));
        // Relabel the envelope: the signature no longer verifies.
        env.payload_type = "t/y".into();
        assert!(matches!(
            verify(&env, "t/y", &[k.public()], ONE),
            Err(Rejection::ThresholdNotMet { valid: 0, .. })
        ));
    }

    #[test]
    fn malleated_and_truncated_signatures_are_rejected() {
        let k = key(1);
        let env = Envelope::sign("t/x", b"{}", &k);
        let raw = decode_base64(&env.signatures[0].sig).unwrap();
        // S + L (little-endian addition).
        let mut malleated = raw.clone();
        let mut carry = 0u16;
        for i in 0..32 {
            let sum = malleated[32 + i] as u16 + ORDER_L[i] as u16 + carry;
            malleated[32 + i] = sum as u8;
            carry = sum >> 8;
        }
        let cases: Vec<(Vec<u8>, SignatureProblem)> = vec![
            (malleated, SignatureProblem::NonCanonicalS),
            (raw[..63].to_vec(), SignatureProblem::Length(63)),
            (
                [raw.clone(), vec![0]].concat(),
                SignatureProblem::Length(65),
            ),
        ];
        for (bytes, want) in cases {
            let mut e = env.clone();
            e.signatures[0].sig = encode(&bytes);
            match verify(&e, "t/x", &[k.public()], ONE) {
                Err(Rejection::ThresholdNotMet { notes, .. }) => {
                    assert_eq!(notes[0].problem, want)
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn url_safe_and_unpadded_base64_accepted() {
        let k = key(1);
        let mut env = Envelope::sign("t/x", b"\xfb\xff payload?", &k);
        let to_url = |s: &str| s.replace('+', "-").replace('/', "_").replace('=', "");
        env.payload = to_url(&env.payload);
        env.signatures[0].sig = to_url(&env.signatures[0].sig);
        assert!(verify(&env, "t/x", &[k.public()], ONE).is_ok());
    }

    #[test]
    fn a_refusal_names_each_signature_and_its_problem() {
        // `verify` prints this message: the reader learns which signature
        // failed and why, not only that the threshold was missed.
        let (a, b) = (key(1), key(2));
        let mut env = Envelope::sign("t/x", b"p", &a);
        env.append_signature(&b).unwrap();
        env.signatures[0].sig = "not base64!".into();
        let err = verify(&env, "t/x", &[a.public()], ONE).unwrap_err();
        assert_eq!(
            err.to_string(),
            "threshold not met: 0 distinct trusted key(s) signed, 1 required; \
             signature #0: signature is not valid base64; \
             signature #1: does not verify under any trusted key"
        );
    }

    #[test]
    fn threshold_counts_distinct_keys() {
        let (a, b, c) = (key(1), key(2), key(3));
        let two = NonZeroUsize::new(2).unwrap();
        let mut env = Envelope::sign("t/x", b"p", &a);
        // Same signature twice, and key A listed twice: still one key.
        env.signatures.push(env.signatures[0].clone());
        let dup = verify(&env, "t/x", &[a.public(), a.public(), b.public()], two);
        match dup {
            Err(Rejection::ThresholdNotMet {
                valid: 1, notes, ..
            }) => assert_eq!(notes[0].problem, SignatureProblem::DuplicateKey(a.id())),
            other => panic!("{other:?}"),
        }
        env.signatures.pop();
        // An untrusted key C claiming to be B by keyid does not count.
        let mut forged = env.clone();
        forged.append_signature(&c).unwrap();
        forged.signatures[1].keyid = b.id().to_string();
        match verify(&forged, "t/x", &[a.public(), b.public()], two) {
            Err(Rejection::ThresholdNotMet {
                valid: 1, notes, ..
            }) => assert_eq!(
                notes[0].problem,
                SignatureProblem::NoTrustedKey { hinted: true }
            ),
            other => panic!("{other:?}"),
        }
        // A real co-signature by B meets 2-of-3, even with a wrong hint.
        env.append_signature(&b).unwrap();
        env.signatures[1].keyid = c.id().to_string();
        let v = verify(&env, "t/x", &[a.public(), b.public(), c.public()], two).unwrap();
        assert_eq!(v.signers, vec![a.id(), b.id()]);
        assert!(matches!(
            env.append_signature(&b),
            Err(Rejection::AlreadySigned { .. })
        ));
    }

    /// The documented limits (docs/limits.md): 32 MiB and 32 signatures,
    /// and a wrong `signatures` member says what is expected.
    #[test]
    fn limits_are_the_documented_ones() {
        let at_limit = vec![b' '; 32 * 1024 * 1024];
        assert!(matches!(
            Envelope::from_json(&at_limit),
            Err(Rejection::Malformed(_))
        ));
        let not_a_list = br#"{"payload":"","payloadType":"t","signatures":5}"#;
        match Envelope::from_json(not_a_list) {
            Err(Rejection::Malformed(e)) => assert!(
                e.to_string().contains("an array of at most 32 signatures"),
                "{e}"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bounded_input() {
        let big = vec![b' '; MAX_ENVELOPE_BYTES + 1];
        assert!(matches!(
            Envelope::from_json(&big),
            Err(Rejection::TooLarge { .. })
        ));
        let sigs = vec![r#"{"sig":""}"#; MAX_SIGNATURES + 1].join(",");
        let json = format!(r#"{{"payload":"","payloadType":"t","signatures":[{sigs}]}}"#);
        assert!(matches!(
            Envelope::from_json(json.as_bytes()),
            Err(Rejection::TooManySignatures { .. })
        ));
        let ok = format!(
            r#"{{"payload":"","payloadType":"t","unknown":{{"x":1}},"signatures":[{}]}}"#,
            vec![r#"{"sig":"","extra":true}"#; MAX_SIGNATURES].join(",")
        );
        assert_eq!(
            Envelope::from_json(ok.as_bytes()).unwrap().signatures.len(),
            MAX_SIGNATURES
        );
    }

    #[test]
    fn wycheproof_ed25519_zero_mismatches() {
        use wycheproof::TestResult;
        use wycheproof::eddsa::{TestName, TestSet};
        let set = TestSet::load(TestName::Ed25519).unwrap();
        let mut total = 0;
        let mut mismatches = Vec::new();
        for group in &set.test_groups {
            for t in &group.tests {
                total += 1;
                let accepted = verify_raw(&group.key.pk, &t.msg, &t.sig);
                let expected = t.result == TestResult::Valid;
                if accepted != expected && t.result != TestResult::Acceptable {
                    mismatches.push(t.tc_id);
                }
            }
        }
        assert_eq!(total, set.number_of_tests);
        assert!(total >= 150, "{total}");
        assert_eq!(mismatches, Vec::<usize>::new());
    }
}
