//! RFC 8785 round trip: for any JSON the canonicalizer accepts,
//! canon(parse(canon(x))) == canon(x).
#![no_main]

use blueprint::attest::canon;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(first) = canon::canonicalize(&value) else {
        return;
    };
    let reparsed: Value = serde_json::from_slice(&first).expect("canonical output is JSON");
    let second = canon::canonicalize(&reparsed).expect("canonical output canonicalizes");
    assert_eq!(first, second, "canonical form is not a fixed point");
});
