//! The profile file model (docs/engine.md), parsed with spans via
//! `toml::de::DeTable` so every rule keeps the span of its `id` for the
//! secondary label of its findings.

use super::compile::CompiledCache;
use super::sugar::{Cursor, ManifestPath, Reach, Sugar, pointer_segments};
use crate::diag::{Diagnostic, Label, Severity};
use crate::source::{FileId, Span};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use time::Date;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// When a rule is in force.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EffectiveFrom {
    /// A fixed date.
    Date(Date),
    /// A named date of `profiles/_dates.toml`, resolved (`None` = pending).
    Named(String, Option<Date>),
    /// Not yet known: always "not yet in force".
    Pending,
}

impl EffectiveFrom {
    /// Is the rule in force on `as_of`?
    pub fn in_force(&self, as_of: Date) -> bool {
        match self {
            EffectiveFrom::Date(d) | EffectiveFrom::Named(_, Some(d)) => as_of >= *d,
            EffectiveFrom::Named(_, None) | EffectiveFrom::Pending => false,
        }
    }

    /// As written, for display.
    pub fn label(&self) -> String {
        match self {
            EffectiveFrom::Date(d) => crate::derived::fmt_date(*d),
            EffectiveFrom::Named(n, Some(d)) => format!("{} ({n})", crate::derived::fmt_date(*d)),
            EffectiveFrom::Named(n, None) => format!("pending ({n})"),
            EffectiveFrom::Pending => "pending".into(),
        }
    }
}

/// A condition split for the native pre-filter (docs/engine.md): `const`
/// conjuncts over derived/global booleans, and the residual schema.
#[derive(Debug, Clone, Default)]
pub struct Cond {
    /// `(pointer into the evaluation document, expected boolean)`.
    pub native: Vec<(String, bool)>,
    /// The rest, desugared to plain JSON Schema; `None` when fully native.
    pub schema: Option<Value>,
}

/// One `[[rule]]`.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable id, e.g. `gdpr.security-in-transit`.
    pub id: String,
    /// Nominal severity.
    pub severity: Severity,
    /// Short title; the default message.
    pub title: String,
    /// Legal citation.
    pub citation: String,
    /// How to fix.
    pub hint: String,
    /// Date gating.
    pub effective_from: Option<EffectiveFrom>,
    /// Element array the rule iterates (`*` allowed).
    pub for_each: Option<String>,
    /// Shared guard.
    pub group: Option<String>,
    /// `when` as written (path sugar kept), for `explain`.
    pub when: Option<Value>,
    /// `require` as written, for `explain`.
    pub require: Option<Value>,
    /// Shared `[[check]]`s ANDed with `require`.
    pub check: Vec<String>,
    /// Fallback manifest pointer.
    pub point_at: Option<String>,
    /// Registered native check.
    pub native: Option<String>,
    /// Span of the rule's `id` value in the profile file.
    pub span: Span,
    /// Manifest fields the rule's own conditions name (`for_each`, `/item`,
    /// `/manifest` paths), as schema paths with `*` for array elements.
    pub reads: Vec<String>,
    pub(crate) when_c: Cond,
    pub(crate) require_c: Option<Value>,
    /// Per entry of `check`: the condition under which it applies.
    pub(crate) check_when: Vec<Option<Value>>,
    /// Its paths in the profile's `manifest_paths`.
    pub(crate) path_range: std::ops::Range<usize>,
}

/// A `[[group]]` guard shared by several rules (docs/engine.md).
#[derive(Debug, Clone)]
pub struct Group {
    /// Group id.
    pub id: String,
    /// Must equal the rules' `for_each`.
    pub for_each: String,
    /// `when` as written, for `explain` and the reference.
    pub when: Option<Value>,
    pub(crate) when_c: Cond,
}

/// A loaded profile.
#[derive(Debug)]
pub struct Profile {
    /// Profile id, e.g. `eu-gdpr`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Legal instrument.
    pub instrument: String,
    /// Version (date) of the legal text encoded.
    pub version: String,
    /// Source file.
    pub file: FileId,
    /// Shipped with blueprint (as opposed to a user file).
    pub builtin: bool,
    /// Rules in file order.
    pub rules: Vec<Rule>,
    /// Groups.
    pub groups: Vec<Group>,
    /// Who the profile applies to, in words (`applies_to`): the reason given
    /// when a profile chosen by id does not apply to a manifest.
    pub applies_to: Option<String>,
    /// `scope` as written.
    pub scope_raw: Option<Value>,
    pub(crate) scope: Option<Cond>,
    pub(crate) severity_unless: Option<Cond>,
    pub(crate) defs: Map<String, Value>,
    /// Every manifest path its rules, groups and scope read (`*` = any element).
    pub(crate) manifest_paths: Vec<ManifestPath>,
    pub(crate) compiled: CompiledCache,
}

/// A shared `[[check]]`.
#[derive(Debug, Clone)]
pub struct Check {
    /// `EQ-*` id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Element scope; `None` = document.
    pub for_each: Option<String>,
}

/// The shared library `urn:blueprint:shared`.
#[derive(Debug, Default)]
pub struct Shared {
    /// `$defs` of the shared resource: `[defs]`, reference sets, checks.
    pub defs: Map<String, Value>,
    /// Checks by id.
    pub checks: BTreeMap<String, Check>,
    /// Known tensions between regimes, in file order.
    pub conflicts: Vec<super::conflict::Conflict>,
    pub(crate) manifest_paths: Vec<ManifestPath>,
    /// Per check id: its paths in `manifest_paths`.
    pub(crate) check_reads: BTreeMap<String, std::ops::Range<usize>>,
    /// Per conflict: the profiles it names and its paths in `manifest_paths`.
    pub(crate) conflict_reads: Vec<(Vec<String>, std::ops::Range<usize>)>,
}

/// Inputs the loader needs besides the file.
pub(crate) struct LoadCtx<'a> {
    pub derived_schema: &'a Value,
    pub profile_schema: &'a jsonschema::Validator,
    pub dates: &'a BTreeMap<String, Option<Date>>,
    pub shared: Option<&'a Shared>,
    pub natives: &'a [&'a str],
    pub manifest_schema: &'a Value,
}

/// Derived `$defs` entry for the elements of a `for_each`.
pub(crate) fn element_def(for_each: &str) -> Option<&'static str> {
    match for_each {
        "/data_items" => Some("item"),
        "/network_endpoints" => Some("endpoint"),
        "/recipients" => Some("recipient"),
        "/sensors" => Some("sensor"),
        "/data_items/*/cross_border" => Some("cross_border"),
        "/security/remote_access_channels" => Some("remote_access_channel"),
        _ => None,
    }
}

fn label_err(file: FileId, code: &str, span: Span, msg: impl Into<String>) -> Diagnostic {
    let msg = msg.into();
    Diagnostic::error(format!("profile-load/{code}"), msg.clone())
        .with_label(Label::primary(file, span, msg))
}

/// Span of the value at `path` (a JSON pointer over the TOML tree), or of
/// the nearest ancestor.
fn span_at(root: &Spanned<DeTable>, path: &str) -> Span {
    let mut span = root.span();
    let mut cur: Option<&DeValue> = None;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    for seg in pointer_segments(path) {
        let next: Option<&Spanned<DeValue>> = match (table, cur) {
            (Some(t), _) => t.get(seg.as_str()),
            (None, Some(DeValue::Array(a))) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        };
        let Some(n) = next else { break };
        span = n.span();
        cur = Some(n.get_ref());
        table = n.get_ref().as_table();
    }
    span
}

/// Parses the TOML text and checks it against `profile.v1.schema.json`.
fn parse<'t>(
    text: &'t str,
    file: FileId,
    ctx: &LoadCtx,
) -> Result<(Spanned<DeTable<'t>>, Value), Vec<Diagnostic>> {
    let root = DeTable::parse(text).map_err(|e| {
        vec![label_err(
            file,
            "toml-syntax",
            e.span().unwrap_or(0..0),
            e.message().to_string(),
        )]
    })?;
    let mut diags = Vec::new();
    let mut mp = Vec::new();
    let plain = {
        let mut s = Sugar {
            file,
            diags: &mut diags,
            derived_schema: ctx.derived_schema,
            for_each: None,
            element_def: None,
            manifest_paths: &mut mp,
            local_defs: &[],
            shared_defs: None,
        };
        s.plain(&Spanned::new(
            root.span(),
            DeValue::Table(root.get_ref().clone()),
        ))
    };
    if !diags.is_empty() {
        return Err(diags);
    }
    for e in ctx.profile_schema.iter_errors(&plain) {
        let ptr = e.instance_path().as_str().to_string();
        let msg = format!(
            "{e}{}",
            if ptr.is_empty() {
                String::new()
            } else {
                format!(" (at {ptr})")
            }
        );
        diags.push(label_err(file, "shape", span_at(&root, &ptr), msg));
    }
    if diags.is_empty() {
        Ok((root, plain))
    } else {
        Err(diags)
    }
}

fn tbl<'a, 't>(t: &'a DeTable<'t>, k: &str) -> Option<&'a Spanned<DeValue<'t>>> {
    t.get(k)
}

fn sv(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// Builds a [`Cond`] from a TOML condition: top-level `const` booleans over
/// `/derived` and `/global` go to the native pre-filter, the rest is desugared.
fn cond(sugar: &mut Sugar, v: &Spanned<DeValue>) -> Cond {
    let Some(t) = v.get_ref().as_table() else {
        return Cond {
            native: Vec::new(),
            schema: Some(sugar.schema(v, &Cursor::Root, false)),
        };
    };
    let mut native = Vec::new();
    let mut rest = DeTable::new();
    for (k, x) in t.iter() {
        let key = k.get_ref().as_ref();
        let nat = (key.starts_with("/derived/") || key.starts_with("/global/"))
            && x.get_ref().as_table().is_some_and(|c| {
                c.iter()
                    .all(|(ck, _)| matches!(ck.get_ref().as_ref(), "const" | "description"))
                    && c.get("const").and_then(|b| b.get_ref().as_bool()).is_some()
            });
        if nat {
            let before = sugar.diags.len();
            let _ = sugar.schema(
                &Spanned::new(
                    k.span().start..x.span().end,
                    DeValue::Table(DeTable::from_iter([(k.clone(), x.clone())])),
                ),
                &Cursor::Root,
                false,
            );
            if sugar.diags.len() == before {
                let b = x
                    .get_ref()
                    .as_table()
                    .and_then(|c| c.get("const"))
                    .and_then(|b| b.get_ref().as_bool());
                native.push((key.to_string(), b.unwrap_or(false)));
            }
        } else {
            rest.insert(k.clone(), x.clone());
        }
    }
    let schema = if rest.is_empty() {
        None
    } else {
        Some(sugar.schema(
            &Spanned::new(v.span(), DeValue::Table(rest)),
            &Cursor::Root,
            false,
        ))
    };
    Cond { native, schema }
}

fn check_pointer(diags: &mut Vec<Diagnostic>, file: FileId, span: Span, p: &str, what: &str) {
    if !p.starts_with('/') || p.ends_with('/') || p.contains("//") {
        diags.push(label_err(
            file,
            "bad-value",
            span,
            format!("`{what}` must be a JSON pointer such as /data_items"),
        ));
    }
}

/// Loads the shared library (`profiles/_shared.toml`) plus reference sets.
pub(crate) fn load_shared(
    text: &str,
    file: FileId,
    ctx: &LoadCtx,
    sets: &BTreeMap<String, Vec<String>>,
) -> Result<Shared, Vec<Diagnostic>> {
    let (root, plain) = parse(text, file, ctx)?;
    if plain.get("shared").is_none() {
        return Err(vec![label_err(
            file,
            "shape",
            root.span(),
            "the shared library needs a [shared] table",
        )]);
    }
    let mut diags = Vec::new();
    let mut shared = Shared::default();
    for (name, vals) in sets {
        shared.defs.insert(
            name.clone(),
            serde_json::json!({ "enum": vals, "description": format!("reference table {name}") }),
        );
    }
    let t = root.get_ref();
    let mut names: Vec<String> = sets.keys().cloned().collect();
    if let Some(d) = tbl(t, "defs").and_then(|d| d.get_ref().as_table()) {
        names.extend(d.iter().map(|(k, _)| k.get_ref().to_string()));
    }
    let checks = tbl(t, "check").and_then(|c| c.get_ref().as_array());
    names.extend(checks.into_iter().flat_map(|a| a.iter()).filter_map(|c| {
        c.get_ref()
            .as_table()?
            .get("id")?
            .get_ref()
            .as_str()
            .map(str::to_string)
    }));
    let mut mp = Vec::new();
    if let Some(d) = tbl(t, "defs").and_then(|d| d.get_ref().as_table()) {
        let mut s = Sugar {
            file,
            diags: &mut diags,
            derived_schema: ctx.derived_schema,
            for_each: None,
            element_def: None,
            manifest_paths: &mut mp,
            local_defs: &names,
            shared_defs: Some(&names),
        };
        for (k, v) in d.iter() {
            let sch = s.schema(v, &Cursor::Unknown, true);
            shared.defs.insert(k.get_ref().to_string(), sch);
        }
    }
    if let Some(d) = tbl(t, "defs") {
        mp.extend(super::reach::def_reads(&plain["defs"], &d.span()));
    }
    for (i, c) in checks.into_iter().flat_map(|a| a.iter()).enumerate() {
        let Some(ct) = c.get_ref().as_table() else {
            continue;
        };
        let pc = &plain["check"][i];
        let id = sv(pc, "id").unwrap_or_default();
        let for_each = sv(pc, "for_each");
        if shared.checks.contains_key(&id) || shared.defs.contains_key(&id) {
            diags.push(label_err(
                file,
                "duplicate",
                c.span(),
                format!("duplicate check or def `{id}`"),
            ));
        }
        let fe_segs = for_each.as_deref().map(pointer_segments);
        let first = mp.len();
        let mut s = Sugar {
            file,
            diags: &mut diags,
            derived_schema: ctx.derived_schema,
            for_each: fe_segs,
            element_def: for_each.as_deref().and_then(element_def),
            manifest_paths: &mut mp,
            local_defs: &names,
            shared_defs: Some(&names),
        };
        let mut req = ct
            .get("require")
            .map_or(Value::Bool(true), |r| s.schema(r, &Cursor::Root, true));
        if let (Some(o), Some(t)) = (req.as_object_mut(), s_title(pc)) {
            o.entry("description").or_insert(Value::String(t));
        }
        shared.defs.insert(id.clone(), req);
        shared.check_reads.insert(id.clone(), first..mp.len());
        shared.checks.insert(
            id.clone(),
            Check {
                id,
                title: sv(pc, "title").unwrap_or_default(),
                for_each,
            },
        );
    }
    for (i, c) in tbl(t, "conflict")
        .and_then(|c| c.get_ref().as_array())
        .into_iter()
        .flat_map(|a| a.iter())
        .enumerate()
    {
        let Some(ct) = c.get_ref().as_table() else {
            continue;
        };
        let pc = &plain["conflict"][i];
        let id = s_str(pc, "id");
        let span = ct.get("id").map_or(c.span(), |x| x.span());
        if shared.conflicts.iter().any(|x| x.id == id) {
            diags.push(label_err(
                file,
                "duplicate",
                span.clone(),
                format!("duplicate conflict id `{id}`"),
            ));
        }
        let for_each = sv(pc, "for_each");
        let first = mp.len();
        if let Some(fe) = &for_each {
            mp.push(ManifestPath {
                segments: pointer_segments(fe),
                span: ct.get("for_each").map_or(span.clone(), |x| x.span()),
                reach: Reach::Key,
            });
        }
        let mut s = Sugar {
            file,
            diags: &mut diags,
            derived_schema: ctx.derived_schema,
            for_each: for_each.as_deref().map(pointer_segments),
            element_def: for_each.as_deref().and_then(element_def),
            manifest_paths: &mut mp,
            local_defs: &names,
            shared_defs: Some(&names),
        };
        let when_schema = ct
            .get("when")
            .map_or(Value::Bool(true), |w| s.schema(w, &Cursor::Root, false));
        let profiles: Vec<String> = pc["profiles"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        shared
            .conflict_reads
            .push((profiles.clone(), first..mp.len()));
        shared.conflicts.push(super::conflict::Conflict {
            id,
            title: s_str(pc, "title"),
            citation: s_str(pc, "citation"),
            profiles,
            for_each,
            when: pc.get("when").cloned(),
            point_at: sv(pc, "point_at"),
            explanation: s_str(pc, "explanation"),
            span,
            file,
            when_schema,
        });
    }
    diags.extend(super::paths_against(ctx.manifest_schema, file, &mp));
    shared.manifest_paths = mp;
    if diags.is_empty() {
        Ok(shared)
    } else {
        Err(diags)
    }
}

fn s_title(pc: &Value) -> Option<String> {
    sv(pc, "description").or_else(|| sv(pc, "title"))
}

/// Loads one profile file.
pub(crate) fn load_profile(
    text: &str,
    file: FileId,
    builtin: bool,
    ctx: &LoadCtx,
) -> Result<Profile, Vec<Diagnostic>> {
    let (root, plain) = parse(text, file, ctx)?;
    let t = root.get_ref();
    let Some(pt) = tbl(t, "profile").and_then(|p| p.get_ref().as_table()) else {
        return Err(vec![label_err(
            file,
            "shape",
            root.span(),
            "a profile needs a [profile] table (or [shared] for the shared library)",
        )]);
    };
    let pp = &plain["profile"];
    let shared_names: Vec<String> = ctx
        .shared
        .map(|s| s.defs.keys().cloned().collect())
        .unwrap_or_default();
    let local_names: Vec<String> = tbl(t, "defs")
        .and_then(|d| d.get_ref().as_table())
        .map(|d| d.iter().map(|(k, _)| k.get_ref().to_string()).collect())
        .unwrap_or_default();
    let mut diags = Vec::new();
    let mut mp = Vec::new();
    let mut defs = Map::new();
    let (scope, severity_unless) = {
        let mut s = Sugar {
            file,
            diags: &mut diags,
            derived_schema: ctx.derived_schema,
            for_each: None,
            element_def: None,
            manifest_paths: &mut mp,
            local_defs: &local_names,
            shared_defs: Some(&shared_names),
        };
        if let Some(d) = tbl(t, "defs").and_then(|d| d.get_ref().as_table()) {
            for (k, v) in d.iter() {
                let sch = s.schema(v, &Cursor::Unknown, true);
                defs.insert(k.get_ref().to_string(), sch);
            }
        }
        if let Some(d) = tbl(t, "defs") {
            s.manifest_paths
                .extend(super::reach::def_reads(&plain["defs"], &d.span()));
        }
        (
            pt.get("scope").map(|v| cond(&mut s, v)),
            pt.get("severity_unless").map(|v| cond(&mut s, v)),
        )
    };

    let mut groups = Vec::new();
    for (i, g) in tbl(t, "group")
        .and_then(|g| g.get_ref().as_array())
        .into_iter()
        .flat_map(|a| a.iter())
        .enumerate()
    {
        let pg = &plain["group"][i];
        let Some(gt) = g.get_ref().as_table() else {
            continue;
        };
        let for_each = sv(pg, "for_each").unwrap_or_default();
        check_pointer(&mut diags, file, g.span(), &for_each, "for_each");
        let mut s = Sugar {
            file,
            diags: &mut diags,
            derived_schema: ctx.derived_schema,
            for_each: Some(pointer_segments(&for_each)),
            element_def: element_def(&for_each),
            manifest_paths: &mut mp,
            local_defs: &local_names,
            shared_defs: Some(&shared_names),
        };
        let when_c = gt.get("when").map(|w| cond(&mut s, w)).unwrap_or_default();
        groups.push(Group {
            id: s_str(pg, "id"),
            for_each,
            when: pg.get("when").cloned(),
            when_c,
        });
    }

    let mut rules: Vec<Rule> = Vec::new();
    for (i, r) in tbl(t, "rule")
        .and_then(|g| g.get_ref().as_array())
        .into_iter()
        .flat_map(|a| a.iter())
        .enumerate()
    {
        let pr = &plain["rule"][i];
        let Some(rt) = r.get_ref().as_table() else {
            continue;
        };
        let reads_from = mp.len();
        let id = s_str(pr, "id");
        let first = mp.len();
        let span = rt.get("id").map_or(r.span(), |x| x.span());
        if rules.iter().any(|x| x.id == id) {
            diags.push(label_err(
                file,
                "duplicate",
                span.clone(),
                format!("duplicate rule id `{id}`"),
            ));
        }
        let for_each = sv(pr, "for_each");
        if let Some(fe) = &for_each {
            check_pointer(&mut diags, file, span.clone(), fe, "for_each");
            mp.push(ManifestPath {
                segments: pointer_segments(fe),
                span: rt.get("for_each").map_or(span.clone(), |x| x.span()),
                reach: Reach::Key,
            });
        }
        let group = sv(pr, "group");
        if let Some(g) = &group {
            match groups.iter().find(|x| &x.id == g) {
                None => diags.push(label_err(
                    file,
                    "bad-ref",
                    span.clone(),
                    format!("no [[group]] `{g}`"),
                )),
                Some(gr) if Some(&gr.for_each) != for_each.as_ref() => diags.push(label_err(
                    file,
                    "bad-ref",
                    span.clone(),
                    format!(
                        "group `{g}` iterates {} but the rule's for_each differs",
                        gr.for_each
                    ),
                )),
                _ => {}
            }
        }
        // `check` = "EQ-X" | ["EQ-X", { id = "EQ-Y", when = {...} }, ...]
        let check_entries: Vec<(String, Option<&Spanned<DeValue>>)> =
            match rt.get("check").map(|c| c.get_ref()) {
                Some(DeValue::String(c)) => vec![(c.to_string(), None)],
                Some(DeValue::Array(a)) => a
                    .iter()
                    .filter_map(|x| match x.get_ref() {
                        DeValue::String(c) => Some((c.to_string(), None)),
                        DeValue::Table(t) => {
                            Some((t.get("id")?.get_ref().as_str()?.to_string(), t.get("when")))
                        }
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
        for (c, _) in &check_entries {
            match ctx.shared.and_then(|sh| sh.checks.get(c)) {
                None => diags.push(label_err(file, "bad-ref", span.clone(), format!("no shared [[check]] `{c}` in urn:blueprint:shared"))),
                Some(ch) if ch.for_each.is_some() && ch.for_each != for_each => diags.push(label_err(
                    file,
                    "bad-ref",
                    span.clone(),
                    format!("check `{c}` is evaluated per element of {}; the rule must use the same for_each", ch.for_each.as_deref().unwrap_or("")),
                )),
                _ => {}
            }
        }
        let native = sv(pr, "native");
        if let Some(n) = &native {
            if !ctx.natives.contains(&n.as_str()) {
                diags.push(label_err(
                    file,
                    "bad-ref",
                    span.clone(),
                    format!("no native check `{n}` (known: {})", ctx.natives.join(", ")),
                ));
            }
        }
        let point_at = sv(pr, "point_at");
        if let Some(p) = &point_at {
            check_pointer(&mut diags, file, span.clone(), p, "point_at");
        }
        let effective_from = match sv(pr, "effective_from") {
            None => None,
            Some(e) if e == "pending" => Some(EffectiveFrom::Pending),
            Some(e) => match crate::derived::parse_date(&e) {
                Some(d) if e.len() == 10 => Some(EffectiveFrom::Date(d)),
                _ => match ctx.dates.get(&e) {
                    Some(d) => Some(EffectiveFrom::Named(e, *d)),
                    None => {
                        let sp = rt.get("effective_from").map_or(span.clone(), |x| x.span());
                        diags.push(label_err(file, "bad-value", sp, format!("`effective_from` \"{e}\" is neither a date, \"pending\" nor a named date of profiles/_dates.toml")));
                        None
                    }
                },
            },
        };
        let mut s_ = Sugar {
            file,
            diags: &mut diags,
            derived_schema: ctx.derived_schema,
            for_each: for_each.as_deref().map(pointer_segments),
            element_def: for_each.as_deref().and_then(element_def),
            manifest_paths: &mut mp,
            local_defs: &local_names,
            shared_defs: Some(&shared_names),
        };
        let when_c = rt.get("when").map(|w| cond(&mut s_, w)).unwrap_or_default();
        let require_c = rt.get("require").map(|w| s_.schema(w, &Cursor::Root, true));
        let check_when: Vec<Option<Value>> = check_entries
            .iter()
            .map(|(_, w)| w.map(|w| s_.schema(w, &Cursor::Root, false)))
            .collect();
        let check: Vec<String> = check_entries.into_iter().map(|(c, _)| c).collect();
        if require_c.is_none() && check.is_empty() && native.is_none() && rt.get("when").is_none() {
            diags.push(label_err(
                file,
                "shape",
                span.clone(),
                "a rule needs `require`, `check`, `native` or at least a `when`",
            ));
        }
        let mut reads: Vec<String> = mp[reads_from.min(mp.len())..]
            .iter()
            .map(|m| format!("/{}", m.segments.join("/")))
            .collect();
        reads.sort();
        reads.dedup();
        rules.push(Rule {
            id,
            reads,
            severity: sv(pr, "severity")
                .as_deref()
                .and_then(Severity::parse)
                .unwrap_or(Severity::Error),
            title: s_str(pr, "title"),
            citation: s_str(pr, "citation"),
            hint: s_str(pr, "hint"),
            effective_from,
            for_each,
            group,
            when: pr.get("when").cloned(),
            require: pr.get("require").cloned(),
            check,
            point_at,
            native,
            span,
            when_c,
            require_c,
            check_when,
            path_range: first..mp.len(),
        });
    }
    diags.extend(super::paths_against(ctx.manifest_schema, file, &mp));
    if !diags.is_empty() {
        return Err(diags);
    }
    let manifest_paths = mp;
    Ok(Profile {
        id: s_str(pp, "id"),
        title: s_str(pp, "title"),
        instrument: s_str(pp, "instrument"),
        version: s_str(pp, "version"),
        file,
        builtin,
        rules,
        groups,
        applies_to: sv(pp, "applies_to"),
        scope_raw: pp.get("scope").cloned(),
        scope,
        severity_unless,
        defs,
        manifest_paths,
        compiled: CompiledCache::default(),
    })
}

fn s_str(v: &Value, k: &str) -> String {
    sv(v, k).unwrap_or_default()
}

/// Parses `profiles/_dates.toml`: `[dates] name = "YYYY-MM-DD" | "pending"`.
pub(crate) fn load_dates(
    text: &str,
    file: FileId,
) -> Result<BTreeMap<String, Option<Date>>, Vec<Diagnostic>> {
    let root = DeTable::parse(text).map_err(|e| {
        vec![label_err(
            file,
            "toml-syntax",
            e.span().unwrap_or(0..0),
            e.message().to_string(),
        )]
    })?;
    let mut out = BTreeMap::new();
    let mut diags = Vec::new();
    if let Some(d) = root
        .get_ref()
        .get("dates")
        .and_then(|d| d.get_ref().as_table())
    {
        for (k, v) in d.iter() {
            match v.get_ref() {
                DeValue::String(s) if s == "pending" => {
                    out.insert(k.get_ref().to_string(), None);
                }
                DeValue::String(s) if s.len() == 10 && crate::derived::parse_date(s).is_some() => {
                    out.insert(k.get_ref().to_string(), crate::derived::parse_date(s));
                }
                _ => diags.push(label_err(
                    file,
                    "bad-value",
                    v.span(),
                    "a named date is a quoted \"YYYY-MM-DD\" or \"pending\"",
                )),
            }
        }
    }
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}
