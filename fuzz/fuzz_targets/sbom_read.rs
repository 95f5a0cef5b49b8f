//! CycloneDX SBOM reading: an observation or an error, never a panic.
#![no_main]

use blueprint::device::observe::sbom;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sbom::observe(data, "fuzz.cdx.json");
});
