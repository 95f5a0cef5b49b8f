//! Reference tables, kept as versioned data files
//! `profiles/reference/*.toml`, each stamped with `as_of`.

use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The shipped reference files, by name.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    (
        "profiles/reference/eea.toml",
        include_str!("../../profiles/reference/eea.toml"),
    ),
    (
        "profiles/reference/adequacy.toml",
        include_str!("../../profiles/reference/adequacy.toml"),
    ),
    (
        "profiles/reference/consent_age.toml",
        include_str!("../../profiles/reference/consent_age.toml"),
    ),
    (
        "profiles/reference/languages.toml",
        include_str!("../../profiles/reference/languages.toml"),
    ),
    (
        "profiles/reference/countries_of_concern.toml",
        include_str!("../../profiles/reference/countries_of_concern.toml"),
    ),
    (
        "profiles/reference/ci_sectors.toml",
        include_str!("../../profiles/reference/ci_sectors.toml"),
    ),
];

/// A reference file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RefError {
    /// The TOML did not parse or has the wrong shape.
    #[error("reference table {file}: {source}")]
    Parse {
        /// File name.
        file: String,
        /// Parser error.
        source: toml::de::Error,
    },
    /// A file lacks a quoted `as_of` date.
    #[error("reference table {file}: `as_of` must be a quoted YYYY-MM-DD date")]
    AsOf {
        /// File name.
        file: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefFile {
    as_of: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    sets: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    default: Option<u32>,
    #[serde(default)]
    ages: BTreeMap<String, u32>,
    #[serde(default)]
    languages: BTreeMap<String, Vec<String>>,
}

/// All reference tables, merged.
#[derive(Debug, Clone, Default)]
pub struct RefData {
    /// Named sets (`EEA`, `EU`, `ADEQUATE`, `COUNTRIES_OF_CONCERN`, …).
    pub sets: BTreeMap<String, Vec<String>>,
    /// `as_of` of each file, by file name.
    pub as_of: BTreeMap<String, String>,
    /// GDPR Art. 8 consent age per EEA state.
    pub consent_age: HashMap<String, u32>,
    /// Default consent age.
    pub consent_age_default: u32,
    /// Official languages per market.
    pub languages: BTreeMap<String, Vec<String>>,
    eea: HashSet<String>,
    eu: HashSet<String>,
    adequate: HashSet<String>,
}

impl RefData {
    /// The shipped tables.
    pub fn builtin() -> Result<Self, RefError> {
        Self::from_files(BUILTIN_FILES.iter().copied())
    }

    /// Tables from `(name, text)` pairs.
    pub fn from_files<'a>(
        files: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, RefError> {
        let mut r = RefData {
            consent_age_default: 16,
            ..Default::default()
        };
        for (name, text) in files {
            let f: RefFile = toml::from_str(text).map_err(|source| RefError::Parse {
                file: name.into(),
                source,
            })?;
            if time::Date::parse(&f.as_of, crate::derived::global::DATE_FMT).is_err() {
                return Err(RefError::AsOf { file: name.into() });
            }
            let _ = f.source;
            r.as_of.insert(name.into(), f.as_of);
            r.sets.extend(f.sets);
            if let Some(d) = f.default {
                r.consent_age_default = d;
            }
            r.consent_age.extend(f.ages);
            r.languages.extend(f.languages);
        }
        let set =
            |n: &str| -> HashSet<String> { r.sets.get(n).into_iter().flatten().cloned().collect() };
        r.eea = set("EEA");
        r.eu = set("EU");
        r.adequate = set("ADEQUATE");
        Ok(r)
    }

    /// An EEA state (not a pseudo-market).
    pub fn is_eea(&self, cc: &str) -> bool {
        self.eea.contains(cc)
    }

    /// An EU member state.
    pub fn is_eu(&self, cc: &str) -> bool {
        self.eu.contains(cc)
    }

    /// In the EU adequacy list (without the DPF-only US).
    pub fn is_adequate(&self, cc: &str) -> bool {
        self.adequate.contains(cc)
    }

    /// EEA states, in table order.
    pub fn eea_states(&self) -> &[String] {
        self.sets.get("EEA").map_or(&[], Vec::as_slice)
    }

    /// EU states, in table order.
    pub fn eu_states(&self) -> &[String] {
        self.sets.get("EU").map_or(&[], Vec::as_slice)
    }
}
