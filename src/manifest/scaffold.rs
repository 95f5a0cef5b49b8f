//! `blueprint init`: a new manifest holding every field the profiles that
//! may apply to a product will read, so that no rule later fails because a
//! field is absent.
//!
//! The fields come from the profiles themselves
//! ([`ProfileLibrary::fields_needed`]: what the profiles that may apply read),
//! plus whatever the manifest schema requires around them; the schema gives
//! each field's place, type, allowed values and the one-line comment above
//! it. Every value the vendor must decide is a placeholder: a value that
//! passes the schema, followed by a `# TODO` comment on its line, which
//! [`crate::manifest::todo`] reports until the vendor deletes it.

mod ordered;
mod write;

use crate::manifest::document::{self, Limits};
use crate::manifest::schema::{MANIFEST_SCHEMA, MANIFEST_SCHEMA_ID, closest};
use crate::manifest::todo::MARKER;
use crate::profile::ProfileLibrary;
use crate::source::SourceMap;
use ordered::Node;
use serde_json::{Value, json};
use std::sync::OnceLock;
use time::Date;
use write::Writer;

/// Manifests whose values serve as samples for pattern-bound fields (a host
/// name, a digest, an e-mail address) that no generic value satisfies.
const SAMPLES: &[(&str, &str)] = &[
    (
        "smart-meter.toml",
        include_str!("../../examples/smart-meter.toml"),
    ),
    (
        "home-camera.toml",
        include_str!("../../examples/home-camera.toml"),
    ),
    (
        "kids-smartwatch.toml",
        include_str!("../../examples/kids-smartwatch.toml"),
    ),
];

/// At most this many allowed values are listed in a placeholder's comment.
const MAX_LISTED: usize = 8;

/// What the product is, as far as `init` asks.
#[derive(Debug, Clone)]
pub struct ScaffoldSpec {
    /// Market codes (schema `$defs/market`).
    pub markets: Vec<String>,
    /// Schema `device.product_class`.
    pub product_class: String,
    /// Sensor types (schema `sensors[].type`), one sensor each.
    pub sensors: Vec<String>,
    /// Product name: `device.model`, and `blueprint.id` in slug form.
    pub name: Option<String>,
    /// Vendor's legal name: `vendor.legal_name`.
    pub vendor: Option<String>,
    /// Written after `#:schema` on the first line.
    pub schema_ref: String,
    /// Date the profiles' scopes are evaluated on, and the sample date.
    pub as_of: Date,
}

/// A generated manifest.
#[derive(Debug, Clone)]
pub struct Scaffold {
    /// TOML text.
    pub text: String,
    /// Profiles whose fields it holds.
    pub profiles: Vec<String>,
    /// Number of `# TODO` placeholders in it.
    pub placeholders: usize,
}

/// The flags `init` checks against the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// `markets[]`.
    Market,
    /// `device.product_class`.
    ProductClass,
    /// `sensors[].type`.
    Sensor,
}

impl Choice {
    /// What the value is, for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Choice::Market => "market",
            Choice::ProductClass => "product class",
            Choice::Sensor => "sensor type",
        }
    }

    fn schema_pointer(self) -> &'static str {
        match self {
            Choice::Market => "/$defs/market/enum",
            Choice::ProductClass => "/properties/device/properties/product_class/enum",
            Choice::Sensor => "/properties/sensors/items/properties/type/enum",
        }
    }
}

/// Why no scaffold was written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// A flag value that is not one of the schema's.
    #[error("`{value}` is not a {}{}", .choice.noun(), suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownValue {
        /// Which list.
        choice: Choice,
        /// As given.
        value: String,
        /// The nearest allowed value, when close.
        suggestion: Option<String>,
    },
    /// No market given.
    #[error("at least one market is needed")]
    NoMarket,
    /// A value the schema gives no valid form for (a schema defect).
    #[error("the schema allows no value `init` can write at {0}")]
    NoSample(String),
    /// The profiles could not be loaded.
    #[error("the shipped profiles do not load")]
    Profiles,
}

fn schema() -> &'static (Node, Value) {
    static S: OnceLock<(Node, Value)> = OnceLock::new();
    S.get_or_init(|| {
        let node = serde_json::from_str(MANIFEST_SCHEMA).unwrap_or(Node::Scalar(Value::Null));
        let value = node.to_value();
        (node, value)
    })
}

/// The values the schema allows for `choice`, in schema order.
pub fn choices(choice: Choice) -> Vec<String> {
    schema()
        .1
        .pointer(choice.schema_pointer())
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Checks `value` against the schema's list for `choice`.
pub fn check_choice(choice: Choice, value: &str) -> Result<(), ScaffoldError> {
    let all = choices(choice);
    if all.iter().any(|c| c == value) {
        return Ok(());
    }
    let suggestion = closest(value, &all).or_else(|| {
        // Market codes are upper case; `eu` is a case slip, not a typo.
        all.iter().find(|c| c.eq_ignore_ascii_case(value)).cloned()
    });
    Err(ScaffoldError::UnknownValue {
        choice,
        value: value.to_string(),
        suggestion,
    })
}

/// Writes the scaffold for `spec`, with the fields of every profile of
/// `lib` that may apply to it.
pub fn scaffold(lib: &ProfileLibrary, spec: &ScaffoldSpec) -> Result<Scaffold, ScaffoldError> {
    if spec.markets.is_empty() {
        return Err(ScaffoldError::NoMarket);
    }
    for m in &spec.markets {
        check_choice(Choice::Market, m)?;
    }
    check_choice(Choice::ProductClass, &spec.product_class)?;
    for s in &spec.sensors {
        check_choice(Choice::Sensor, s)?;
    }
    let ids = Ids::new(spec);
    let probe = json!({
        "format": "blueprint/v1",
        "markets": spec.markets,
        "device": { "product_class": spec.product_class },
        "sensors": spec.sensors.iter().zip(&ids.sensors)
            .map(|(t, id)| json!({ "id": id, "type": t }))
            .collect::<Vec<_>>(),
    });
    let (profiles, fields) = lib.fields_needed(&probe, spec.as_of);
    let reads: Vec<Vec<String>> = fields
        .iter()
        .map(|f| f.split('/').skip(1).map(str::to_string).collect())
        .collect();
    let generator = Gen {
        spec,
        ids: &ids,
        reads: &reads,
        samples: samples(),
    };
    let (root, _) = schema();
    let mut entries = generator.object(root, &mut Vec::new(), &[])?;
    generator.repair(&mut entries)?;
    let mut out = Writer::default();
    out.header(spec, &profiles);
    out.table(&[], &entries);
    Ok(Scaffold {
        text: out.text,
        profiles,
        placeholders: out.placeholders,
    })
}

/// The ids `init` gives the objects it creates (references between them
/// must resolve from the start).
struct Ids {
    sensors: Vec<String>,
    items: Vec<String>,
}

impl Ids {
    fn new(spec: &ScaffoldSpec) -> Self {
        let mut sensors: Vec<String> = Vec::new();
        for t in &spec.sensors {
            let n = sensors
                .iter()
                .filter(|s| s.split('-').next() == Some(t))
                .count();
            sensors.push(if n == 0 {
                t.clone()
            } else {
                format!("{t}-{}", n + 1)
            });
        }
        let items = if sensors.is_empty() {
            vec!["data-item".to_string()]
        } else {
            sensors.iter().map(|s| format!("{s}-data")).collect()
        };
        Ids { sensors, items }
    }
}

/// One line or table of the scaffold.
enum Entry {
    Leaf {
        key: String,
        doc: Option<String>,
        value: Value,
        date: bool,
        /// `Some(hint)` for a placeholder.
        todo: Option<String>,
    },
    Table {
        key: String,
        doc: Option<String>,
        entries: Vec<Entry>,
    },
    Tables {
        key: String,
        doc: Option<String>,
        elements: Vec<Vec<Entry>>,
    },
}

struct Gen<'a> {
    spec: &'a ScaffoldSpec,
    ids: &'a Ids,
    reads: &'a [Vec<String>],
    samples: &'a [Value],
}

/// The schema node behind `$ref`s, and the first description on the way.
fn resolve<'n>(root: &'n Node, mut n: &'n Node) -> (&'n Node, Option<String>) {
    let mut doc = n
        .get("description")
        .and_then(Node::as_str)
        .map(str::to_string);
    for _ in 0..8 {
        let Some(r) = n.get("$ref").and_then(Node::as_str) else {
            break;
        };
        let Some(t) = r
            .strip_prefix("#/$defs/")
            .and_then(|d| root.get("$defs")?.get(d))
        else {
            break;
        };
        n = t;
        if doc.is_none() {
            doc = n
                .get("description")
                .and_then(Node::as_str)
                .map(str::to_string);
        }
    }
    (n, doc)
}

fn is_object(n: &Node) -> bool {
    n.get("properties").is_some()
}

impl Gen<'_> {
    /// Does some read path go through `path` (indices as `*`)?
    fn read(&self, path: &[String]) -> bool {
        self.reads
            .iter()
            .any(|r| r.len() >= path.len() && r.iter().zip(path).all(|(a, b)| a == b || b == "*"))
    }

    fn object(
        &self,
        node: &Node,
        path: &mut Vec<String>,
        at: &[usize],
    ) -> Result<Vec<Entry>, ScaffoldError> {
        let (root, _) = schema();
        let (node, _) = resolve(root, node);
        let required: Vec<&str> = node
            .get("required")
            .map(|r| r.elements().iter().filter_map(Node::as_str).collect())
            .unwrap_or_default();
        let mut out = Vec::new();
        for (key, sub) in node.get("properties").map(Node::entries).unwrap_or(&[]) {
            path.push(key.clone());
            if required.contains(&key.as_str()) || self.read(path) || self.given(path) {
                out.push(self.entry(key, sub, path, at)?);
            }
            path.pop();
        }
        Ok(out)
    }

    fn entry(
        &self,
        key: &str,
        sub: &Node,
        path: &mut Vec<String>,
        at: &[usize],
    ) -> Result<Entry, ScaffoldError> {
        let (root, _) = schema();
        let (target, doc) = resolve(root, sub);
        let doc = doc.map(|d| one_line(&d));
        if is_object(target) {
            return Ok(Entry::Table {
                key: key.to_string(),
                doc,
                entries: self.object(target, path, at)?,
            });
        }
        if let Some(items) = target.get("items") {
            let (item, _) = resolve(root, items);
            if is_object(item) {
                let n = self.count(path);
                if n == 0 {
                    return Ok(Entry::Leaf {
                        key: key.to_string(),
                        doc,
                        value: json!([]),
                        date: false,
                        todo: None,
                    });
                }
                let mut elements = Vec::new();
                path.push("*".into());
                for i in 0..n {
                    let mut at2 = at.to_vec();
                    at2.push(i);
                    elements.push(self.object(item, path, &at2)?);
                }
                path.pop();
                return Ok(Entry::Tables {
                    key: key.to_string(),
                    doc,
                    elements,
                });
            }
        }
        let fixed = target.value_of("const");
        let (value, todo) = match self.decided(path, at).or(fixed) {
            Some(v) => (v, None),
            None => (
                self.sample(sub, path, at)
                    .ok_or_else(|| ScaffoldError::NoSample(pointer(path)))?,
                Some(hint(root, target)),
            ),
        };
        let date = is_date(root, sub);
        Ok(Entry::Leaf {
            key: key.to_string(),
            doc,
            value,
            date,
            todo,
        })
    }

    /// Meets the schema's conditional requirements (`if`/`then`: a field
    /// required or fixed by another field's value), which a walk over
    /// `properties` does not see: adds what is missing, takes the value a
    /// condition fixes, drops what it forbids. Each round fixes every
    /// reported error; a condition can only enable further ones a few
    /// levels deep.
    fn repair(&self, entries: &mut Vec<Entry>) -> Result<(), ScaffoldError> {
        use jsonschema::error::{TypeKind, ValidationErrorKind as K};
        let (root, rootv) = schema();
        let validator = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(rootv)
            .map_err(|e| ScaffoldError::NoSample(e.to_string()))?;
        for _ in 0..MAX_REPAIR_ROUNDS {
            let doc = to_json(entries);
            let errors: Vec<(Vec<String>, Fix)> = validator
                .iter_errors(&doc)
                .filter_map(|e| {
                    let fix = match e.kind() {
                        K::Required { property } => Fix::Add(property.as_str()?.to_string()),
                        K::Constant { expected_value } => Fix::Set((**expected_value).clone()),
                        K::Enum { options } => Fix::Set(options.as_array()?.first()?.clone()),
                        K::Type {
                            kind: TypeKind::Single(t),
                        } if t.to_string() == "null" => Fix::Drop,
                        _ => return None,
                    };
                    Some((pointer_segments(e.instance_path().as_str()), fix))
                })
                .collect();
            if errors.is_empty() {
                return Ok(());
            }
            for (segs, fix) in errors {
                let at: Vec<usize> = segs.iter().filter_map(|s| s.parse().ok()).collect();
                let mut path: Vec<String> = segs
                    .iter()
                    .map(|s| {
                        if s.parse::<usize>().is_ok() {
                            "*".into()
                        } else {
                            s.clone()
                        }
                    })
                    .collect();
                match fix {
                    Fix::Add(name) => {
                        let Some(sub) = schema_object_at(root, &path)
                            .and_then(|o| o.get("properties")?.get(&name))
                        else {
                            continue;
                        };
                        path.push(name.clone());
                        let e = self.entry(&name, sub, &mut path, &at)?;
                        if let Some(list) = entries_at(entries, &segs) {
                            if !list.iter().any(|x| x.key() == name) {
                                list.push(e);
                            }
                        }
                    }
                    Fix::Set(v) => set_leaf(entries, &segs, Some(v)),
                    Fix::Drop => set_leaf(entries, &segs, None),
                }
            }
        }
        Ok(())
    }

    /// A field set by a flag (`--name`, `--vendor`) is written even when
    /// no profile reads it.
    fn given(&self, path: &[String]) -> bool {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        match p.as_slice() {
            ["vendor"] | ["vendor", "legal_name"] => self.spec.vendor.is_some(),
            ["device"] | ["device", "model"] => self.spec.name.is_some(),
            _ => false,
        }
    }

    /// How many elements an array of objects gets: one per sensor for
    /// `sensors` and `data_items`, otherwise one template element.
    fn count(&self, path: &[String]) -> usize {
        match path {
            [p] if p == "sensors" => self.ids.sensors.len(),
            [p] if p == "data_items" => self.ids.items.len(),
            _ => 1,
        }
    }

    /// Values the flags decide, and the references that tie the created
    /// objects together; they carry no placeholder.
    fn decided(&self, path: &[String], at: &[usize]) -> Option<Value> {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        let i = at.first().copied().unwrap_or(0);
        Some(match p.as_slice() {
            ["markets"] => json!(self.spec.markets),
            ["device", "product_class"] => json!(self.spec.product_class),
            ["device", "model"] => json!(self.spec.name.clone()?),
            ["blueprint", "id"] => json!(slug(self.spec.name.as_deref()?)?),
            ["vendor", "legal_name"] => json!(self.spec.vendor.clone()?),
            ["sensors", _, "id"] => json!(self.ids.sensors.get(i)?),
            ["sensors", _, "type"] => json!(self.spec.sensors.get(i)?),
            ["sensors", _, "produces"] => json!([self.ids.items.get(i)?]),
            ["data_items", _, "id"] => json!(self.ids.items.get(i)?),
            ["data_items", _, "source_sensor"] => json!(self.ids.sensors.get(i)?),
            ["data_items", _, "source"] if !self.ids.sensors.is_empty() => json!("sensor"),
            ["data_items", _, "markets"] => json!(self.spec.markets),
            ["recipients", _, "id"] => json!("recipient"),
            ["security", "accounts", _, "id"] => json!("account"),
            ["security", "remote_access_channels", _, "id"] => json!("remote-access"),
            _ => return None,
        })
    }

    /// A placeholder value valid against the field's schema: a neutral
    /// value first (`"TODO"`, `false`, the minimum, the first allowed
    /// value, an empty list), else the same field's value in a shipped
    /// example.
    fn sample(&self, sub: &Node, path: &[String], at: &[usize]) -> Option<Value> {
        let (root, rootv) = schema();
        let (target, _) = resolve(root, sub);
        let mut cands: Vec<Value> = Vec::new();
        // References to objects the scaffold creates.
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        match p.as_slice() {
            ["network_endpoints", _, "operator"] => cands.push(json!("first_party")),
            // Without sensors, an item is typed in (or comes from elsewhere).
            ["data_items", _, "source"] => cands.push(json!("user_input")),
            ["data_items", _, "cross_border", _, "recipient"] => cands.push(json!("recipient")),
            [.., "covers_items" | "carries_items" | "items"] => {
                cands.push(json!([]));
                cands.push(json!(self.ids.items));
            }
            _ => {}
        }
        let _ = at;
        for k in ["const", "default"] {
            cands.extend(target.value_of(k));
        }
        if let Some(e) = target.get("enum") {
            cands.extend(e.elements().first().map(Node::to_value));
        }
        let types: Vec<String> = match target.value_of("type") {
            Some(Value::String(t)) => vec![t],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        for t in &types {
            match t.as_str() {
                "boolean" => cands.push(json!(false)),
                "integer" | "number" => {
                    cands.extend(target.value_of("minimum"));
                    cands.push(json!(0));
                    cands.push(json!(1));
                }
                "string" => {
                    if is_date(root, sub) {
                        cands.push(json!(self.spec.as_of.to_string()));
                    }
                    cands.push(json!("TODO"));
                    // Pattern-bound strings without a sample: a URL, an
                    // e-mail address, a host name.
                    cands.push(json!("https://example.com/"));
                    cands.push(json!("todo@example.com"));
                    cands.push(json!("todo.example.com"));
                }
                "array" => {
                    cands.push(json!([]));
                    if let Some(items) = target.get("items") {
                        if let Some(v) = self.sample(items, &[], &[]) {
                            cands.push(json!([v]));
                        }
                    }
                }
                "object" => cands.push(json!({})),
                _ => {}
            }
        }
        cands.extend(example_values(self.samples, path));
        let mut leaf = sub.to_value();
        if let Value::Object(o) = &mut leaf {
            o.insert("$defs".into(), rootv["$defs"].clone());
        }
        let v = jsonschema::draft202012::options()
            .should_validate_formats(true)
            .build(&leaf)
            .ok()?;
        // TOML has no null: a placeholder must be writable.
        cands
            .into_iter()
            .find(|c| !contains_null(c) && v.is_valid(c))
    }
}

/// Rounds of [`Gen::repair`] before the scaffold is taken as it is (the
/// integration tests check that it then passes the schema).
const MAX_REPAIR_ROUNDS: usize = 6;

/// What [`Gen::repair`] does about one schema error.
enum Fix {
    /// Add the required member.
    Add(String),
    /// Take the value a condition fixes.
    Set(Value),
    /// Drop a value a condition forbids (only `null` would do, and TOML has none).
    Drop,
}

impl Entry {
    fn key(&self) -> &str {
        match self {
            Entry::Leaf { key, .. } | Entry::Table { key, .. } | Entry::Tables { key, .. } => key,
        }
    }
}

/// The entries as the JSON data model the schema sees.
fn to_json(entries: &[Entry]) -> Value {
    let mut o = serde_json::Map::new();
    for e in entries {
        let v = match e {
            Entry::Leaf { value, .. } => value.clone(),
            Entry::Table { entries, .. } => to_json(entries),
            Entry::Tables { elements, .. } => {
                Value::Array(elements.iter().map(|el| to_json(el)).collect())
            }
        };
        o.insert(e.key().to_string(), v);
    }
    Value::Object(o)
}

/// The entries of the object at `segs` (keys and element indices).
fn entries_at<'e>(mut entries: &'e mut Vec<Entry>, segs: &[String]) -> Option<&'e mut Vec<Entry>> {
    let mut i = 0;
    while i < segs.len() {
        let e = entries.iter_mut().find(|e| e.key() == segs[i])?;
        entries = match e {
            Entry::Table { entries, .. } => entries,
            Entry::Tables { elements, .. } => {
                i += 1;
                elements.get_mut(segs.get(i)?.parse::<usize>().ok()?)?
            }
            Entry::Leaf { .. } => return None,
        };
        i += 1;
    }
    Some(entries)
}

/// Sets the leaf at `segs`, or with `None` removes the entry there.
fn set_leaf(entries: &mut Vec<Entry>, segs: &[String], to: Option<Value>) {
    let Some((last, parent)) = segs.split_last() else {
        return;
    };
    let Some(list) = entries_at(entries, parent) else {
        return;
    };
    let Some(pos) = list.iter().position(|e| e.key() == last) else {
        return;
    };
    match (&mut list[pos], to) {
        (Entry::Leaf { value, .. }, Some(v)) => *value = v,
        (_, None) => {
            list.remove(pos);
        }
        _ => {}
    }
}

/// The object schema at `path` (`*` = array element), following the main
/// `properties` and `items`.
fn schema_object_at<'n>(root: &'n Node, path: &[String]) -> Option<&'n Node> {
    let mut n = resolve(root, root).0;
    for seg in path {
        let next = if seg == "*" {
            n.get("items")?
        } else {
            n.get("properties")?.get(seg)?
        };
        n = resolve(root, next).0;
    }
    Some(n)
}

fn contains_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(contains_null),
        Value::Object(o) => o.values().any(contains_null),
        _ => false,
    }
}

/// The manifests in [`SAMPLES`], loaded.
fn samples() -> &'static [Value] {
    static S: OnceLock<Vec<Value>> = OnceLock::new();
    S.get_or_init(|| {
        let mut map = SourceMap::new();
        SAMPLES
            .iter()
            .filter_map(|(name, text)| {
                document::load(&mut map, name, text.as_bytes(), &Limits::default())
                    .ok()
                    .map(|d| d.value)
            })
            .collect()
    })
}

/// Values at `path` (`*` = every element) in the sample manifests.
fn example_values(samples: &[Value], path: &[String]) -> Vec<Value> {
    fn walk(v: &Value, path: &[String], out: &mut Vec<Value>) {
        match path.split_first() {
            None => out.push(v.clone()),
            Some((s, rest)) if s == "*" => {
                for e in v.as_array().into_iter().flatten() {
                    walk(e, rest, out);
                }
            }
            Some((s, rest)) => {
                if let Some(n) = v.get(s.as_str()) {
                    walk(n, rest, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    for s in samples {
        walk(s, path, &mut out);
    }
    out
}

/// The comment after a placeholder: what may go there.
fn hint(root: &Node, target: &Node) -> String {
    let listed = |n: &Node| -> Option<String> {
        let (n, _) = resolve(root, n);
        let vals: Vec<String> = n
            .get("enum")?
            .elements()
            .iter()
            .filter_map(|v| match v.to_value() {
                Value::String(s) => Some(s),
                // TOML has no null: the field is left out instead.
                Value::Null => None,
                other => Some(other.to_string()),
            })
            .collect();
        if vals.len() > MAX_LISTED {
            return Some(format!(
                "{}, … ({} values, see the schema)",
                vals[..MAX_LISTED].join(", "),
                vals.len()
            ));
        }
        Some(vals.join(", "))
    };
    let what = if let Some(l) = listed(target) {
        Some(format!("one of {l}"))
    } else if let Some(l) = target.get("items").and_then(listed) {
        Some(format!("a list of {l}"))
    } else {
        match target.value_of("type") {
            Some(Value::String(t)) if t == "boolean" => Some("true or false".into()),
            _ => None,
        }
    };
    // A null is written by leaving the field out (TOML has no null).
    let nullable = match (target.value_of("type"), target.value_of("enum")) {
        (Some(Value::Array(t)), _) => t.contains(&Value::Null) || t.contains(&json!("null")),
        (_, Some(Value::Array(e))) => e.contains(&Value::Null),
        _ => false,
    };
    match (what, nullable) {
        (Some(w), false) => format!("{MARKER}: {w}"),
        (Some(w), true) => format!("{MARKER}: {w}; or delete the line for none"),
        (None, true) => format!("{MARKER}: or delete the line for none"),
        (None, false) => MARKER.to_string(),
    }
}

fn is_date(root: &Node, sub: &Node) -> bool {
    let direct = sub.get("$ref").and_then(Node::as_str) == Some("#/$defs/date");
    let (t, _) = resolve(root, sub);
    direct || t.get("format").and_then(Node::as_str) == Some("date")
}

/// Abbreviations a sentence does not end at ("GDPR Art. 9").
const ABBREVIATIONS: &[&str] = &[
    "Art", "Arts", "No", "Nos", "para", "paras", "e.g", "i.e", "cf", "vs", "s", "ss", "Sec", "St",
];

/// The first sentence of a schema description.
fn one_line(d: &str) -> String {
    let s = d.to_string();
    let mut end = s.len();
    for (i, _) in s.match_indices(". ") {
        let word = s[..i].rsplit([' ', '(']).next().unwrap_or("");
        let next_upper = s[i + 2..].starts_with(|c: char| c.is_uppercase());
        if next_upper && !ABBREVIATIONS.contains(&word) {
            end = i + 1;
            break;
        }
    }
    s[..end].trim().to_string()
}

/// RFC 6901 pointer → unescaped segments.
fn pointer_segments(p: &str) -> Vec<String> {
    p.split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn pointer(path: &[String]) -> String {
    path.iter().map(|s| format!("/{s}")).collect()
}

/// `Acme Cam 200` → `acme-cam-200`.
fn slug(name: &str) -> Option<String> {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    (!out.is_empty()).then_some(out)
}

/// The `#:schema` reference written when the caller gives none.
pub const DEFAULT_SCHEMA_REF: &str = MANIFEST_SCHEMA_ID;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_drops_design_references_and_keeps_the_first_sentence() {
        assert_eq!(
            one_line("Where the item comes from. More text."),
            "Where the item comes from."
        );
        assert_eq!(one_line("A sensor."), "A sensor.");
        assert_eq!(
            one_line("A GDPR Art. 28 contract is signed. It says so."),
            "A GDPR Art. 28 contract is signed."
        );
    }

    #[test]
    fn slugs_are_ids() {
        assert_eq!(slug("Acme Cam 200").as_deref(), Some("acme-cam-200"));
        assert_eq!(slug("  !! "), None);
    }

    #[test]
    fn choices_come_from_the_schema() {
        assert!(choices(Choice::Sensor).contains(&"camera".to_string()));
        assert!(choices(Choice::ProductClass).contains(&"consumer".to_string()));
        assert!(choices(Choice::Market).contains(&"US-CA".to_string()));
        match check_choice(Choice::Sensor, "camrea") {
            Err(ScaffoldError::UnknownValue { suggestion, .. }) => {
                assert_eq!(suggestion.as_deref(), Some("camera"))
            }
            other => panic!("{other:?}"),
        }
        match check_choice(Choice::Market, "eu") {
            Err(ScaffoldError::UnknownValue { suggestion, .. }) => {
                assert_eq!(suggestion.as_deref(), Some("EU"))
            }
            other => panic!("{other:?}"),
        }
    }
}
