//! Throughput floors for `benches/compare.sh` (not part of the installed
//! tool): what the same crates do on a corpus of JSON manifests with
//! nothing of blueprint around them, and blueprint's own end-to-end
//! pipeline next to them.
//!
//! `floor MODE DIR [THREADS]` reads every `*.json` file of DIR into memory,
//! then times MODE over all of them and prints `MODE DOCS SECONDS DOCS/S`:
//!
//! - `parse`: `serde_json::from_slice` (one thread);
//! - `schema`: parse + `jsonschema` `iter_errors` against
//!   `schemas/blueprint.v1.schema.json` (draft 2020-12, formats on; one thread);
//! - `serialize`, `hash`, `sign`: the other component floors of the
//!   pipeline: `serde_json::to_vec` of the parsed value, SHA-256 of those
//!   bytes, an Ed25519 signature over them (one thread);
//! - `pipeline`: blueprint's validate (every profile) + canonicalize +
//!   hash + sign into a DSSE envelope per manifest, on THREADS threads.

use blueprint::attest::keys::SigningKeyFile;
use blueprint::attest::statement::sign_manifest;
use blueprint::manifest::document::Limits;
use blueprint::profile::{ProfileLibrary, Selection};
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_for_signing};
use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

fn corpus(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).expect("corpus file");
            (p.display().to_string(), bytes)
        })
        .collect()
}

fn schema_validator() -> jsonschema::Validator {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read(root.join("schemas/blueprint.v1.schema.json")).expect("schema");
    let schema: serde_json::Value = serde_json::from_slice(&text).expect("schema JSON");
    jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

/// Validate + canonicalize + hash + sign, one manifest.
fn pipeline(lib: &ProfileLibrary, key: &SigningKeyFile, name: &str, bytes: &[u8]) -> bool {
    let options = ValidateOptions {
        schema_only: false,
        as_of: time::macros::date!(2026 - 11 - 26),
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    let mut map = SourceMap::new();
    let (_, validated) = validate_for_signing(&mut map, lib, name, bytes, &options);
    match validated {
        Some(m) => sign_manifest(&m, key).is_ok(),
        None => false,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(mode), Some(dir)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: floor parse|schema|serialize|hash|sign|pipeline DIR [THREADS]");
        std::process::exit(2);
    };
    let threads: usize = args.get(3).and_then(|t| t.parse().ok()).unwrap_or(1);
    let docs = corpus(Path::new(dir));
    let parsed: Vec<serde_json::Value> = docs
        .iter()
        .map(|(_, b)| serde_json::from_slice(b).expect("corpus JSON"))
        .collect();
    let serialized: Vec<Vec<u8>> = parsed
        .iter()
        .map(|v| serde_json::to_vec(v).unwrap_or_default())
        .collect();
    let raw_key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let start = Instant::now();
    let ok = match mode.as_str() {
        "parse" => docs
            .iter()
            .filter(|(_, b)| serde_json::from_slice::<serde_json::Value>(b).is_ok())
            .count(),
        "schema" => {
            let validator = schema_validator();
            docs.iter()
                .filter(|(_, b)| {
                    let v: serde_json::Value = serde_json::from_slice(b).expect("JSON");
                    validator.iter_errors(&v).count() == 0
                })
                .count()
        }
        "serialize" => {
            for v in &parsed {
                black_box(serde_json::to_vec(v).unwrap_or_default());
            }
            docs.len()
        }
        "hash" => {
            for b in &serialized {
                black_box(Sha256::digest(b));
            }
            docs.len()
        }
        "sign" => {
            for b in &serialized {
                black_box(raw_key.sign(b));
            }
            docs.len()
        }
        "pipeline" => {
            let mut map = SourceMap::new();
            let lib = ProfileLibrary::builtin(&mut map).expect("shipped profiles");
            let key = SigningKeyFile::from_seed(&[7; 32]);
            let next = std::sync::atomic::AtomicUsize::new(0);
            let signed = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|s| {
                for _ in 0..threads.max(1) {
                    s.spawn(|| {
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some((name, bytes)) = docs.get(i) else {
                                break;
                            };
                            if pipeline(&lib, &key, name, bytes) {
                                signed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                    });
                }
            });
            signed.into_inner()
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    };
    let secs = start.elapsed().as_secs_f64();
    if ok != docs.len() {
        eprintln!("{mode}: only {ok} of {} documents passed", docs.len());
    }
    println!(
        "{mode} {} {secs:.3} {:.1}",
        docs.len(),
        docs.len() as f64 / secs
    );
}
