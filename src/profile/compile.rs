//! Compilation of rule schemas with `jsonschema` (docs/engine.md):
//! once per process, lazily, only for profiles whose scope matches, against a
//! shared `Registry` holding `urn:blueprint:shared`, with the custom date
//! keywords `maxAgeDays`, `minDaysUntil`, `dateAfter`, `dateBefore`
//! registered with the run's as-of date.

use super::model::{Cond, Profile};
use crate::derived::parse_date;
use jsonschema::paths::Location;
use jsonschema::{Draft, Keyword, Registry, ValidationError, Validator};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::Date;

/// URI of the shared library.
pub const SHARED_URI: &str = "urn:blueprint:shared";

/// Builds the registry with the shared library resource.
pub(crate) fn shared_registry(defs: &Map<String, Value>) -> Result<Registry<'static>, String> {
    let doc = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SHARED_URI,
        "$defs": defs,
    });
    Registry::new()
        .add(SHARED_URI, doc)
        .and_then(|b| b.prepare())
        .map_err(|e| e.to_string())
}

#[derive(Clone, Copy)]
enum DateKind {
    MaxAgeDays(i64),
    MinDaysUntil(i64),
    After(Date),
    Before(Date),
}

/// A custom date keyword bound to the as-of date.
struct DateKeyword {
    kind: DateKind,
    as_of: Date,
}

impl DateKeyword {
    fn check(&self, v: &Value) -> Result<(), String> {
        let Some(s) = v.as_str() else { return Ok(()) };
        let Some(d) = parse_date(s) else {
            return Err(format!("\"{s}\" is not a YYYY-MM-DD date"));
        };
        match self.kind {
            DateKind::MaxAgeDays(n) => {
                let age = (self.as_of - d).whole_days();
                if age > n {
                    return Err(format!("{s} is {age} days old, more than {n}"));
                }
            }
            DateKind::MinDaysUntil(n) => {
                let left = (d - self.as_of).whole_days();
                if left < n {
                    return Err(format!("{s} is {left} days away, fewer than {n}"));
                }
            }
            DateKind::After(x) => {
                if d <= x {
                    return Err(format!("{s} is not after {}", crate::derived::fmt_date(x)));
                }
            }
            DateKind::Before(x) => {
                if d >= x {
                    return Err(format!("{s} is not before {}", crate::derived::fmt_date(x)));
                }
            }
        }
        Ok(())
    }
}

impl<'i> Keyword<'i> for DateKeyword {
    fn validate(&self, instance: &'i Value) -> Result<(), ValidationError<'i>> {
        self.check(instance).map_err(ValidationError::custom)
    }

    fn is_valid(&self, instance: &'i Value) -> bool {
        self.check(instance).is_ok()
    }
}

type KwFactory = Box<
    dyn for<'a> Fn(
            &'a Map<String, Value>,
            &'a Value,
            Location,
        ) -> Result<Box<dyn for<'i> Keyword<'i>>, ValidationError<'a>>
        + Send
        + Sync,
>;

fn date_keyword(name: &'static str, as_of: Date) -> KwFactory {
    Box::new(move |_, value: &Value, _| {
        let kind = match name {
            "maxAgeDays" | "minDaysUntil" => {
                let n = value
                    .as_i64()
                    .ok_or_else(|| ValidationError::schema(format!("{name} needs an integer")))?;
                if name == "maxAgeDays" {
                    DateKind::MaxAgeDays(n)
                } else {
                    DateKind::MinDaysUntil(n)
                }
            }
            _ => {
                let d = value
                    .as_str()
                    .and_then(parse_date)
                    .ok_or_else(|| ValidationError::schema(format!("{name} needs a date")))?;
                if name == "dateAfter" {
                    DateKind::After(d)
                } else {
                    DateKind::Before(d)
                }
            }
        };
        Ok(Box::new(DateKeyword { kind, as_of }) as Box<dyn for<'i> Keyword<'i>>)
    })
}

/// Compiles `schema` with the shared registry and the date keywords.
pub(crate) fn build(
    registry: &Registry<'static>,
    schema: &Value,
    as_of: Date,
) -> Result<Validator, String> {
    let mut opts = jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_registry(registry)
        .should_validate_formats(false);
    for name in ["maxAgeDays", "minDaysUntil", "dateAfter", "dateBefore"] {
        opts = opts.with_keyword(name, date_keyword(name, as_of));
    }
    opts.build(schema).map_err(|e| e.to_string())
}

/// A compiled condition: native conjuncts plus an optional validator.
pub(crate) struct CompiledCond {
    /// Native conjuncts: path segments and the expected boolean.
    pub native: Vec<(Vec<String>, bool)>,
    /// Conditions the schema implies (see [`necessary`]): when one fails,
    /// the schema fails too, so the validator need not run.
    pub quick: Vec<(Vec<String>, Quick)>,
    pub validator: Option<Validator>,
}

/// What a [`necessary`] condition wants at its path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Quick {
    /// The path exists.
    Present,
    /// The value is this string or boolean (`const`).
    Is(Value),
    /// The value is one of these strings or booleans (`enum`).
    OneOf(Vec<Value>),
}

fn at_path<'v>(doc: &'v Value, segs: &[String]) -> Option<&'v Value> {
    let mut v = doc;
    for s in segs {
        v = v.as_object()?.get(s.as_str())?;
    }
    Some(v)
}

impl CompiledCond {
    /// Does the condition hold on `doc`? Native conjuncts first (a few ns),
    /// then what the schema implies, then the schema.
    pub fn holds(&self, doc: &Value) -> bool {
        self.native.iter().all(|(segs, b)| {
            let mut v = doc;
            for s in segs {
                match v.get(s.as_str()) {
                    Some(x) => v = x,
                    None => return false,
                }
            }
            v.as_bool() == Some(*b)
        }) && quick_holds(&self.quick, doc)
            && self.validator.as_ref().is_none_or(|v| v.is_valid(doc))
    }
}

/// Do all `quick` conditions hold on `doc`?
pub(crate) fn quick_holds(quick: &[(Vec<String>, Quick)], doc: &Value) -> bool {
    quick.iter().all(|(segs, q)| match (at_path(doc, segs), q) {
        (None, _) => false,
        (Some(_), Quick::Present) => true,
        (Some(v), Quick::Is(x)) => v == x,
        (Some(v), Quick::OneOf(xs)) => xs.contains(v),
    })
}

/// Conditions that `schema` (a desugared rule condition) implies on an
/// instance: along nested `type: object` + `required` + `properties` (the
/// path sugar) and `allOf`, a required path must exist, and a `const` or
/// `enum` of strings and booleans must match. Only necessary conditions
/// are collected (every other keyword is left to the validator), so a
/// failing one proves the schema fails; passing proves nothing.
pub(crate) fn necessary(
    schema: &Value,
    path: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Quick)>,
) {
    let Value::Object(o) = schema else { return };
    let plain = |v: &Value| v.is_string() || v.is_boolean();
    if let Some(c) = o.get("const").filter(|c| plain(c)) {
        out.push((path.clone(), Quick::Is(c.clone())));
    } else if let Some(Value::Array(e)) = o.get("enum") {
        if !e.is_empty() && e.iter().all(plain) {
            out.push((path.clone(), Quick::OneOf(e.clone())));
        }
    }
    if let Some(Value::Array(parts)) = o.get("allOf") {
        for p in parts {
            necessary(p, path, out);
        }
    }
    // `required` binds only objects; `type: object` makes it bind.
    let is_object = o.get("type").and_then(Value::as_str) == Some("object");
    if let (true, Some(Value::Array(req))) = (is_object, o.get("required")) {
        let props = o.get("properties").and_then(Value::as_object);
        for k in req.iter().filter_map(Value::as_str) {
            path.push(k.to_string());
            match props.and_then(|p| p.get(k)) {
                Some(sub) => {
                    out.push((path.clone(), Quick::Present));
                    necessary(sub, path, out);
                }
                None => out.push((path.clone(), Quick::Present)),
            }
            path.pop();
        }
    }
}

/// [`necessary`] of a whole schema, longest paths dropped when a shorter
/// one is implied anyway (only the leaves are worth checking).
fn necessary_of(schema: Option<&Value>) -> Vec<(Vec<String>, Quick)> {
    let mut out = Vec::new();
    if let Some(s) = schema {
        necessary(s, &mut Vec::new(), &mut out);
    }
    // A `Present` whose path is a prefix of another condition's is implied
    // by that condition.
    let keep: Vec<bool> = out
        .iter()
        .map(|(p, q)| {
            *q != Quick::Present
                || !out
                    .iter()
                    .any(|(o, _)| o.len() > p.len() && o.starts_with(p))
        })
        .collect();
    out.into_iter()
        .zip(keep)
        .filter_map(|(x, k)| k.then_some(x))
        .collect()
}

/// One compiled rule.
pub(crate) struct CompiledRule {
    pub when: CompiledCond,
    pub require: Option<Validator>,
    /// The schema `require` compiled from (for `description` lookup).
    pub require_schema: Value,
    /// Message per failing evaluation path, looked up once.
    pub messages: Mutex<HashMap<String, Option<String>>>,
}

/// A compiled profile.
pub(crate) struct CompiledProfile {
    pub rules: Vec<CompiledRule>,
    pub groups: Vec<CompiledCond>,
    pub severity_unless: Option<CompiledCond>,
}

/// Compiled forms of a profile, per as-of date (custom keywords are bound to it).
#[derive(Default)]
pub(crate) struct CompiledCache {
    scope: Mutex<HashMap<Date, Arc<CompiledCond>>>,
    full: Mutex<HashMap<Date, Arc<Result<CompiledProfile, String>>>>,
}

impl std::fmt::Debug for CompiledCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CompiledCache")
    }
}

fn with_defs(schema: &Value, defs: &Map<String, Value>) -> Value {
    match schema {
        Value::Object(o) if !defs.is_empty() && !o.contains_key("$defs") => {
            let mut o = o.clone();
            o.insert("$defs".into(), Value::Object(defs.clone()));
            Value::Object(o)
        }
        other => other.clone(),
    }
}

fn compile_cond(
    reg: &Registry<'static>,
    c: &Cond,
    defs: &Map<String, Value>,
    as_of: Date,
) -> Result<CompiledCond, String> {
    Ok(CompiledCond {
        native: c
            .native
            .iter()
            .map(|(p, b)| (super::sugar::pointer_segments(p), *b))
            .collect(),
        quick: necessary_of(c.schema.as_ref()),
        validator: match &c.schema {
            Some(s) => Some(build(reg, &with_defs(s, defs), as_of)?),
            None => None,
        },
    })
}

/// The scope condition of `p` (compiled on first use).
pub(crate) fn scope(
    p: &Profile,
    reg: &Registry<'static>,
    as_of: Date,
) -> Result<Arc<CompiledCond>, String> {
    let mut m = p.compiled.scope.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = m.get(&as_of) {
        return Ok(c.clone());
    }
    let c = Arc::new(match &p.scope {
        Some(s) => compile_cond(reg, s, &p.defs, as_of)?,
        None => CompiledCond {
            native: Vec::new(),
            quick: Vec::new(),
            validator: None,
        },
    });
    m.insert(as_of, c.clone());
    Ok(c)
}

/// All rules of `p` (compiled on first use for this as-of date).
pub(crate) fn profile(
    p: &Profile,
    reg: &Registry<'static>,
    as_of: Date,
) -> Arc<Result<CompiledProfile, String>> {
    let mut m = p.compiled.full.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(c) = m.get(&as_of) {
        return c.clone();
    }
    let c = Arc::new(compile_profile(p, reg, as_of));
    m.insert(as_of, c.clone());
    c
}

fn compile_profile(
    p: &Profile,
    reg: &Registry<'static>,
    as_of: Date,
) -> Result<CompiledProfile, String> {
    let mut rules = Vec::with_capacity(p.rules.len());
    for r in &p.rules {
        let when = compile_cond(reg, &r.when_c, &p.defs, as_of)
            .map_err(|e| format!("{}: when: {e}", r.id))?;
        let mut parts: Vec<Value> = r.require_c.iter().cloned().collect();
        for (c, w) in r.check.iter().zip(&r.check_when) {
            let rf = json!({ "$ref": format!("{SHARED_URI}#/$defs/{c}") });
            parts.push(match w {
                Some(w) => json!({ "if": w, "then": rf }),
                None => rf,
            });
        }
        let schema = match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(json!({ "allOf": parts })),
        };
        let (require, require_schema) = match schema {
            Some(s) => {
                let s = with_defs(&s, &p.defs);
                let v = build(reg, &s, as_of).map_err(|e| format!("{}: require: {e}", r.id))?;
                (Some(v), s)
            }
            None => (None, Value::Null),
        };
        rules.push(CompiledRule {
            when,
            require,
            require_schema,
            messages: Mutex::new(HashMap::new()),
        });
    }
    let groups = p
        .groups
        .iter()
        .map(|g| compile_cond(reg, &g.when_c, &p.defs, as_of))
        .collect::<Result<Vec<_>, _>>()?;
    let severity_unless = match &p.severity_unless {
        Some(c) => Some(compile_cond(reg, c, &p.defs, as_of)?),
        None => None,
    };
    Ok(CompiledProfile {
        rules,
        groups,
        severity_unless,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn necessary_conditions_follow_the_path_sugar_only() {
        let schema = json!({ "allOf": [
            { "type": "object", "required": ["item"], "properties": { "item": {
                "type": "object", "required": ["from", "kind"], "properties": {
                    "from": { "const": "CN", "description": "d" },
                    "kind": { "enum": ["a", "b"] } } } } },
            // Not necessary: `required` without `type: object`, `anyOf`.
            { "required": ["x"], "properties": { "x": { "const": true } } },
            { "anyOf": [ { "type": "object", "required": ["y"] } ] },
        ] });
        let q = necessary_of(Some(&schema));
        let segs = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            q,
            vec![
                (segs(&["item", "from"]), Quick::Present),
                (segs(&["item", "from"]), Quick::Is(json!("CN"))),
                (segs(&["item", "kind"]), Quick::Present),
                (
                    segs(&["item", "kind"]),
                    Quick::OneOf(vec![json!("a"), json!("b")])
                ),
            ]
        );
        let doc = |from: &str| json!({ "item": { "from": from, "kind": "b" } });
        assert!(quick_holds(&q, &doc("CN")));
        assert!(!quick_holds(&q, &doc("US")));
        assert!(!quick_holds(&q, &json!({ "item": { "from": "CN" } })));
        assert!(!quick_holds(&q, &json!({ "item": [] })));
    }
}
