//! The derived view (docs/engine.md §6): facts computed in Rust that JSON
//! Schema cannot express (joins, reference lookups, aggregates, date
//! arithmetic, the catalog §2.3 sensitivity table).
//!
//! Derived facts never encode policy: no thresholds, no lists of acceptable
//! values. Every located fact carries `at` (a manifest pointer); verbatim
//! copies of manifest objects also carry `mirror: true`, so that a rule
//! error inside them maps back to the manifest (engine.md §1 rule 3).

mod diff;
mod endpoints;
mod global;
mod items;
mod markets;
mod recipients;
mod reference;
mod sensors;

use serde_json::{Map, Value, json};
use std::collections::HashMap;
use time::Date;

pub(crate) use global::{fmt_date, parse_date};
pub use items::{normalize_category, normalize_manifest};
pub use reference::{RefData, RefError};

/// Version of the derived view; part of the profile ABI.
pub const DERIVED_VERSION: u32 = 1;

/// The derived facts of one manifest.
#[derive(Debug, Clone, Default)]
pub struct DerivedView {
    /// Manifest-level facts (`global` in the evaluation document).
    pub global: Value,
    /// Per-element facts keyed by the element's manifest pointer
    /// (`/data_items/3`, `/network_endpoints/0`, `/data_items/1/cross_border/0`).
    pub elements: HashMap<String, Value>,
}

/// Computes the derived view of a normalized manifest (see
/// [`normalize_manifest`]) on the evaluation date `as_of`.
pub fn derive(manifest: &Value, refs: &RefData, as_of: Date) -> DerivedView {
    derive_with_previous(manifest, None, refs, as_of)
}

/// [`derive`], plus `global.diff` and item `diff` against `previous`, the
/// last deposited manifest with the same `blueprint.id`.
pub fn derive_with_previous(
    manifest: &Value,
    previous: Option<&Value>,
    refs: &RefData,
    as_of: Date,
) -> DerivedView {
    let ctx = Ctx::new(manifest, refs);
    let mut item_facts = items::item_facts(&ctx);
    let global_diff = previous.map(|p| {
        let (entries, g) = diff::diff(manifest, p);
        for (f, e) in item_facts.iter_mut().zip(entries) {
            if let Some(o) = f.as_object_mut() {
                o.insert("diff".into(), e);
            }
        }
        g
    });
    let endpoint_facts = endpoints::endpoint_facts(&ctx, &item_facts);
    let recipient_facts = recipients::recipient_facts(&ctx, &item_facts);
    let sensor_facts = sensors::sensor_facts(&ctx, &item_facts);
    let cross_border = items::cross_border_facts(&ctx, &item_facts);
    let channel_facts = endpoints::channel_facts(&ctx);
    let global = global::global_facts(
        &ctx,
        as_of,
        &cross_border,
        &item_facts,
        &endpoint_facts,
        &recipient_facts,
        &sensor_facts,
        &channel_facts,
    );
    let mut global = global;
    if let Some(p) = previous {
        global::previous_shortening(&mut global, manifest, p);
    }
    if let (Some(d), Some(o)) = (global_diff, global.as_object_mut()) {
        o.insert("diff".into(), d);
    }
    let mut elements = HashMap::new();
    for (prefix, facts) in [
        ("/data_items", item_facts),
        ("/network_endpoints", endpoint_facts),
        ("/recipients", recipient_facts),
        ("/sensors", sensor_facts),
        ("/security/remote_access_channels", channel_facts),
    ] {
        for (i, f) in facts.into_iter().enumerate() {
            elements.insert(format!("{prefix}/{i}"), f);
        }
    }
    for (ptr, f) in cross_border {
        elements.insert(ptr, f);
    }
    DerivedView { global, elements }
}

/// Read-only helpers over the manifest shared by the fact families.
pub(crate) struct Ctx<'a> {
    pub m: &'a Value,
    pub refs: &'a RefData,
    pub items: &'a [Value],
    pub recipients: &'a [Value],
    pub endpoints: &'a [Value],
    pub sensors: &'a [Value],
    pub markets: Vec<&'a str>,
    /// Recipient id → index.
    pub recipient_index: HashMap<&'a str, usize>,
    /// Item id → index.
    pub item_index: HashMap<&'a str, usize>,
}

impl<'a> Ctx<'a> {
    fn new(m: &'a Value, refs: &'a RefData) -> Self {
        let items = arr(m.get("data_items"));
        let recipients = arr(m.get("recipients"));
        let endpoints = arr(m.get("network_endpoints"));
        let sensors = arr(m.get("sensors"));
        let markets = strs(m.get("markets"));
        let recipient_index = recipients
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.get("id").and_then(Value::as_str).map(|id| (id, i)))
            .collect();
        let item_index = items
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.get("id").and_then(Value::as_str).map(|id| (id, i)))
            .collect();
        Ctx {
            m,
            refs,
            items,
            recipients,
            endpoints,
            sensors,
            markets,
            recipient_index,
            item_index,
        }
    }

    /// A mirror of recipient `idx`: its manifest object plus `at` and `mirror`.
    pub fn recipient_mirror(&self, idx: usize) -> Value {
        mirror(&self.recipients[idx], &format!("/recipients/{idx}"))
    }

    /// Value at a JSON pointer into the manifest.
    pub fn ptr(&self, p: &str) -> Option<&'a Value> {
        self.m.pointer(p)
    }
}

/// A verbatim copy of a manifest object marked as a mirror at `at`.
pub(crate) fn mirror(v: &Value, at: &str) -> Value {
    let mut o = match v {
        Value::Object(o) => o.clone(),
        _ => Map::new(),
    };
    o.insert("at".into(), Value::String(at.into()));
    o.insert("mirror".into(), Value::Bool(true));
    Value::Object(o)
}

/// A located reference `{id, at}`.
pub(crate) fn located(id: &str, at: &str) -> Value {
    json!({ "id": id, "at": at })
}

pub(crate) fn arr(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

pub(crate) fn strs(v: Option<&Value>) -> Vec<&str> {
    arr(v).iter().filter_map(Value::as_str).collect()
}

pub(crate) fn flag(v: &Value, p: &str) -> bool {
    v.pointer(p).and_then(Value::as_bool).unwrap_or(false)
}

pub(crate) fn sref<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    v.pointer(p).and_then(Value::as_str)
}

#[cfg(test)]
mod tests;
