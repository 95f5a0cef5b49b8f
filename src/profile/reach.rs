//! What the profiles reach: the manifest fields their rules read, and which
//! profiles may apply to a product before its manifest is written (for
//! `blueprint init`, which scaffolds exactly those fields).

use super::compile::{self, SHARED_URI};
use super::model::Cond;
use super::sugar::{ManifestPath, Reach};
use super::{Profile, ProfileLibrary};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use time::Date;

/// How deep `$ref`s are followed while relaxing a scope (defs refer to defs).
const MAX_REF_DEPTH: u32 = 16;

impl ProfileLibrary {
    /// Every manifest field the rules, groups and scopes of the profiles
    /// `ids` read, plus those of the shared checks, as JSON pointers with `*`
    /// for "any element" (`/data_items/*/consent/kind`). The loader records
    /// these paths while desugaring (and checks each against the manifest
    /// schema), so the set is exactly what evaluation looks at.
    pub fn fields_read<'a>(&self, ids: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.add_reads(&self.shared.manifest_paths, &mut out);
        for id in ids {
            if let Some(p) = self.profile(id) {
                self.add_reads(&p.manifest_paths, &mut out);
            }
        }
        out.remove("");
        out
    }

    /// Adds the pointers `paths` read: a path key as it is, a name under
    /// plain `properties`/`required` when the manifest has such a field, and
    /// under a `$ref` every field of the object it is applied to.
    fn add_reads(&self, paths: &[ManifestPath], out: &mut BTreeSet<String>) {
        let schema = &self.manifest_schema;
        for mp in paths {
            match mp.reach {
                Reach::Key => {
                    out.insert(pointer(&mp.segments));
                }
                Reach::Plain => {
                    if super::sugar::schema_path(schema, schema, &mp.segments).is_ok() {
                        out.insert(pointer(&mp.segments));
                    }
                }
                Reach::Whole => {
                    if let Some(node) = schema_node(schema, &mp.segments) {
                        out.insert(pointer(&mp.segments));
                        let mut segs = mp.segments.clone();
                        descendants(schema, node, &mut segs, 0, out);
                    }
                }
            }
        }
    }

    /// Profiles that may apply to a product described only by `probe` (its
    /// `markets`, `device.product_class` and the `type` of each of its
    /// `sensors`). Every other fact a scope asks about is not decided yet,
    /// so it is taken to allow the profile: the scope is relaxed so that an
    /// undecided condition holds (and fails under `not`). A profile left
    /// out could not apply whatever the vendor answers later.
    pub fn may_apply(&self, probe: &Value, as_of: Date) -> Vec<&Profile> {
        let view = crate::derived::derive(probe, &self.refs, as_of);
        let doc = serde_json::json!({ "manifest": probe, "global": view.global });
        self.profiles
            .iter()
            .filter(|p| self.relaxed_scope_holds(p, &doc, as_of))
            .collect()
    }

    /// The fields a product described by `probe` needs: those the
    /// profiles that may apply read ([`Self::may_apply`]), leaving out the
    /// rules whose `when` cannot hold for it (relaxed the same way: only
    /// its markets, product class and sensor types are decided), the shared
    /// checks no remaining rule uses, and conflicts between profiles that do
    /// not all apply. Returns the profile ids too.
    pub fn fields_needed(&self, probe: &Value, as_of: Date) -> (Vec<String>, BTreeSet<String>) {
        let view = crate::derived::derive(probe, &self.refs, as_of);
        let doc = serde_json::json!({ "manifest": probe, "global": view.global });
        let profiles: Vec<&Profile> = self
            .profiles
            .iter()
            .filter(|p| {
                p.scope
                    .as_ref()
                    .is_none_or(|c| self.relaxed_holds(c, &p.defs, &doc, as_of))
            })
            .collect();
        let ids: Vec<String> = profiles.iter().map(|p| p.id.clone()).collect();
        let mut out = BTreeSet::new();
        let mut checks: BTreeSet<&str> = BTreeSet::new();
        for p in &profiles {
            let mut in_rule = vec![false; p.manifest_paths.len()];
            for r in &p.rules {
                for i in r.path_range.clone() {
                    if let Some(x) = in_rule.get_mut(i) {
                        *x = true;
                    }
                }
                if self.relaxed_holds(&r.when_c, &p.defs, &doc, as_of) {
                    let reads = p.manifest_paths.get(r.path_range.clone()).unwrap_or(&[]);
                    self.add_reads(reads, &mut out);
                    checks.extend(r.check.iter().map(String::as_str));
                    for v in [&r.require, &r.when].into_iter().flatten() {
                        checks.extend(self.checks_referenced(v));
                    }
                }
            }
            let rest: Vec<ManifestPath> = p
                .manifest_paths
                .iter()
                .zip(&in_rule)
                .filter(|(_, r)| !**r)
                .map(|(m, _)| m.clone())
                .collect();
            self.add_reads(&rest, &mut out);
        }
        // Checks build on checks (`$ref` to another check's definition).
        let mut todo: Vec<&str> = checks.iter().copied().collect();
        while let Some(c) = todo.pop() {
            if let Some(d) = self.shared.defs.get(c) {
                for n in self.checks_referenced(d) {
                    if checks.insert(n) {
                        todo.push(n);
                    }
                }
            }
        }
        let shared = &self.shared;
        let mut owned = vec![false; shared.manifest_paths.len()];
        let mut take =
            |range: &std::ops::Range<usize>, wanted: bool, out: &mut BTreeSet<String>| {
                for i in range.clone() {
                    if let Some(x) = owned.get_mut(i) {
                        *x = true;
                    }
                }
                if wanted {
                    self.add_reads(shared.manifest_paths.get(range.clone()).unwrap_or(&[]), out);
                }
            };
        for (id, range) in &shared.check_reads {
            take(range, checks.contains(id.as_str()), &mut out);
        }
        for (names, range) in &shared.conflict_reads {
            take(range, names.iter().all(|n| ids.contains(n)), &mut out);
        }
        let rest: Vec<ManifestPath> = shared
            .manifest_paths
            .iter()
            .zip(&owned)
            .filter(|(_, o)| !**o)
            .map(|(m, _)| m.clone())
            .collect();
        self.add_reads(&rest, &mut out);
        out.remove("");
        (ids, out)
    }

    /// Shared checks that `v` names in a `$ref`.
    fn checks_referenced(&self, v: &Value) -> Vec<&str> {
        let text = v.to_string();
        self.shared
            .checks
            .keys()
            .filter(|id| text.contains(&format!("#/$defs/{id}\"")))
            .map(String::as_str)
            .collect()
    }

    fn relaxed_scope_holds(&self, p: &Profile, doc: &Value, as_of: Date) -> bool {
        match &p.scope {
            Some(scope) => self.relaxed_holds(scope, &p.defs, doc, as_of),
            None => true,
        }
    }

    /// Does `cond` hold on `doc` with every undecided fact relaxed?
    fn relaxed_holds(
        &self,
        cond: &Cond,
        defs: &Map<String, Value>,
        doc: &Value,
        as_of: Date,
    ) -> bool {
        let natives_hold = cond.native.iter().all(|(ptr, want)| {
            let segs = super::sugar::pointer_segments(ptr);
            if known(&segs) != Known::Decided {
                return true;
            }
            doc.pointer(ptr).and_then(Value::as_bool) == Some(*want)
        });
        if !natives_hold {
            return false;
        }
        let Some(schema) = &cond.schema else {
            return true;
        };
        let relax = Relax {
            local: defs,
            shared: &self.shared.defs,
        };
        let relaxed = relax.walk(schema, &mut Vec::new(), true, 0);
        // A condition that does not compile here would not compile for
        // `validate` either, which reports it there; leave it in.
        match compile::build(&self.registry, &relaxed, as_of) {
            Ok(v) => v.is_valid(doc),
            Err(_) => true,
        }
    }
}

/// Manifest fields read inside `[defs]` (given as plain JSON, path keys
/// kept). Definitions are desugared without a position (they apply
/// wherever they are referenced), so the loader records none of their
/// paths; those that start at the manifest (`/manifest/…`, or plain
/// `properties.manifest`) are found here, with every relative path, plain
/// `properties` name and `required` name below them.
pub(crate) fn def_reads(defs: &Value, span: &crate::source::Span) -> Vec<ManifestPath> {
    fn walk(v: &Value, at: Option<&[String]>, depth: u32, out: &mut Vec<Vec<String>>) {
        if depth > MAX_REF_DEPTH * 4 {
            return;
        }
        match v {
            Value::Array(a) => {
                for x in a {
                    walk(x, at, depth + 1, out);
                }
            }
            Value::Object(o) => {
                for (k, x) in o {
                    let below = |seg: &[&str]| -> Option<Vec<String>> {
                        let mut p = at?.to_vec();
                        p.extend(seg.iter().map(|s| s.to_string()));
                        Some(p)
                    };
                    let next: Option<Vec<String>> = if let Some(rel) = k.strip_prefix('/') {
                        let segs: Vec<&str> = rel.split('/').collect();
                        match (at, segs.split_first()) {
                            (None, Some((&"manifest", rest))) => {
                                Some(rest.iter().map(|s| s.to_string()).collect())
                            }
                            (Some(_), _) => below(&segs),
                            _ => None,
                        }
                    } else {
                        match k.as_str() {
                            "properties" => {
                                for (name, sub) in x.as_object().into_iter().flatten() {
                                    let p = match at {
                                        None if name == "manifest" => Some(Vec::new()),
                                        None => None,
                                        Some(_) => below(&[name]),
                                    };
                                    if let Some(p) = &p {
                                        if !p.is_empty() {
                                            out.push(p.clone());
                                        }
                                    }
                                    walk(sub, p.as_deref(), depth + 1, out);
                                }
                                continue;
                            }
                            "required" => {
                                for n in x.as_array().into_iter().flatten() {
                                    if let Some(p) = n.as_str().and_then(|n| below(&[n])) {
                                        out.push(p);
                                    }
                                }
                                continue;
                            }
                            "items" | "contains" => below(&["*"]),
                            "propertyNames" | "patternProperties" | "$defs" => continue,
                            _ => at.map(<[String]>::to_vec),
                        }
                    };
                    if k.starts_with('/') {
                        if let Some(p) = &next {
                            if !p.is_empty() {
                                out.push(p.clone());
                            }
                        }
                    }
                    walk(x, next.as_deref(), depth + 1, out);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    for d in defs.as_object().into_iter().flat_map(|o| o.values()) {
        walk(d, None, 0, &mut found);
    }
    found
        .into_iter()
        .map(|segments| ManifestPath {
            segments,
            span: span.clone(),
            reach: Reach::Plain,
        })
        .collect()
}

/// How deep [`descendants`] goes below an object read as a whole.
const MAX_WHOLE_DEPTH: usize = 4;

/// `node` with its `$ref`s (local to `root`) followed.
fn deref<'v>(root: &'v Value, mut node: &'v Value) -> &'v Value {
    for _ in 0..MAX_REF_DEPTH {
        match node
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|p| root.pointer(p))
        {
            Some(t) => node = t,
            None => break,
        }
    }
    node
}

/// The schema of the manifest field at `segs` (`*` = array element), by
/// the main `properties` and `items`.
fn schema_node<'v>(root: &'v Value, segs: &[String]) -> Option<&'v Value> {
    let mut n = deref(root, root);
    for s in segs {
        let next = if s == "*" {
            n.get("items")?
        } else {
            n.get("properties")?.get(s)?
        };
        n = deref(root, next);
    }
    Some(n)
}

/// Every field of the object `node` (nested objects too), as pointers
/// below `segs`; arrays of objects are not entered (their elements are
/// the vendor's to list).
fn descendants(
    root: &Value,
    node: &Value,
    segs: &mut Vec<String>,
    depth: usize,
    out: &mut BTreeSet<String>,
) {
    if depth >= MAX_WHOLE_DEPTH {
        return;
    }
    for (k, sub) in node
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        segs.push(k.clone());
        out.insert(pointer(segs));
        descendants(root, deref(root, sub), segs, depth + 1, out);
        segs.pop();
    }
}

fn pointer(segs: &[String]) -> String {
    segs.iter().map(|s| format!("/{s}")).collect()
}

/// What the probe says about a position in the evaluation document.
#[derive(Debug, PartialEq, Eq)]
enum Known {
    /// On the way to a decided fact (the root, `manifest`, `manifest/sensors/*`).
    Container,
    /// Decided by the probe.
    Decided,
    /// Not decided yet.
    Open,
}

fn known(pos: &[String]) -> Known {
    let p: Vec<&str> = pos.iter().map(String::as_str).collect();
    match p.as_slice() {
        [] | ["manifest"] | ["global"] | ["manifest", "device"] => Known::Container,
        ["manifest", "sensors"] | ["manifest", "sensors", _] => Known::Container,
        ["global", "mkt", ..]
        | ["manifest", "markets", ..]
        | ["manifest", "format"]
        | ["manifest", "device", "product_class"]
        | ["manifest", "sensors", _, "type"] => Known::Decided,
        _ => Known::Open,
    }
}

/// Rewrites a desugared condition so that conditions on undecided facts
/// give way: `true` where the condition counts for the profile (positive
/// polarity), `false` under an odd number of `not`s.
struct Relax<'a> {
    local: &'a Map<String, Value>,
    shared: &'a Map<String, Value>,
}

impl Relax<'_> {
    fn walk(&self, s: &Value, pos: &mut Vec<String>, positive: bool, depth: u32) -> Value {
        if known(pos) == Known::Open || depth > MAX_REF_DEPTH {
            return Value::Bool(positive);
        }
        let Value::Object(o) = s else {
            return s.clone();
        };
        let mut out = Map::new();
        let mut parts = Vec::new();
        for (k, v) in o {
            match k.as_str() {
                "$ref" => {
                    let target = v.as_str().and_then(|r| self.resolve(r));
                    parts.push(match target {
                        Some(t) => self.walk(t, pos, positive, depth + 1),
                        None => Value::Bool(positive),
                    });
                }
                "$defs" => {}
                "properties" => {
                    let mut props = Map::new();
                    for (name, sub) in v.as_object().into_iter().flatten() {
                        pos.push(name.clone());
                        props.insert(name.clone(), self.walk(sub, pos, positive, depth));
                        pos.pop();
                    }
                    out.insert(k.clone(), Value::Object(props));
                }
                "required" if positive => {
                    let kept: Vec<Value> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|n| {
                            let mut p = pos.clone();
                            p.push(n.as_str().unwrap_or_default().to_string());
                            known(&p) != Known::Open
                        })
                        .cloned()
                        .collect();
                    out.insert(k.clone(), Value::Array(kept));
                }
                "allOf" | "anyOf" | "oneOf" => {
                    let subs: Vec<Value> = v
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|x| self.walk(x, pos, positive, depth))
                        .collect();
                    // Relaxed branches may both hold: `oneOf` would then
                    // reject what `anyOf` accepts.
                    let key = if k == "oneOf" { "anyOf" } else { k.as_str() };
                    out.insert(key.into(), Value::Array(subs));
                }
                "not" => {
                    out.insert(k.clone(), self.walk(v, pos, !positive, depth));
                }
                "items" | "contains" => {
                    pos.push("*".into());
                    out.insert(k.clone(), self.walk(v, pos, positive, depth));
                    pos.pop();
                }
                "if" | "then" | "else" => {
                    out.insert(k.clone(), self.walk(v, pos, positive, depth));
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        if parts.is_empty() {
            Value::Object(out)
        } else {
            parts.push(Value::Object(out));
            serde_json::json!({ "allOf": parts })
        }
    }

    fn resolve(&self, r: &str) -> Option<&Value> {
        let name = match r.strip_prefix(SHARED_URI) {
            Some(rest) => return self.shared.get(rest.strip_prefix("#/$defs/")?),
            None => r.strip_prefix("#/$defs/")?,
        };
        self.local.get(name)
    }
}

#[cfg(test)]
mod tests {
    use crate::source::SourceMap;
    use serde_json::json;

    fn lib() -> super::ProfileLibrary {
        let mut map = SourceMap::new();
        super::ProfileLibrary::builtin(&mut map).unwrap_or_else(|d| panic!("{d:?}"))
    }

    fn ids(lib: &super::ProfileLibrary, probe: serde_json::Value) -> Vec<String> {
        let as_of = time::macros::date!(2026 - 06 - 01);
        lib.may_apply(&probe, as_of)
            .iter()
            .map(|p| p.id.clone())
            .collect()
    }

    #[test]
    fn markets_gate_the_profiles_and_undecided_facts_do_not() {
        let lib = lib();
        let eu = ids(
            &lib,
            json!({"markets": ["EU"], "device": {"product_class": "consumer"}}),
        );
        assert!(eu.contains(&"eu-gdpr".to_string()), "{eu:?}");
        assert!(eu.contains(&"etsi-en-303-645".to_string()), "{eu:?}");
        assert!(!eu.iter().any(|p| p.starts_with("us-ca")), "{eu:?}");
        assert!(!eu.iter().any(|p| p.starts_with("cn-")), "{eu:?}");
        // The CCPA depends on revenue, not yet declared: it may apply.
        let ca = ids(
            &lib,
            json!({"markets": ["US", "US-CA"], "device": {"product_class": "toy"}}),
        );
        assert!(ca.contains(&"us-ca-ccpa".to_string()), "{ca:?}");
        assert!(ca.contains(&"us-coppa".to_string()), "{ca:?}");
        assert!(!ca.contains(&"eu-gdpr".to_string()), "{ca:?}");
    }

    #[test]
    fn a_decided_product_class_excludes_a_profile() {
        let lib = lib();
        let meter = ids(
            &lib,
            json!({"markets": ["EU"], "device": {"product_class": "smart_meter"}}),
        );
        assert!(!meter.contains(&"etsi-en-303-645".to_string()), "{meter:?}");
    }

    #[test]
    fn definitions_read_the_manifest_too() {
        let defs = json!({
            "red": { "/manifest/device/radio": { "const": true },
                     "anyOf": [{ "/manifest/device/product_class": { "enum": ["toy"] } }] },
            "conf": { "/manifest/security/conformance": { "contains": { "/standard": { "const": "x" } } } },
            "plain": { "required": ["manifest"], "properties": { "manifest": {
                "required": ["sensors"], "properties": { "sensors": { "contains": {
                    "properties": { "always_on": { "const": true } } } } } } } },
            "elsewhere": { "/global/mkt/EU": { "const": true }, "/item/x": { "const": 1 } },
        });
        let got: Vec<String> = super::def_reads(&defs, &(0..0))
            .iter()
            .map(|p| super::pointer(&p.segments))
            .collect();
        for want in [
            "/device/radio",
            "/device/product_class",
            "/security/conformance",
            "/security/conformance/*/standard",
            "/sensors",
            "/sensors/*/always_on",
        ] {
            assert!(got.iter().any(|g| g == want), "{want} not in {got:?}");
        }
        assert!(
            !got.iter().any(|g| g.contains("mkt") || g.ends_with("/x")),
            "{got:?}"
        );
    }

    #[test]
    fn fields_read_include_profile_and_shared_paths() {
        let lib = lib();
        let f = lib.fields_read(["report-baseline"]);
        assert!(f.contains("/data_items/*/lifecycle/sell"), "{f:?}");
        assert!(f.contains("/security/credentials/hardcoded_secrets"));
        assert!(f.iter().all(|p| p.starts_with('/')));
    }
}
