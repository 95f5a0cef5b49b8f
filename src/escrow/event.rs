//! Registry events: every entry of the escrow log is one event, stored as the
//! RFC 8785 (JCS) bytes of a JSON object with `"v": 1`, a `"type"` and a
//! `"time"` (RFC 3339 UTC, whole seconds), plus the fields of its type.
//!
//! Decoding is strict: the bytes are bounded before parsing, every object is
//! closed (unknown members refused), and the decoded event must re-encode to
//! exactly the same bytes, so one event has exactly one encoding and a log
//! entry can never carry data the registry did not look at.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::attest::canon::{self, CanonError, Digest};
use crate::attest::dsse::{self, Envelope};
use crate::attest::keys::{KeyId, PublicKey};

/// Format version of every event (`"v"`).
pub const EVENT_VERSION: u64 = 1;

/// Largest entry accepted: a deposit carries a whole DSSE envelope, so the
/// bound is the envelope's own limit plus room for the event's other members.
pub const MAX_EVENT_BYTES: usize = dsse::MAX_ENVELOPE_BYTES + 1024 * 1024;

/// Longest free-text member (names, reasons, origins) in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;

/// Why bytes are not a registry event.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// Over [`MAX_EVENT_BYTES`]; not parsed.
    #[error("entry is {len} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a JSON object.
    #[error("entry is not a JSON object: {0}")]
    NotJson(#[source] serde_json::Error),
    /// `"v"` is missing or not 1.
    #[error("entry has no `\"v\": 1` (unsupported event format)")]
    Version,
    /// `"type"` is missing or names no known event.
    #[error("entry has an unknown or missing `type`: {0:?}")]
    UnknownType(String),
    /// A member of the event is missing, extra or malformed.
    #[error("`{kind}` event is malformed: {source}")]
    Fields {
        /// The event type.
        kind: &'static str,
        /// What serde said (names the member).
        #[source]
        source: serde_json::Error,
    },
    /// The bytes decode but are not the canonical encoding of the event.
    #[error("entry is not the canonical RFC 8785 encoding of its event")]
    NotCanonical,
    /// The event cannot be canonicalized.
    #[error(transparent)]
    Canon(#[from] CanonError),
}

/// An RFC 3339 UTC time with whole seconds, written `YYYY-MM-DDTHH:MM:SSZ`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime(i64);

const TIME_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// Why a time string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an RFC 3339 UTC time with whole seconds (YYYY-MM-DDTHH:MM:SSZ)")]
pub struct TimeError(pub String);

impl EventTime {
    /// Seconds since the Unix epoch.
    pub fn from_unix(secs: i64) -> Option<Self> {
        let t = time::OffsetDateTime::from_unix_timestamp(secs).ok()?;
        (t.year() >= 1970 && t.year() <= 9999).then_some(EventTime(secs))
    }

    /// The current time, truncated to seconds.
    pub fn now() -> Self {
        EventTime(time::OffsetDateTime::now_utc().unix_timestamp())
    }

    /// Parses the canonical form, or any RFC 3339 time (an offset is
    /// converted to UTC; fractional seconds are refused, not rounded).
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let err = || TimeError(s.to_owned());
        let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .map_err(|_| err())?;
        if t.nanosecond() != 0 {
            return Err(err());
        }
        Self::from_unix(t.unix_timestamp()).ok_or_else(err)
    }

    /// Parses only the canonical form (used when decoding entries).
    fn parse_canonical(s: &str) -> Result<Self, TimeError> {
        let t = Self::parse(s)?;
        if t.to_string() != s {
            return Err(TimeError(s.to_owned()));
        }
        Ok(t)
    }

    /// Seconds since the Unix epoch.
    pub fn unix(self) -> i64 {
        self.0
    }

    /// The UTC calendar date.
    pub fn date(self) -> time::Date {
        self.datetime().date()
    }

    fn datetime(self) -> time::OffsetDateTime {
        // Constructed only from in-range timestamps.
        time::OffsetDateTime::from_unix_timestamp(self.0)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }
}

impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.datetime().format(TIME_FORMAT) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl fmt::Debug for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for EventTime {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for EventTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse_canonical(&s).map_err(D::Error::custom)
    }
}

/// A calendar date written `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub time::Date);

const DAY_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day]");

impl Day {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let d = time::Date::parse(s, DAY_FORMAT).ok()?;
        (s.len() == 10).then_some(Day(d))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(DAY_FORMAT) {
            Ok(s) => f.write_str(&s),
            Err(_) => Err(fmt::Error),
        }
    }
}

impl fmt::Debug for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Day::parse(&s).ok_or_else(|| D::Error::custom(format!("{s:?} is not a YYYY-MM-DD date")))
    }
}

/// A bond amount: a decimal string `^[0-9]{1,15}(\.[0-9]{1,4})?$` (never a
/// float, so no amount is ever rounded).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Amount(String);

impl Amount {
    /// Parses and checks the decimal form.
    pub fn parse(s: &str) -> Option<Self> {
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        let digits = |p: &str, max: usize| {
            !p.is_empty() && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit())
        };
        (digits(int, 15) && frac.is_none_or(|f| digits(f, 4))).then(|| Amount(s.to_owned()))
    }

    /// The decimal string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISO 4217 alphabetic currency code (`^[A-Z]{3}$`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Currency(String);

impl Currency {
    /// Parses three upper-case ASCII letters.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())).then(|| Currency(s.to_owned()))
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! string_newtype_serde {
    ($t:ty, $what:literal) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse(&s).ok_or_else(|| D::Error::custom(format!("{s:?} is not {}", $what)))
            }
        }
    };
}

string_newtype_serde!(Amount, "a decimal amount (up to 15 digits, 4 decimals)");
string_newtype_serde!(Currency, "an ISO 4217 currency code");

/// A bond deposited with a blueprint version.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bond {
    /// Decimal amount.
    pub amount: Amount,
    /// ISO 4217 code.
    pub currency: Currency,
}

/// Serde for [`KeyId`] as `sha256:<hex>`.
pub mod keyid_serde {
    use super::*;

    /// Writes `sha256:<hex>`.
    pub fn serialize<S: Serializer>(k: &KeyId, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("sha256:{k}"))
    }

    /// Reads `sha256:<hex>`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<KeyId, D::Error> {
        let s = String::deserialize(d)?;
        parse_keyid(&s).ok_or_else(|| D::Error::custom(format!("{s:?} is not sha256:<hex> keyid")))
    }
}

/// Parses a keyid written `sha256:<64 lower-case hex>`.
pub fn parse_keyid(s: &str) -> Option<KeyId> {
    Digest::from_str(s).ok().map(|d| KeyId(d.0))
}

/// A keyid written `sha256:<hex>`.
pub fn keyid_string(k: &KeyId) -> String {
    format!("sha256:{k}")
}

/// Serde for [`PublicKey`] as base64 of the raw 32 bytes (weak keys refused).
pub mod public_key_serde {
    use super::*;

    /// Writes base64 of the raw key.
    pub fn serialize<S: Serializer>(k: &PublicKey, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(k.to_bytes()))
    }

    /// Reads base64 of a raw 32-byte Ed25519 key; small-order keys refused.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PublicKey, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD
            .decode(&s)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| PublicKey::from_bytes(&b))
            .ok_or_else(|| D::Error::custom("public_key is not base64 of a valid Ed25519 key"))
    }
}

/// Serde for [`Digest`] as `sha256:<hex>`.
pub mod digest_serde {
    use super::*;

    /// Writes `sha256:<hex>`.
    pub fn serialize<S: Serializer>(d: &Digest, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(d)
    }

    /// Reads `sha256:<hex>`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(d)?;
        Digest::from_str(&s).map_err(D::Error::custom)
    }
}

/// A list of digests (`["sha256:<hex>", ...]`).
mod digests_serde {
    use super::*;

    pub fn serialize<S: Serializer>(v: &[Digest], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|d| d.to_string()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Digest>, D::Error> {
        Vec::<String>::deserialize(d)?
            .iter()
            .map(|s| Digest::from_str(s).map_err(D::Error::custom))
            .collect()
    }
}

/// A 64-byte Ed25519 signature written in standard base64.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SignatureBytes(pub [u8; 64]);

impl fmt::Debug for SignatureBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SignatureBytes({})", STANDARD.encode(self.0))
    }
}

impl Serialize for SignatureBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(self.0))
    }
}

impl<'de> Deserialize<'de> for SignatureBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD
            .decode(&s)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(SignatureBytes)
            .ok_or_else(|| D::Error::custom("signature is not base64 of 64 bytes"))
    }
}

/// Free text bounded by [`MAX_TEXT_BYTES`], without control characters.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Text(String);

impl Text {
    /// Checks length and characters.
    pub fn parse(s: &str) -> Option<Self> {
        (!s.is_empty() && s.len() <= MAX_TEXT_BYTES && !s.chars().any(char::is_control))
            .then(|| Text(s.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_newtype_serde!(
    Text,
    "non-empty text of at most 1024 bytes without control characters"
);

/// `init`: entry 0, written by the operator at `registry init`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitEvent {
    /// The log's origin line (C2SP checkpoint origin).
    pub origin: Text,
    /// The log's checkpoint-signing key.
    #[serde(with = "public_key_serde")]
    pub log_public_key: PublicKey,
    /// Its keyid.
    #[serde(with = "keyid_serde")]
    pub log_keyid: KeyId,
    /// Distinct registered member keys a report (or a rebuttal acceptance)
    /// needs.
    pub quorum: u32,
    /// Days the vendor has to rebut a report.
    pub window_days: u32,
}

/// Roles a registered member can hold.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberRole {
    /// A testing laboratory.
    Lab,
    /// A regulator or data-protection authority.
    Regulator,
    /// An independent auditor.
    Auditor,
}

impl MemberRole {
    /// The role as written in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Lab => "lab",
            MemberRole::Regulator => "regulator",
            MemberRole::Auditor => "auditor",
        }
    }
}

/// `member`: the operator registers a member key.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberEvent {
    /// Display name.
    pub name: Text,
    /// Role.
    pub role: MemberRole,
    /// The member's key.
    #[serde(with = "public_key_serde")]
    pub public_key: PublicKey,
    /// Its keyid (must match `public_key`).
    #[serde(with = "keyid_serde")]
    pub keyid: KeyId,
}

/// What validation found when the registry re-validated a deposit.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositValidation {
    /// Evaluation date (the deposit's date).
    pub as_of: Day,
    /// Error-level findings (always 0 in a deposit).
    pub errors: u64,
    /// Warnings.
    pub warnings: u64,
    /// Profiles applied.
    pub profiles: Vec<String>,
}

/// `deposit`: a vendor-signed blueprint version with its bond.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositEvent {
    /// `blueprint.id` of the manifest.
    pub blueprint_id: String,
    /// `blueprint.version` of the manifest.
    pub version: u64,
    /// Digest of the canonical manifest (the statement's subject digest).
    #[serde(with = "digest_serde")]
    pub digest: Digest,
    /// The statement's subject name (`vendor/model`).
    pub subject: String,
    /// Keyid of the (pinned) vendor key that signed.
    #[serde(with = "keyid_serde")]
    pub vendor_keyid: KeyId,
    /// The vendor key.
    #[serde(with = "public_key_serde")]
    pub vendor_public_key: PublicKey,
    /// The DSSE envelope as deposited.
    pub envelope: Envelope,
    /// The bond.
    pub bond: Bond,
    /// `security.support_period.end_date`, if the manifest states one.
    pub support_end: Option<Day>,
    /// Index of the previous version's deposit entry.
    pub supersedes: Option<u64>,
    /// The registry's own validation at deposit time.
    pub validation: DepositValidation,
}

/// `rotate`: the vendor key of a blueprint id changes; signed by the old key.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RotateEvent {
    /// The blueprint id whose vendor key changes.
    pub blueprint_id: String,
    /// The key pinned until now.
    #[serde(with = "keyid_serde")]
    pub old_keyid: KeyId,
    /// The new key's keyid.
    #[serde(with = "keyid_serde")]
    pub new_keyid: KeyId,
    /// The new key.
    #[serde(with = "public_key_serde")]
    pub new_public_key: PublicKey,
    /// DSSE envelope over a rotation statement, signed by the old key.
    pub envelope: Envelope,
}

/// A report's verdict on the evidence.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The evidence shows deviations.
    Deviations,
    /// The evidence is insufficient to decide.
    Insufficient,
    /// No deviation found.
    None,
}

/// `report`: a member files a deviation report.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportEvent {
    /// Digest of the report statement payload.
    #[serde(with = "digest_serde")]
    pub report_id: Digest,
    /// The blueprint reported on.
    pub blueprint_id: String,
    /// Its version.
    pub version: u64,
    /// Its digest.
    #[serde(with = "digest_serde")]
    pub blueprint_digest: Digest,
    /// Digests of the evidence files.
    #[serde(with = "digests_serde")]
    pub evidence_digests: Vec<Digest>,
    /// Deviation classes found (`P1`..`P13`, `M1`..`M9`).
    pub classes: Vec<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// The member-signed DSSE envelope of the report statement.
    pub envelope: Envelope,
}

/// `cosign`: another member signs a filed report.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CosignEvent {
    /// The report.
    #[serde(with = "digest_serde")]
    pub report_id: Digest,
    /// The co-signing member key.
    #[serde(with = "keyid_serde")]
    pub keyid: KeyId,
    /// Ed25519 over the report envelope's PAE.
    pub signature: SignatureBytes,
}

/// `rebuttal`: the vendor answers a report.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebuttalEvent {
    /// The report.
    #[serde(with = "digest_serde")]
    pub report_id: Digest,
    /// DSSE envelope by the pinned vendor key.
    pub envelope: Envelope,
}

/// `rebuttal_accept`: a member accepts a rebuttal.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RebuttalAcceptEvent {
    /// The report whose rebuttal is accepted.
    #[serde(with = "digest_serde")]
    pub report_id: Digest,
    /// The accepting member key.
    #[serde(with = "keyid_serde")]
    pub keyid: KeyId,
    /// Ed25519 over the rebuttal envelope's PAE.
    pub signature: SignatureBytes,
}

/// The outcome of a ruling.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The bond is forfeited.
    Forfeit,
    /// The report is dismissed.
    Dismissed,
}

/// `ruling`: the outcome the rule computes for a report.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RulingEvent {
    /// The report ruled on.
    #[serde(with = "digest_serde")]
    pub report_id: Digest,
    /// Forfeit or dismissed.
    pub outcome: Outcome,
    /// Why.
    pub reason: Text,
    /// The rule version that decided.
    pub decided_by: Text,
}

/// `release`: a deposit's bond is released.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseEvent {
    /// The blueprint id.
    pub blueprint_id: String,
    /// The deposited version released.
    pub version: u64,
}

/// The type-specific part of an event.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum EventKind {
    /// `init`.
    Init(InitEvent),
    /// `member`.
    Member(MemberEvent),
    /// `deposit`.
    Deposit(Box<DepositEvent>),
    /// `rotate`.
    Rotate(RotateEvent),
    /// `report`.
    Report(Box<ReportEvent>),
    /// `cosign`.
    Cosign(CosignEvent),
    /// `rebuttal`.
    Rebuttal(RebuttalEvent),
    /// `rebuttal_accept`.
    RebuttalAccept(RebuttalAcceptEvent),
    /// `ruling`.
    Ruling(RulingEvent),
    /// `release`.
    Release(ReleaseEvent),
}

impl EventKind {
    /// The `"type"` string.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::Init(_) => "init",
            EventKind::Member(_) => "member",
            EventKind::Deposit(_) => "deposit",
            EventKind::Rotate(_) => "rotate",
            EventKind::Report(_) => "report",
            EventKind::Cosign(_) => "cosign",
            EventKind::Rebuttal(_) => "rebuttal",
            EventKind::RebuttalAccept(_) => "rebuttal_accept",
            EventKind::Ruling(_) => "ruling",
            EventKind::Release(_) => "release",
        }
    }
}

/// One registry event: one log entry.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Event {
    /// When the event was recorded.
    pub time: EventTime,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// The JCS bytes of the event (the log entry).
    pub fn encode(&self) -> Result<Vec<u8>, EventError> {
        let body = match &self.kind {
            EventKind::Init(e) => serde_json::to_value(e),
            EventKind::Member(e) => serde_json::to_value(e),
            EventKind::Deposit(e) => serde_json::to_value(e),
            EventKind::Rotate(e) => serde_json::to_value(e),
            EventKind::Report(e) => serde_json::to_value(e),
            EventKind::Cosign(e) => serde_json::to_value(e),
            EventKind::Rebuttal(e) => serde_json::to_value(e),
            EventKind::RebuttalAccept(e) => serde_json::to_value(e),
            EventKind::Ruling(e) => serde_json::to_value(e),
            EventKind::Release(e) => serde_json::to_value(e),
        }
        .map_err(|source| EventError::Fields {
            kind: self.kind.type_name(),
            source,
        })?;
        let Value::Object(mut object) = body else {
            return Err(EventError::NotCanonical);
        };
        object.insert("v".into(), Value::from(EVENT_VERSION));
        object.insert("type".into(), Value::from(self.kind.type_name()));
        object.insert("time".into(), Value::from(self.time.to_string()));
        Ok(canon::canonicalize(&Value::Object(object))?)
    }

    /// Strictly decodes a log entry: bounded, closed, canonical.
    pub fn decode(bytes: &[u8]) -> Result<Self, EventError> {
        if bytes.len() > MAX_EVENT_BYTES {
            return Err(EventError::TooLarge {
                len: bytes.len(),
                limit: MAX_EVENT_BYTES,
            });
        }
        let mut object: Map<String, Value> =
            serde_json::from_slice(bytes).map_err(EventError::NotJson)?;
        if object.remove("v") != Some(Value::from(EVENT_VERSION)) {
            return Err(EventError::Version);
        }
        let kind = match object.remove("type") {
            Some(Value::String(s)) => s,
            other => return Err(EventError::UnknownType(format!("{other:?}"))),
        };
        let time = match object.remove("time") {
            Some(Value::String(s)) => {
                EventTime::parse_canonical(&s).map_err(|e| EventError::Fields {
                    kind: "event",
                    source: serde_json::Error::custom(e),
                })?
            }
            _ => {
                return Err(EventError::Fields {
                    kind: "event",
                    source: serde_json::Error::custom("missing `time`"),
                });
            }
        };
        let body = Value::Object(object);
        fn field<T: serde::de::DeserializeOwned>(
            kind: &'static str,
            v: Value,
        ) -> Result<T, EventError> {
            serde_json::from_value(v).map_err(|source| EventError::Fields { kind, source })
        }
        let kind = match kind.as_str() {
            "init" => EventKind::Init(field("init", body)?),
            "member" => EventKind::Member(field("member", body)?),
            "deposit" => EventKind::Deposit(Box::new(field("deposit", body)?)),
            "rotate" => EventKind::Rotate(field("rotate", body)?),
            "report" => EventKind::Report(Box::new(field("report", body)?)),
            "cosign" => EventKind::Cosign(field("cosign", body)?),
            "rebuttal" => EventKind::Rebuttal(field("rebuttal", body)?),
            "rebuttal_accept" => EventKind::RebuttalAccept(field("rebuttal_accept", body)?),
            "ruling" => EventKind::Ruling(field("ruling", body)?),
            "release" => EventKind::Release(field("release", body)?),
            _ => return Err(EventError::UnknownType(kind)),
        };
        let event = Event { time, kind };
        // One event, one encoding: anything serde ignored or normalised
        // (unknown envelope members, upper-case hex, padding, key order)
        // makes the bytes differ.
        if event.encode()? != bytes {
            return Err(EventError::NotCanonical);
        }
        Ok(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::keys::SigningKeyFile;

    fn key(seed: u8) -> SigningKeyFile {
        SigningKeyFile::from_seed(&[seed; 32])
    }

    fn t(s: &str) -> EventTime {
        EventTime::parse(s).unwrap()
    }

    fn member() -> Event {
        let k = key(3).public();
        Event {
            time: t("2026-12-03T10:00:00Z"),
            kind: EventKind::Member(MemberEvent {
                name: Text::parse("Lab One").unwrap(),
                role: MemberRole::Lab,
                public_key: k,
                keyid: k.id(),
            }),
        }
    }

    #[test]
    fn member_event_round_trips_canonically() {
        let e = member();
        let bytes = e.encode().unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.starts_with("{\"keyid\":\"sha256:"), "{text}");
        assert!(text.contains("\"time\":\"2026-12-03T10:00:00Z\",\"type\":\"member\",\"v\":1}"));
        assert_eq!(Event::decode(&bytes).unwrap(), e);
    }

    #[test]
    fn every_kind_round_trips() {
        let k = key(4);
        let env = Envelope::sign("application/x-test", b"{}", &k);
        let d = Digest::of_bytes(b"x");
        let time = t("2026-12-03T10:00:00Z");
        let kinds = vec![
            EventKind::Init(InitEvent {
                origin: Text::parse("registry.example/log").unwrap(),
                log_public_key: k.public(),
                log_keyid: k.id(),
                quorum: 2,
                window_days: 30,
            }),
            EventKind::Deposit(Box::new(DepositEvent {
                blueprint_id: "acme".into(),
                version: 2,
                digest: d,
                subject: "Acme/Cam".into(),
                vendor_keyid: k.id(),
                vendor_public_key: k.public(),
                envelope: env.clone(),
                bond: Bond {
                    amount: Amount::parse("1000.50").unwrap(),
                    currency: Currency::parse("EUR").unwrap(),
                },
                support_end: Day::parse("2031-01-01"),
                supersedes: Some(1),
                validation: DepositValidation {
                    as_of: Day::parse("2026-12-03").unwrap(),
                    errors: 0,
                    warnings: 2,
                    profiles: vec!["eu-gdpr".into()],
                },
            })),
            EventKind::Rotate(RotateEvent {
                blueprint_id: "acme".into(),
                old_keyid: k.id(),
                new_keyid: key(5).id(),
                new_public_key: key(5).public(),
                envelope: env.clone(),
            }),
            EventKind::Report(Box::new(ReportEvent {
                report_id: d,
                blueprint_id: "acme".into(),
                version: 2,
                blueprint_digest: d,
                evidence_digests: vec![d, d],
                classes: vec!["P3".into()],
                verdict: Verdict::Deviations,
                envelope: env.clone(),
            })),
            EventKind::Cosign(CosignEvent {
                report_id: d,
                keyid: k.id(),
                signature: SignatureBytes([7; 64]),
            }),
            EventKind::Rebuttal(RebuttalEvent {
                report_id: d,
                envelope: env,
            }),
            EventKind::RebuttalAccept(RebuttalAcceptEvent {
                report_id: d,
                keyid: k.id(),
                signature: SignatureBytes([8; 64]),
            }),
            EventKind::Ruling(RulingEvent {
                report_id: d,
                outcome: Outcome::Forfeit,
                reason: Text::parse("quorum of 2 reached").unwrap(),
                decided_by: Text::parse("rule/v1").unwrap(),
            }),
            EventKind::Release(ReleaseEvent {
                blueprint_id: "acme".into(),
                version: 2,
            }),
        ];
        for kind in kinds {
            let e = Event { time, kind };
            let bytes = e.encode().unwrap();
            assert_eq!(Event::decode(&bytes).unwrap(), e, "{}", e.kind.type_name());
        }
    }

    #[test]
    fn non_canonical_or_open_entries_are_refused() {
        let bytes = member().encode().unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        assert!(matches!(
            Event::decode(&pretty),
            Err(EventError::NotCanonical)
        ));
        let mut extra = v.clone();
        extra["extra"] = Value::from(1);
        let extra = canon::canonicalize(&extra).unwrap();
        assert!(matches!(
            Event::decode(&extra),
            Err(EventError::Fields { kind: "member", .. })
        ));
        let mut upper = v.clone();
        let id = upper["keyid"]
            .as_str()
            .unwrap()
            .to_uppercase()
            .replace("SHA256", "sha256");
        upper["keyid"] = Value::from(id);
        let upper = canon::canonicalize(&upper).unwrap();
        assert!(Event::decode(&upper).is_err());
        let mut v2 = v.clone();
        v2["v"] = Value::from(2);
        assert!(matches!(
            Event::decode(&canon::canonicalize(&v2).unwrap()),
            Err(EventError::Version)
        ));
        let mut ty = v.clone();
        ty["type"] = Value::from("forfeit");
        assert!(matches!(
            Event::decode(&canon::canonicalize(&ty).unwrap()),
            Err(EventError::UnknownType(_))
        ));
        let mut frac = v;
        frac["time"] = Value::from("2026-12-03T10:00:00.5Z");
        assert!(Event::decode(&canon::canonicalize(&frac).unwrap()).is_err());
    }

    #[test]
    fn oversized_entries_are_refused_before_parsing() {
        let big = vec![b' '; MAX_EVENT_BYTES + 1];
        assert!(matches!(
            Event::decode(&big),
            Err(EventError::TooLarge { .. })
        ));
    }

    #[test]
    fn amounts_currencies_and_times() {
        for ok in ["0", "1000", "999999999999999", "1.5", "12.3456"] {
            assert!(Amount::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "1.",
            ".5",
            "1.23456",
            "1e3",
            "-1",
            "1000000000000000",
            "1,5",
        ] {
            assert!(Amount::parse(bad).is_none(), "{bad}");
        }
        assert!(Currency::parse("EUR").is_some());
        for bad in ["eur", "EURO", "E1R", ""] {
            assert!(Currency::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(
            t("2026-12-03T11:00:00+01:00").to_string(),
            "2026-12-03T10:00:00Z"
        );
        assert!(EventTime::parse("2026-12-03T10:00:00.1Z").is_err());
        assert!(EventTime::parse("2026-12-03").is_err());
    }
}
