//! Manifest loading, TOML and JSON: any bytes give a document or
//! diagnostics, never a panic, and a loaded document canonicalizes or
//! gives a canonicalization error.
#![no_main]

use blueprint::attest::canon;
use blueprint::manifest::document::{self, Limits};
use blueprint::source::SourceMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for name in ["fuzz.toml", "fuzz.json"] {
        let mut map = SourceMap::new();
        if let Ok(doc) = document::load(&mut map, name, data, &Limits::default()) {
            let _ = canon::canonicalize(&doc.value);
        }
    }
});
