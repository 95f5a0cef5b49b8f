//! CycloneDX 1.4–1.6 JSON SBOM → firmware evidence: the image digests
//! (`metadata.component.hashes`) and every component with its hashes
//! (CycloneDX JSON reference, `components[]`, nested `components`).

use super::observation::{Component, Firmware, OBSERVATION_FORMAT, Observation, Source};
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};
use std::fmt;
use std::marker::PhantomData;

/// Largest SBOM accepted, in bytes.
pub const MAX_SBOM_BYTES: usize = 64 * 1024 * 1024;
/// Most components read (nested ones included).
pub const MAX_COMPONENTS: usize = 1_000_000;
/// Deepest component nesting followed.
pub const MAX_DEPTH: usize = 32;

/// Why an SBOM could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("SBOM is {0} bytes, above the {MAX_SBOM_BYTES}-byte limit")]
    TooLarge(usize),
    #[error("SBOM is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a CycloneDX SBOM (`bomFormat` is not \"CycloneDX\")")]
    NotCycloneDx,
    #[error("CycloneDX specVersion {0:?} is not supported (1.4, 1.5, 1.6)")]
    UnsupportedSpec(String),
    #[error("more than {MAX_COMPONENTS} components or nesting deeper than {MAX_DEPTH}")]
    TooManyComponents,
    #[error("component {index}: {what}")]
    BadComponent { index: usize, what: &'static str },
}

/// The parts of a CycloneDX document read here. Everything else is skipped
/// while parsing (never built), so memory stays a small multiple of what
/// is kept rather than of the file. A member of an unexpected type is
/// ignored, as an absent one would be.
#[derive(Deserialize, Default)]
struct Bom {
    #[serde(rename = "bomFormat", default)]
    bom_format: Text,
    #[serde(rename = "specVersion", default)]
    spec_version: Text,
    #[serde(default)]
    metadata: Obj<Metadata>,
    #[serde(default)]
    components: List<Obj<Comp>>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    component: Obj<Comp>,
}

#[derive(Deserialize, Default)]
struct Comp {
    #[serde(default)]
    name: Text,
    #[serde(default)]
    version: Text,
    #[serde(default)]
    purl: Text,
    #[serde(default)]
    hashes: List<Obj<Hash>>,
    #[serde(default)]
    components: List<Obj<Comp>>,
}

#[derive(Deserialize, Default)]
struct Hash {
    #[serde(default)]
    alg: Text,
    #[serde(default)]
    content: Text,
}

/// A JSON string, or `None` for any other value (skipped, not built).
#[derive(Default)]
struct Text(Option<String>);

/// A JSON array of `T`, or `None` for any other value.
struct List<T>(Option<Vec<T>>);

/// A JSON object read as `T`, or `None` for any other value.
struct Obj<T>(Option<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(None)
    }
}

impl<T> Default for Obj<T> {
    fn default() -> Self {
        Obj(None)
    }
}

/// What each lenient type keeps; every other shape is skipped unbuilt.
enum Want {
    Str,
    Seq,
    Map,
}

struct Lenient<T> {
    want: Want,
    mark: PhantomData<T>,
}

/// What the visitor produced: the value wanted, or nothing.
enum Got<T> {
    Str(String),
    Seq(Vec<T>),
    Map(T),
    Nothing,
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for Lenient<T> {
    type Value = Got<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Got<T>, E> {
        Ok(Got::Nothing)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Got<T>, E> {
        Ok(Got::Nothing)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Got<T>, E> {
        Ok(Got::Nothing)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Got<T>, E> {
        Ok(Got::Nothing)
    }
    fn visit_unit<E>(self) -> Result<Got<T>, E> {
        Ok(Got::Nothing)
    }
    fn visit_str<E>(self, v: &str) -> Result<Got<T>, E> {
        Ok(match self.want {
            Want::Str => Got::Str(v.to_owned()),
            _ => Got::Nothing,
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Got<T>, A::Error> {
        if let Want::Seq = self.want {
            let mut out = Vec::new();
            while let Some(t) = seq.next_element::<T>()? {
                out.push(t);
            }
            return Ok(Got::Seq(out));
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Got::Nothing)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Got<T>, A::Error> {
        if let Want::Map = self.want {
            return T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Got::Map);
        }
        IgnoredAny::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(Got::Nothing)
    }
}

fn lenient<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(
    d: D,
    want: Want,
) -> Result<Got<T>, D::Error> {
    d.deserialize_any(Lenient {
        want,
        mark: PhantomData,
    })
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Text(match lenient::<IgnoredAny, D>(d, Want::Str)? {
            Got::Str(s) => Some(s),
            _ => None,
        }))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(List(match lenient::<T, D>(d, Want::Seq)? {
            Got::Seq(v) => Some(v),
            _ => None,
        }))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Obj(match lenient::<T, D>(d, Want::Map)? {
            Got::Map(t) => Some(t),
            _ => None,
        }))
    }
}

/// Reads a CycloneDX JSON SBOM.
pub fn observe(bytes: &[u8], file: &str) -> Result<Observation, SbomError> {
    if bytes.len() > MAX_SBOM_BYTES {
        return Err(SbomError::TooLarge(bytes.len()));
    }
    let Obj(Some(bom)) = serde_json::from_slice::<Obj<Bom>>(bytes)? else {
        return Err(SbomError::NotCycloneDx);
    };
    if bom.bom_format.0.as_deref() != Some("CycloneDX") {
        return Err(SbomError::NotCycloneDx);
    }
    let spec = bom.spec_version.0.unwrap_or_default();
    if !matches!(spec.as_str(), "1.4" | "1.5" | "1.6") {
        return Err(SbomError::UnsupportedSpec(spec));
    }
    let meta = bom.metadata.0.and_then(|m| m.component.0);
    let mut components = Vec::new();
    if let Some(list) = bom.components.0 {
        collect(list, 0, &mut components)?;
    }
    components.sort();
    components.dedup();
    let sha = Sha256::digest(bytes);
    let (name, version, digests) = match meta {
        Some(m) => (m.name.0, m.version.0, hashes(m.hashes)),
        None => (None, None, Vec::new()),
    };
    Ok(Observation {
        format: OBSERVATION_FORMAT.into(),
        source: Source {
            file: file.to_owned(),
            kind: "cyclonedx".into(),
            sha256: sha.iter().map(|b| format!("{b:02x}")).collect(),
            bytes: bytes.len() as u64,
        },
        traffic: None,
        firmware: Some(Firmware {
            spec_version: spec,
            name,
            version,
            digests,
            components,
        }),
    })
}

fn collect(list: Vec<Obj<Comp>>, depth: usize, out: &mut Vec<Component>) -> Result<(), SbomError> {
    if depth > MAX_DEPTH {
        return Err(SbomError::TooManyComponents);
    }
    for c in list {
        if out.len() >= MAX_COMPONENTS {
            return Err(SbomError::TooManyComponents);
        }
        let c = c.0.unwrap_or_default();
        let name = c.name.0.ok_or(SbomError::BadComponent {
            index: out.len(),
            what: "missing `name`",
        })?;
        out.push(Component {
            name,
            version: c.version.0,
            purl: c.purl.0,
            hashes: hashes(c.hashes),
        });
        if let Some(sub) = c.components.0 {
            collect(sub, depth + 1, out)?;
        }
    }
    Ok(())
}

/// CycloneDX `hashes[]` as `alg:hex` with the algorithm normalized
/// (`SHA-256` → `sha256`, `SHA3-256` → `sha3-256`).
fn hashes(list: List<Obj<Hash>>) -> Vec<String> {
    let mut out: Vec<String> = list
        .0
        .unwrap_or_default()
        .into_iter()
        .filter_map(|h| {
            let h = h.0?;
            Some(format!(
                "{}:{}",
                normalize_alg(&h.alg.0?),
                h.content.0?.to_ascii_lowercase()
            ))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `SHA-256` → `sha256`; `SHA3-256` → `sha3-256`; `BLAKE2b-256` → `blake2b-256`.
pub fn normalize_alg(alg: &str) -> String {
    let a = alg.to_ascii_lowercase();
    match a.strip_prefix("sha-") {
        Some(bits) => format!("sha{bits}"),
        None => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_metadata_and_nested_components() {
        let sbom = br#"{"bomFormat":"CycloneDX","specVersion":"1.5",
          "metadata":{"component":{"type":"firmware","name":"plug-fw","version":"2.1",
             "hashes":[{"alg":"SHA-256","content":"AB12"}]}},
          "components":[{"name":"busybox","version":"1.36","purl":"pkg:generic/busybox@1.36",
             "hashes":[{"alg":"SHA-256","content":"cd"}],
             "components":[{"name":"libc","version":"2.37"}]}]}"#;
        let o = observe(sbom, "fw.cdx.json").unwrap();
        let f = o.firmware.unwrap();
        assert_eq!(f.digests, vec!["sha256:ab12"]);
        assert_eq!(f.version.as_deref(), Some("2.1"));
        assert_eq!(f.components.len(), 2);
        assert_eq!(f.components[0].name, "busybox");
        assert_eq!(f.components[0].hashes, vec!["sha256:cd"]);
    }

    #[test]
    fn refuses_other_formats_and_versions() {
        assert!(matches!(observe(b"{}", "x"), Err(SbomError::NotCycloneDx)));
        assert!(matches!(
            observe(br#"{"bomFormat":"CycloneDX","specVersion":"1.2"}"#, "x"),
            Err(SbomError::UnsupportedSpec(_))
        ));
        assert!(matches!(observe(b"{", "x"), Err(SbomError::Json(_))));
        assert!(matches!(
            observe(
                br#"{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"version":"1"}]}"#,
                "x"
            ),
            Err(SbomError::BadComponent { .. })
        ));
    }
}
