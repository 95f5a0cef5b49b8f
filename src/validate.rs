//! `validate`: load → schema → references → profiles, one report per file.
//!
//! Every stage runs even when an earlier one found problems, so a user
//! sees everything at once — except that profiles run only on a manifest
//! that passed the schema stage (rules assume the schema's shape; running
//! them on a broken manifest would produce noise, not findings).

use crate::diag::{Counts, Diagnostic, Severity};
use crate::manifest::document::{self, Document, Format, Limits};
use crate::manifest::refs;
use crate::manifest::schema::SchemaChecker;
use crate::manifest::todo;
use crate::profile::{self, ProfileLibrary, Selection};
use crate::source::{FileId, SourceMap};

/// What to run.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// Run the schema stage only (no reference resolution, no profiles).
    pub schema_only: bool,
    /// Evaluation date for date-gated rules.
    pub as_of: time::Date,
    /// Input bounds.
    pub limits: Limits,
    /// Which profiles to evaluate (ignored with `schema_only`).
    pub selection: Selection,
}

/// The outcome for one file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// Name as given.
    pub name: String,
    /// The file in the run's source map.
    pub file: FileId,
    /// Syntax, when it could be decided.
    pub format: Format,
    /// Profiles that were applied, in order.
    pub profiles: Vec<String>,
    /// All findings, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// Findings per severity.
    pub counts: Counts,
    /// The parsed document, when parsing succeeded.
    pub document: Option<Document>,
}

impl FileReport {
    /// True when nothing at error level was found.
    pub fn passed(&self) -> bool {
        self.counts.error == 0
    }
}

/// Validates one manifest given as bytes. Profiles run when `library` is
/// given, the schema stage passed, and `options.schema_only` is off.
pub fn validate_bytes(
    map: &mut SourceMap,
    library: Option<&ProfileLibrary>,
    name: &str,
    bytes: &[u8],
    options: &ValidateOptions,
) -> FileReport {
    let format = Format::detect(name, bytes);
    let (mut document, mut diagnostics) = match document::load(map, name, bytes, &options.limits) {
        Ok(doc) => (Some(doc), Vec::new()),
        Err(diags) => (None, diags),
    };
    let file = match &document {
        Some(d) => d.file,
        None => diagnostics
            .iter()
            .flat_map(|d| d.labels.iter())
            .map(|l| l.file)
            .next()
            .unwrap_or(FileId(map.len().saturating_sub(1))),
    };
    let mut profiles = Vec::new();
    if let Some(doc) = &mut document {
        diagnostics.extend(SchemaChecker::manifest().check(doc));
        // Placeholders (`# TODO`) are findings of the schema stage; while
        // one is left the profiles would judge guesses, so they wait.
        let todos = todo::placeholders(doc, map.get(doc.file).text());
        let unfilled = !todos.is_empty();
        diagnostics.extend(todos);
        if !options.schema_only {
            let refs = reference_diagnostics(doc);
            let shaped = diagnostics.is_empty() && refs.is_empty() && !unfilled;
            diagnostics.extend(refs);
            if let (true, Some(lib)) = (shaped, library) {
                // Evaluates in place (no copy of the manifest); the
                // document is whole again afterwards.
                let eval = profile::evaluate_mut(
                    lib,
                    &options.selection,
                    doc,
                    &profile::Extra::default(),
                    options.as_of,
                );
                profiles = eval.profiles_applied;
                diagnostics.extend(eval.diagnostics);
            }
        }
    }
    sort(&mut diagnostics);
    let counts = Counts::of(&diagnostics);
    FileReport {
        name: name.to_string(),
        file,
        format,
        profiles,
        diagnostics,
        counts,
        document,
    }
}

/// The reference resolver's problems, located in the file.
fn reference_diagnostics(doc: &Document) -> Vec<Diagnostic> {
    refs::check_references(&doc.value)
        .iter()
        .map(|p| p.to_diagnostic(doc))
        .collect()
}

/// Placeholders first (they are what is left to do), then file order
/// (primary span), then the more severe first, then code.
fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        let pa = a.primary().map(|l| (l.file, l.span.start));
        let pb = b.primary().map(|l| (l.file, l.span.start));
        let ta = !a.code.starts_with(todo::CODE_PREFIX);
        let tb = !b.code.starts_with(todo::CODE_PREFIX);
        ta.cmp(&tb)
            .then_with(|| pa.cmp(&pb))
            .then_with(|| rank(b.severity).cmp(&rank(a.severity)))
            .then_with(|| a.code.cmp(&b.code))
    });
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Error => 2,
        Severity::Warning => 1,
        Severity::Info => 0,
    }
}

/// Validates one manifest and, when nothing at error level was found, also
/// returns it as the only type signing accepts. The report is returned
/// either way, for rendering.
pub fn validate_for_signing(
    map: &mut SourceMap,
    library: &ProfileLibrary,
    name: &str,
    bytes: &[u8],
    options: &ValidateOptions,
) -> (FileReport, Option<crate::validated::ValidatedManifest>) {
    let report = validate_bytes(map, Some(library), name, bytes, options);
    let validated = match (&report.document, options.schema_only) {
        (Some(doc), false) => crate::validated::ValidatedManifest::new_unchecked_by_validator(
            doc.value.clone(),
            crate::attest::statement::ValidationSummary {
                profiles: report.profiles.clone(),
                as_of: options.as_of.to_string(),
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                counts: report.counts,
            },
        ),
        _ => None,
    };
    (report, validated)
}
