//! Canonical bytes (RFC 8785, JSON Canonicalization Scheme) and the
//! `sha256:<hex>` digest of a blueprint.
//!
//! The writer works directly over [`serde_json::Value`]: object members are
//! emitted in UTF-16 code-unit order of their keys, numbers in ECMAScript
//! `Number.prototype.toString` form (`ryu-js`), strings with the minimal JSON
//! escaping of `JSON.stringify`. Nothing is re-parsed, so it runs at the speed
//! of plain serialization.
//!
//! The manifest loader already refuses values JCS cannot represent exactly;
//! this module refuses them again (defence in depth) with an error that names
//! the JSON pointer, and never rounds or writes `null` instead.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Number, Value};
use sha2::{Digest as _, Sha256};

use crate::diag::Diagnostic;

/// Largest integer magnitude an IEEE-754 double holds exactly: 2^53 − 1
/// (RFC 8785 §3.2.2.3, I-JSON RFC 7493 §2.2).
pub const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// A value that RFC 8785 cannot represent exactly.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CanonError {
    /// An integer outside ±(2^53 − 1), or a double JCS would write as one:
    /// a reader could not take it back exactly.
    #[error(
        "number {value} at `{pointer}` is an integer outside ±(2^53−1) and cannot be represented exactly"
    )]
    UnsafeInteger {
        /// JSON pointer of the value (`""` is the root).
        pointer: String,
        /// The number as serde_json writes it.
        value: String,
    },
    /// NaN or ±infinity have no JSON form.
    #[error("number at `{pointer}` is not finite (NaN or infinity has no JSON form)")]
    NonFinite {
        /// JSON pointer of the value.
        pointer: String,
    },
}

impl CanonError {
    /// JSON pointer of the offending value.
    pub fn pointer(&self) -> &str {
        match self {
            CanonError::UnsafeInteger { pointer, .. } | CanonError::NonFinite { pointer } => {
                pointer
            }
        }
    }

    /// Stable diagnostic code (`canon/unsafe-integer`, `canon/non-finite`).
    pub fn code(&self) -> &'static str {
        match self {
            CanonError::UnsafeInteger { .. } => "canon/unsafe-integer",
            CanonError::NonFinite { .. } => "canon/non-finite",
        }
    }

    /// The error as an error-level diagnostic carrying the pointer; the
    /// caller adds a label when it has the document's spans.
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error(self.code(), self.to_string())
            .with_pointer(self.pointer())
            .with_note("help: write the value as a string if it is an identifier, or use a number within ±9007199254740991")
    }

    /// Adds one path segment on the way out of the recursion, so the happy
    /// path never builds pointers.
    fn within(mut self, segment: Segment<'_>) -> Self {
        let p = match &mut self {
            CanonError::UnsafeInteger { pointer, .. } | CanonError::NonFinite { pointer } => {
                pointer
            }
        };
        let mut prefix = String::from("/");
        match segment {
            // RFC 6901 §3: `~` → `~0`, `/` → `~1`.
            Segment::Key(k) => prefix.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Segment::Index(i) => prefix.push_str(&i.to_string()),
        }
        prefix.push_str(p);
        *p = prefix;
        self
    }
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// RFC 8785 canonical bytes of `value`.
pub fn canonicalize(value: &Value) -> Result<Vec<u8>, CanonError> {
    let mut out = Vec::with_capacity(256);
    write_canonical(value, &mut out)?;
    Ok(out)
}

/// Appends the RFC 8785 canonical bytes of `value` to `out`. On error `out`
/// holds a partial, unusable prefix.
pub fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out).map_err(|e| e.within(Segment::Index(i)))?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(map, out)?,
    }
    Ok(())
}

/// RFC 8785 §3.2.3: members sorted by the UTF-16 code units of their keys.
fn write_object(map: &Map<String, Value>, out: &mut Vec<u8>) -> Result<(), CanonError> {
    let start = out.len();
    out.push(b'{');
    // serde_json's default map iterates in UTF-8 byte order, which is the
    // canonical order unless keys mix U+E000..U+FFFF with astral characters.
    // Write in iteration order while checking it; on the rare disorder (or
    // if `preserve_order` is ever switched on), rewind and sort.
    let mut prev: Option<&str> = None;
    let mut in_order = true;
    for (i, (k, v)) in map.iter().enumerate() {
        if let Some(p) = prev
            && utf16_cmp(p, k) != Ordering::Less
        {
            in_order = false;
            break;
        }
        prev = Some(k);
        write_member(i, k, v, out)?;
    }
    if !in_order {
        out.truncate(start + 1);
        let mut members: Vec<(&String, &Value)> = map.iter().collect();
        members.sort_unstable_by(|a, b| utf16_cmp(a.0, b.0));
        for (i, (k, v)) in members.into_iter().enumerate() {
            write_member(i, k, v, out)?;
        }
    }
    out.push(b'}');
    Ok(())
}

fn write_member(i: usize, k: &str, v: &Value, out: &mut Vec<u8>) -> Result<(), CanonError> {
    if i > 0 {
        out.push(b',');
    }
    write_string(k, out);
    out.push(b':');
    write_canonical(v, out).map_err(|e| e.within(Segment::Key(k)))
}

/// Compares two strings by UTF-16 code units (RFC 8785 §3.2.3).
///
/// UTF-8 byte order equals code-point order; UTF-16 order differs only when
/// the first differing characters are one in U+E000..=U+FFFF (UTF-8 lead
/// byte 0xEE or 0xEF) and the other astral (≥ U+10000, lead byte 0xF0..=0xF4,
/// encoded in UTF-16 with surrogates 0xD800..0xDFFF, which sort lower). Two
/// characters with different lead bytes differ at their first byte, so the
/// first differing byte decides, with that one case swapped.
pub fn utf16_cmp(a: &str, b: &str) -> Ordering {
    let (ab, bb) = (a.as_bytes(), b.as_bytes());
    let Some(i) = ab.iter().zip(bb).position(|(x, y)| x != y) else {
        return ab.len().cmp(&bb.len());
    };
    match (ab[i], bb[i]) {
        (0xEE..=0xEF, 0xF0..) => Ordering::Greater,
        (0xF0.., 0xEE..=0xEF) => Ordering::Less,
        (x, y) => x.cmp(&y),
    }
}

/// RFC 8785 §3.2.2.3: numbers as ECMAScript `Number.prototype.toString`.
fn write_number(n: &Number, out: &mut Vec<u8>) -> Result<(), CanonError> {
    if let Some(u) = n.as_u64() {
        if u > MAX_SAFE_INTEGER {
            return Err(unsafe_int(n));
        }
        write_u64(u, out);
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(unsafe_int(n));
        }
        if i < 0 {
            out.push(b'-');
        }
        write_u64(i.unsigned_abs(), out);
    } else {
        // With serde_json's default features a `Number` is never NaN or
        // infinite; `arbitrary_precision` or hand-built values could be.
        let f = n.as_f64().unwrap_or(f64::NAN);
        // A double in (2^53−1, 10^21) is written without exponent or
        // fraction, as an integer no reader can take back exactly: refuse it
        // like the integer it becomes, so canonical output always re-parses
        // to itself.
        if f.is_finite() && f.abs() > MAX_SAFE_INTEGER as f64 && f.abs() < 1e21 {
            return Err(unsafe_int(n));
        }
        write_f64(f, out)?;
    }
    Ok(())
}

/// Appends `f` in ECMAScript `Number.prototype.toString` form (RFC 8785
/// §3.2.2.3; `-0` becomes `0`). NaN and infinities are refused.
pub fn write_f64(f: f64, out: &mut Vec<u8>) -> Result<(), CanonError> {
    if !f.is_finite() {
        return Err(CanonError::NonFinite {
            pointer: String::new(),
        });
    }
    let mut buf = ryu_js::Buffer::new();
    out.extend_from_slice(buf.format_finite(f).as_bytes());
    Ok(())
}

fn unsafe_int(n: &Number) -> CanonError {
    CanonError::UnsafeInteger {
        pointer: String::new(),
        value: n.to_string(),
    }
}

fn write_u64(mut u: u64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// What each byte needs: 0 = literal, b'u' = `\u00XX`, else the short
/// escape letter (RFC 8785 §3.2.2.2, as ECMAScript `JSON.stringify`).
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0A] = b'n';
    t[0x0C] = b'f';
    t[0x0D] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

fn write_string(s: &str, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if esc == b'u' {
            out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xF) as usize],
            ]);
        } else {
            out.extend_from_slice(&[b'\\', esc]);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// A SHA-256 digest, written `sha256:<64 lower-case hex digits>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(pub [u8; 32]);

impl Digest {
    /// SHA-256 of `bytes`.
    pub fn of_bytes(bytes: &[u8]) -> Self {
        Digest(Sha256::digest(bytes).into())
    }

    /// SHA-256 of the canonical bytes of `value`.
    pub fn of_value(value: &Value) -> Result<Self, CanonError> {
        Ok(Self::of_bytes(&canonicalize(value)?))
    }

    /// The 64 hex digits without the `sha256:` prefix (in-toto digest sets
    /// use this form).
    pub fn hex(&self) -> String {
        hex_lower(&self.0)
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Result<Self, DigestParseError> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return Err(DigestParseError::Length(b.len()));
        }
        let mut out = [0u8; 32];
        for (i, pair) in b.chunks_exact(2).enumerate() {
            let hi = hex_val(pair[0]).ok_or(DigestParseError::NotHex)?;
            let lo = hex_val(pair[1]).ok_or(DigestParseError::NotHex)?;
            out[i] = hi << 4 | lo;
        }
        Ok(Digest(out))
    }
}

/// A string that is not `sha256:<64 hex>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestParseError {
    /// Missing the `sha256:` algorithm prefix.
    #[error("digest must start with `sha256:`")]
    Prefix,
    /// Wrong number of hex digits.
    #[error("digest must have 64 hex digits, found {0}")]
    Length(usize),
    /// A character that is not a hex digit.
    #[error("digest contains a non-hex character")]
    NotHex,
}

impl FromStr for Digest {
    type Err = DigestParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::from_hex(s.strip_prefix("sha256:").ok_or(DigestParseError::Prefix)?)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 0xF) as usize] as char);
    }
    s
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon_str(v: &Value) -> String {
        String::from_utf8(canonicalize(v).unwrap()).unwrap()
    }

    fn num(bits: u64) -> Result<String, CanonError> {
        let mut out = Vec::new();
        write_f64(f64::from_bits(bits), &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn a_digest_debugs_as_it_displays() {
        let d = Digest::from_hex(&"0a".repeat(32)).unwrap();
        assert_eq!(format!("{d:?}"), format!("sha256:{}", "0a".repeat(32)));
    }

    // RFC 8785 §3.2.2 (sample input and its canonical form).
    #[test]
    fn rfc8785_section_3_2_2_example() {
        let input = r#"{
          "numbers": [333333333.33333329, 1E30, 4.50,
                      2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        let v: Value = serde_json::from_str(input).unwrap();
        assert_eq!(
            canon_str(&v),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    // RFC 8785 §3.2.3 (sorting of properties by UTF-16 code units).
    #[test]
    fn rfc8785_section_3_2_3_sorting() {
        let input = r#"{
          "\u20ac": "Euro Sign",
          "\r": "Carriage Return",
          "\ufb33": "Hebrew Letter Dalet With Dagesh",
          "1": "One",
          "\ud83d\ude00": "Emoji: Grinning Face",
          "\u0080": "Control",
          "\u00f6": "Latin Small Letter O With Diaeresis"
        }"#;
        let v: Value = serde_json::from_str(input).unwrap();
        assert_eq!(
            canon_str(&v),
            "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
             \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
             \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
        );
    }

    #[test]
    fn utf16_order_differs_from_utf8_for_astral_vs_private_use() {
        // U+10000 is F0 90 80 80 in UTF-8 (sorts after EF BF BF = U+FFFF) but
        // D800 DC00 in UTF-16 (sorts before FFFF).
        assert_eq!(utf16_cmp("\u{10000}", "\u{ffff}"), Ordering::Less);
        assert_eq!(utf16_cmp("\u{e000}", "\u{1f600}"), Ordering::Greater);
        assert_eq!(utf16_cmp("a\u{e000}", "a\u{1f600}"), Ordering::Greater);
        assert_eq!(utf16_cmp("\u{d7ff}", "\u{10000}"), Ordering::Less);
        assert_eq!(utf16_cmp("ab", "abc"), Ordering::Less);
        assert_eq!(utf16_cmp("abc", "abc"), Ordering::Equal);
        // Same lead byte, different continuation.
        assert_eq!(utf16_cmp("\u{e001}", "\u{e000}"), Ordering::Greater);
        let v = json!({"\u{ffff}": 1, "\u{10000}": 2, "a": 3});
        assert_eq!(canon_str(&v), "{\"a\":3,\"\u{10000}\":2,\"\u{ffff}\":1}");
    }

    #[test]
    fn utf16_cmp_agrees_with_encode_utf16() {
        let chars = [
            'a',
            'z',
            '\u{7f}',
            '\u{80}',
            '\u{7ff}',
            '\u{800}',
            '\u{d7ff}',
            '\u{e000}',
            '\u{efff}',
            '\u{f000}',
            '\u{fb33}',
            '\u{ffff}',
            '\u{10000}',
            '\u{1f600}',
            '\u{10ffff}',
        ];
        let mut strings = vec![String::new()];
        for &c in &chars {
            strings.push(c.to_string());
            for &d in &chars {
                strings.push([c, d].iter().collect());
            }
        }
        for a in &strings {
            for b in &strings {
                let want = a.encode_utf16().cmp(b.encode_utf16());
                assert_eq!(utf16_cmp(a, b), want, "{a:?} vs {b:?}");
            }
        }
    }

    // RFC 8785 Appendix B (number serialization samples).
    #[test]
    fn rfc8785_appendix_b_numbers() {
        let cases: &[(u64, &str)] = &[
            (0x0000000000000000, "0"),
            (0x8000000000000000, "0"),
            (0x0000000000000001, "5e-324"),
            (0x8000000000000001, "-5e-324"),
            (0x7fefffffffffffff, "1.7976931348623157e+308"),
            (0xffefffffffffffff, "-1.7976931348623157e+308"),
            (0x4340000000000000, "9007199254740992"),
            (0xc340000000000000, "-9007199254740992"),
            (0x4430000000000000, "295147905179352830000"),
            (0x44b52d02c7e14af5, "9.999999999999997e+22"),
            (0x44b52d02c7e14af6, "1e+23"),
            (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
            (0x444b1ae4d6e2ef4e, "999999999999999700000"),
            (0x444b1ae4d6e2ef4f, "999999999999999900000"),
            (0x444b1ae4d6e2ef50, "1e+21"),
            (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
            (0x3eb0c6f7a0b5ed8d, "0.000001"),
            (0x41b3de4355555553, "333333333.3333332"),
            (0x41b3de4355555554, "333333333.33333325"),
            (0x41b3de4355555555, "333333333.3333333"),
            (0x41b3de4355555556, "333333333.3333334"),
            (0x41b3de4355555557, "333333333.33333343"),
            (0xbecbf647612f3696, "-0.0000033333333333333333"),
            (0x43143ff3c1cb0959, "1424953923781206.2"),
        ];
        for &(bits, want) in cases {
            assert_eq!(num(bits).unwrap(), want, "bits {bits:016x}");
        }
        for bits in [0x7fffffffffffffff, 0x7ff0000000000000, 0xfff0000000000000] {
            assert!(matches!(num(bits), Err(CanonError::NonFinite { .. })));
        }
    }

    #[test]
    fn integers_and_safe_range() {
        let v = json!([
            0,
            -1,
            9007199254740991_i64,
            -9007199254740991_i64,
            1.0,
            100.0,
            -0.0
        ]);
        assert_eq!(
            canon_str(&v),
            "[0,-1,9007199254740991,-9007199254740991,1,100,0]"
        );
        for bad in [
            json!({"a": {"b/c~": [1, 9007199254740992_u64]}}),
            json!({"a": {"b/c~": [1, u64::MAX]}}),
            json!({"a": {"b/c~": [1, i64::MIN]}}),
            json!({"a": {"b/c~": [1, -9007199254740992_i64]}}),
        ] {
            let err = canonicalize(&bad).unwrap_err();
            assert!(matches!(err, CanonError::UnsafeInteger { .. }), "{err}");
            assert_eq!(err.pointer(), "/a/b~1c~0/1");
            assert_eq!(err.code(), "canon/unsafe-integer");
            assert_eq!(err.to_diagnostic().pointer.as_deref(), Some("/a/b~1c~0/1"));
        }
        // Doubles that JCS would write as integers beyond the safe range.
        for f in [
            9007199254740992.0,
            -1e17,
            4.9108243788990104e16,
            999999999999999900000.0,
        ] {
            let err = canonicalize(&json!({"f": f})).unwrap_err();
            assert!(matches!(err, CanonError::UnsafeInteger { .. }), "{f}");
            assert_eq!(err.pointer(), "/f");
        }
        assert_eq!(
            canon_str(&json!([1e21, -1e21, 9007199254740991.0, 1.5e300])),
            "[1e+21,-1e+21,9007199254740991,1.5e+300]"
        );
        // Parsed from text: serde_json keeps 9007199254740993 as a u64, and
        // canon refuses it instead of rounding to ...992.
        let v: Value = serde_json::from_str("{\"n\": 9007199254740993}").unwrap();
        let err = canonicalize(&v).unwrap_err();
        assert_eq!(err.pointer(), "/n");
        assert!(err.to_string().contains("9007199254740993"));
    }

    #[test]
    fn string_escaping_matches_json_stringify() {
        let s: String = (0u8..0x20)
            .map(char::from)
            .chain("\"\\/\u{7f}\u{2028}é😀".chars())
            .collect();
        let out = canon_str(&Value::String(s));
        assert_eq!(
            out,
            "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\\"\\\\/\u{7f}\u{2028}é😀\""
        );
    }

    #[test]
    fn idempotent_on_reparse() {
        let v = json!({"z": [1.5, "x\ny", {"b": null, "a": true}], "a": -0.000001, "\u{1f600}": {}, "\u{fb33}": []});
        let once = canonicalize(&v).unwrap();
        let again = canonicalize(&serde_json::from_slice(&once).unwrap()).unwrap();
        assert_eq!(once, again);
    }

    /// Round trip (short form; `fuzz/` runs it coverage-guided): random documents with awkward keys, strings and
    /// numbers; the canonical form re-parses and re-canonicalizes to itself.
    #[test]
    fn random_documents_are_idempotent() {
        struct Rng(u64);
        impl Rng {
            fn next(&mut self) -> u64 {
                // xorshift64*
                self.0 ^= self.0 >> 12;
                self.0 ^= self.0 << 25;
                self.0 ^= self.0 >> 27;
                self.0.wrapping_mul(0x2545F4914F6CDD1D)
            }
            fn below(&mut self, n: u64) -> u64 {
                self.next() % n
            }
        }
        const CHARS: &[char] = &[
            'a',
            'B',
            '0',
            ' ',
            '"',
            '\\',
            '/',
            '\n',
            '\u{0}',
            '\u{1f}',
            '\u{7f}',
            'é',
            '€',
            '\u{2028}',
            '\u{e000}',
            '\u{fb33}',
            '\u{ffff}',
            '\u{10000}',
            '😀',
            '\u{10ffff}',
        ];
        fn text(r: &mut Rng) -> String {
            (0..r.below(6))
                .map(|_| CHARS[r.below(CHARS.len() as u64) as usize])
                .collect()
        }
        fn value(r: &mut Rng, depth: u32) -> Value {
            match r.below(if depth > 3 { 5 } else { 7 }) {
                0 => Value::Null,
                1 => Value::Bool(r.below(2) == 0),
                2 => {
                    json!((r.next() % (2 * MAX_SAFE_INTEGER + 1)) as i64 - MAX_SAFE_INTEGER as i64)
                }
                3 => {
                    let f = f64::from_bits(r.next());
                    let big_integral = f.abs() > MAX_SAFE_INTEGER as f64 && f.abs() < 1e21;
                    if big_integral {
                        let err = canonicalize(&json!([f])).unwrap_err();
                        assert!(matches!(err, CanonError::UnsafeInteger { .. }), "{f}");
                    }
                    if f.is_finite() && !big_integral {
                        json!(f)
                    } else {
                        json!(0.5)
                    }
                }
                4 => Value::String(text(r)),
                5 => Value::Array((0..r.below(5)).map(|_| value(r, depth + 1)).collect()),
                _ => Value::Object(
                    (0..r.below(6))
                        .map(|_| (text(r), value(r, depth + 1)))
                        .collect(),
                ),
            }
        }
        let mut r = Rng(0x9E3779B97F4A7C15);
        for _ in 0..2000 {
            let v = value(&mut r, 0);
            let once = canonicalize(&v).unwrap();
            // Compare bytes: `3.0` and `3` are one JSON number but two
            // serde_json values.
            let back: Value = serde_json::from_slice(&once).unwrap();
            assert_eq!(canonicalize(&back).unwrap(), once);
        }
    }

    #[test]
    fn digest_display_and_parse() {
        let d = Digest::of_bytes(b"abc");
        assert_eq!(
            d.to_string(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(d.to_string().parse::<Digest>().unwrap(), d);
        assert_eq!(
            d.to_string()
                .to_uppercase()
                .replace("SHA256", "sha256")
                .parse::<Digest>()
                .unwrap(),
            d
        );
        assert_eq!("ba78".parse::<Digest>(), Err(DigestParseError::Prefix));
        assert_eq!(
            "sha256:ba78".parse::<Digest>(),
            Err(DigestParseError::Length(4))
        );
        assert_eq!(
            format!("sha256:{}", "g".repeat(64)).parse::<Digest>(),
            Err(DigestParseError::NotHex)
        );
        assert_eq!(
            Digest::of_value(&json!({"b": 1, "a": 2})).unwrap(),
            Digest::of_bytes(b"{\"a\":2,\"b\":1}")
        );
    }
}
