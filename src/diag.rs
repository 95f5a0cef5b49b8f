//! Diagnostics: problems found in the user's files.
//!
//! A diagnostic is data, not an error: validation collects all of them and
//! the binary renders them (human, JSON, SARIF, JUnit). Codes are stable,
//! kebab-case and namespaced: `parse/toml-syntax`, `schema/<keyword>`,
//! `ref/dangling`, `profile/<rule-id>`, `canon/unsafe-integer`.

use crate::source::{FileId, Span};
use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Never fails a manifest: applicability notices, review prompts.
    Info,
    /// Needs review; does not block.
    Warning,
    /// Breaks a binding requirement; blocks signing.
    Error,
}

impl Severity {
    /// Lower-case name as used in files and output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// Parses `error`, `warning` or `info`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "error" => Some(Severity::Error),
            "warning" => Some(Severity::Warning),
            "info" => Some(Severity::Info),
            _ => None,
        }
    }
}

/// A labelled place in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// The file the span points into.
    pub file: FileId,
    /// Byte range.
    pub span: Span,
    /// Short text shown next to the caret (may be empty).
    pub message: String,
    /// The primary label is the place to fix; secondary ones give context
    /// (for example the rule in the profile file).
    pub primary: bool,
}

impl Label {
    /// A primary label.
    pub fn primary(file: FileId, span: Span, message: impl Into<String>) -> Self {
        Label {
            file,
            span,
            message: message.into(),
            primary: true,
        }
    }

    /// A secondary label.
    pub fn secondary(file: FileId, span: Span, message: impl Into<String>) -> Self {
        Label {
            file,
            span,
            message: message.into(),
            primary: false,
        }
    }
}

/// Which profile rule produced a finding, with what a reader needs to act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleRef {
    /// Profile id, e.g. `eu-gdpr`.
    pub profile: String,
    /// Rule id, e.g. `gdpr.security-in-transit`.
    pub rule: String,
    /// Legal citation.
    pub citation: String,
    /// How to fix.
    pub hint: String,
    /// Shared-check or report group, when the rule belongs to one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Set when the rule is reported below its nominal severity because it is
    /// not yet in force on the evaluation date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_in_force_until: Option<String>,
}

/// What to add to the manifest to fix a finding about something absent:
/// `add` (a table of keys) goes into the existing table at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fix {
    /// JSON pointer of the existing table the keys belong in (`""`: the
    /// top level).
    pub at: String,
    /// The keys to add, with a value the rule accepts (or `<value>` where
    /// the rule does not say).
    pub add: serde_json::Value,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Severity as reported (after date gating and `severity_unless`).
    pub severity: Severity,
    /// Stable code, e.g. `schema/required` or `profile/gdpr.dpia`.
    pub code: String,
    /// One-line message.
    pub message: String,
    /// JSON pointer into the manifest the finding is about, when it has one.
    pub pointer: Option<String>,
    /// Places in files.
    pub labels: Vec<Label>,
    /// Extra lines ("help: …", "note: …").
    pub notes: Vec<String>,
    /// The rule, for profile findings.
    pub rule: Option<RuleRef>,
    /// Keys to add, for findings about something absent.
    pub fixes: Vec<Fix>,
}

impl Diagnostic {
    /// A diagnostic with no labels yet.
    pub fn new(severity: Severity, code: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code: code.into(),
            message: message.into(),
            pointer: None,
            labels: Vec::new(),
            notes: Vec::new(),
            rule: None,
            fixes: Vec::new(),
        }
    }

    /// Shorthand for an error-level diagnostic.
    pub fn error(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    /// Adds a label.
    pub fn with_label(mut self, label: Label) -> Self {
        self.labels.push(label);
        self
    }

    /// Adds a note line.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Sets the manifest pointer.
    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    /// The primary label, if any.
    pub fn primary(&self) -> Option<&Label> {
        self.labels.iter().find(|l| l.primary)
    }
}

/// Counts of findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Error-level findings.
    pub error: usize,
    /// Warning-level findings.
    pub warning: usize,
    /// Info-level findings.
    pub info: usize,
}

impl Counts {
    /// Counts the diagnostics in `diags`.
    pub fn of<'a>(diags: impl IntoIterator<Item = &'a Diagnostic>) -> Self {
        let mut c = Counts::default();
        for d in diags {
            match d.severity {
                Severity::Error => c.error += 1,
                Severity::Warning => c.warning += 1,
                Severity::Info => c.info += 1,
            }
        }
        c
    }

    /// The count of one severity.
    pub fn get(&self, s: Severity) -> usize {
        match s {
            Severity::Error => self.error,
            Severity::Warning => self.warning,
            Severity::Info => self.info,
        }
    }
}
