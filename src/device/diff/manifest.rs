//! Typed diff of two manifests and its classification
//! into the deviation classes of docs/deviations.md, with the escalations E1 and E2.
//!
//! Lists of objects are matched by identity (`id`, an endpoint's `host`, an
//! open port's `port/proto`...), so reordering a list is not a change. Each
//! change is then judged by direction: tightening a promise is minor (M1,
//! M8), loosening it is a deviation of the class the field belongs to.

use super::rules::{Ctx, apply, bool_of, element, rule, sorted, str_of};
use super::sensitivity;
use super::{Class, Deviation, EscalationRule, Evidence, Mode, Report, escape_token, subject_of};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What happened to one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One structural difference between two manifests.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// RFC 6901 pointer (newer manifest for additions and changes, older for removals).
    pub pointer: String,
    /// The field path with list positions elided, e.g. `network_endpoints[].tls.enabled`.
    pub shape: String,
    /// Identities of the list elements on the way, outermost first.
    pub ids: Vec<String>,
    /// Pointers of each list element on the way (parallel to `ids`).
    pub elements: Vec<ElementPtr>,
    /// Pointer into the older manifest (meaningful unless `kind` is `Added`).
    pub old_pointer: String,
    pub kind: ChangeKind,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// Where a list element sits in the older and in the newer manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementPtr {
    pub old: Option<String>,
    pub new: Option<String>,
}

impl ElementPtr {
    /// The newer pointer when the element survives, else the older one.
    pub fn key(&self) -> &str {
        self.new.as_deref().or(self.old.as_deref()).unwrap_or("")
    }
}

/// Structural diff of two manifests (JSON values).
pub fn changes(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    let mut w = Walker { out: &mut out };
    w.walk(Some(old), Some(new), &Pos::default());
    out
}

#[derive(Default, Clone)]
struct Pos {
    old_ptr: String,
    new_ptr: String,
    shape: String,
    ids: Vec<String>,
    elements: Vec<ElementPtr>,
}

impl Pos {
    fn key(&self, k: &str) -> Pos {
        let t = escape_token(k);
        Pos {
            old_ptr: format!("{}/{t}", self.old_ptr),
            new_ptr: format!("{}/{t}", self.new_ptr),
            shape: if self.shape.is_empty() {
                k.to_owned()
            } else {
                format!("{}.{k}", self.shape)
            },
            ids: self.ids.clone(),
            elements: self.elements.clone(),
        }
    }

    fn element(&self, oi: Option<usize>, ni: Option<usize>, id: &str) -> Pos {
        let old_ptr = format!("{}/{}", self.old_ptr, oi.unwrap_or(0));
        let new_ptr = format!("{}/{}", self.new_ptr, ni.unwrap_or(0));
        let mut ids = self.ids.clone();
        ids.push(id.to_owned());
        let mut elements = self.elements.clone();
        elements.push(ElementPtr {
            old: oi.map(|_| old_ptr.clone()),
            new: ni.map(|_| new_ptr.clone()),
        });
        Pos {
            old_ptr,
            new_ptr,
            shape: format!("{}[]", self.shape),
            ids,
            elements,
        }
    }
}

struct Walker<'a> {
    out: &'a mut Vec<Change>,
}

/// Absent and `null` are the same ("is set" means present and not null).
fn set(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

impl Walker<'_> {
    fn walk(&mut self, old: Option<&Value>, new: Option<&Value>, pos: &Pos) {
        // Equal subtrees (the common case) cost one comparison, no allocation.
        if set(old) == set(new) {
            return;
        }
        match (set(old), set(new)) {
            (None, None) => {}
            (Some(Value::Object(a)), Some(Value::Object(b))) => {
                let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                for k in keys {
                    self.walk(a.get(k), b.get(k), &pos.key(k));
                }
            }
            (Some(Value::Array(a)), Some(Value::Array(b))) => self.list(a, b, pos),
            (o, n) if o == n => {}
            (o, n) => {
                let kind = match (o, n) {
                    (None, _) => ChangeKind::Added,
                    (_, None) => ChangeKind::Removed,
                    _ => ChangeKind::Changed,
                };
                self.push(kind, pos, o.cloned(), n.cloned());
            }
        }
    }

    fn push(&mut self, kind: ChangeKind, pos: &Pos, before: Option<Value>, after: Option<Value>) {
        let pointer = if kind == ChangeKind::Removed {
            &pos.old_ptr
        } else {
            &pos.new_ptr
        };
        self.out.push(Change {
            pointer: pointer.clone(),
            shape: pos.shape.clone(),
            ids: pos.ids.clone(),
            elements: pos.elements.clone(),
            old_pointer: pos.old_ptr.clone(),
            kind,
            before,
            after,
        });
    }

    fn list(&mut self, a: &[Value], b: &[Value], pos: &Pos) {
        let ka = identities(&pos.shape, a);
        let kb = identities(&pos.shape, b);
        let ia: BTreeMap<&str, usize> = ka
            .iter()
            .enumerate()
            .filter_map(|(i, k)| Some((k.as_deref()?, i)))
            .collect();
        let ib: BTreeMap<&str, usize> = kb
            .iter()
            .enumerate()
            .filter_map(|(i, k)| Some((k.as_deref()?, i)))
            .collect();
        for (k, &i) in &ia {
            if !ib.contains_key(k) {
                let p = pos.element(Some(i), None, k);
                self.push(ChangeKind::Removed, &p, Some(a[i].clone()), None);
            }
        }
        for (k, &j) in &ib {
            match ia.get(k) {
                None => {
                    let p = pos.element(None, Some(j), k);
                    self.push(ChangeKind::Added, &p, None, Some(b[j].clone()));
                }
                Some(&i) => {
                    let p = pos.element(Some(i), Some(j), k);
                    self.walk(Some(&a[i]), Some(&b[j]), &p);
                }
            }
        }
    }
}

/// The identity of each list element: a natural key per list (§3), else the
/// element's JSON text. Objects that share a key get `#n`; a scalar
/// repeated is the same member of a set (`None` after its first
/// occurrence), so a list that repeats a value 100,000 times is one member,
/// not 100,000 deviations.
fn identities(shape: &str, list: &[Value]) -> Vec<Option<String>> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    list.iter()
        .map(|v| {
            let base = natural_key(shape, v).unwrap_or_else(|| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            match (*n, v) {
                (1, _) => Some(base),
                (_, Value::Object(_) | Value::Array(_)) => Some(format!("{base}#{n}")),
                _ => None,
            }
        })
        .collect()
}

fn natural_key(shape: &str, v: &Value) -> Option<String> {
    let s = |k: &str| match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    match shape {
        "network_endpoints" => s("host"),
        "security.open_ports" => Some(format!(
            "{}/{}",
            s("port").unwrap_or_default(),
            s("proto").unwrap_or_default()
        )),
        "security.debug_interfaces" => s("type"),
        "data_items[].cross_border" => Some(format!(
            "{}->{}",
            s("from_market").unwrap_or_default(),
            s("to_country").unwrap_or_default()
        )),
        "device.firmware.variants" => s("build_id").or_else(|| s("digest")),
        "security.conformance" => s("standard"),
        "security.marketing_claims" => s("claim"),
        "security.support_period.history" => s("date"),
        _ => s("id"),
    }
}

// ---------------------------------------------------------------------------
// Escalation

/// Data items a change touches, for E1.
fn touched_items(c: &Change, ctx: &Ctx) -> Vec<String> {
    let top = c.shape.split('[').next().unwrap_or("");
    let el = element(c, ctx, 0);
    let ids = |v: Option<&Value>, k: &str| sorted(v.and_then(|v| v.get(k)));
    match top {
        "data_items" => c.ids.first().cloned().into_iter().collect(),
        "network_endpoints" => {
            let mut out = ids(el, "carries_items");
            if c.shape == "network_endpoints[].carries_items[]" {
                out.extend(str_of(&c.after).or(str_of(&c.before)).map(str::to_owned));
            }
            out
        }
        "sensors" => ids(el, "produces"),
        "device.firmware.variants" => ids(el, "items"),
        "recipients" => {
            let rid = c.ids.first().cloned().unwrap_or_default();
            ctx.new
                .get("data_items")
                .and_then(Value::as_array)
                .map(|items| {
                    items
                        .iter()
                        .filter(|i| sorted(i.get("recipients")).contains(&rid))
                        .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        }
        _ => Vec::new(),
    }
}

/// Fields whose turning false (or `none`) hides an object from the user or the notice.
const CONCEALING: &[&str] = &["documented", "declared_in_notice", "named_in_notice"];

/// List elements hidden by the newer manifest: a concealing flag turned
/// false, or an element added with it false (E2).
fn concealed_elements(all: &[Change]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for c in all {
        let field = c.shape.rsplit('.').next().unwrap_or("");
        let el = c.elements.last().map(|e| e.key().to_owned());
        if CONCEALING.contains(&field) && bool_of(&c.before) && !bool_of(&c.after) {
            if let Some(el) = &el {
                out.insert(el.clone(), format!("`{field}` turned false"));
            }
        }
        if c.kind == ChangeKind::Added && c.shape.ends_with("[]") {
            if let (Some(Value::Object(o)), Some(el)) = (&c.after, &el) {
                for f in CONCEALING {
                    if o.get(*f).and_then(Value::as_bool) == Some(false) {
                        out.insert(el.clone(), format!("added with `{f} = false`"));
                    }
                }
            }
        }
    }
    out
}

/// The P class of the dimension a list element belongs to.
fn dimension_class(shape: &str) -> Class {
    match shape.split('[').next().unwrap_or("") {
        "sensors" => Class::P2,
        "recipients" | "network_endpoints" => Class::P3,
        "security.accounts"
        | "security.remote_access_channels"
        | "security.debug_interfaces"
        | "security.open_ports" => Class::P5,
        "device.firmware.variants" => Class::P11,
        _ => Class::P1,
    }
}

/// Classified deviations between an accepted blueprint and a newer one.
pub fn diff_manifests(old: &Value, new: &Value) -> Vec<Deviation> {
    let ctx = Ctx { old, new };
    let all = changes(old, new);
    let hidden = concealed_elements(&all);
    // Bounded as they are made, not after: see [`super::MAX_PER_PLACE`].
    let mut out = super::Capper::default();
    for c in &all {
        let Some(j) = apply(rule(&c.shape), c, &ctx) else {
            continue;
        };
        let mut d = Deviation::new(j.class, c.pointer.clone()).because(&j.why);
        d.ids = c.ids.clone();
        d.before = c.before.clone();
        d.after = c.after.clone();
        if let Some(v) = &c.before {
            d.evidence.push(Evidence {
                kind: "manifest".into(),
                source: "old".into(),
                detail: serde_json::json!({ "pointer": c.old_pointer, "value": v }),
            });
        }
        if let Some(v) = &c.after {
            d.evidence.push(Evidence {
                kind: "manifest".into(),
                source: "new".into(),
                detail: serde_json::json!({ "pointer": c.pointer, "value": v }),
            });
        }
        // E1: a minor deviation touching SENS_ANY or children's data.
        if let Some(to) = j.e1 {
            let sensitive: Vec<String> = touched_items(c, &ctx)
                .into_iter()
                .filter(|id| {
                    sensitivity::item(new, id)
                        .or_else(|| sensitivity::item(old, id))
                        .is_some_and(|i| sensitivity::sensitive(i, new))
                })
                .collect();
            if !sensitive.is_empty() {
                d.escalate(
                    EscalationRule::E1,
                    to,
                    format!(
                        "touches sensitive or children's data item(s) {}",
                        sensitive.join(", ")
                    ),
                );
            }
        }
        // E2: any non-protective minor change on an element the newer
        // blueprint hides from the user or the notice.
        if !matches!(d.class, Class::M1 | Class::M4 | Class::M5 | Class::M8) {
            if let Some((el, why)) = c
                .elements
                .iter()
                .rev()
                .find_map(|e| hidden.get(e.key()).map(|w| (e.key(), w)))
            {
                d.escalate(
                    EscalationRule::E2,
                    dimension_class(&c.shape),
                    format!("the element {el} is {why}"),
                );
            }
        }
        out.push(d);
    }
    out.finish()
}

/// A full report for `blueprint diff OLD NEW`.
pub fn report(old: &Value, old_name: &str, new: &Value, new_name: &str) -> Report {
    Report::new(
        Mode::Manifest,
        subject_of(old, old_name, vec![new_name.to_owned()]),
        diff_manifests(old, new),
        Vec::new(),
    )
}
