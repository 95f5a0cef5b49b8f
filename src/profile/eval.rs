//! The evaluation loop of docs/engine.md: one wrapper document, elements moved
//! in and out (no per-rule or per-element copies), `is_valid` first and
//! `iter_errors` only for rules that fired, error paths mapped back to the
//! manifest through `at`/`mirror`, `description` messages, `anyOf`
//! alternatives, dedupe, `effective_from` gating and `severity_unless`.

use super::compile::{self, CompiledProfile, SHARED_URI};
use super::model::{Profile, Rule};
use super::{ProfileLibrary, Selection, absent, native};
use crate::derived::{self, fmt_date};
use crate::diag::{Diagnostic, Label, RuleRef, Severity};
use crate::source::{FileId, Span};
use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use time::Date;

/// Result of evaluating the profiles against one manifest.
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    /// Ids of the profiles evaluated.
    pub profiles_applied: Vec<String>,
    /// Findings (and profile problems) in profile and rule order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Where the manifest lives, for labels.
pub struct ManifestSource<'a> {
    /// The manifest file.
    pub file: FileId,
    /// Byte span of the value at a manifest pointer (nearest existing ancestor).
    pub locate: &'a dyn Fn(&str) -> Span,
}

/// A selected profile with its compiled rules.
type Active<'a> = (
    usize,
    &'a Profile,
    std::sync::Arc<Result<CompiledProfile, String>>,
);

/// An element rule: (active profile, rule, group) indexes.
type ElementRule = (usize, usize, Option<usize>);

/// One located failure of a rule.
struct Failure {
    pointer: String,
    message: String,
    notes: Vec<String>,
    /// Keys to add, when the failure is about something absent.
    fixes: Vec<crate::diag::Fix>,
    /// The shared check whose condition failed, when
    /// the failure came from one: findings of several rules that share it
    /// are one finding to the reader.
    group: Option<String>,
}

/// Inputs besides the manifest that some rules read.
#[derive(Debug, Clone, Default)]
pub struct Extra<'a> {
    /// The last deposited manifest with the same `blueprint.id`, when known;
    /// it feeds `global.diff` and item `diff`.
    pub previous: Option<&'a Value>,
    /// Deviations of a shipped device from this blueprint (diff mode), each
    /// `{at, class, …}`; they become `global.deviations`.
    pub deviations: Option<Vec<Value>>,
}

/// Evaluates `lib`'s selected profiles against `manifest`.
pub fn evaluate_value(
    lib: &ProfileLibrary,
    selection: &Selection,
    manifest: &Value,
    extra: &Extra,
    src: &ManifestSource,
    as_of: Date,
) -> Evaluation {
    let view = derived::derive_with_previous(manifest, extra.previous, &lib.refs, as_of);
    let mut m = manifest.clone();
    derived::normalize_manifest(&mut m);
    evaluate_owned(lib, selection, m, view, extra, src, as_of).0
}

/// [`evaluate_value`] on a manifest the caller lends by value (no copy):
/// it is returned unchanged.
pub(crate) fn evaluate_lent(
    lib: &ProfileLibrary,
    selection: &Selection,
    manifest: Value,
    extra: &Extra,
    src: &ManifestSource,
    as_of: Date,
) -> (Evaluation, Value) {
    let view = derived::derive_with_previous(&manifest, extra.previous, &lib.refs, as_of);
    let mut m = manifest;
    // Normalisation rewrites deprecated categories in place; remember them.
    let originals: Vec<(usize, Value)> = m
        .get("data_items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .enumerate()
                .filter_map(|(i, it)| {
                    let c = it.get("category")?;
                    c.as_str()
                        .and_then(derived::normalize_category)
                        .map(|_| (i, c.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    derived::normalize_manifest(&mut m);
    let (e, mut m) = evaluate_owned(lib, selection, m, view, extra, src, as_of);
    for (i, c) in originals {
        if let Some(slot) = m.pointer_mut(&format!("/data_items/{i}/category")) {
            *slot = c;
        }
    }
    (e, m)
}

fn evaluate_owned(
    lib: &ProfileLibrary,
    selection: &Selection,
    m: Value,
    mut view: derived::DerivedView,
    extra: &Extra,
    src: &ManifestSource,
    as_of: Date,
) -> (Evaluation, Value) {
    let mut out = Evaluation::default();
    if let (Some(d), Some(g)) = (&extra.deviations, view.global.as_object_mut()) {
        g.insert("deviations".into(), Value::Array(d.clone()));
    }
    let mut elements = view.elements;
    let mut parents = view.parents;
    let mut wrapper = Map::new();
    wrapper.insert("manifest".into(), m);
    wrapper.insert("global".into(), view.global);
    let mut doc = Value::Object(wrapper);

    // Selection and scope: only profiles whose scope holds are compiled and
    // run (docs/engine.md, "Applicability"). A profile chosen by id is gated
    // by its scope too; only a forced one runs where it does not apply.
    let mut active: Vec<Active> = Vec::new();
    for (pi, p) in lib.profiles.iter().enumerate() {
        let (chosen, forced) = selection.choice(&p.id).unwrap_or((true, false));
        if !chosen {
            continue;
        }
        let applies = match compile::scope(p, &lib.registry, as_of) {
            Ok(s) => s.holds(&doc),
            Err(e) => {
                out.diagnostics.push(compile_error(p, &e));
                continue;
            }
        };
        let named = !matches!(selection, Selection::Auto);
        if !applies && named {
            out.diagnostics.push(not_applicable(p, forced));
        }
        if !applies && !forced {
            continue;
        }
        let c = compile::profile(p, &lib.registry, as_of);
        if let Err(e) = c.as_ref() {
            out.diagnostics.push(compile_error(p, e));
            continue;
        }
        out.profiles_applied.push(p.id.clone());
        active.push((pi, p, c));
    }
    for id in selection.named() {
        if !lib.profiles.iter().any(|p| &p.id == id) {
            out.diagnostics.push(Diagnostic::error(
                "profile/unknown",
                format!("no profile with id `{id}`"),
            ));
        }
    }

    // Findings keyed by (profile order, rule order) so output is stable.
    let mut found: BTreeMap<(usize, usize), Vec<Failure>> = BTreeMap::new();
    let mut severity_capped: Vec<bool> = Vec::new();
    for (_, p, c) in &active {
        let cp = c.as_ref().as_ref().ok();
        let capped = match cp.and_then(|c| c.severity_unless.as_ref()) {
            Some(su) => !su.holds(&doc),
            None => false,
        };
        let _ = p;
        severity_capped.push(capped);
    }

    // Root rules.
    for (ai, (_, p, c)) in active.iter().enumerate() {
        let Ok(cp) = c.as_ref() else { continue };
        for (ri, r) in p.rules.iter().enumerate() {
            if r.for_each.is_none() {
                run_rule(lib, r, &cp.rules[ri], &doc, None, (ai, ri), &mut found);
            }
        }
    }

    // Element rules, grouped by for_each so each element is moved in once;
    // each with its profile, rule and group index, looked up once per
    // manifest rather than per element.
    let mut for_eaches: Vec<(&str, Vec<ElementRule>)> = Vec::new();
    for (ai, (_, p, c)) in active.iter().enumerate() {
        if c.as_ref().is_err() {
            continue;
        }
        for (ri, r) in p.rules.iter().enumerate() {
            let Some(fe) = r.for_each.as_deref() else {
                continue;
            };
            let gi = r
                .group
                .as_ref()
                .and_then(|g| p.groups.iter().position(|x| &x.id == g));
            match for_eaches.iter_mut().find(|(f, _)| *f == fe) {
                Some((_, rules)) => rules.push((ai, ri, gi)),
                None => for_eaches.push((fe, vec![(ai, ri, gi)])),
            }
        }
    }
    // Per profile, the outcome of each group's condition on the current
    // element (reset per element).
    let mut guards: Vec<Vec<Option<bool>>> = active
        .iter()
        .map(|(_, p, _)| vec![None; p.groups.len()])
        .collect();
    for (fe, rules) in for_eaches {
        let ptrs = expand_for_each(&doc["manifest"], fe);
        for ptr in ptrs {
            let mptr = format!("/manifest{ptr}");
            let Some(slot) = doc.pointer_mut(&mptr) else {
                continue;
            };
            let item = std::mem::take(slot);
            // The element's facts: moved out of their `global` list (or the
            // per-pointer map) for the time the element is evaluated.
            let gptr = derived::global_list(fe)
                .map(|l| format!("/global/{l}/{}", ptr.rsplit('/').next().unwrap_or("")));
            let facts = match gptr.as_deref().and_then(|g| doc.pointer_mut(g)) {
                Some(slot) => std::mem::take(slot),
                None => {
                    let mut f = elements.remove(&ptr).unwrap_or(Value::Object(Map::new()));
                    derived::lend_parent(&mut parents, &ptr, &mut f);
                    f
                }
            };
            if let Value::Object(w) = &mut doc {
                w.insert("item".into(), item);
                w.insert("derived".into(), facts);
            }
            for g in &mut guards {
                g.fill(None);
            }
            for &(ai, ri, gi) in &rules {
                let (_, p, c) = &active[ai];
                let Ok(cp) = c.as_ref() else { continue };
                if let Some(gi) = gi {
                    let ok = *guards[ai][gi].get_or_insert_with(|| cp.groups[gi].holds(&doc));
                    if !ok {
                        continue;
                    }
                }
                run_rule(
                    lib,
                    &p.rules[ri],
                    &cp.rules[ri],
                    &doc,
                    Some(&ptr),
                    (ai, ri),
                    &mut found,
                );
            }
            // Move the element and its facts back.
            if let Value::Object(w) = &mut doc {
                let item = w.remove("item").unwrap_or(Value::Null);
                let mut facts = w.remove("derived").unwrap_or(Value::Null);
                match gptr.as_deref().and_then(|g| doc.pointer_mut(g)) {
                    Some(slot) => *slot = facts,
                    None => {
                        derived::return_parent(&mut parents, &ptr, &mut facts);
                        elements.insert(ptr.clone(), facts);
                    }
                }
                if let Some(slot) = doc.pointer_mut(&mptr) {
                    *slot = item;
                }
            }
        }
    }

    // Diagnostics, deduplicated by (rule, pointer, message).
    let mut seen: HashSet<(String, String, String)> = HashSet::new();
    for ((ai, ri), fails) in found {
        let (_, p, _) = &active[ai];
        let r = &p.rules[ri];
        for f in fails {
            if !seen.insert((r.id.clone(), f.pointer.clone(), f.message.clone())) {
                continue;
            }
            out.diagnostics
                .push(diagnostic(p, r, f, src, as_of, severity_capped[ai]));
        }
    }
    super::conflict::evaluate(lib, &mut doc, (&elements, &parents), src, as_of, &mut out);
    let manifest = match doc {
        Value::Object(mut w) => w.remove("manifest").unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (out, manifest)
}

/// The one notice for a profile chosen by id whose scope does not hold:
/// its rules stay silent, unless it was forced (a what-if).
fn not_applicable(p: &Profile, forced: bool) -> Diagnostic {
    let reason = p.applies_to.as_deref().map_or_else(
        || "its scope condition does not hold".to_string(),
        |t| format!("the profile covers {t}"),
    );
    let message = if forced {
        format!(
            "{} ({}) does not apply to this manifest ({reason}); evaluated anyway as a what-if",
            p.id, p.title
        )
    } else {
        format!(
            "{} ({}) does not apply to this manifest ({reason}); its rules were not evaluated",
            p.id, p.title
        )
    };
    let mut d = Diagnostic::new(Severity::Info, "profile/not-applicable", message);
    if !forced {
        d.notes.push(format!(
            "help: to see its findings anyway, as a what-if, use --force-profile {}",
            p.id
        ));
    }
    d
}

fn compile_error(p: &Profile, e: &str) -> Diagnostic {
    Diagnostic::error("profile-load/compile", format!("profile {}: {e}", p.id))
}

/// Element pointers of a `for_each` (with `*` wildcards) in the manifest.
pub(crate) fn expand_for_each(m: &Value, fe: &str) -> Vec<String> {
    let mut cur = vec![(String::new(), m)];
    let segs = super::sugar::pointer_segments(fe);
    for seg in &segs {
        let mut next = Vec::new();
        for (p, v) in cur {
            if seg == "*" {
                if let Some(a) = v.as_array() {
                    for (i, x) in a.iter().enumerate() {
                        next.push((format!("{p}/{i}"), x));
                    }
                }
            } else if let Some(x) = v.get(seg.as_str()) {
                next.push((format!("{p}/{}", escape(seg)), x));
            }
        }
        cur = next;
    }
    let mut out = Vec::new();
    for (p, v) in cur {
        if let Some(a) = v.as_array() {
            for i in 0..a.len() {
                out.push(format!("{p}/{i}"));
            }
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

#[allow(clippy::too_many_arguments)]
fn run_rule(
    lib: &ProfileLibrary,
    r: &Rule,
    cr: &compile::CompiledRule,
    doc: &Value,
    elem: Option<&str>,
    key: (usize, usize),
    found: &mut BTreeMap<(usize, usize), Vec<Failure>>,
) {
    if !cr.when.holds(doc) {
        return;
    }
    let mut fails = Vec::new();
    if let Some(n) = &r.native {
        for (pointer, message) in native::run(n, doc, &lib.refs) {
            fails.push(Failure {
                pointer,
                message,
                notes: Vec::new(),
                fixes: Vec::new(),
                group: None,
            });
        }
    }
    if let Some(v) = &cr.require {
        if !v.is_valid(doc) {
            collect(lib, r, cr, v, doc, elem, &mut fails);
        }
    }
    if !fails.is_empty() {
        found.entry(key).or_default().extend(fails);
    }
}

fn collect(
    lib: &ProfileLibrary,
    r: &Rule,
    cr: &compile::CompiledRule,
    v: &Validator,
    doc: &Value,
    elem: Option<&str>,
    out: &mut Vec<Failure>,
) {
    for e in v.iter_errors(doc) {
        let ptrs = map_error(&e, doc, elem, r);
        let fixes = absent_fixes(lib, cr, &e, elem);
        let (message, notes) = match fixes.as_deref() {
            // Only absent fields: say which, never the requirement's wording
            // for a present-but-wrong value.
            Some(fs) if !fs.is_empty() => {
                // The requirement's own words, when they state a duty rather
                // than describe a wrong value ("… is sold or shared").
                let duty = describe_error(lib, cr, &e)
                    .filter(|d| {
                        [" must ", " should ", " needs "]
                            .iter()
                            .any(|w| d.contains(w))
                    })
                    .map(|d| format!("note: {d}"));
                (absent_message(fs, r), duty.into_iter().collect())
            }
            _ => {
                let notes = alternatives(lib, cr, &e, doc, elem, r);
                // A field absent in every alternative is the problem to name
                // ("disagrees" would be wrong: there is nothing to disagree).
                let message = match absent_in_every_alternative(lib, cr, &e, elem) {
                    Some(fs) => absent_message(&fs, r),
                    None => describe_error(lib, cr, &e).unwrap_or_else(|| problem(&e, &ptrs, r)),
                };
                (message, notes)
            }
        };
        // Differing alternatives (`sell = true` with `sale_or_share = true`,
        // or both false) have no one value to paste.
        let fixes = fixes.unwrap_or_default();
        let group = shared_check_of(&e);
        for p in ptrs {
            out.push(Failure {
                pointer: p,
                message: message.clone(),
                notes: notes.clone(),
                fixes: fixes.clone(),
                group: group.clone(),
            });
        }
    }
}

/// "`security.credentials.unique_per_device` is absent; rb.x requires it".
fn absent_message(fixes: &[crate::diag::Fix], r: &Rule) -> String {
    let mut fields: Vec<String> = Vec::new();
    for f in fixes {
        let d = format!("`{}`", absent::dotted(&absent::field_pointer(f)));
        if !fields.contains(&d) {
            fields.push(d);
        }
    }
    if fields.len() == 1 {
        format!("{} is absent; {} requires it", fields[0], r.id)
    } else {
        format!(
            "{} are absent; {} requires them",
            fields.join(" and "),
            r.id
        )
    }
}

/// When `e` fails only because fields are absent: the fixes (`Some(vec![])`
/// when alternatives would need different values). `None` when something
/// present is wrong.
fn absent_fixes(
    lib: &ProfileLibrary,
    cr: &compile::CompiledRule,
    e: &ValidationError,
    elem: Option<&str>,
) -> Option<Vec<crate::diag::Fix>> {
    match e.kind() {
        ValidationErrorKind::Required { property } => {
            let property = property.as_str()?;
            let segs = super::sugar::pointer_segments(e.instance_path().as_str());
            let at = match segs.first().map(String::as_str) {
                Some("item") => join_pointer(elem?, &segs[1..]),
                Some("manifest") => join_pointer("", &segs[1..]),
                _ => return None,
            };
            let base = e.evaluation_path().as_str().strip_suffix("/required")?;
            let found = absent::node_at(
                &lib.shared_doc,
                &cr.require_schema,
                &format!("{base}/properties/{}", escape(property)),
            );
            let (root, schema) = match found {
                Some((root, s)) => (root, Some(s)),
                None => (&cr.require_schema, None),
            };
            Some(vec![absent::fix(
                &lib.shared_doc,
                root,
                schema,
                &at,
                property,
            )])
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            let mut per_alt: Vec<Vec<crate::diag::Fix>> = Vec::new();
            for alt in context {
                let mut fs = Vec::new();
                for x in alt {
                    fs.extend(absent_fixes(lib, cr, x, elem)?);
                }
                if fs.is_empty() {
                    return None;
                }
                per_alt.push(fs);
            }
            let first = per_alt.first()?.clone();
            if per_alt.iter().all(|f| *f == first) {
                Some(first)
            } else {
                // Name the absent fields (from every alternative), no snippet.
                let mut names: Vec<crate::diag::Fix> = Vec::new();
                for f in per_alt.into_iter().flatten() {
                    if !names
                        .iter()
                        .any(|n| absent::field_pointer(n) == absent::field_pointer(&f))
                    {
                        names.push(f);
                    }
                }
                Some(names.into_iter().map(unvalued).collect())
            }
        }
        _ => None,
    }
}

/// For an `anyOf` failure: the fields absent in every alternative (with
/// no value to paste), when there are any.
fn absent_in_every_alternative(
    lib: &ProfileLibrary,
    cr: &compile::CompiledRule,
    e: &ValidationError,
    elem: Option<&str>,
) -> Option<Vec<crate::diag::Fix>> {
    let ctx = match e.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
        }
        _ => return None,
    };
    let mut common: Option<Vec<crate::diag::Fix>> = None;
    for alt in ctx {
        let here: Vec<crate::diag::Fix> = alt
            .iter()
            .filter_map(|x| absent_fixes(lib, cr, x, elem))
            .flatten()
            .map(unvalued)
            .collect();
        common = Some(match common {
            None => here,
            Some(prev) => prev.into_iter().filter(|f| here.contains(f)).collect(),
        });
    }
    common.filter(|c| !c.is_empty())
}

/// The same fields with no value to give them (a `null` leaf): named in the
/// message, no snippet.
fn unvalued(f: crate::diag::Fix) -> crate::diag::Fix {
    let full = absent::field_pointer(&f);
    let rel = full[f.at.len()..].to_string();
    let mut add = Value::Null;
    for seg in super::sugar::pointer_segments(&rel).into_iter().rev() {
        let mut o = Map::new();
        o.insert(seg, add);
        add = Value::Object(o);
    }
    crate::diag::Fix { at: f.at, add }
}

fn join_pointer(base: &str, rest: &[String]) -> String {
    let mut s = base.to_string();
    for x in rest {
        s.push('/');
        s.push_str(&escape(x));
    }
    s
}

/// A headline for a failed requirement that has no `description`: what is
/// wrong where, and which rule wants what.
fn problem(e: &ValidationError, ptrs: &[String], r: &Rule) -> String {
    let at = ptrs
        .first()
        .map(|p| absent::dotted(p))
        .filter(|p| !p.is_empty())
        .map(|p| format!("`{p}`"))
        .unwrap_or_else(|| "the manifest".into());
    let inst = short_json(e.instance());
    match e.kind() {
        ValidationErrorKind::Constant { expected_value } => {
            format!("{at} is {inst}; {} requires {expected_value}", r.id)
        }
        ValidationErrorKind::Enum { options } => {
            format!("{at} is {inst}; {} requires one of {options}", r.id)
        }
        ValidationErrorKind::Contains => {
            format!("{at} has no entry that {} accepts", r.id)
        }
        ValidationErrorKind::Not { .. } => {
            format!("{at} is {inst}, which {} excludes", r.id)
        }
        ValidationErrorKind::MinItems { limit } => {
            format!(
                "{at} has fewer than {limit} entries; {} requires more",
                r.id
            )
        }
        ValidationErrorKind::MaxItems { limit } => {
            format!(
                "{at} has more than {limit} entries; {} allows no more",
                r.id
            )
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("{at} is {inst}; {} requires at least {limit}", r.id)
        }
        ValidationErrorKind::Maximum { limit } => {
            format!("{at} is {inst}; {} allows at most {limit}", r.id)
        }
        _ => format!("{at} does not meet {} ({})", r.id, r.title),
    }
}

/// A value for a message: short, never a whole table.
fn short_json(v: &Value) -> String {
    match v {
        Value::Object(_) => "a table".into(),
        Value::Array(a) if a.len() > 4 => format!("a list of {}", a.len()),
        _ => {
            let s = v.to_string();
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(57).collect::<String>())
            } else {
                s
            }
        }
    }
}

/// The `EQ-*` shared check an error was raised in, read from the keyword's
/// absolute location (`urn:blueprint:shared#/$defs/EQ-…/…`).
fn shared_check_of(e: &ValidationError) -> Option<String> {
    let loc = e.absolute_keyword_location()?;
    let (base, fragment) = loc.as_str().split_once('#')?;
    if base != compile::SHARED_URI {
        return None;
    }
    let id = fragment.strip_prefix("/$defs/")?.split('/').next()?;
    id.starts_with("EQ-").then(|| id.to_string())
}

/// For `anyOf`/`oneOf` failures: what each alternative lacked.
fn alternatives(
    lib: &ProfileLibrary,
    cr: &compile::CompiledRule,
    e: &ValidationError,
    doc: &Value,
    elem: Option<&str>,
    r: &Rule,
) -> Vec<String> {
    let ctx = match e.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            context
        }
        _ => return Vec::new(),
    };
    let mut alts: Vec<String> = Vec::new();
    for alt in ctx {
        let mut parts: Vec<String> = Vec::new();
        for x in alt {
            let ptrs = map_error(x, doc, elem, r);
            let part = match absent_fixes(lib, cr, x, elem).as_deref() {
                Some(fs) if !fs.is_empty() => {
                    let names: Vec<String> = fs
                        .iter()
                        .map(|f| format!("`{}`", absent::dotted(&absent::field_pointer(f))))
                        .collect();
                    let verb = if names.len() == 1 { "is" } else { "are" };
                    format!("{} {verb} absent", names.join(" and "))
                }
                _ => {
                    // A description inherited from the failed `anyOf` itself
                    // says nothing about this alternative.
                    let msg = describe_error(lib, cr, x)
                        .filter(|d| Some(d) != describe_error(lib, cr, e).as_ref())
                        .unwrap_or_else(|| problem(x, &ptrs, r));
                    let at = ptrs.first().map(|p| absent::dotted(p)).unwrap_or_default();
                    if at.is_empty() || msg.contains(&format!("`{at}`")) {
                        msg
                    } else {
                        format!("{msg} (at `{at}`)")
                    }
                }
            };
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        let text = parts.join("; ");
        // Alternatives that fail the same way are one.
        if !alts.contains(&text) {
            alts.push(text);
        }
    }
    if alts.len() == 1 {
        return vec![format!("needs: {}", alts[0])];
    }
    alts.iter()
        .enumerate()
        .map(|(i, a)| format!("alternative {}: {a}", i + 1))
        .collect()
}

/// The nearest `description` on the evaluation path, following `$ref` into
/// profile defs and the shared library.
/// [`describe_error_uncached`] through the rule's message cache: the same
/// keyword fails for many elements and manifests.
fn describe_error(
    lib: &ProfileLibrary,
    cr: &compile::CompiledRule,
    e: &ValidationError,
) -> Option<String> {
    let mut key = e.evaluation_path().as_str().to_string();
    if let ValidationErrorKind::Required { property } = e.kind() {
        key.push('#');
        key.push_str(property.as_str().unwrap_or(""));
    }
    let mut cache = cr.messages.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(m) = cache.get(&key) {
        return m.clone();
    }
    let m = describe_error_uncached(lib, &cr.require_schema, e);
    cache.insert(key, m.clone());
    m
}

fn describe_error_uncached(
    lib: &ProfileLibrary,
    schema: &Value,
    e: &ValidationError,
) -> Option<String> {
    let path = e.evaluation_path().as_str();
    // A missing property: its own schema (not on the path) says what it is for.
    if let ValidationErrorKind::Required { property } = e.kind() {
        if let (Some(p), Some(base)) = (property.as_str(), path.strip_suffix("/required")) {
            let alt = format!("{base}/properties/{}", escape(p));
            if let Some(d) = describe(lib, schema, &alt) {
                return Some(d);
            }
        }
    }
    describe(lib, schema, path)
}

fn describe(lib: &ProfileLibrary, schema: &Value, eval_path: &str) -> Option<String> {
    let mut root = schema;
    let mut node = schema;
    let mut best: Option<&str> = node.get("description").and_then(Value::as_str);
    for tok in super::sugar::pointer_segments(eval_path) {
        let next = if tok == "$ref" {
            let r = node.get("$ref").and_then(Value::as_str)?;
            if let Some(frag) = r.strip_prefix(&format!("{SHARED_URI}#")) {
                root = &lib.shared_doc;
                root.pointer(frag)
            } else if let Some(frag) = r.strip_prefix('#') {
                root.pointer(frag)
            } else {
                None
            }
        } else {
            match node {
                Value::Object(o) => o.get(&tok),
                Value::Array(a) => tok.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            }
        };
        let Some(n) = next else { break };
        node = n;
        if let Some(d) = node.get("description").and_then(Value::as_str) {
            best = Some(d);
        }
    }
    best.map(str::to_string)
}

/// Maps an error's instance path in the evaluation document back to
/// manifest pointers (docs/engine.md rule 3).
fn map_error(e: &ValidationError, doc: &Value, elem: Option<&str>, r: &Rule) -> Vec<String> {
    let ip = e.instance_path().as_str().to_string();
    let mut segs = super::sugar::pointer_segments(&ip);
    if let ValidationErrorKind::Required { property } = e.kind() {
        if let Some(p) = property.as_str() {
            segs.push(p.to_string());
        }
    }
    let fallback = || -> String {
        r.point_at
            .clone()
            .or_else(|| elem.map(str::to_string))
            .unwrap_or_default()
    };
    let join = |base: &str, rest: &[String]| -> String {
        let mut s = base.to_string();
        for x in rest {
            s.push('/');
            s.push_str(&escape(x));
        }
        s
    };
    match segs.first().map(String::as_str) {
        Some("item") => vec![join(elem.unwrap_or(""), &segs[1..])],
        Some("manifest") => {
            let p = join("", &segs[1..]);
            if p.is_empty() {
                vec![fallback()]
            } else {
                vec![p]
            }
        }
        Some("derived" | "global") => {
            let mut node = doc.get(segs[0].as_str());
            let mut at: Option<(String, bool, usize)> = None;
            let mut depth = 1;
            while let Some(n) = node {
                if let Some(a) = n.get("at").and_then(Value::as_str) {
                    let mirror = n.get("mirror").and_then(Value::as_bool) == Some(true);
                    at = Some((a.to_string(), mirror, depth));
                }
                if depth >= segs.len() {
                    break;
                }
                let s = &segs[depth];
                node = match n {
                    Value::Object(o) => o.get(s),
                    Value::Array(a) => s.parse::<usize>().ok().and_then(|i| a.get(i)),
                    _ => None,
                };
                depth += 1;
            }
            // An array of located facts: one pointer per element.
            if depth >= segs.len() {
                if let Some(Value::Array(a)) = node {
                    let ats: Vec<String> = a
                        .iter()
                        .filter_map(|x| x.get("at").and_then(Value::as_str).map(str::to_string))
                        .collect();
                    if !ats.is_empty() && ats.len() == a.len() {
                        return ats;
                    }
                }
            }
            match at {
                Some((a, true, d)) => vec![join(&a, &segs[d.min(segs.len())..])],
                Some((a, false, _)) => {
                    // A synthesized fact at the element root is no better than point_at.
                    if Some(a.as_str()) == elem && r.point_at.is_some() {
                        vec![fallback()]
                    } else {
                        vec![a]
                    }
                }
                None => vec![fallback()],
            }
        }
        _ => vec![fallback()],
    }
}

fn diagnostic(
    p: &Profile,
    r: &Rule,
    f: Failure,
    src: &ManifestSource,
    as_of: Date,
    capped: bool,
) -> Diagnostic {
    let mut severity = r.severity;
    let mut notes = Vec::new();
    let mut not_in_force = None;
    if let Some(ef) = &r.effective_from {
        if !ef.in_force(as_of) {
            severity = Severity::Warning;
            not_in_force = Some(ef.label());
            notes.push(format!(
                "not yet in force: effective from {} (evaluated as of {}); reported as a warning",
                ef.label(),
                fmt_date(as_of)
            ));
        }
    }
    if capped && severity == Severity::Error {
        severity = Severity::Warning;
        notes.push(format!(
            "capped at warning: the {} profile's severity_unless condition does not hold",
            p.id
        ));
    }
    notes.extend(f.notes);
    notes.push(format!("help: {}", r.hint));
    notes.push(format!("citation: {}", r.citation));
    let span = (src.locate)(&f.pointer);
    Diagnostic {
        severity,
        code: format!("profile/{}", r.id),
        message: f.message.clone(),
        pointer: Some(f.pointer),
        labels: vec![
            Label::primary(src.file, span, f.message),
            Label::secondary(p.file, r.span.clone(), format!("{}: {}", r.id, r.title)),
        ],
        notes,
        rule: Some(RuleRef {
            profile: p.id.clone(),
            rule: r.id.clone(),
            citation: r.citation.clone(),
            hint: r.hint.clone(),
            group: f.group.clone(),
            not_in_force_until: not_in_force,
        }),
        fixes: f.fixes,
    }
}
