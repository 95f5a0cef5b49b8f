//! Manifest diff: `diff(a, a)` is empty, and any pair of documents gives
//! deviations, never a panic. The input is two JSON documents separated by
//! a NUL byte.
#![no_main]

use blueprint::device::diff::manifest::diff_manifests;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(2, |b| *b == 0);
    let (Some(a), b) = (parts.next(), parts.next()) else {
        return;
    };
    let Ok(a) = serde_json::from_slice::<Value>(a) else {
        return;
    };
    let same = diff_manifests(&a, &a);
    assert!(same.is_empty(), "a manifest differs from itself: {same:?}");
    if let Some(Ok(b)) = b.map(serde_json::from_slice::<Value>) {
        let _ = diff_manifests(&a, &b);
        let _ = diff_manifests(&b, &a);
    }
});
