//! The validation pipeline as the library exposes it.

use blueprint::manifest::document::{self, Limits};
use blueprint::profile::{ProfileLibrary, Selection};
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_bytes};

/// Profiles evaluate the manifest in place; what signing later hashes must
/// still be the manifest exactly as written — deprecated category keys
/// included, element order unchanged.
#[test]
fn evaluation_leaves_the_manifest_exactly_as_loaded() {
    let text = std::fs::read_to_string(crate::util::repo_file("examples/home-camera.toml"))
        .unwrap()
        .replacen(
            "category = \"user.device.telemetry\"",
            "category = \"user.telemetry\"",
            1,
        );
    assert!(
        text.contains("\"user.telemetry\""),
        "the example has a telemetry item"
    );
    let mut map = SourceMap::new();
    let loaded = document::load(&mut map, "camera.toml", text.as_bytes(), &Limits::default())
        .unwrap()
        .value;
    let lib = ProfileLibrary::builtin(&mut map).unwrap();
    let options = ValidateOptions {
        schema_only: false,
        as_of: time::macros::date!(2026 - 11 - 26),
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    let report = validate_bytes(
        &mut map,
        Some(&lib),
        "camera.toml",
        text.as_bytes(),
        &options,
    );
    assert!(report.profiles.len() > 10, "{:?}", report.profiles);
    assert_eq!(report.document.unwrap().value, loaded);
}
