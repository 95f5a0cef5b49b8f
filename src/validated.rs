//! A manifest that passed validation: the only input signing accepts.
//!
//! The constructor is `pub(crate)` and called only by the validation module,
//! and it refuses a summary with error-level findings, so "validate before
//! sign" is enforced by the type system rather than by a check a caller can
//! skip.

use serde_json::Value;

use crate::attest::statement::ValidationSummary;

/// A manifest value together with the summary of the validation it passed.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedManifest {
    value: Value,
    summary: ValidationSummary,
}

impl ValidatedManifest {
    /// For the validator only: wraps a manifest it has validated. Returns
    /// `None` when the summary records any error-level finding.
    pub(crate) fn new_unchecked_by_validator(
        value: Value,
        summary: ValidationSummary,
    ) -> Option<Self> {
        if summary.counts.error > 0 {
            return None;
        }
        Some(ValidatedManifest { value, summary })
    }

    /// The manifest's JSON data model.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// What validation found.
    pub fn summary(&self) -> &ValidationSummary {
        &self.summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Counts;

    #[test]
    fn error_findings_refuse_construction() {
        let mut summary = ValidationSummary {
            profiles: vec!["eu-gdpr".into()],
            as_of: "2026-11-26".into(),
            tool_version: "0.1.0".into(),
            counts: Counts {
                error: 1,
                warning: 0,
                info: 0,
            },
        };
        assert!(
            ValidatedManifest::new_unchecked_by_validator(Value::Null, summary.clone()).is_none()
        );
        summary.counts.error = 0;
        summary.counts.warning = 3;
        let v = ValidatedManifest::new_unchecked_by_validator(Value::Null, summary).unwrap();
        assert_eq!(v.summary().counts.warning, 3);
    }
}
