//! The profile engine (docs/engine.md): profiles are TOML data whose rules
//! are JSON Schema 2020-12 conditions over the evaluation document
//! `{item, derived, manifest, global}`; the derived view is computed in Rust
//! ([`crate::derived`]).
//!
//! ```text
//! ProfileLibrary::builtin ─▶ load (sugar, whitelist, path checks) ─▶ Profile
//! evaluate ─▶ derive view ─▶ scope ─▶ lazy compile ─▶ rules ─▶ Diagnostics
//! ```

mod absent;
mod compile;
mod conflict;
pub mod doc;
mod eval;
mod model;
mod native;
mod reach;
mod sugar;
pub mod words;

pub use conflict::{CONFLICTS, Conflict};
pub use eval::{Evaluation, Extra, ManifestSource, evaluate_value};
pub use model::{Check, EffectiveFrom, Group, Profile, Rule, Shared};
pub use native::NATIVES;

use crate::derived::RefData;
use crate::diag::{Diagnostic, Label};
use crate::manifest::document::Document;
use crate::source::{FileId, SourceFile, SourceMap};
use jsonschema::Registry;
use serde_json::Value;
use std::collections::BTreeMap;
use time::Date;

const SHARED_TOML: &str = include_str!("../../profiles/_shared.toml");
const DATES_TOML: &str = include_str!("../../profiles/_dates.toml");
const DERIVED_SCHEMA: &str = include_str!("../../schemas/derived.v1.schema.json");
const PROFILE_SCHEMA: &str = include_str!("../../schemas/profile.v1.schema.json");
const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_profiles.rs"));

/// Index of a profile inside its [`ProfileLibrary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileId(pub usize);

/// Which profiles to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every profile whose `scope` matches the manifest.
    Auto,
    /// These profile ids, each evaluated only when its scope matches: a
    /// chosen profile that does not apply is reported once (info, with the
    /// reason) and its rules stay silent.
    Explicit(Vec<String>),
    /// `selected` as [`Selection::Explicit`], plus `forced`: evaluated
    /// whatever their scope, as a what-if.
    WhatIf {
        /// Chosen profiles, gated by their scope.
        selected: Vec<String>,
        /// Profiles evaluated even where they do not apply.
        forced: Vec<String>,
    },
}

impl Selection {
    /// Is profile `id` chosen, and is it forced past its scope?
    /// `None` under [`Selection::Auto`] (every profile is a candidate).
    fn choice(&self, id: &str) -> Option<(bool, bool)> {
        let has = |v: &[String]| v.iter().any(|x| x == id);
        match self {
            Selection::Auto => None,
            Selection::Explicit(ids) => Some((has(ids), false)),
            Selection::WhatIf { selected, forced } => {
                Some((has(selected) || has(forced), has(forced)))
            }
        }
    }

    /// Every id named explicitly.
    fn named(&self) -> Vec<&String> {
        match self {
            Selection::Auto => Vec::new(),
            Selection::Explicit(ids) => ids.iter().collect(),
            Selection::WhatIf { selected, forced } => selected.iter().chain(forced).collect(),
        }
    }
}

/// Every loaded profile (shipped and user files), the shared library
/// `urn:blueprint:shared`, the reference tables and the named dates.
pub struct ProfileLibrary {
    profiles: Vec<Profile>,
    shared: Shared,
    pub(crate) shared_doc: Value,
    pub(crate) registry: Registry<'static>,
    pub(crate) refs: RefData,
    dates: BTreeMap<String, Option<Date>>,
    derived_schema: Value,
    manifest_schema: Value,
    profile_schema: jsonschema::Validator,
    /// Compiled `when` of every conflict, per evaluation date (compiled on
    /// first use, like the profiles).
    pub(crate) conflict_cache: conflict::ConflictCache,
}

/// Evaluates the selected profiles of `lib` against a loaded manifest on the
/// evaluation date `as_of` (`--as-of`, default today).
pub fn evaluate(
    lib: &ProfileLibrary,
    selection: &Selection,
    doc: &Document,
    as_of: Date,
) -> Evaluation {
    evaluate_with(lib, selection, doc, &Extra::default(), as_of)
}

/// [`evaluate`] without copying the manifest: its value is lent to the
/// evaluation and put back unchanged (the cheaper path for `validate`).
pub fn evaluate_mut(
    lib: &ProfileLibrary,
    selection: &Selection,
    doc: &mut Document,
    extra: &Extra,
    as_of: Date,
) -> Evaluation {
    let value = std::mem::take(&mut doc.value);
    let spans = &doc.spans;
    let locate = |p: &str| spans.locate(p);
    let src = ManifestSource {
        file: doc.file,
        locate: &locate,
    };
    let (e, value) = eval::evaluate_lent(lib, selection, value, extra, &src, as_of);
    doc.value = value;
    e
}

/// [`evaluate`] with the previous deposit of the same `blueprint.id` and/or
/// the deviations of a shipped device, so that rules over `global.diff`,
/// item `diff` and `global.deviations` can fire.
pub fn evaluate_with(
    lib: &ProfileLibrary,
    selection: &Selection,
    doc: &Document,
    extra: &Extra,
    as_of: Date,
) -> Evaluation {
    let locate = |p: &str| doc.spans.locate(p);
    let src = ManifestSource {
        file: doc.file,
        locate: &locate,
    };
    evaluate_value(lib, selection, &doc.value, extra, &src, as_of)
}

impl std::fmt::Debug for ProfileLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileLibrary")
            .field(
                "profiles",
                &self.profiles.iter().map(|p| &p.id).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

fn internal(code: &str, msg: impl Into<String>) -> Vec<Diagnostic> {
    vec![Diagnostic::error(format!("profile-load/{code}"), msg)]
}

impl ProfileLibrary {
    /// The shipped profiles, registered in `map` as `profiles/<id>.toml`.
    pub fn builtin(map: &mut SourceMap) -> Result<Self, Vec<Diagnostic>> {
        let mut lib = Self::empty(map)?;
        let mut diags = Vec::new();
        for (name, text) in BUILTIN {
            if let Err(d) = lib.add(map, name, text, true) {
                diags.extend(d);
            }
        }
        diags.extend(lib.unknown_conflict_profiles());
        if diags.is_empty() {
            Ok(lib)
        } else {
            Err(diags)
        }
    }

    /// A `[[conflict]]` naming a profile that is not shipped could never
    /// fire.
    fn unknown_conflict_profiles(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for c in &self.shared.conflicts {
            for p in &c.profiles {
                if self.profile(p).is_none() {
                    let msg = format!("{}: no shipped profile `{p}`", c.id);
                    out.push(
                        Diagnostic::error("profile-load/bad-ref", msg.clone())
                            .with_label(Label::primary(c.file, c.span.clone(), msg)),
                    );
                }
            }
        }
        out
    }

    /// The shared library, reference tables and dates, without profiles.
    pub fn empty(map: &mut SourceMap) -> Result<Self, Vec<Diagnostic>> {
        let derived_schema: Value =
            serde_json::from_str(DERIVED_SCHEMA).map_err(|e| internal("schema", e.to_string()))?;
        let ps: Value =
            serde_json::from_str(PROFILE_SCHEMA).map_err(|e| internal("schema", e.to_string()))?;
        let profile_schema =
            jsonschema::validator_for(&ps).map_err(|e| internal("schema", e.to_string()))?;
        let refs = RefData::builtin().map_err(|e| internal("reference", e.to_string()))?;
        let dates_file = map.add(SourceFile::new("profiles/_dates.toml", DATES_TOML));
        let dates = model::load_dates(DATES_TOML, dates_file)?;
        let shared_file = map.add(SourceFile::new("profiles/_shared.toml", SHARED_TOML));
        let manifest_schema: Value = serde_json::from_str(crate::manifest::schema::MANIFEST_SCHEMA)
            .map_err(|e| internal("schema", e.to_string()))?;
        let shared = {
            let ctx = model::LoadCtx {
                derived_schema: &derived_schema,
                profile_schema: &profile_schema,
                dates: &dates,
                shared: None,
                natives: NATIVES,
                manifest_schema: &manifest_schema,
            };
            model::load_shared(SHARED_TOML, shared_file, &ctx, &refs.sets)?
        };
        let registry =
            compile::shared_registry(&shared.defs).map_err(|e| internal("compile", e))?;
        let shared_doc = serde_json::json!({ "$defs": shared.defs });
        Ok(ProfileLibrary {
            profiles: Vec::new(),
            shared,
            shared_doc,
            registry,
            refs,
            dates,
            derived_schema,
            manifest_schema,
            profile_schema,
            conflict_cache: conflict::ConflictCache::default(),
        })
    }

    /// Adds a user profile file.
    pub fn add_file(
        &mut self,
        map: &mut SourceMap,
        name: &str,
        text: &str,
    ) -> Result<ProfileId, Vec<Diagnostic>> {
        self.add(map, name, text, false)
    }

    fn add(
        &mut self,
        map: &mut SourceMap,
        name: &str,
        text: &str,
        builtin: bool,
    ) -> Result<ProfileId, Vec<Diagnostic>> {
        let file = map.add(SourceFile::new(name, text));
        let ctx = model::LoadCtx {
            derived_schema: &self.derived_schema,
            profile_schema: &self.profile_schema,
            dates: &self.dates,
            shared: Some(&self.shared),
            natives: NATIVES,
            manifest_schema: &self.manifest_schema,
        };
        let p = model::load_profile(text, file, builtin, &ctx)?;
        let mut diags = Vec::new();
        if self.profiles.iter().any(|q| q.id == p.id) {
            diags.push(Diagnostic::error(
                "profile-load/duplicate",
                format!("a profile with id `{}` is already loaded", p.id),
            ));
        }
        for r in &p.rules {
            if let Some((q, _)) = self.find_rule(&r.id) {
                diags.push(
                    Diagnostic::error(
                        "profile-load/duplicate",
                        format!(
                            "rule id `{}` is already defined by profile `{}`",
                            r.id, q.id
                        ),
                    )
                    .with_label(Label::primary(
                        file,
                        r.span.clone(),
                        "duplicate rule id",
                    )),
                );
            }
        }
        if !diags.is_empty() {
            return Err(diags);
        }
        self.profiles.push(p);
        Ok(ProfileId(self.profiles.len() - 1))
    }

    /// All loaded profiles.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.iter()
    }

    /// The profile with id `id`.
    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    /// The profile and rule with rule id `rule_id`.
    pub fn find_rule(&self, rule_id: &str) -> Option<(&Profile, &Rule)> {
        self.profiles
            .iter()
            .find_map(|p| p.rules.iter().find(|r| r.id == rule_id).map(|r| (p, r)))
    }

    /// The shared library.
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// The known conflicts between regimes; not profile rules.
    pub fn conflicts(&self) -> &[Conflict] {
        &self.shared.conflicts
    }

    /// The reference tables.
    pub fn reference(&self) -> &RefData {
        &self.refs
    }

    /// Compiles every rule of every profile now (for `profiles check` and
    /// tests); returns compile failures.
    pub fn compile_all(&self, as_of: Date) -> Vec<Diagnostic> {
        self.profiles
            .iter()
            .filter_map(|p| {
                let c = compile::profile(p, &self.registry, as_of);
                c.as_ref().as_ref().err().map(|e| {
                    Diagnostic::error("profile-load/compile", format!("profile {}: {e}", p.id))
                })
            })
            .collect()
    }
}

/// Checks manifest paths used by a profile (`/item/…`, `/manifest/…`,
/// `for_each`) against the manifest schema: a misspelt path would otherwise
/// make a rule silently dead.
pub(crate) fn paths_against(
    schema: &Value,
    file: FileId,
    paths: &[sugar::ManifestPath],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for mp in paths.iter().filter(|p| p.reach == sugar::Reach::Key) {
        if let Err(bad) = sugar::schema_path(schema, schema, &mp.segments) {
            let msg = format!(
                "`/{}`: `{bad}` is not a manifest field (see schemas/blueprint.v1.schema.json)",
                mp.segments.join("/")
            );
            out.push(
                Diagnostic::error("profile-load/unknown-path", msg.clone())
                    .with_label(Label::primary(file, mp.span.clone(), msg)),
            );
        }
    }
    out
}
