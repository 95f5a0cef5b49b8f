//! A JSON manifest straight into a value, without the source spans the
//! validator keeps for its diagnostics: the diff needs only the value, and
//! for a manifest of 100,000 endpoints the spans cost more than the value.
//!
//! It accepts only what the document loader accepts and yields the same
//! value: strict RFC 8259 (serde_json), unique member names and integers
//! within ±(2^53−1) (I-JSON, RFC 7493 §2.2–2.3), the loader's depth and
//! node limits. Anything else — a duplicate key, a float (whose rounding
//! is left to the loader), a document near a limit — gives `None`, and
//! the caller loads the document the ordinary way, with its diagnostics.

use crate::manifest::document::Limits;
use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::Cell;
use std::fmt;

/// Largest integer the loader accepts (I-JSON, RFC 7493 §2.2).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// The manifest's value when the fast path can decide, else `None`.
pub fn parse(bytes: &[u8], limits: &Limits) -> Option<Value> {
    if bytes.len() > limits.max_bytes {
        return None;
    }
    let nodes = Cell::new(0usize);
    let seed = Strict {
        depth: 0,
        nodes: &nodes,
        limits,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let v = seed.deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(v)
}

#[derive(Clone, Copy)]
struct Strict<'a> {
    /// Containers open around this value.
    depth: usize,
    nodes: &'a Cell<usize>,
    limits: &'a Limits,
}

impl Strict<'_> {
    /// One array element or object member, as the loader's node budget counts.
    fn take<E: serde::de::Error>(&self) -> Result<(), E> {
        let n = self.nodes.get() + 1;
        self.nodes.set(n);
        if n >= self.limits.max_nodes {
            return Err(E::custom("near the node limit"));
        }
        Ok(())
    }

    fn inner<E: serde::de::Error>(&self) -> Result<Self, E> {
        if self.depth + 1 >= self.limits.max_depth {
            return Err(E::custom("near the depth limit"));
        }
        Ok(Strict {
            depth: self.depth + 1,
            ..*self
        })
    }
}

impl<'de> DeserializeSeed<'de> for Strict<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Value, E> {
        if n > MAX_SAFE_INTEGER {
            return Err(E::custom("integer outside I-JSON"));
        }
        Ok(Value::Number(Number::from(n)))
    }

    fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Value, E> {
        if n.unsigned_abs() > MAX_SAFE_INTEGER {
            return Err(E::custom("integer outside I-JSON"));
        }
        Ok(Value::Number(Number::from(n)))
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Value, E> {
        Err(E::custom("floats are left to the loader"))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            self.take()?;
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.inner()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.take()?;
            if out.contains_key(&key) {
                return Err(A::Error::custom("duplicate key"));
            }
            let v = map.next_value_seed(inner)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;

    /// The loader's value, or `None` when it refuses the document.
    fn loaded(text: &str) -> Option<Value> {
        let mut map = SourceMap::new();
        crate::manifest::document::load(&mut map, "m.json", text.as_bytes(), &Limits::default())
            .ok()
            .map(|d| d.value)
    }

    #[test]
    fn agrees_with_the_loader_or_defers_to_it() {
        let cases = [
            r#"{"a": [1, -2, "x", true, null, {"b": {}}], "c": "\u00e9"}"#,
            r#"{"a": 1, "a": 2}"#,
            r#"{"a": "\u0061", "\u0061": 1}"#,
            r#"{"n": 9007199254740991}"#,
            r#"{"n": 9007199254740992}"#,
            r#"{"n": -9007199254740992}"#,
            r#"{"n": 1.5}"#,
            r#"{"n": -0}"#,
            r#"{"a": 1,}"#,
            r#"{"a": 1} // c"#,
            "\u{feff}{}",
            r#"{"s": "\ud800"}"#,
            "[]",
            "",
        ];
        for text in cases {
            let fast = parse(text.as_bytes(), &Limits::default());
            if let Some(v) = &fast {
                assert_eq!(Some(v.clone()), loaded(text), "{text}");
            }
        }
        assert!(parse(br#"{"a": [1, {"b": "c"}]}"#, &Limits::default()).is_some());
        assert!(parse(br#"{"a": 1, "a": 2}"#, &Limits::default()).is_none());
    }

    #[test]
    fn defers_near_the_depth_and_node_limits() {
        let limits = Limits {
            max_depth: 4,
            max_nodes: 10,
            ..Limits::default()
        };
        assert!(parse(b"[[[[1]]]]", &limits).is_none());
        assert!(parse(b"[[1]]", &limits).is_some());
        assert!(parse(b"[1,2,3,4,5,6,7,8,9,10,11]", &limits).is_none());
        assert!(parse(b"[1,2,3]", &limits).is_some());
    }
}
