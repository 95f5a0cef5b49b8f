//! Reference resolver of the schema stage.
//!
//! JSON Schema checks each value on its own; it cannot tell whether an id
//! named in one array is declared in another. This module does the joins:
//!
//! - every id reference resolves: `sensors[].produces`,
//!   `network_endpoints[].carries_items` and `.operator` (a recipient id or
//!   `first_party`), `data_items[].recipients`, `.cross_border[].recipient`
//!   and `.source_sensor`, `device.firmware.variants[].items` and
//!   `.endpoints` (hosts), `assessments.{dpia,pipia,ccpa_risk_assessment}.covers_items`,
//!   and `transparency.data_exposure_disclosure.covers`;
//! - ids are unique within their array (`data_items`, `sensors`,
//!   `recipients`, `security.accounts`, `security.remote_access_channels`);
//! - the sensor named by `source_sensor` lists the item in `produces`;
//! - each item's `markets` lies inside the manifest's `markets` after
//!   pseudo-market expansion (see [`market_within`]);
//! - `child_age_min ≤ child_age_max` (a comparison of two instance values,
//!   which JSON Schema 2020-12 cannot express).
//!
//! The resolver runs on any JSON value: parts that do not have the shape
//! the schema requires are skipped (the schema reports them). Work is
//! linear in the size of the manifest; suggestions ("did you mean") are
//! computed under a fixed budget.

use crate::diag::{Diagnostic, Label};
use crate::manifest::document::Document;
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// A problem found by the resolver. The lead stage turns it into a
/// `Diagnostic` with the span of `pointer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefProblem {
    /// JSON pointer (RFC 6901) of the referencing value, for example
    /// `/network_endpoints/2/carries_items/0`.
    pub pointer: String,
    /// Stable diagnostic code, one of [`codes`].
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl RefProblem {
    /// The problem as an error diagnostic labelled at the referencing value
    /// of `doc` (the nearest existing ancestor if the pointer is stale).
    pub fn to_diagnostic(&self, doc: &Document) -> Diagnostic {
        Diagnostic::error(self.code, self.message.clone())
            .with_pointer(self.pointer.clone())
            .with_label(Label::primary(
                doc.file,
                doc.locate(&self.pointer),
                label_for(self.code),
            ))
            .with_note(format!("help: {}", self.hint))
    }
}

fn label_for(code: &str) -> &'static str {
    match code {
        codes::DANGLING => "not declared",
        codes::DUPLICATE_ID => "repeated id",
        codes::SENSOR_NOT_PRODUCING => "sensor does not list this item",
        codes::ITEM_MARKET_OUTSIDE => "not among the device's markets",
        codes::CHILD_AGE_ORDER => "greater than child_age_max",
        _ => "here",
    }
}

/// Diagnostic codes produced by [`check_references`].
pub mod codes {
    /// A reference names an id (or host) that is not declared.
    pub const DANGLING: &str = "ref/dangling";
    /// Two elements of one array share an id.
    pub const DUPLICATE_ID: &str = "ref/duplicate-id";
    /// `source_sensor` names a sensor whose `produces` lacks the item.
    pub const SENSOR_NOT_PRODUCING: &str = "ref/sensor-not-producing";
    /// An item's market is outside the manifest's expanded markets.
    pub const ITEM_MARKET_OUTSIDE: &str = "ref/item-market-outside";
    /// `child_age_min` is greater than `child_age_max`.
    pub const CHILD_AGE_ORDER: &str = "ref/child-age-order";
    /// Every code this module can produce.
    pub const ALL: [&str; 5] = [
        DANGLING,
        DUPLICATE_ID,
        SENSOR_NOT_PRODUCING,
        ITEM_MARKET_OUTSIDE,
        CHILD_AGE_ORDER,
    ];
}

/// Value of `network_endpoints[].operator` that names the vendor itself.
pub const FIRST_PARTY: &str = "first_party";

/// Topic keywords a `data_exposure_disclosure.covers` entry may name
///.
pub const EXPOSURE_TOPICS: [&str; 1] = ["vendor_staff_access"];

/// EU member states.
pub const EU27: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// EEA members outside the EU.
pub const EEA_NON_EU: [&str; 3] = ["IS", "LI", "NO"];

/// The countries a market code stands for: `EU` → EU-27, `EEA` → EU-27
/// plus IS, LI, NO; any other code stands for itself.
pub fn expand_market(code: &str) -> Vec<&str> {
    match code {
        "EU" => EU27.to_vec(),
        "EEA" => EU27.iter().chain(EEA_NON_EU.iter()).copied().collect(),
        other => vec![other],
    }
}

/// A set of markets after pseudo-market expansion.
#[derive(Debug, Clone, Default)]
pub struct ExpandedMarkets<'a> {
    atoms: HashSet<&'a str>,
}

impl<'a> ExpandedMarkets<'a> {
    /// Expands `markets` ([`expand_market`]).
    pub fn new(markets: &[&'a str]) -> Self {
        ExpandedMarkets {
            atoms: markets.iter().flat_map(|m| expand_market(m)).collect(),
        }
    }

    /// Whether market `code` lies inside this set.
    ///
    /// `code` is expanded too, and every country it stands for must be in
    /// the set. `US` covers itself and every `US-*` code (`US-CA`,
    /// `US-FED`, …), because `mkt(US)` holds for all of them; a `US-*` code
    /// covers only itself, so an item in `US` needs `US` in the set. `CN` is
    /// mainland China and does not cover `HK` or `MO`; `GB` covers only
    /// itself.
    pub fn covers(&self, code: &str) -> bool {
        expand_market(code)
            .into_iter()
            .all(|a| self.atoms.contains(a) || (a.starts_with("US-") && self.atoms.contains("US")))
    }
}

/// Whether market `code` lies inside the markets `device` (see
/// [`ExpandedMarkets::covers`]).
pub fn market_within(code: &str, device: &[&str]) -> bool {
    ExpandedMarkets::new(device).covers(code)
}

/// Checks every cross-reference of a manifest. Pure: the
/// result depends only on `manifest`.
pub fn check_references(manifest: &Value) -> Vec<RefProblem> {
    let mut cx = Resolver::new(manifest);
    cx.check_produces();
    cx.check_items();
    cx.check_endpoints();
    cx.check_variants();
    cx.check_assessments();
    cx.check_disclosure();
    cx.out
}

/// Suggestions compare against at most this many declared ids …
const SUGGEST_MAX_CANDIDATES: usize = 512;
/// … for at most this many dangling references, with ids up to this length.
const SUGGEST_MAX_CALLS: usize = 64;
const SUGGEST_MAX_LEN: usize = 64;

/// Ids declared by one array: id → index of its first declaration.
type Declared<'a> = HashMap<&'a str, usize>;

struct Resolver<'a> {
    m: &'a Value,
    items: Declared<'a>,
    sensors: Declared<'a>,
    recipients: Declared<'a>,
    channels: Declared<'a>,
    hosts: Declared<'a>,
    /// Sensor id → item ids in its `produces`.
    produces: HashMap<&'a str, HashSet<&'a str>>,
    suggest_budget: usize,
    out: Vec<RefProblem>,
}

fn array_at<'a>(v: &'a Value, pointer: &str) -> &'a [Value] {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn str_at<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

impl<'a> Resolver<'a> {
    fn new(m: &'a Value) -> Self {
        let mut out = Vec::new();
        let items = declare(m, "/data_items", "id", "data item", &mut out);
        let sensors = declare(m, "/sensors", "id", "sensor", &mut out);
        let recipients = declare(m, "/recipients", "id", "recipient", &mut out);
        declare(m, "/security/accounts", "id", "account", &mut out);
        let channels = declare(
            m,
            "/security/remote_access_channels",
            "id",
            "remote-access channel",
            &mut out,
        );
        // Several endpoints may share a host (different ports or
        // protocols); a host reference then names all of them.
        let mut hosts = Declared::new();
        for (i, e) in array_at(m, "/network_endpoints").iter().enumerate() {
            if let Some(h) = str_at(e, "host") {
                hosts.entry(h).or_insert(i);
            }
        }
        let mut produces: HashMap<&str, HashSet<&str>> = HashMap::new();
        for s in array_at(m, "/sensors") {
            if let Some(id) = str_at(s, "id") {
                let set = produces.entry(id).or_default();
                if let Some(list) = s.get("produces").and_then(Value::as_array) {
                    set.extend(list.iter().filter_map(Value::as_str));
                }
            }
        }
        Resolver {
            m,
            items,
            sensors,
            recipients,
            channels,
            hosts,
            produces,
            suggest_budget: SUGGEST_MAX_CALLS,
            out,
        }
    }

    fn push(&mut self, pointer: String, code: &'static str, message: String, hint: String) {
        self.out.push(RefProblem {
            pointer,
            code,
            message,
            hint,
        });
    }

    fn declared(&self, target: Target) -> &Declared<'a> {
        match target {
            Target::Item => &self.items,
            Target::Sensor => &self.sensors,
            Target::Recipient => &self.recipients,
            Target::Host => &self.hosts,
        }
    }

    /// Whether a suggestion may be computed for `wanted` among `n`
    /// candidates; spends one unit of the budget when it may.
    fn may_suggest(&mut self, wanted: &str, n: usize) -> bool {
        if self.suggest_budget == 0 || wanted.len() > SUGGEST_MAX_LEN || n > SUGGEST_MAX_CANDIDATES
        {
            return false;
        }
        self.suggest_budget -= 1;
        true
    }

    /// Reports `value` unless `target` declares it; `pointer` is built only
    /// for a problem.
    fn resolve(
        &mut self,
        pointer: impl FnOnce() -> String,
        value: &Value,
        target: Target,
        field: &str,
    ) {
        let Some(id) = value.as_str() else { return };
        let n = match self.declared(target) {
            d if d.contains_key(id) => return,
            d => d.len(),
        };
        let suggestion = if self.may_suggest(id, n) {
            let keys: Vec<&str> = self.declared(target).keys().copied().collect();
            closest(id, &keys)
        } else {
            None
        };
        let (kind, array, key) = target.describe();
        let id = excerpt(id);
        let message = format!("`{field}` names {kind} \"{id}\", which is not declared");
        let hint = match suggestion {
            Some(s) => format!("did you mean \"{s}\"?"),
            None => format!("declare it in `{array}` (with {key} = \"{id}\") or fix the reference"),
        };
        self.push(pointer(), codes::DANGLING, message, hint);
    }

    fn resolve_list(&mut self, base: &str, owner: &Value, list: &str, target: Target) {
        let Some(values) = owner.get(list).and_then(Value::as_array) else {
            return;
        };
        for (j, v) in values.iter().enumerate() {
            self.resolve(|| format!("{base}/{list}/{j}"), v, target, list);
        }
    }

    fn check_produces(&mut self) {
        for (i, s) in array_at(self.m, "/sensors").iter().enumerate() {
            self.resolve_list(&format!("/sensors/{i}"), s, "produces", Target::Item);
        }
    }

    fn check_items(&mut self) {
        let device_markets: Option<ExpandedMarkets<'a>> =
            self.m.get("markets").and_then(Value::as_array).map(|a| {
                let codes: Vec<&'a str> = a.iter().filter_map(Value::as_str).collect();
                ExpandedMarkets::new(&codes)
            });
        for (i, item) in array_at(self.m, "/data_items").iter().enumerate() {
            let base = format!("/data_items/{i}");
            let item_id = str_at(item, "id");
            self.resolve_list(&base, item, "recipients", Target::Recipient);
            for (j, cb) in item
                .get("cross_border")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[])
                .iter()
                .enumerate()
            {
                if let Some(r) = cb.get("recipient") {
                    self.resolve(
                        || format!("{base}/cross_border/{j}/recipient"),
                        r,
                        Target::Recipient,
                        "recipient",
                    );
                }
            }
            if let Some(s) = item.get("source_sensor") {
                self.check_source_sensor(&base, s, item_id);
            }
            if let Some(dm) = &device_markets {
                self.check_item_markets(&base, item, item_id, dm);
            }
            self.check_child_ages(&base, item);
        }
    }

    fn check_source_sensor(&mut self, base: &str, s: &Value, item_id: Option<&str>) {
        let pointer = || format!("{base}/source_sensor");
        let Some(sensor) = s.as_str() else { return };
        if !self.sensors.contains_key(sensor) {
            self.resolve(pointer, s, Target::Sensor, "source_sensor");
            return;
        }
        let Some(item_id) = item_id else { return };
        let listed = self
            .produces
            .get(sensor)
            .is_some_and(|set| set.contains(item_id));
        if !listed {
            let at = self.sensors.get(sensor).copied().unwrap_or(0);
            let (sensor, item_id) = (excerpt(sensor), excerpt(item_id));
            self.push(
                pointer(),
                codes::SENSOR_NOT_PRODUCING,
                format!("sensor \"{sensor}\" does not list data item \"{item_id}\" in its `produces`"),
                format!(
                    "add \"{item_id}\" to `produces` of sensor \"{sensor}\" (/sensors/{at}), or name the sensor that produces it"
                ),
            );
        }
    }

    fn check_item_markets(
        &mut self,
        base: &str,
        item: &Value,
        item_id: Option<&str>,
        device: &ExpandedMarkets<'_>,
    ) {
        let Some(markets) = item.get("markets").and_then(Value::as_array) else {
            return;
        };
        for (j, mv) in markets.iter().enumerate() {
            let Some(code) = mv.as_str() else { continue };
            if device.covers(code) {
                continue;
            }
            let who = item_id.map_or_else(String::new, |id| {
                format!(" of data item \"{}\"", excerpt(id))
            });
            let code = excerpt(code);
            self.push(
                format!("{base}/markets/{j}"),
                codes::ITEM_MARKET_OUTSIDE,
                format!("market \"{code}\"{who} is outside the device's `markets`"),
                format!(
                    "add \"{code}\" to the top-level `markets` or remove it from the item; EU and EEA stand for their member states, and US covers every US-* code"
                ),
            );
        }
    }

    fn check_child_ages(&mut self, base: &str, item: &Value) {
        let min = item.get("child_age_min").and_then(Value::as_f64);
        let max = item.get("child_age_max").and_then(Value::as_f64);
        if let (Some(lo), Some(hi)) = (min, max) {
            if lo > hi {
                self.push(
                    format!("{base}/child_age_min"),
                    codes::CHILD_AGE_ORDER,
                    format!("child_age_min ({lo}) is greater than child_age_max ({hi})"),
                    "child_age_min is the youngest age concerned and child_age_max the oldest; swap or correct them".to_string(),
                );
            }
        }
    }

    fn check_endpoints(&mut self) {
        for (i, e) in array_at(self.m, "/network_endpoints").iter().enumerate() {
            let base = format!("/network_endpoints/{i}");
            self.resolve_list(&base, e, "carries_items", Target::Item);
            let Some(op) = e.get("operator") else {
                continue;
            };
            let Some(op_id) = op.as_str() else { continue };
            if op_id == FIRST_PARTY || self.recipients.contains_key(op_id) {
                continue;
            }
            let suggestion = if self.may_suggest(op_id, self.recipients.len() + 1) {
                let mut keys: Vec<&str> = self.recipients.keys().copied().collect();
                keys.push(FIRST_PARTY);
                closest(op_id, &keys)
            } else {
                None
            };
            let op_id = excerpt(op_id);
            let hint = match suggestion {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => format!(
                    "use \"first_party\" for the vendor's own systems, or declare the operator in `recipients` (with id = \"{op_id}\")"
                ),
            };
            self.push(
                format!("{base}/operator"),
                codes::DANGLING,
                format!("`operator` names recipient \"{op_id}\", which is not declared"),
                hint,
            );
        }
    }

    fn check_variants(&mut self) {
        for (i, v) in array_at(self.m, "/device/firmware/variants")
            .iter()
            .enumerate()
        {
            let base = format!("/device/firmware/variants/{i}");
            self.resolve_list(&base, v, "items", Target::Item);
            self.resolve_list(&base, v, "endpoints", Target::Host);
        }
    }

    fn check_assessments(&mut self) {
        for name in ["dpia", "pipia", "ccpa_risk_assessment"] {
            if let Some(a) = self.m.pointer(&format!("/assessments/{name}")) {
                self.resolve_list(
                    &format!("/assessments/{name}"),
                    a,
                    "covers_items",
                    Target::Item,
                );
            }
        }
    }

    /// `covers` entries resolve, in this order, to a data item id, a
    /// remote-access channel id, an endpoint host, or a topic keyword
    ///.
    fn check_disclosure(&mut self) {
        const BASE: &str = "/transparency/data_exposure_disclosure/covers";
        for (j, v) in array_at(self.m, BASE).iter().enumerate() {
            let Some(entry) = v.as_str() else { continue };
            if self.items.contains_key(entry)
                || self.channels.contains_key(entry)
                || self.hosts.contains_key(entry)
                || EXPOSURE_TOPICS.contains(&entry)
            {
                continue;
            }
            let n =
                self.items.len() + self.channels.len() + self.hosts.len() + EXPOSURE_TOPICS.len();
            let suggestion = if self.may_suggest(entry, n) {
                let keys: Vec<&str> = self
                    .items
                    .keys()
                    .chain(self.channels.keys())
                    .chain(self.hosts.keys())
                    .copied()
                    .chain(EXPOSURE_TOPICS)
                    .collect();
                closest(entry, &keys)
            } else {
                None
            };
            let entry = excerpt(entry);
            let hint = match suggestion {
                Some(s) => format!("did you mean \"{s}\"?"),
                None => "a `covers` entry is a data item id, a remote-access channel id, a network endpoint host, or the topic \"vendor_staff_access\"".to_string(),
            };
            self.push(
                format!("{BASE}/{j}"),
                codes::DANGLING,
                format!("`covers` entry \"{entry}\" matches no data item, remote-access channel, endpoint host or topic"),
                hint,
            );
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Target {
    Item,
    Sensor,
    Recipient,
    Host,
}

impl Target {
    /// (what it is, where it is declared, its key field).
    fn describe(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Target::Item => ("data item", "data_items", "id"),
            Target::Sensor => ("sensor", "sensors", "id"),
            Target::Recipient => ("recipient", "recipients", "id"),
            Target::Host => ("endpoint host", "network_endpoints", "host"),
        }
    }
}

/// Indexes the `key` of every element of the array at `pointer`, reporting
/// repeated ids: one problem per repeated id (at its second declaration),
/// naming where it is declared, so that an id repeated n times costs one
/// finding, not n - 1 (nor n² / 2 pairs).
fn declare<'a>(
    m: &'a Value,
    pointer: &str,
    key: &str,
    kind: &str,
    out: &mut Vec<RefProblem>,
) -> Declared<'a> {
    let mut seen = Declared::new();
    // Repeated id → every index declaring it, in array order.
    let mut repeats: HashMap<&'a str, Vec<usize>> = HashMap::new();
    for (i, el) in array_at(m, pointer).iter().enumerate() {
        let Some(id) = str_at(el, key) else { continue };
        match seen.get(id) {
            Some(&first) => repeats.entry(id).or_insert_with(|| vec![first]).push(i),
            None => {
                seen.insert(id, i);
            }
        }
    }
    let mut repeats: Vec<(&str, Vec<usize>)> = repeats.into_iter().collect();
    repeats.sort_by_key(|(_, at)| at[1]);
    for (id, at) in repeats {
        let shown = excerpt(id);
        let message = if at.len() == 2 {
            format!(
                "{kind} id \"{shown}\" is already declared at {pointer}/{}",
                at[0]
            )
        } else {
            let listed: Vec<String> = at
                .iter()
                .take(DUPLICATE_PLACES_SHOWN)
                .map(|i| format!("{pointer}/{i}"))
                .collect();
            let more = at.len().saturating_sub(DUPLICATE_PLACES_SHOWN);
            let tail = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!(
                "{kind} id \"{shown}\" is declared {} times: at {}{tail}",
                at.len(),
                listed.join(", ")
            )
        };
        out.push(RefProblem {
            pointer: format!("{pointer}/{}/{key}", at[1]),
            code: codes::DUPLICATE_ID,
            message,
            hint: format!("give each {kind} its own id; references cannot tell the two apart"),
        });
    }
    seen
}

/// How many declarations of a repeated id a message lists.
const DUPLICATE_PLACES_SHOWN: usize = 5;

/// Longest id a message quotes whole; longer ones are cut (an id that long
/// is wrong anyway, and the schema says so).
const QUOTE_MAX_CHARS: usize = 64;

/// `id` for a message: whole when short, else its first characters and `…`.
fn excerpt(id: &str) -> std::borrow::Cow<'_, str> {
    match id.char_indices().nth(QUOTE_MAX_CHARS) {
        None => std::borrow::Cow::Borrowed(id),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}…", &id[..cut])),
    }
}

/// Closest candidate to `wanted` within a third of its length (at least 1
/// edit), if any: a likely typo. Ties go to the smaller id.
fn closest<'b>(wanted: &str, candidates: &[&'b str]) -> Option<&'b str> {
    let limit = (wanted.chars().count() / 3).max(1);
    candidates
        .iter()
        .filter(|c| c.len() <= SUGGEST_MAX_LEN)
        .map(|c| (edit_distance(wanted, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Edit distance with adjacent transpositions (optimal string alignment),
/// over chars; inputs are bounded by the caller.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut before: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 0..a.len() {
        cur[0] = i + 1;
        for j in 0..b.len() {
            let mut d = (prev[j] + usize::from(a[i] != b[j]))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
            if i > 0 && j > 0 && a[i] == b[j - 1] && a[i - 1] == b[j] {
                d = d.min(before[j - 1] + 1);
            }
            cur[j + 1] = d;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests;
