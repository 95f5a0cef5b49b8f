//! CycloneDX 1.4–1.6 JSON SBOM → firmware evidence: the image digests
//! (`metadata.component.hashes`) and every component with its hashes
//! (CycloneDX JSON reference, `components[]`, nested `components`).

use super::observation::{Component, Firmware, OBSERVATION_FORMAT, Observation, Source};
use serde_json::Value;
use sha2::{Digest, Sha256};

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

/// Reads a CycloneDX JSON SBOM.
pub fn observe(bytes: &[u8], file: &str) -> Result<Observation, SbomError> {
    if bytes.len() > MAX_SBOM_BYTES {
        return Err(SbomError::TooLarge(bytes.len()));
    }
    let v: Value = serde_json::from_slice(bytes)?;
    if v.get("bomFormat").and_then(Value::as_str) != Some("CycloneDX") {
        return Err(SbomError::NotCycloneDx);
    }
    let spec = v.get("specVersion").and_then(Value::as_str).unwrap_or("");
    if !matches!(spec, "1.4" | "1.5" | "1.6") {
        return Err(SbomError::UnsupportedSpec(spec.to_owned()));
    }
    let meta = v.pointer("/metadata/component");
    let text = |c: Option<&Value>, k: &str| {
        c.and_then(|c| c.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut components = Vec::new();
    if let Some(list) = v.get("components").and_then(Value::as_array) {
        collect(list, 0, &mut components)?;
    }
    components.sort();
    components.dedup();
    let sha = Sha256::digest(bytes);
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
            spec_version: spec.to_owned(),
            name: text(meta, "name"),
            version: text(meta, "version"),
            digests: meta.map(hashes).unwrap_or_default(),
            components,
        }),
    })
}

fn collect(list: &[Value], depth: usize, out: &mut Vec<Component>) -> Result<(), SbomError> {
    if depth > MAX_DEPTH {
        return Err(SbomError::TooManyComponents);
    }
    for c in list {
        if out.len() >= MAX_COMPONENTS {
            return Err(SbomError::TooManyComponents);
        }
        let name = c
            .get("name")
            .and_then(Value::as_str)
            .ok_or(SbomError::BadComponent {
                index: out.len(),
                what: "missing `name`",
            })?;
        out.push(Component {
            name: name.to_owned(),
            version: c.get("version").and_then(Value::as_str).map(str::to_owned),
            purl: c.get("purl").and_then(Value::as_str).map(str::to_owned),
            hashes: hashes(c),
        });
        if let Some(sub) = c.get("components").and_then(Value::as_array) {
            collect(sub, depth + 1, out)?;
        }
    }
    Ok(())
}

/// CycloneDX `hashes[]` as `alg:hex` with the algorithm normalized
/// (`SHA-256` → `sha256`, `SHA3-256` → `sha3-256`).
fn hashes(c: &Value) -> Vec<String> {
    let mut out: Vec<String> = c
        .get("hashes")
        .and_then(Value::as_array)
        .map(|hs| {
            hs.iter()
                .filter_map(|h| {
                    let alg = h.get("alg")?.as_str()?;
                    let content = h.get("content")?.as_str()?;
                    Some(format!(
                        "{}:{}",
                        normalize_alg(alg),
                        content.to_ascii_lowercase()
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
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
