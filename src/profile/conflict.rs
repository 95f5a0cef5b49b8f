//! Known tensions between regimes: `[[conflict]]` entries of
//! `profiles/_shared.toml`. They are not rules of any profile; after the
//! profiles ran, each conflict whose `profiles` were all applied and whose
//! `when` holds becomes an `info` finding `conflict/<slug>` that explains
//! what the two laws ask and how the manifest can satisfy both.

use super::ProfileLibrary;
use super::compile;
use super::eval::{Evaluation, ManifestSource, expand_for_each};
use crate::derived;
use crate::diag::{Diagnostic, Label, RuleRef, Severity};
use crate::source::{FileId, Span};
use jsonschema::Validator;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use time::Date;

/// What conflict findings carry as [`RuleRef::profile`]: they belong to no
/// profile, and summaries count them under this name.
pub const CONFLICTS: &str = "conflicts";

/// One `[[conflict]]`.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// `conflict.<slug>`.
    pub id: String,
    /// Short title; the finding's message.
    pub title: String,
    /// The legal texts in tension.
    pub citation: String,
    /// Profiles that must all have been applied.
    pub profiles: Vec<String>,
    /// Element array the condition iterates.
    pub for_each: Option<String>,
    /// `when` as written, for the reference.
    pub when: Option<Value>,
    /// Where the finding points: relative to the element with `for_each`,
    /// else a manifest pointer.
    pub point_at: Option<String>,
    /// What the tension is and how to resolve it (the finding's help).
    pub explanation: String,
    /// Span of the `id` value in `profiles/_shared.toml`.
    pub span: Span,
    /// The shared library file.
    pub file: FileId,
    /// `when` desugared to plain JSON Schema (`true` when absent).
    pub(crate) when_schema: Value,
}

impl Conflict {
    /// The slug after `conflict.`.
    pub fn slug(&self) -> &str {
        self.id.strip_prefix("conflict.").unwrap_or(&self.id)
    }
}

/// The compiled `when` of each conflict (library order), per date.
pub(crate) type CompiledConflicts = Arc<Vec<Result<Validator, String>>>;

/// Compiles every conflict once per evaluation date.
#[derive(Default)]
pub(crate) struct ConflictCache(Mutex<HashMap<Date, CompiledConflicts>>);

impl ConflictCache {
    fn get(&self, lib: &ProfileLibrary, as_of: Date) -> CompiledConflicts {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.entry(as_of)
            .or_insert_with(|| {
                Arc::new(
                    lib.conflicts()
                        .iter()
                        .map(|c| compile::build(&lib.registry, &c.when_schema, as_of))
                        .collect(),
                )
            })
            .clone()
    }
}

/// Appends the conflict findings to `out` (after the profiles ran), on the
/// evaluation document the profiles used (`{manifest, global}`; element
/// facts in their global lists or in `elements`), without deriving again.
pub(crate) fn evaluate(
    lib: &ProfileLibrary,
    doc: &mut Value,
    (elements, parents): (&HashMap<String, Value>, &derived::Parents),
    src: &ManifestSource,
    as_of: Date,
    out: &mut Evaluation,
) {
    let applied = &out.profiles_applied;
    let due: Vec<usize> = lib
        .conflicts()
        .iter()
        .enumerate()
        .filter(|(_, c)| c.profiles.iter().all(|p| applied.contains(p)))
        .map(|(i, _)| i)
        .collect();
    if due.is_empty() {
        return;
    }
    let compiled = lib.conflict_cache.get(lib, as_of);
    let mut found = Vec::new();
    for i in due {
        let c = &lib.conflicts()[i];
        let v = match &compiled[i] {
            Ok(v) => v,
            Err(e) => {
                out.diagnostics.push(Diagnostic::error(
                    "profile-load/compile",
                    format!("{}: when: {e}", c.id),
                ));
                continue;
            }
        };
        let Some(fe) = &c.for_each else {
            if v.is_valid(doc) {
                found.push((c, c.point_at.clone().unwrap_or_default()));
            }
            continue;
        };
        for ptr in expand_for_each(&doc["manifest"], fe) {
            // The element and its facts are moved in for the check and
            // back after it, as in the profile loop (no copies).
            let mptr = format!("/manifest{ptr}");
            let gptr = derived::global_list(fe)
                .map(|l| format!("/global/{l}/{}", ptr.rsplit('/').next().unwrap_or("")));
            let item = doc
                .pointer_mut(&mptr)
                .map(std::mem::take)
                .unwrap_or(Value::Null);
            let facts = match gptr.as_deref().and_then(|g| doc.pointer_mut(g)) {
                Some(slot) => std::mem::take(slot),
                None => {
                    let mut f = element_facts(elements, &doc["global"], &ptr)
                        .cloned()
                        .unwrap_or(Value::Object(Map::new()));
                    if let (Some(shared), Value::Object(o)) =
                        (derived::parent_facts(parents, &ptr), &mut f)
                    {
                        o.extend(shared.iter().map(|(k, v)| (k.clone(), v.clone())));
                    }
                    f
                }
            };
            if let Value::Object(w) = &mut *doc {
                w.insert("item".into(), item);
                w.insert("derived".into(), facts);
            }
            if v.is_valid(doc) {
                let at = format!("{ptr}{}", c.point_at.as_deref().unwrap_or(""));
                found.push((c, at));
            }
            if let Value::Object(w) = &mut *doc {
                let item = w.remove("item").unwrap_or(Value::Null);
                let facts = w.remove("derived").unwrap_or(Value::Null);
                if let Some(slot) = gptr.as_deref().and_then(|g| doc.pointer_mut(g)) {
                    *slot = facts;
                }
                if let Some(slot) = doc.pointer_mut(&mptr) {
                    *slot = item;
                }
            }
        }
    }
    for (c, at) in found {
        out.diagnostics.push(diagnostic(c, at, src));
    }
}

/// An element's derived facts: in their `global` list (items, endpoints, …)
/// or in the per-pointer map (docs/engine.md).
fn element_facts<'a>(
    elements: &'a HashMap<String, Value>,
    global: &'a Value,
    ptr: &str,
) -> Option<&'a Value> {
    if let Some(v) = elements.get(ptr) {
        return Some(v);
    }
    let (arr, idx) = ptr.rsplit_once('/')?;
    global
        .get(derived::global_list(arr)?)?
        .get(idx.parse::<usize>().ok()?)
}

fn diagnostic(c: &Conflict, pointer: String, src: &ManifestSource) -> Diagnostic {
    let span = (src.locate)(&pointer);
    Diagnostic {
        severity: Severity::Info,
        code: format!("conflict/{}", c.slug()),
        message: c.title.clone(),
        pointer: Some(pointer),
        labels: vec![
            Label::primary(src.file, span, c.title.clone()),
            Label::secondary(
                c.file,
                c.span.clone(),
                match c.profiles.as_slice() {
                    [one] => format!("{}: under {one}", c.id),
                    many => format!("{}: between {}", c.id, many.join(" and ")),
                },
            ),
        ],
        notes: vec![
            format!("help: {}", c.explanation),
            format!("citation: {}", c.citation),
        ],
        rule: Some(RuleRef {
            profile: CONFLICTS.to_string(),
            rule: c.id.clone(),
            citation: c.citation.clone(),
            hint: c.explanation.clone(),
            group: None,
            not_in_force_until: None,
        }),
        fixes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Extra, Selection, evaluate_value};
    use crate::source::SourceMap;

    const CAMERA: &str = include_str!("../../tests/fixtures/bases/engine-camera.json");

    fn run(lib: &ProfileLibrary, sel: &Selection) -> Evaluation {
        let m: Value = serde_json::from_str(CAMERA).expect("base parses");
        let locate = |_: &str| 0..0;
        let src = ManifestSource {
            file: FileId(0),
            locate: &locate,
        };
        let as_of = time::macros::date!(2026 - 11 - 26);
        evaluate_value(lib, sel, &m, &Extra::default(), &src, as_of)
    }

    #[test]
    fn conflicts_report_as_info_only_when_every_listed_profile_applies() {
        let mut map = SourceMap::new();
        let lib = ProfileLibrary::builtin(&mut map).expect("shipped profiles load");
        assert!(
            lib.conflicts()
                .iter()
                .all(|c| c.id.starts_with("conflict."))
        );
        let all = run(&lib, &Selection::Auto);
        let conflicts: Vec<&Diagnostic> = all
            .diagnostics
            .iter()
            .filter(|d| d.code.starts_with("conflict/"))
            .collect();
        assert!(
            conflicts
                .iter()
                .any(|d| d.code == "conflict/storage-region-per-market"
                    && d.pointer.as_deref() == Some("/data_items/11/storage_regions"))
        );
        for d in &conflicts {
            assert_eq!(d.severity, Severity::Info, "{}", d.code);
            assert_eq!(d.labels.len(), 2);
            assert_eq!(map.get(d.labels[1].file).name(), "profiles/_shared.toml");
        }
        // cn-pipl not applied: no GDPR/PIPL conflict.
        let gdpr = run(&lib, &Selection::Explicit(vec!["eu-gdpr".into()]));
        assert!(
            !gdpr
                .diagnostics
                .iter()
                .any(|d| d.code.starts_with("conflict/storage")
                    || d.code.starts_with("conflict/foreign"))
        );
    }

    #[test]
    fn a_conflict_naming_a_missing_profile_is_a_load_error() {
        let mut map = SourceMap::new();
        let lib = ProfileLibrary::empty(&mut map).expect("shared library loads");
        let errs = lib.unknown_conflict_profiles();
        assert!(!lib.conflicts().is_empty());
        assert!(errs.iter().any(|d| {
            d.code == "profile-load/bad-ref"
                && d.message
                    .contains("conflict.legal-basis: no shipped profile `eu-gdpr`")
        }));
    }
}
