//! The derived view (docs/engine.md): facts computed in Rust that JSON
//! Schema cannot express (joins, reference lookups, aggregates, date
//! arithmetic, docs/engine.md sensitivity table).
//!
//! Derived facts never encode policy: no thresholds, no lists of acceptable
//! values. Every located fact carries `at` (a manifest pointer); verbatim
//! copies of manifest objects also carry `mirror: true`, so that a rule
//! error inside them maps back to the manifest (docs/engine.md rule 3).

/// A JSON object built by moving values in. `json!` serializes, i.e.
/// deep-copies, every non-literal value (docs/engine.md: build by moving).
macro_rules! obj {
    ($($k:literal : $v:expr),* $(,)?) => {{
        let mut m = serde_json::Map::new();
        $( m.insert(String::from($k), serde_json::Value::from($v)); )*
        serde_json::Value::Object(m)
    }};
}

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
pub use items::{CONSENT_LADDER, normalize_category, normalize_manifest};
pub use reference::{RefData, RefError};

/// Version of the derived view; part of the profile ABI.
pub const DERIVED_VERSION: u32 = 1;

/// The derived facts of one manifest.
///
/// The facts of items, endpoints, recipients, sensors and remote-access
/// channels live once, in the `global` lists (`global.items[i]` …); the
/// evaluation loop moves an element's entry into `derived` while that
/// element is evaluated. Facts that have no global list (cross-border
/// entries) are in `elements`.
#[derive(Debug, Clone, Default)]
pub struct DerivedView {
    /// Manifest-level facts (`global` in the evaluation document).
    pub global: Value,
    /// Other per-element facts keyed by the element's manifest pointer
    /// (`/data_items/1/cross_border/0`).
    pub elements: HashMap<String, Value>,
    /// Facts that every cross-border entry of an item reads (`parent`,
    /// `parent_item`), once per item, keyed by the item's pointer; see
    /// [`lend_parent`].
    pub parents: Parents,
}

/// Facts shared by the cross-border entries of an item, keyed by the
/// item's pointer.
pub type Parents = HashMap<String, Map<String, Value>>;

/// The item whose shared facts the element at `ptr` reads: a cross-border
/// entry's item (`/data_items/1` for `/data_items/1/cross_border/0`).
fn parent_of(ptr: &str) -> Option<&str> {
    ptr.rsplit_once("/cross_border/").map(|(item, _)| item)
}

/// Moves the shared facts of `ptr`'s item into `facts` (an object), for the
/// time the element is evaluated; [`return_parent`] moves them back.
pub fn lend_parent(parents: &mut Parents, ptr: &str, facts: &mut Value) {
    let (Some(shared), Value::Object(f)) = (parent_of(ptr).and_then(|p| parents.get_mut(p)), facts)
    else {
        return;
    };
    f.extend(std::mem::take(shared));
}

/// The shared facts of `ptr`'s item, when it has any.
pub fn parent_facts<'a>(parents: &'a Parents, ptr: &str) -> Option<&'a Map<String, Value>> {
    parents.get(parent_of(ptr)?)
}

/// Undoes [`lend_parent`].
pub fn return_parent(parents: &mut Parents, ptr: &str, facts: &mut Value) {
    let (Some(shared), Value::Object(f)) = (parent_of(ptr).and_then(|p| parents.get_mut(p)), facts)
    else {
        return;
    };
    for k in ["parent", "parent_item"] {
        if let Some(v) = f.remove(k) {
            shared.insert(k.into(), v);
        }
    }
}

/// Where the facts of the elements of `for_each` are listed in `global`.
pub fn global_list(for_each: &str) -> Option<&'static str> {
    match for_each {
        "/data_items" => Some("items"),
        "/network_endpoints" => Some("endpoints"),
        "/recipients" => Some("recipients"),
        "/sensors" => Some("sensors"),
        "/security/remote_access_channels" => Some("remote_access_channels"),
        _ => None,
    }
}

impl DerivedView {
    /// Facts of the element at manifest pointer `ptr`.
    pub fn element(&self, ptr: &str) -> Option<&Value> {
        if let Some(v) = self.elements.get(ptr) {
            return Some(v);
        }
        let (arr, idx) = ptr.rsplit_once('/')?;
        let list = global_list(arr)?;
        self.global.get(list)?.get(idx.parse::<usize>().ok()?)
    }
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
    let (cross_border, parents) = items::cross_border_facts(&ctx, &item_facts);
    let channel_facts = endpoints::channel_facts(&ctx);
    let mut global = global::global_facts(
        &ctx,
        as_of,
        &cross_border,
        item_facts,
        endpoint_facts,
        recipient_facts,
        sensor_facts,
        channel_facts,
    );
    if let Some(p) = previous {
        global::previous_shortening(&mut global, manifest, p);
    }
    if let (Some(d), Some(o)) = (global_diff, global.as_object_mut()) {
        o.insert("diff".into(), d);
    }
    let elements: HashMap<String, Value> = cross_border.into_iter().collect();
    DerivedView {
        global,
        elements,
        parents,
    }
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
        at(self.m, p)
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

/// `Value::pointer` for the constant, escape-free pointers of this module,
/// without allocating per segment (it runs thousands of times per manifest).
pub(crate) fn at<'a>(v: &'a Value, p: &str) -> Option<&'a Value> {
    let mut cur = v;
    for seg in p.split('/').skip(1) {
        cur = match cur {
            Value::Object(o) => o.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

pub(crate) fn flag(v: &Value, p: &str) -> bool {
    at(v, p).and_then(Value::as_bool).unwrap_or(false)
}

pub(crate) fn sref<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    at(v, p).and_then(Value::as_str)
}

#[cfg(test)]
mod tests;
