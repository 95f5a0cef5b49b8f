//! JSON → data model without spans: `serde_json` straight into a
//! [`Value`], with the strict loader's checks on the way.
//!
//! The fast path only has to decide whether the document is clean. At the
//! first thing the strict loader would report (a syntax error, a duplicate
//! member name, a number that is not a safe integer or a finite float, a
//! negative zero) it stops and the spanned path parses again to report it,
//! so every diagnostic is the spanned path's own. Only the node and array
//! limits are reported here, before more memory is spent.

use super::Limits;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Why the fast path stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// Something the spanned path must report.
    Spanned,
    /// More than `Limits::max_nodes` keys and values.
    Nodes,
}

struct State {
    nodes_left: usize,
    max_items: usize,
    stop: Option<Stop>,
}

impl State {
    fn stop<E: de::Error>(&mut self, why: Stop) -> E {
        self.stop = Some(why);
        E::custom("stopped")
    }

    fn take<E: de::Error>(&mut self) -> Result<(), E> {
        if self.nodes_left == 0 {
            return Err(self.stop(Stop::Nodes));
        }
        self.nodes_left -= 1;
        Ok(())
    }
}

/// Parses `text`, or says why the spanned path must take over.
pub(super) fn parse(text: &str, limits: &Limits) -> Result<Value, Stop> {
    let mut st = State {
        nodes_left: limits.max_nodes,
        max_items: limits.max_array_items,
        stop: None,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Seed(&mut st).deserialize(&mut de);
    match (value, de.end()) {
        (Ok(v), Ok(())) => Ok(v),
        _ => Err(st.stop.unwrap_or(Stop::Spanned)),
    }
}

struct Seed<'s>(&'s mut State);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        if i128::from(v).abs() > super::MAX_SAFE_INTEGER {
            return Err(self.0.stop(Stop::Spanned));
        }
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        if i128::from(v) > super::MAX_SAFE_INTEGER {
            return Err(self.0.stop(Stop::Spanned));
        }
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        // An integral float may come from an integer literal too large for
        // 64 bits, and `-0` arrives as -0.0: the spanned path, which sees
        // the literal, decides.
        let integral_big = f.fract() == 0.0 && f.abs() > super::MAX_SAFE_INTEGER as f64;
        let negative_zero = f == 0.0 && f.is_sign_negative();
        match Number::from_f64(f) {
            Some(n) if !integral_big && !negative_zero => Ok(Value::Number(n)),
            _ => Err(self.0.stop(Stop::Spanned)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let st = self.0;
        let mut out = Vec::new();
        loop {
            if out.len() == st.max_items {
                // One more element would be over the cap: the spanned path
                // names the array.
                if seq.next_element::<de::IgnoredAny>()?.is_some() {
                    return Err(st.stop(Stop::Spanned));
                }
                break;
            }
            st.take()?;
            match seq.next_element_seed(Seed(st))? {
                Some(v) => out.push(v),
                None => {
                    st.nodes_left += 1;
                    break;
                }
            }
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let st = self.0;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            st.take()?;
            if out.contains_key(&key) {
                return Err(st.stop(Stop::Spanned));
            }
            let v = map.next_value_seed(Seed(st))?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}
