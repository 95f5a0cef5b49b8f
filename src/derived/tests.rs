use super::*;
use serde_json::json;
use time::macros::date;

fn camera() -> Value {
    json!({
        "markets": ["DE", "FR", "CN", "US", "US-CA"],
        "device": { "placed_on_market": "2026-03-01", "deployment_contexts": ["home"] },
        "data_items": [
            { "id": "face", "category": "user.biometric.face", "identifiability": "identified",
              "subjects": ["customer"], "biometric_use": "identification",
              "processing_location": "cloud", "storage_regions": ["DE", "US"],
              "recipients": ["cloudco"], "markets": ["DE", "FR"],
              "cross_border": [ { "from_market": "EU", "to_country": "US", "recipient": "cloudco", "mechanism": "scc" } ] },
            { "id": "kid_audio", "category": "user.content.audio_recording", "identifiability": "pseudonymous",
              "subjects": ["child"], "child_age_min": 12, "processing_location": "device",
              "storage_regions": [], "recipients": [], "cross_border": [] },
            { "id": "temp", "category": "system.operations", "identifiability": "anonymous",
              "subjects": [], "processing_location": "device", "storage_regions": ["CN"],
              "recipients": [], "cross_border": [] }
        ],
        "recipients": [ { "id": "cloudco", "country": "US", "dpf_certified": false } ],
        "network_endpoints": [
            { "host": "api.example.com", "operator": "cloudco", "country": "US", "protocol": "https",
              "tls": { "enabled": true, "min_version": "1.1" }, "carries_items": ["face", "kid_audio"] }
        ],
        "sensors": [ { "id": "cam", "type": "camera", "produces": ["face"], "default_enabled": true } ],
        "security": { "support_period": { "end_date": "2030-01-01",
            "history": [ { "date": "2025-01-01", "end_date": "2031-01-01" } ] },
            "remote_access_channels": [] },
        "assessments": { "dpia": { "covers_items": ["face"] } }
    })
}

fn el<'a>(v: &'a DerivedView, ptr: &str) -> &'a Value {
    v.element(ptr).unwrap_or(&Value::Null)
}

fn view() -> DerivedView {
    let refs = RefData::builtin().expect("reference tables");
    derive(&camera(), &refs, date!(2026 - 11 - 26))
}

#[test]
fn deprecated_category_is_normalised_with_ancestors() {
    let v = view();
    let face = &el(&v, "/data_items/0");
    assert_eq!(face["category"], "user.biometrics.face");
    assert_eq!(face["deprecated_category"], true);
    assert_eq!(
        face["ancestors"],
        json!(["user", "user.biometrics", "user.biometrics.face"])
    );
    assert_eq!(normalize_category("user.biometrics.face"), None);
    assert_eq!(
        normalize_category("user.health_and_medical.genetic").as_deref(),
        Some("user.health.genetic")
    );
}

#[test]
fn sensitivity_follows_the_matrix() {
    let v = view();
    let face = &el(&v, "/data_items/0");
    assert_eq!(face["sens"]["gdpr9"], true);
    assert_eq!(face["sens"]["pipl28"], true);
    assert_eq!(face["sens"]["cpra"], true);
    // Audio without voiceprint or health inference: not GDPR/PIPL per se, but
    // PIPL through the child under 14; COPPA through child under 13 in the US.
    let kid = &el(&v, "/data_items/1");
    assert_eq!(kid["sens"]["gdpr9"], false);
    assert_eq!(kid["sens"]["pipl28"], true);
    assert_eq!(kid["sens"]["coppa"], true);
    assert_eq!(kid["child"]["below"]["13"], true);
    assert_eq!(kid["child"]["min_age"], 12);
    let temp = &el(&v, "/data_items/2");
    assert_eq!(temp["personal"], false);
}

#[test]
fn item_markets_default_to_manifest_markets() {
    let v = view();
    assert_eq!(el(&v, "/data_items/0")["markets"]["cn"], false);
    assert_eq!(el(&v, "/data_items/1")["markets"]["cn"], true);
    assert_eq!(v.global["mkt"]["EEA"], true);
    assert_eq!(v.global["mkt"]["US-FED"], false);
    // DE and FR only: highest Art. 8 age is 16.
    assert_eq!(el(&v, "/data_items/0")["child"]["gdpr_consent_age"], 16);
}

#[test]
fn flows_carry_mechanisms_and_locations() {
    let v = view();
    let flows = el(&v, "/data_items/0")["flows"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(flows.len(), 4); // DE, US storage; cloudco; endpoint
    assert_eq!(flows[1]["at"], "/data_items/0/storage_regions/1");
    // One flow, one mechanism: the SCCs signed with cloudco cover the flows
    // to cloudco (as recipient and as the endpoint's operator), not the
    // vendor's own US storage.
    assert_eq!(flows[1]["mech"]["gdpr"], json!([]));
    assert_eq!(flows[2]["mech"]["gdpr"], json!(["scc"]));
    assert_eq!(
        flows[2]["mech"]["entries"],
        json!(["/data_items/0/cross_border/0"])
    );
    assert_eq!(flows[3]["mech"]["gdpr"], json!(["scc"]));
    assert_eq!(flows[1]["outside"]["gdpr"], true);
    assert_eq!(flows[0]["outside"]["gdpr"], false);
    assert_eq!(flows[2]["recipient"]["mirror"], true);
    assert_eq!(flows[2]["recipient"]["at"], "/recipients/0");
}

#[test]
fn endpoint_recipient_sensor_joins() {
    let v = view();
    let e = &el(&v, "/network_endpoints/0");
    assert_eq!(e["carries"]["personal_eea"], true);
    assert_eq!(e["carries"]["coppa"], true);
    assert_eq!(
        e["operator"]["unlisted_on"],
        json!([{ "id": "kid_audio", "at": "/data_items/1/recipients" }])
    );
    assert_eq!(
        el(&v, "/recipients/0")["receives"]["items"],
        json!(["face", "kid_audio"])
    );
    assert_eq!(el(&v, "/sensors/0")["produces_facts"]["personal"], true);
    assert_eq!(el(&v, "/data_items/0")["covered_by"]["dpia"], true);
    let cb = &el(&v, "/data_items/0/cross_border/0");
    assert_eq!(cb["reached"], true);
    assert_eq!(cb["recipient"]["at"], "/recipients/0");
}

#[test]
fn global_sets_support_period_and_foreign() {
    let v = view();
    assert_eq!(
        v.global["sets"]["SENS_GDPR"],
        json!([{ "id": "face", "at": "/data_items/0" }])
    );
    assert_eq!(
        v.global["sets"]["PERSONAL"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        v.global["support_period"]["shortenings"][0]["at"],
        "/security/support_period/end_date"
    );
    assert_eq!(
        v.global["support_period"]["span"]["days_placing_to_end"],
        1402
    );
    assert_eq!(
        v.global["foreign"]["non_adequate"][0]["at"],
        "/recipients/0/country"
    );
    assert_eq!(v.global["as_of"], "2026-11-26");
    assert_eq!(
        v.global["markets_expanded"],
        json!(["DE", "FR", "CN", "US", "US-CA"])
    );
}

#[test]
fn normalize_manifest_rewrites_in_place() {
    let mut m = camera();
    normalize_manifest(&mut m);
    assert_eq!(m["data_items"][0]["category"], "user.biometrics.face");
}

#[test]
fn view_matches_its_schema() {
    let schema: Value = serde_json::from_str(include_str!("../../schemas/derived.v1.schema.json"))
        .expect("schema json");
    let mut prev = camera();
    prev["data_items"][0]["purposes"] = json!([]);
    let refs = RefData::builtin().expect("reference tables");
    let v = derive_with_previous(&camera(), Some(&prev), &refs, date!(2026 - 11 - 26));
    assert!(v.global["diff"].is_object());
    let root = json!({ "global": v.global });
    let val = jsonschema::validator_for(&schema).expect("schema compiles");
    let errs: Vec<String> = val
        .iter_errors(&root)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errs.is_empty(), "{errs:?}");
    let defs = |k: &str| json!({ "$ref": format!("urn:blueprint:derived:v1#/$defs/{k}") });
    let reg = jsonschema::Registry::new()
        .add("urn:blueprint:derived:v1", schema.clone())
        .expect("add")
        .prepare()
        .expect("prepare");
    let mut all: Vec<(String, &Value)> = v.elements.iter().map(|(k, f)| (k.clone(), f)).collect();
    for (list, prefix) in [
        ("items", "/data_items"),
        ("endpoints", "/network_endpoints"),
        ("recipients", "/recipients"),
        ("sensors", "/sensors"),
        ("remote_access_channels", "/security/remote_access_channels"),
    ] {
        for (i, f) in v.global[list].as_array().into_iter().flatten().enumerate() {
            all.push((format!("{prefix}/{i}"), f));
        }
    }
    assert!(all.len() > 5);
    for (ptr, facts) in all {
        let kind = if ptr.contains("/cross_border/") {
            "cross_border"
        } else if ptr.starts_with("/data_items") {
            "item"
        } else if ptr.starts_with("/network_endpoints") {
            "endpoint"
        } else if ptr.starts_with("/recipients") {
            "recipient"
        } else if ptr.starts_with("/sensors") {
            "sensor"
        } else {
            "remote_access_channel"
        };
        let val = jsonschema::options()
            .with_registry(&reg)
            .build(&defs(kind))
            .expect("build");
        let errs: Vec<String> = val
            .iter_errors(facts)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errs.is_empty(), "{ptr}: {errs:?}");
    }
}

#[test]
fn requested_facts_diff_timing_totals_and_flows() {
    let refs = RefData::builtin().expect("reference tables");
    let mut m = camera();
    m["data_items"][0]["purposes"] = json!(["essential.service", "marketing.advertising"]);
    m["data_items"][0]["necessary_for_core_function"] = json!(false);
    m["assessments"]["pipia"] = json!({ "date": "2026-04-01" });
    m["organization"] = json!({ "cn_export_individuals_ytd": 10 });
    let mut prev = m.clone();
    prev["data_items"][0]["purposes"] = json!(["essential.service"]);
    let v = derive_with_previous(&m, Some(&prev), &refs, date!(2026 - 11 - 26));
    let face = &el(&v, "/data_items/0");
    assert_eq!(
        face["diff"]["added_purposes"],
        json!(["marketing.advertising"])
    );
    assert_eq!(face["diff"]["changed_processing"], false);
    assert_eq!(face["sensors"][0]["only_optional"], true);
    assert_eq!(face["sensors"][0]["mirror"], true);
    // US storage for a DE/FR item is outside its markets; DE is not.
    assert_eq!(face["flows"][1]["outside"]["item_markets"], true);
    assert_eq!(face["flows"][0]["outside"]["item_markets"], false);
    assert_eq!(face["flows"][2]["mech"]["declared"], json!(["scc"]));
    assert_eq!(
        v.global["assessment_timing"]["pipia"]["before_placing"],
        false
    );
    assert_eq!(
        v.global["assessment_timing"]["dpia"]["before_placing"],
        Value::Null
    );
    // No CN cross-border entries: the declared 10 exceeds the sum 0.
    assert_eq!(
        v.global["cn_export"]["declared_totals"],
        json!([{ "at": "/organization/cn_export_individuals_ytd", "kind": "individuals", "in_range": false }])
    );
    assert_eq!(
        v.global["cross_border"][0]["at"],
        "/data_items/0/cross_border/0"
    );
    assert_eq!(v.global["cross_border"][0]["reached"], true);
    // Without a previous deposit there is no diff.
    let v = derive(&m, &refs, date!(2026 - 11 - 26));
    assert!(v.global.get("diff").is_none());
    assert!(el(&v, "/data_items/0").get("diff").is_none());
}

#[test]
fn support_end_earlier_than_previous_deposit_is_a_shortening() {
    let refs = RefData::builtin().expect("reference tables");
    let mut m = camera();
    m["security"]["support_period"] = json!({ "end_date": "2030-01-01" });
    let mut prev = m.clone();
    prev["security"]["support_period"]["end_date"] = json!("2031-06-30");
    let v = derive_with_previous(&m, Some(&prev), &refs, date!(2026 - 11 - 26));
    assert_eq!(
        v.global["support_period"]["shortenings"],
        json!([{ "at": "/security/support_period/end_date", "end": "2030-01-01", "previous_end": "2031-06-30" }])
    );
    // Extended since the previous deposit: no shortening.
    let v = derive_with_previous(&prev, Some(&m), &refs, date!(2026 - 11 - 26));
    assert_eq!(v.global["support_period"]["shortenings"], json!([]));
    // No previous deposit: only the history counts.
    let v = derive(&m, &refs, date!(2026 - 11 - 26));
    assert_eq!(v.global["support_period"]["shortenings"], json!([]));
}
