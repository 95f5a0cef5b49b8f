//! Profile loading: any text gives a profile or diagnostics, never a panic.
#![no_main]

use blueprint::profile::ProfileLibrary;
use blueprint::source::SourceMap;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut map = SourceMap::new();
    let Ok(mut lib) = ProfileLibrary::empty(&mut map) else {
        return;
    };
    let _ = lib.add_file(&mut map, "fuzz.toml", text);
});
