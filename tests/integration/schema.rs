//! The manifest schema (`schemas/blueprint.v1.schema.json`) compiled with
//! `jsonschema` 0.61: every example validates with zero errors and zero
//! dangling references, and small invalid manifests fail with the expected
//! keyword at the expected place.

use blueprint::manifest::document::{self, Limits};
use blueprint::manifest::refs::check_references;
use blueprint::manifest::schema::{MANIFEST_SCHEMA, MANIFEST_SCHEMA_ID};
use blueprint::source::SourceMap;
use jsonschema::Validator;
use serde_json::{Value, json};
use std::path::Path;
use std::sync::OnceLock;

fn validator() -> &'static Validator {
    static V: OnceLock<Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(MANIFEST_SCHEMA).expect("schema is JSON");
        jsonschema::draft202012::options()
            .build(&schema)
            .expect("schema compiles")
    })
}

/// (keyword, instance path, schema path) of every error.
fn errors(instance: &Value) -> Vec<(String, String, String)> {
    validator()
        .iter_errors(instance)
        .map(|e| {
            (
                e.kind().keyword().to_string(),
                e.instance_path().to_string(),
                e.schema_path().to_string(),
            )
        })
        .collect()
}

fn load_example(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name);
    let bytes = std::fs::read(&path).expect("example readable");
    let mut map = SourceMap::new();
    match document::load(&mut map, name, &bytes, &Limits::default()) {
        Ok(doc) => doc.value,
        Err(d) => panic!("{name} does not load: {d:?}"),
    }
}

const EXAMPLES: [&str; 4] = [
    "home-camera.toml",
    "home-camera.json",
    "kids-smartwatch.toml",
    "smart-meter.toml",
];

#[test]
fn schema_has_the_documented_id() {
    let schema: Value = serde_json::from_str(MANIFEST_SCHEMA).unwrap();
    assert_eq!(schema["$id"], MANIFEST_SCHEMA_ID);
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
fn schema_is_valid_against_the_2020_12_meta_schema() {
    let schema: Value = serde_json::from_str(MANIFEST_SCHEMA).unwrap();
    assert!(jsonschema::draft202012::meta::is_valid(&schema));
}

#[test]
fn examples_validate_and_resolve() {
    for name in EXAMPLES {
        let v = load_example(name);
        assert_eq!(errors(&v), vec![], "{name}: schema errors");
        assert_eq!(check_references(&v), vec![], "{name}: reference problems");
    }
}

#[test]
fn examples_validate_with_format_assertions_on() {
    let schema: Value = serde_json::from_str(MANIFEST_SCHEMA).unwrap();
    let strict = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    for name in EXAMPLES {
        let v = load_example(name);
        let errs: Vec<String> = strict.iter_errors(&v).map(|e| e.to_string()).collect();
        assert_eq!(errs, Vec::<String>::new(), "{name}");
    }
}

#[test]
fn camera_toml_and_json_hold_the_same_data() {
    assert_eq!(
        load_example("home-camera.toml"),
        load_example("home-camera.json")
    );
}

/// The smallest manifest the schema accepts.
fn minimal() -> Value {
    json!({
        "format": "blueprint/v1",
        "blueprint": {"id": "min", "version": 1},
        "markets": ["DE"],
        "sensors": [],
        "data_items": [],
        "recipients": [],
        "network_endpoints": [],
        "security": {
            "authentication": {},
            "update": {},
            "support_period": {},
            "vuln_disclosure": {},
            "open_ports": [],
            "debug_interfaces": [],
            "remote_access_channels": [],
            "accounts": []
        },
        "user_rights": {},
        "transparency": {"privacy_notice": {}},
        "incident_response": {"authority_hours": {}}
    })
}

fn item() -> Value {
    json!({
        "id": "temp",
        "category": "user.device.sensor",
        "subjects": ["customer"],
        "identifiability": "pseudonymous",
        "source": "sensor",
        "source_sensor": "thermo",
        "purposes": ["essential.service"],
        "legal_basis": {"gdpr": "contract"},
        "consent": {"kind": "notice_only"},
        "retention": {"period_days": 30},
        "processing_location": "device",
        "storage_regions": [],
        "cross_border": [],
        "recipients": [],
        "encryption": {"at_rest": true}
    })
}

fn endpoint() -> Value {
    json!({
        "host": "api.example.com",
        "operator": "first_party",
        "country": "DE",
        "protocol": "https",
        "port": 443,
        "tls": {"enabled": true, "kind": "tls", "min_version": "1.3", "cert_validation": true},
        "carries_items": ["temp"]
    })
}

fn with_parts() -> Value {
    let mut m = minimal();
    m["sensors"] = json!([{"id": "thermo", "type": "temperature", "produces": ["temp"]}]);
    m["data_items"] = json!([item()]);
    m["network_endpoints"] = json!([endpoint()]);
    m
}

/// Applies `edit` to a valid manifest and returns its errors.
fn after(edit: impl FnOnce(&mut Value)) -> Vec<(String, String, String)> {
    let mut m = with_parts();
    edit(&mut m);
    errors(&m)
}

/// Asserts exactly one error, with `keyword` at `path`.
#[track_caller]
fn expect_one(errs: &[(String, String, String)], keyword: &str, path: &str) {
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].0, keyword, "{errs:#?}");
    assert_eq!(errs[0].1, path, "{errs:#?}");
}

#[test]
fn minimal_manifests_are_valid() {
    assert_eq!(errors(&minimal()), vec![]);
    assert_eq!(errors(&with_parts()), vec![]);
    assert_eq!(check_references(&with_parts()), vec![]);
}

#[test]
fn unknown_keys_are_errors() {
    expect_one(
        &after(|m| m["colour"] = json!("red")),
        "additionalProperties",
        "",
    );
    expect_one(
        &after(|m| m["data_items"][0]["retension"] = json!({})),
        "additionalProperties",
        "/data_items/0",
    );
    expect_one(
        &after(|m| m["network_endpoints"][0]["tls"]["pinned"] = json!(true)),
        "additionalProperties",
        "/network_endpoints/0/tls",
    );
    expect_one(
        &after(|m| m["security"]["update"]["sigend"] = json!(true)),
        "additionalProperties",
        "/security/update",
    );
}

#[test]
fn wrong_types() {
    expect_one(
        &after(|m| m["blueprint"]["version"] = json!("3")),
        "type",
        "/blueprint/version",
    );
    expect_one(
        &after(|m| m["blueprint"]["version"] = json!(1.5)),
        "type",
        "/blueprint/version",
    );
    expect_one(
        &after(|m| m["data_items"][0]["encryption"]["at_rest"] = json!("yes")),
        "type",
        "/data_items/0/encryption/at_rest",
    );
    expect_one(&after(|m| m["markets"] = json!("DE")), "type", "/markets");
}

#[test]
fn missing_required_fields() {
    expect_one(
        &after(|m| drop(m.as_object_mut().unwrap().remove("markets"))),
        "required",
        "",
    );
    expect_one(
        &after(|m| {
            drop(
                m["data_items"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("purposes"),
            )
        }),
        "required",
        "/data_items/0",
    );
    expect_one(
        &after(|m| drop(m["security"].as_object_mut().unwrap().remove("accounts"))),
        "required",
        "/security",
    );
    expect_one(
        &after(|m| {
            drop(
                m["network_endpoints"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("carries_items"),
            )
        }),
        "required",
        "/network_endpoints/0",
    );
    expect_one(
        &after(|m| drop(m["sensors"][0].as_object_mut().unwrap().remove("produces"))),
        "required",
        "/sensors/0",
    );
    expect_one(
        &after(|m| m["transparency"] = json!({})),
        "required",
        "/transparency",
    );
}

#[test]
fn bad_enum_values() {
    expect_one(
        &after(|m| m["data_items"][0]["category"] = json!("user.biometric_data")),
        "enum",
        "/data_items/0/category",
    );
    expect_one(
        &after(|m| m["markets"] = json!(["UK"])),
        "enum",
        "/markets/0",
    );
    expect_one(
        &after(|m| m["data_items"][0]["consent"]["kind"] = json!("implied")),
        "enum",
        "/data_items/0/consent/kind",
    );
    expect_one(
        &after(|m| m["network_endpoints"][0]["tls"]["min_version"] = json!("1.4")),
        "enum",
        "/network_endpoints/0/tls/min_version",
    );
    expect_one(
        &after(|m| m["data_items"][0]["purposes"] = json!(["essential.servce"])),
        "enum",
        "/data_items/0/purposes/0",
    );
}

#[test]
fn vocabularies_accept_what_the_catalog_lists() {
    for cat in [
        "user.biometric",               // deprecated, rewritten by the engine
        "user.location.imprecise",      // deprecated
        "user.health.symptons",         // upstream spelling
        "user.behavior.energy_usage",   // IoT extension
        "user.children.under_fourteen", // IoT extension
        "user.neural",                  // IoT extension
        "system.operations",
    ] {
        let errs = after(|m| m["data_items"][0]["category"] = json!(cat));
        assert_eq!(errs, vec![], "{cat}");
    }
    for markets in [
        json!(["EU", "EEA", "US-CA", "US-FED", "GB", "US-TX", "HK"]),
        json!(["US", "US-PR", "JP", "BR"]),
    ] {
        assert_eq!(
            after(|m| m["markets"] = markets.clone()),
            vec![],
            "{markets}"
        );
    }
    assert_eq!(
        after(|m| m["data_items"][0]["purposes"] =
            json!(["functional.service.improve", "train_ai_system"])),
        vec![]
    );
}

#[test]
fn collect_purpose_passes_the_schema_so_the_profiles_report_it() {
    // The catch-all `collect` is a purpose-limitation finding of the profiles
    // (EQ-PURPOSE); a schema error would hide every other finding.
    assert_eq!(
        after(|m| m["data_items"][0]["purposes"] = json!(["collect"])),
        vec![]
    );
}

#[test]
fn patterns() {
    expect_one(
        &after(|m| m["device"] = json!({"firmware": {"digest": "sha256:ABC"}})),
        "pattern",
        "/device/firmware/digest",
    );
    expect_one(
        &after(|m| m["blueprint"]["issued_at"] = json!("1 March 2026")),
        "pattern",
        "/blueprint/issued_at",
    );
    expect_one(
        &after(|m| m["data_items"][0]["id"] = json!("has space")),
        "pattern",
        "/data_items/0/id",
    );
}

#[test]
fn minimum_and_maximum() {
    expect_one(
        &after(|m| m["blueprint"]["version"] = json!(0)),
        "minimum",
        "/blueprint/version",
    );
    expect_one(
        &after(|m| m["network_endpoints"][0]["port"] = json!(70000)),
        "maximum",
        "/network_endpoints/0/port",
    );
    expect_one(
        &after(|m| m["cn"] = json!({"mlps": {"level": 6}})),
        "maximum",
        "/cn/mlps/level",
    );
}

#[test]
fn format_is_a_const() {
    expect_one(
        &after(|m| m["format"] = json!("blueprint/v2")),
        "const",
        "/format",
    );
}

#[test]
fn cn_market_requires_mlps() {
    let errs = after(|m| m["markets"] = json!(["DE", "CN"]));
    expect_one(&errs, "required", "");
    assert!(errs[0].2.contains("/then/"), "{errs:#?}");
    let errs = after(|m| {
        m["markets"] = json!(["CN"]);
        m["cn"] = json!({"foreign_request_policy": true});
    });
    expect_one(&errs, "required", "/cn");
    assert_eq!(
        after(|m| {
            m["markets"] = json!(["CN"]);
            m["cn"] = json!({"mlps": {"level": 2}});
        }),
        vec![]
    );
    // HK is not mainland China.
    assert_eq!(after(|m| m["markets"] = json!(["HK"])), vec![]);
}

#[test]
fn protocol_and_tls_agree() {
    // https needs TLS.
    let errs = after(|m| m["network_endpoints"][0]["tls"] = json!({"enabled": false}));
    assert!(!errs.is_empty());
    assert!(
        errs.iter()
            .all(|e| e.1.starts_with("/network_endpoints/0/tls")),
        "{errs:#?}"
    );
    expect_one(
        &after(|m| m["network_endpoints"][0]["tls"]["kind"] = json!("dtls")),
        "const",
        "/network_endpoints/0/tls/kind",
    );
    // Cleartext protocols must not claim TLS.
    expect_one(
        &after(|m| m["network_endpoints"][0]["protocol"] = json!("http")),
        "const",
        "/network_endpoints/0/tls/enabled",
    );
    assert_eq!(
        after(|m| {
            m["network_endpoints"][0]["protocol"] = json!("mqtt");
            m["network_endpoints"][0]["tls"] = json!({"enabled": false});
        }),
        vec![]
    );
    // coaps is DTLS.
    assert_eq!(
        after(|m| {
            m["network_endpoints"][0]["protocol"] = json!("coaps");
            m["network_endpoints"][0]["tls"]["kind"] = json!("dtls");
        }),
        vec![]
    );
    // coap is protected only by OSCORE, which has no TLS version.
    expect_one(
        &after(|m| m["network_endpoints"][0]["protocol"] = json!("coap")),
        "const",
        "/network_endpoints/0/tls/kind",
    );
    assert_eq!(
        after(|m| {
            m["network_endpoints"][0]["protocol"] = json!("coap");
            m["network_endpoints"][0]["tls"] =
                json!({"enabled": true, "kind": "oscore", "cert_validation": true});
        }),
        vec![]
    );
    expect_one(
        &after(|m| {
            m["network_endpoints"][0]["protocol"] = json!("coap");
            m["network_endpoints"][0]["tls"] =
                json!({"enabled": true, "kind": "oscore", "min_version": "1.2"});
        }),
        "type",
        "/network_endpoints/0/tls/min_version",
    );
    // An enabled channel names its kind.
    expect_one(
        &after(|m| {
            m["network_endpoints"][0]["protocol"] = json!("custom");
            m["network_endpoints"][0]["tls"] = json!({"enabled": true});
        }),
        "required",
        "/network_endpoints/0/tls",
    );
}

#[test]
fn source_sensor_iff_source_is_sensor() {
    expect_one(
        &after(|m| {
            drop(
                m["data_items"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("source_sensor"),
            )
        }),
        "required",
        "/data_items/0",
    );
    expect_one(
        &after(|m| m["data_items"][0]["source"] = json!("user_input")),
        "type",
        "/data_items/0/source_sensor",
    );
    assert_eq!(
        after(|m| {
            m["data_items"][0]["source"] = json!("user_input");
            m["data_items"][0]["source_sensor"] = json!(null);
        }),
        vec![]
    );
}

#[test]
fn source_supplier_iff_source_is_third_party() {
    let supplier = json!({"name": "WeatherCo", "country": "US", "basis_documented": true});
    let errs = after(|m| {
        m["data_items"][0]["source"] = json!("third_party");
        m["data_items"][0]["source_sensor"] = json!(null);
    });
    expect_one(&errs, "required", "/data_items/0");
    assert_eq!(
        after(|m| {
            m["data_items"][0]["source"] = json!("third_party");
            m["data_items"][0]["source_sensor"] = json!(null);
            m["data_items"][0]["source_supplier"] = supplier.clone();
        }),
        vec![]
    );
    expect_one(
        &after(|m| m["data_items"][0]["source_supplier"] = supplier.clone()),
        "type",
        "/data_items/0/source_supplier",
    );
}

#[test]
fn first_party_is_reserved_as_a_recipient_id() {
    expect_one(
        &after(|m| m["recipients"] = json!([{"id": "first_party"}])),
        "not",
        "/recipients/0/id",
    );
}

#[test]
fn produces_needs_an_item() {
    expect_one(
        &after(|m| m["sensors"][0]["produces"] = json!([])),
        "minItems",
        "/sensors/0/produces",
    );
}

#[test]
fn every_property_has_a_description() {
    fn walk(v: &Value, path: &str, missing: &mut Vec<String>) {
        match v {
            Value::Object(o) => {
                if let Some(Value::Object(props)) = o.get("properties") {
                    let conditional = ["/if", "/then", "/else", "/allOf", "/not"]
                        .iter()
                        .any(|k| path.contains(k));
                    for (k, p) in props {
                        if !conditional && p.get("description").is_none() {
                            missing.push(format!("{path}/properties/{k}"));
                        }
                    }
                }
                for (k, c) in o {
                    walk(c, &format!("{path}/{k}"), missing);
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    walk(c, &format!("{path}/{i}"), missing);
                }
            }
            _ => {}
        }
    }
    let schema: Value = serde_json::from_str(MANIFEST_SCHEMA).unwrap();
    let mut missing = vec![];
    walk(&schema, "", &mut missing);
    assert_eq!(missing, Vec::<String>::new());
}

/// The fields `blueprint diff` reads beyond the original manifest fields: endpoint address
/// ranges and firmware components.
#[test]
fn endpoint_addresses_and_firmware_components() {
    let ok = after(|m| {
        m["network_endpoints"][0]["addresses"] = json!(["192.0.2.0/24", "2001:db8::1"]);
        m["device"]["firmware"]["components"] = json!([
            {"name": "busybox", "version": "1.36.1", "hashes": ["sha256:00ff"]},
            {"name": "openssl", "digest": format!("sha256:{}", "ab".repeat(32))}
        ]);
    });
    assert_eq!(ok, vec![]);
    let bad = after(|m| m["network_endpoints"][0]["addresses"] = json!(["not an address"]));
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].0, "pattern");
    let bad = after(|m| m["device"]["firmware"]["components"] = json!([{"version": "1"}]));
    assert_eq!(bad[0].0, "required");
}
