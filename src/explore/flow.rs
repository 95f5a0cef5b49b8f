//! A device's data-flow map: a layered graph from sensors to data items to
//! recipients and network endpoints to countries, with the countries
//! grouped in the protective zones the profiles tell apart, drawn as a
//! self-contained SVG.
//!
//! The layout is our own and deterministic: one column per layer; within a
//! column, nodes start in manifest order and a downward then an upward
//! barycenter pass (Sugiyama et al., 1981) reorders them to reduce edge
//! crossings; countries stay grouped by zone. Work and output are bounded:
//! each layer draws at most [`FlowOptions::max_per_layer`] nodes (the rest
//! fold into one "+N more" node) and at most [`FlowOptions::max_edges`]
//! links, so a manifest with 100,000 endpoints still renders in bounded size.

use super::escape;
use crate::derived::RefData;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

/// The columns of the map, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    /// `sensors[*]`.
    Sensor,
    /// `data_items[*]`.
    Item,
    /// `recipients[*]` and `network_endpoints[*]`.
    Receiver,
    /// Countries data reaches.
    Country,
}

impl Layer {
    const ALL: [Layer; 4] = [Layer::Sensor, Layer::Item, Layer::Receiver, Layer::Country];

    fn column(self) -> usize {
        self as usize
    }

    /// Column heading.
    pub fn heading(self) -> &'static str {
        match self {
            Layer::Sensor => "Sensors",
            Layer::Item => "Data items",
            Layer::Receiver => "Recipients and endpoints",
            Layer::Country => "Countries",
        }
    }
}

/// A protective zone whose border the profiles care about: data crossing it
/// triggers transfer rules (GDPR Chapter V, UK GDPR, PIPL Art. 38-40, the
/// US rules on countries of concern).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Zone {
    /// The European Economic Area (the EEA reference table).
    Eea,
    /// The United Kingdom (`GB`).
    Uk,
    /// The United States (`US`).
    Us,
    /// Mainland China (`CN`; Hong Kong and Macao are separate markets).
    MainlandChina,
}

impl Zone {
    /// Every zone, in drawing order.
    pub const ALL: [Zone; 4] = [Zone::Eea, Zone::Uk, Zone::Us, Zone::MainlandChina];

    /// The zone of an ISO 3166-1 country code, if any. EEA membership comes
    /// from the reference table the profiles use.
    pub fn of(country: &str, refs: &RefData) -> Option<Zone> {
        match country {
            "GB" => Some(Zone::Uk),
            "US" => Some(Zone::Us),
            "CN" => Some(Zone::MainlandChina),
            c if refs.is_eea(c) => Some(Zone::Eea),
            _ => None,
        }
    }

    /// Name shown on the zone's box.
    pub fn label(self) -> &'static str {
        match self {
            Zone::Eea => "European Economic Area",
            Zone::Uk => "United Kingdom",
            Zone::Us => "United States",
            Zone::MainlandChina => "Mainland China",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Zone::Eea => "z-eea",
            Zone::Uk => "z-uk",
            Zone::Us => "z-us",
            Zone::MainlandChina => "z-cn",
        }
    }
}

/// Bounds on what the map draws.
#[derive(Debug, Clone, Copy)]
pub struct FlowOptions {
    /// Nodes drawn per layer, including the "+N more" node.
    pub max_per_layer: usize,
    /// Links drawn in all.
    pub max_edges: usize,
}

impl Default for FlowOptions {
    fn default() -> Self {
        FlowOptions {
            max_per_layer: 200,
            max_edges: 2000,
        }
    }
}

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A sensor.
    Sensor,
    /// A data item.
    Item,
    /// A data item that is transferred nowhere (kept on the device or in the
    /// vendor's storage).
    LocalItem,
    /// A recipient.
    Recipient,
    /// A network endpoint.
    Endpoint,
    /// A country.
    Country,
    /// Nodes folded away by the per-layer bound.
    More,
}

/// One node of the map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Stable key (`sensor:ID`, `item:ID`, `recipient:ID`, `endpoint:HOST`, `country:CC`).
    pub key: String,
    /// Column.
    pub layer: Layer,
    /// What it is.
    pub kind: NodeKind,
    /// First line.
    pub label: String,
    /// Second line.
    pub detail: String,
    /// Tooltip / accessible name.
    pub title: String,
    /// The zone of a country node.
    pub zone: Option<Zone>,
}

/// A link between nodes of adjacent layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Edge {
    /// Source node index.
    pub from: usize,
    /// Target node index.
    pub to: usize,
    /// Declared as a cross-border transfer (`cross_border` entry).
    pub cross_border: bool,
}

/// The laid-out map.
#[derive(Debug, Clone)]
pub struct FlowMap {
    /// Nodes drawn.
    pub nodes: Vec<Node>,
    /// Links drawn.
    pub edges: Vec<Edge>,
    /// Node indices per column, top to bottom.
    pub columns: [Vec<usize>; 4],
    /// Nodes per layer before folding (what the manifest declares).
    pub declared: [usize; 4],
    /// Links left out by [`FlowOptions::max_edges`].
    pub edges_omitted: usize,
}

const FIRST_PARTY: &str = "first_party";

fn arr(v: Option<&Value>) -> &[Value] {
    v.and_then(Value::as_array).map_or(&[], Vec::as_slice)
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The graph before bounding: nodes by key, edges by key pairs.
struct Builder {
    nodes: Vec<Node>,
    index: HashMap<String, usize>,
    edges: BTreeSet<(usize, usize, bool)>,
}

impl Builder {
    fn node(&mut self, n: Node) -> usize {
        if let Some(&i) = self.index.get(&n.key) {
            return i;
        }
        let i = self.nodes.len();
        self.index.insert(n.key.clone(), i);
        self.nodes.push(n);
        i
    }

    fn find(&self, key: &str) -> Option<usize> {
        self.index.get(key).copied()
    }

    fn edge(&mut self, from: usize, to: usize, cross_border: bool) {
        self.edges.insert((from, to, cross_border));
    }
}

fn country_node(cc: &str, refs: &RefData) -> Node {
    let zone = Zone::of(cc, refs);
    Node {
        key: format!("country:{cc}"),
        layer: Layer::Country,
        kind: NodeKind::Country,
        label: cc.to_owned(),
        detail: zone
            .map_or("outside the zones shown", Zone::label)
            .to_owned(),
        title: match zone {
            Some(z) => format!("{cc} ({})", z.label()),
            None => cc.to_owned(),
        },
        zone,
    }
}

fn first_party_node(m: &Value) -> Node {
    let vendor = m
        .get("vendor")
        .and_then(|v| s(v, "legal_name"))
        .unwrap_or("the vendor");
    Node {
        key: format!("recipient:{FIRST_PARTY}"),
        layer: Layer::Receiver,
        kind: NodeKind::Recipient,
        label: "Vendor's own systems".into(),
        detail: "first party".into(),
        title: format!("{vendor} (first party)"),
        zone: None,
    }
}

/// Builds and lays out the map of a manifest (any JSON value: fields that
/// are missing or of the wrong type are skipped, so a manifest that fails
/// the schema still gets a map of what it does say).
pub fn flow_map(m: &Value, refs: &RefData, options: &FlowOptions) -> FlowMap {
    let mut b = Builder {
        nodes: Vec::new(),
        index: HashMap::new(),
        edges: BTreeSet::new(),
    };
    for sensor in arr(m.get("sensors")) {
        let Some(id) = s(sensor, "id") else { continue };
        let kind = s(sensor, "type").unwrap_or("sensor");
        b.node(Node {
            key: format!("sensor:{id}"),
            layer: Layer::Sensor,
            kind: NodeKind::Sensor,
            label: id.to_owned(),
            detail: kind.replace('_', " "),
            title: format!("sensor {id} ({kind})"),
            zone: None,
        });
    }
    let items = arr(m.get("data_items"));
    let endpoints = arr(m.get("network_endpoints"));
    let carried: BTreeSet<&str> = endpoints
        .iter()
        .flat_map(|e| arr(e.get("carries_items")))
        .filter_map(Value::as_str)
        .collect();
    for item in items {
        let Some(id) = s(item, "id") else { continue };
        let goes = !arr(item.get("recipients")).is_empty()
            || !arr(item.get("cross_border")).is_empty()
            || carried.contains(id);
        let name = s(item, "name").unwrap_or(id);
        b.node(Node {
            key: format!("item:{id}"),
            layer: Layer::Item,
            kind: if goes {
                NodeKind::Item
            } else {
                NodeKind::LocalItem
            },
            label: id.to_owned(),
            detail: s(item, "category").unwrap_or("").to_owned(),
            title: if goes {
                name.to_owned()
            } else {
                format!("{name} (not transferred)")
            },
            zone: None,
        });
    }
    for r in arr(m.get("recipients")) {
        let Some(id) = s(r, "id") else { continue };
        let name = s(r, "name").unwrap_or(id);
        let role = s(r, "role").unwrap_or("recipient");
        let ri = b.node(Node {
            key: format!("recipient:{id}"),
            layer: Layer::Receiver,
            kind: NodeKind::Recipient,
            label: name.to_owned(),
            detail: format!("recipient, {}", role.replace('_', " ")),
            title: format!("{name} ({id}, {role})"),
            zone: None,
        });
        if let Some(cc) = s(r, "country") {
            let ci = b.node(country_node(cc, refs));
            b.edge(ri, ci, false);
        }
    }
    for e in endpoints {
        let Some(host) = s(e, "host") else { continue };
        let proto = s(e, "protocol").unwrap_or("");
        let port = e.get("port").and_then(Value::as_u64);
        let detail = match port {
            Some(p) => format!("endpoint, {proto}:{p}"),
            None => format!("endpoint, {proto}"),
        };
        let ei = b.node(Node {
            key: format!("endpoint:{host}"),
            layer: Layer::Receiver,
            kind: NodeKind::Endpoint,
            label: host.to_owned(),
            detail,
            title: format!(
                "endpoint {host}, operated by {}",
                s(e, "operator").unwrap_or("?")
            ),
            zone: None,
        });
        if let Some(cc) = s(e, "country") {
            let ci = b.node(country_node(cc, refs));
            b.edge(ei, ci, false);
        }
        for id in arr(e.get("carries_items")).iter().filter_map(Value::as_str) {
            if let Some(ii) = b.find(&format!("item:{id}")) {
                b.edge(ii, ei, false);
            }
        }
    }
    for sensor in arr(m.get("sensors")) {
        let Some(si) = s(sensor, "id").and_then(|id| b.find(&format!("sensor:{id}"))) else {
            continue;
        };
        for id in arr(sensor.get("produces")).iter().filter_map(Value::as_str) {
            if let Some(ii) = b.find(&format!("item:{id}")) {
                b.edge(si, ii, false);
            }
        }
    }
    for item in items {
        let Some(ii) = s(item, "id").and_then(|id| b.find(&format!("item:{id}"))) else {
            continue;
        };
        if let Some(si) = s(item, "source_sensor").and_then(|id| b.find(&format!("sensor:{id}"))) {
            b.edge(si, ii, false);
        }
        for rid in arr(item.get("recipients")).iter().filter_map(Value::as_str) {
            let ri = match b.find(&format!("recipient:{rid}")) {
                Some(ri) => ri,
                None if rid == FIRST_PARTY => b.node(first_party_node(m)),
                None => continue,
            };
            b.edge(ii, ri, false);
        }
        for x in arr(item.get("cross_border")) {
            let Some(cc) = s(x, "to_country") else {
                continue;
            };
            let ri = match s(x, "recipient").and_then(|r| b.find(&format!("recipient:{r}"))) {
                Some(ri) => ri,
                None => b.node(first_party_node(m)),
            };
            let ci = b.node(country_node(cc, refs));
            b.edge(ii, ri, false);
            b.edge(ri, ci, true);
        }
    }
    bound_and_layout(b, options)
}

/// Folds each layer to the bound, caps the links and orders the columns.
fn bound_and_layout(b: Builder, options: &FlowOptions) -> FlowMap {
    let max = options.max_per_layer.max(2);
    let mut declared = [0usize; 4];
    let mut by_layer: [Vec<usize>; 4] = Default::default();
    for (i, n) in b.nodes.iter().enumerate() {
        declared[n.layer.column()] += 1;
        by_layer[n.layer.column()].push(i);
    }
    // Old index → new index (folded nodes map to their layer's "+N more").
    let mut remap: Vec<usize> = vec![usize::MAX; b.nodes.len()];
    let mut nodes: Vec<Node> = Vec::new();
    for layer in Layer::ALL {
        let list = &mut by_layer[layer.column()];
        if layer == Layer::Receiver {
            // Recipients are few and name who gets data: keep them first.
            list.sort_by_key(|&i| (b.nodes[i].kind != NodeKind::Recipient, i));
        }
        let keep = if list.len() > max {
            max - 1
        } else {
            list.len()
        };
        for &i in &list[..keep] {
            remap[i] = nodes.len();
            nodes.push(b.nodes[i].clone());
        }
        if list.len() > keep {
            let more = list.len() - keep;
            let what = layer.heading().to_lowercase();
            let folded = nodes.len();
            nodes.push(Node {
                key: format!("more:{}", layer.column()),
                layer,
                kind: NodeKind::More,
                label: format!("+{more} more"),
                detail: what.clone(),
                title: format!("{more} more {what} not drawn"),
                zone: None,
            });
            for &i in &list[keep..] {
                remap[i] = folded;
            }
        }
    }
    // One link per pair; a declared cross-border transfer marks it.
    let mut pairs: BTreeMap<(usize, usize), bool> = BTreeMap::new();
    for &(f, t, x) in &b.edges {
        *pairs.entry((remap[f], remap[t])).or_default() |= x;
    }
    let all: Vec<Edge> = pairs
        .into_iter()
        .map(|((from, to), cross_border)| Edge {
            from,
            to,
            cross_border,
        })
        .collect();
    // A country's second line: how many receivers send data there.
    let mut fan_in = vec![0usize; nodes.len()];
    for e in &all {
        fan_in[e.to] += 1;
    }
    for (n, &k) in nodes.iter_mut().zip(&fan_in) {
        if n.kind == NodeKind::Country {
            n.detail = format!("from {k} {}", if k == 1 { "receiver" } else { "receivers" });
        }
    }
    let total = all.len();
    let edges: Vec<Edge> = all.into_iter().take(options.max_edges).collect();
    let mut columns: [Vec<usize>; 4] = Default::default();
    for (i, n) in nodes.iter().enumerate() {
        columns[n.layer.column()].push(i);
    }
    order(&nodes, &edges, &mut columns);
    FlowMap {
        edges_omitted: total - edges.len(),
        nodes,
        edges,
        columns,
        declared,
    }
}

/// One downward and one upward barycenter pass; countries grouped by zone
/// (zones in a fixed order, countries outside every zone last).
fn order(nodes: &[Node], edges: &[Edge], columns: &mut [Vec<usize>; 4]) {
    let mut pos: Vec<f64> = vec![0.0; nodes.len()];
    let set_pos = |pos: &mut Vec<f64>, col: &[usize]| {
        for (k, &i) in col.iter().enumerate() {
            pos[i] = k as f64;
        }
    };
    for col in columns.iter() {
        set_pos(&mut pos, col);
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for e in edges {
        preds[e.to].push(e.from);
        succs[e.from].push(e.to);
    }
    let sweep = |col: &mut Vec<usize>, pos: &[f64], nbrs: &[Vec<usize>]| {
        let key = |i: usize| -> f64 {
            let n = &nbrs[i];
            if n.is_empty() {
                pos[i]
            } else {
                n.iter().map(|&j| pos[j]).sum::<f64>() / n.len() as f64
            }
        };
        let mut keyed: Vec<(f64, usize, usize)> = col
            .iter()
            .enumerate()
            .map(|(k, &i)| (key(i), k, i))
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        *col = keyed.into_iter().map(|(_, _, i)| i).collect();
    };
    for col in columns.iter_mut().skip(1) {
        sweep(col, &pos, &preds);
        set_pos(&mut pos, col);
    }
    for col in columns.iter_mut().rev().skip(1) {
        sweep(col, &pos, &succs);
        set_pos(&mut pos, col);
    }
    // Zones stay together (stable: barycenter order within a zone).
    let rank = |i: usize| match nodes[i].zone {
        Some(z) => z as usize,
        None if nodes[i].kind == NodeKind::More => usize::MAX,
        None => Zone::ALL.len(),
    };
    columns[Layer::Country.column()].sort_by_key(|&i| rank(i));
}

/// Where things go: each node's top-left corner, each zone box (zone, top,
/// bottom of its last row) and the drawing's height.
struct Placement {
    at: Vec<(f64, f64)>,
    zones: Vec<(Zone, f64, f64)>,
    height: f64,
}

// Geometry of the drawing, in SVG user units (px).
const COL_W: f64 = 250.0;
const NODE_W: f64 = 206.0;
const NODE_H: f64 = 38.0;
const ROW: f64 = 48.0;
const TOP: f64 = 56.0;
const LEFT: f64 = 16.0;
const ZONE_HEAD: f64 = 26.0;
const ZONE_GAP: f64 = 14.0;
const LABEL_CHARS: usize = 25;

/// Cuts `s` to `n` characters, marking the cut with an ellipsis.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.truncate(out.trim_end().len());
        out.push('…');
        out
    }
}

impl FlowMap {
    /// Countries drawn, per zone (`None`: outside the zones shown), in
    /// drawing order.
    pub fn countries(&self) -> BTreeMap<Option<Zone>, Vec<&str>> {
        let mut out: BTreeMap<Option<Zone>, Vec<&str>> = BTreeMap::new();
        for &i in &self.columns[Layer::Country.column()] {
            let n = &self.nodes[i];
            if n.kind == NodeKind::Country {
                out.entry(n.zone).or_default().push(&n.label);
            }
        }
        out
    }

    /// Node positions: top-left corner of each node.
    fn positions(&self) -> Placement {
        let mut at = vec![(0.0, 0.0); self.nodes.len()];
        let mut zones = Vec::new();
        let mut bottom: f64 = TOP;
        for (c, col) in self.columns.iter().enumerate() {
            let x = LEFT + c as f64 * COL_W;
            let mut y = TOP;
            let mut current: Option<Zone> = None;
            let mut zone_top = 0.0;
            for &i in col {
                let z = self.nodes[i].zone;
                if z != current {
                    if let Some(prev) = current {
                        zones.push((prev, zone_top, y));
                        y += ZONE_GAP;
                    }
                    if z.is_some() {
                        zone_top = y;
                        y += ZONE_HEAD;
                    }
                    current = z;
                }
                at[i] = (x, y);
                y += ROW;
            }
            if let Some(prev) = current {
                zones.push((prev, zone_top, y));
            }
            bottom = bottom.max(y);
        }
        Placement {
            at,
            zones,
            height: bottom + 8.0,
        }
    }

    /// The map as a standalone SVG document (also valid inline in HTML).
    /// `name` names the device in the accessible title.
    pub fn to_svg(&self, name: &str) -> String {
        let Placement { at, zones, height } = self.positions();
        let width = LEFT * 2.0 + 3.0 * COL_W + NODE_W;
        let count = |l: Layer, one: &str, many: &str| {
            let n = self.declared[l.column()];
            format!("{n} {}", if n == 1 { one } else { many })
        };
        let summary = format!(
            "Data-flow map of {name}: {}, {}, {}, {}",
            count(Layer::Sensor, "sensor", "sensors"),
            count(Layer::Item, "data item", "data items"),
            count(
                Layer::Receiver,
                "recipient or endpoint",
                "recipients and endpoints"
            ),
            count(Layer::Country, "country", "countries"),
        );
        let mut o = String::with_capacity(4096 + self.nodes.len() * 420 + self.edges.len() * 160);
        let _ = write!(
            o,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="flow" role="img" aria-label="{}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="12">"#,
            escape(&summary)
        );
        let _ = write!(o, "\n<title>{}</title>\n", escape(&summary));
        o.push_str(STYLE);
        for layer in Layer::ALL {
            let x = LEFT + layer.column() as f64 * COL_W;
            let _ = writeln!(
                o,
                r#"<text class="head" x="{x}" y="24">{}</text>"#,
                layer.heading()
            );
        }
        let x = LEFT + 3.0 * COL_W - 8.0;
        for (z, top, bottom) in &zones {
            let _ = writeln!(
                o,
                r#"<g class="zone {}"><rect x="{x}" y="{top}" width="{}" height="{}" rx="8"/><text x="{}" y="{}">{}</text></g>"#,
                z.class(),
                NODE_W + 16.0,
                bottom - top - (ROW - NODE_H) + 8.0,
                x + 8.0,
                top + 17.0,
                z.label()
            );
        }
        o.push_str("<g class=\"edges\">\n");
        for e in &self.edges {
            let (x1, y1) = at[e.from];
            let (x2, y2) = at[e.to];
            let (x1, y1) = (x1 + NODE_W, y1 + NODE_H / 2.0);
            let y2 = y2 + NODE_H / 2.0;
            let mx = (x1 + x2) / 2.0;
            let class = if e.cross_border { " class=\"xb\"" } else { "" };
            let _ = writeln!(
                o,
                r#"<path{class} d="M{x1} {y1}C{mx} {y1} {mx} {y2} {x2} {y2}"/>"#
            );
        }
        o.push_str("</g>\n");
        for (i, n) in self.nodes.iter().enumerate() {
            let (x, y) = at[i];
            let class = match n.kind {
                NodeKind::Sensor => "sensor",
                NodeKind::Item => "item",
                NodeKind::LocalItem => "item local",
                NodeKind::Recipient => "recipient",
                NodeKind::Endpoint => "endpoint",
                NodeKind::Country => "country",
                NodeKind::More => "more",
            };
            let _ = writeln!(
                o,
                r#"<g class="node {class}"><title>{}</title><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6"/><text x="{}" y="{}" class="label">{}</text><text x="{}" y="{}" class="detail">{}</text></g>"#,
                escape(&n.title),
                x + 8.0,
                y + 16.0,
                escape(&clip(&n.label, LABEL_CHARS)),
                x + 8.0,
                y + 31.0,
                escape(&clip(&n.detail, LABEL_CHARS + 4)),
            );
        }
        if self.edges_omitted > 0 {
            let _ = writeln!(
                o,
                r#"<text class="detail" x="{LEFT}" y="{}">{} more links not drawn</text>"#,
                height - 2.0,
                self.edges_omitted
            );
        }
        o.push_str("</svg>\n");
        o
    }
}

/// Colours meet WCAG 2.1 AA contrast for text (4.5:1) on their fills.
const STYLE: &str = r#"<style>
.flow .head{font-weight:700;font-size:13px;fill:#1a1a1a}
.flow .node rect{stroke-width:1.2}
.flow .label{font-weight:600;fill:#111}
.flow .detail{fill:#3d3d3d;font-size:11px}
.flow .sensor rect{fill:#e8f1fb;stroke:#2f6db5}
.flow .item rect{fill:#fdf3e1;stroke:#b5762f}
.flow .item.local rect{fill:#f1f1f1;stroke:#6b6b6b;stroke-dasharray:4 3}
.flow .recipient rect{fill:#f6e8f4;stroke:#8e3f86}
.flow .endpoint rect{fill:#eaf5ec;stroke:#2f7d43}
.flow .country rect{fill:#ffffff;stroke:#444}
.flow .more rect{fill:#ffffff;stroke:#444;stroke-dasharray:2 2}
.flow .edges path{fill:none;stroke:#6b7785;stroke-width:1.2;opacity:.8}
.flow .edges path.xb{stroke:#b3261e;stroke-dasharray:6 3;stroke-width:1.6}
.flow .zone rect{fill:none;stroke-width:1.5}
.flow .zone text{font-weight:700;font-size:12px}
.flow .z-eea rect{stroke:#1f4e9c;fill:#f3f6fc}.flow .z-eea text{fill:#1f4e9c}
.flow .z-uk rect{stroke:#6a2c91;fill:#f7f2fa}.flow .z-uk text{fill:#6a2c91}
.flow .z-us rect{stroke:#8a4b00;fill:#fbf5ee}.flow .z-us text{fill:#7a4200}
.flow .z-cn rect{stroke:#a31515;fill:#fcf2f2}.flow .z-cn text{fill:#a31515}
</style>
"#;
