use super::*;
use serde_json::json;

/// A small manifest whose references all resolve.
fn base() -> Value {
    json!({
        "markets": ["EU", "US", "CN"],
        "sensors": [
            {"id": "cam", "produces": ["video"]},
            {"id": "mic", "produces": ["audio"]}
        ],
        "data_items": [
            {"id": "video", "source": "sensor", "source_sensor": "cam",
             "recipients": ["cloudco"], "markets": ["DE", "US-CA"],
             "cross_border": [{"from_market": "CN", "to_country": "US", "recipient": "cloudco"}]},
            {"id": "audio", "source": "sensor", "source_sensor": "mic",
             "recipients": [], "cross_border": [{"recipient": null}],
             "child_age_min": 4, "child_age_max": 12}
        ],
        "recipients": [{"id": "cloudco"}],
        "network_endpoints": [
            {"host": "api.example.com", "operator": "first_party", "carries_items": ["video"]},
            {"host": "relay.cloudco.example", "operator": "cloudco", "carries_items": ["audio"]}
        ],
        "security": {
            "accounts": [{"id": "owner"}],
            "remote_access_channels": [{"id": "support-tunnel"}]
        },
        "device": {"firmware": {"variants": [
            {"items": ["video"], "endpoints": ["api.example.com"]}
        ]}},
        "assessments": {
            "dpia": {"covers_items": ["video", "audio"]},
            "pipia": {"covers_items": ["video"]},
            "ccpa_risk_assessment": {"covers_items": []}
        },
        "transparency": {"data_exposure_disclosure": {"covers": [
            "video", "support-tunnel", "relay.cloudco.example", "vendor_staff_access"
        ]}}
    })
}

fn problems_after(edit: impl FnOnce(&mut Value)) -> Vec<RefProblem> {
    let mut m = base();
    edit(&mut m);
    check_references(&m)
}

fn only(problems: &[RefProblem]) -> &RefProblem {
    assert_eq!(problems.len(), 1, "{problems:#?}");
    &problems[0]
}

#[test]
fn valid_manifest_is_silent() {
    assert_eq!(check_references(&base()), vec![]);
}

#[test]
fn non_manifest_values_are_silent() {
    for v in [
        json!(null),
        json!([]),
        json!("x"),
        json!({"data_items": 3}),
        json!({"sensors": [1, {"produces": 2}]}),
    ] {
        assert_eq!(check_references(&v), vec![]);
    }
}

#[test]
fn dangling_produces() {
    let p = problems_after(|m| m["sensors"][1]["produces"] = json!(["audio", "audoi"]));
    let p = only(&p);
    assert_eq!(p.pointer, "/sensors/1/produces/1");
    assert_eq!(p.code, codes::DANGLING);
    assert!(p.message.contains("\"audoi\""), "{}", p.message);
    assert_eq!(p.hint, "did you mean \"audio\"?");
}

#[test]
fn dangling_carries_items() {
    let p = problems_after(|m| m["network_endpoints"][1]["carries_items"] = json!(["gps"]));
    let p = only(&p);
    assert_eq!(p.pointer, "/network_endpoints/1/carries_items/0");
    assert_eq!(p.code, codes::DANGLING);
    assert!(p.hint.contains("data_items"), "{}", p.hint);
}

#[test]
fn dangling_item_recipient() {
    let p = problems_after(|m| m["data_items"][1]["recipients"] = json!(["adco"]));
    assert_eq!(only(&p).pointer, "/data_items/1/recipients/0");
}

#[test]
fn dangling_operator_and_first_party() {
    let p = problems_after(|m| m["network_endpoints"][0]["operator"] = json!("first-party"));
    let p = only(&p);
    assert_eq!(p.pointer, "/network_endpoints/0/operator");
    assert_eq!(p.code, codes::DANGLING);
    assert_eq!(p.hint, "did you mean \"first_party\"?");
    // A recipient id is an operator too.
    assert_eq!(
        problems_after(|m| m["network_endpoints"][0]["operator"] = json!("cloudco")),
        vec![]
    );
}

#[test]
fn dangling_cross_border_recipient() {
    let p =
        problems_after(|m| m["data_items"][0]["cross_border"][0]["recipient"] = json!("nobody"));
    assert_eq!(only(&p).pointer, "/data_items/0/cross_border/0/recipient");
}

#[test]
fn dangling_source_sensor() {
    let p = problems_after(|m| m["data_items"][0]["source_sensor"] = json!("lens"));
    let p = only(&p);
    assert_eq!(p.pointer, "/data_items/0/source_sensor");
    assert_eq!(p.code, codes::DANGLING);
}

#[test]
fn source_sensor_must_produce_the_item() {
    let p = problems_after(|m| m["data_items"][0]["source_sensor"] = json!("mic"));
    let p = only(&p);
    assert_eq!(p.pointer, "/data_items/0/source_sensor");
    assert_eq!(p.code, codes::SENSOR_NOT_PRODUCING);
    assert!(p.hint.contains("/sensors/1"), "{}", p.hint);
    // Silent once the sensor lists it.
    assert_eq!(
        problems_after(|m| {
            m["data_items"][0]["source_sensor"] = json!("mic");
            m["sensors"][1]["produces"] = json!(["audio", "video"]);
        }),
        vec![]
    );
}

#[test]
fn dangling_variant_items_and_endpoints() {
    let p = problems_after(|m| {
        m["device"]["firmware"]["variants"][0] =
            json!({"items": ["vid"], "endpoints": ["api.example.org"]});
    });
    assert_eq!(p.len(), 2, "{p:#?}");
    assert_eq!(p[0].pointer, "/device/firmware/variants/0/items/0");
    assert_eq!(p[1].pointer, "/device/firmware/variants/0/endpoints/0");
    assert!(p[1].message.contains("endpoint host"), "{}", p[1].message);
}

#[test]
fn dangling_assessment_covers_items() {
    for name in ["dpia", "pipia", "ccpa_risk_assessment"] {
        let p = problems_after(|m| m["assessments"][name]["covers_items"] = json!(["ghost"]));
        assert_eq!(
            only(&p).pointer,
            format!("/assessments/{name}/covers_items/0")
        );
    }
}

#[test]
fn disclosure_covers_resolution_order() {
    // Each of the four kinds resolves (the base manifest has one of each).
    assert_eq!(check_references(&base()), vec![]);
    let p = problems_after(|m| {
        m["transparency"]["data_exposure_disclosure"]["covers"] =
            json!(["vendor_staff_acess", "owner"]);
    });
    // An account id is not a covers target.
    assert_eq!(p.len(), 2, "{p:#?}");
    assert_eq!(
        p[0].pointer,
        "/transparency/data_exposure_disclosure/covers/0"
    );
    assert_eq!(p[0].hint, "did you mean \"vendor_staff_access\"?");
    assert_eq!(
        p[1].pointer,
        "/transparency/data_exposure_disclosure/covers/1"
    );
    assert_eq!(p[1].code, codes::DANGLING);
}

#[test]
fn duplicate_ids_in_each_array() {
    let cases = [
        ("/data_items", "data item"),
        ("/sensors", "sensor"),
        ("/recipients", "recipient"),
        ("/security/accounts", "account"),
        ("/security/remote_access_channels", "remote-access channel"),
    ];
    for (ptr, kind) in cases {
        let mut m = base();
        let arr = m.pointer_mut(ptr).and_then(Value::as_array_mut).unwrap();
        let first = arr[0].clone();
        arr.push(first);
        let n = arr.len() - 1;
        let p = check_references(&m);
        let dup: Vec<_> = p.iter().filter(|p| p.code == codes::DUPLICATE_ID).collect();
        assert_eq!(dup.len(), 1, "{ptr}: {p:#?}");
        assert_eq!(dup[0].pointer, format!("{ptr}/{n}/id"));
        assert!(dup[0].message.starts_with(kind), "{}", dup[0].message);
        assert!(
            dup[0].message.ends_with(&format!("{ptr}/0")),
            "{}",
            dup[0].message
        );
    }
}

#[test]
fn shared_endpoint_host_is_not_a_duplicate() {
    let p = problems_after(|m| {
        let e = m["network_endpoints"][0].clone();
        m["network_endpoints"].as_array_mut().unwrap().push(e);
    });
    assert_eq!(p, vec![]);
}

#[test]
fn item_market_outside_device_markets() {
    let p = problems_after(|m| m["data_items"][0]["markets"] = json!(["DE", "JP", "NO"]));
    assert_eq!(p.len(), 2, "{p:#?}");
    assert_eq!(p[0].pointer, "/data_items/0/markets/1");
    assert_eq!(p[0].code, codes::ITEM_MARKET_OUTSIDE);
    // NO is EEA but not EU.
    assert_eq!(p[1].pointer, "/data_items/0/markets/2");
}

#[test]
fn market_expansion() {
    assert!(market_within("DE", &["EU"]));
    assert!(market_within("EU", &["EEA"]));
    assert!(market_within("NO", &["EEA"]));
    assert!(!market_within("NO", &["EU"]));
    assert!(!market_within("EEA", &["EU"]));
    assert!(market_within("EU", &EU27));
    assert!(!market_within("EU", &["DE", "FR"]));
    assert!(market_within("US-CA", &["US"]));
    assert!(market_within("US-FED", &["US"]));
    assert!(!market_within("US", &["US-CA"]));
    assert!(!market_within("US-TX", &["US-CA"]));
    assert!(market_within("US-CA", &["US-CA"]));
    assert!(!market_within("HK", &["CN"]));
    assert!(market_within("GB", &["GB", "EU"]));
    assert!(!market_within("GB", &["EU"]));
    assert_eq!(expand_market("EEA").len(), 30);
}

#[test]
fn child_age_order() {
    let p = problems_after(|m| {
        m["data_items"][1]["child_age_min"] = json!(13);
        m["data_items"][1]["child_age_max"] = json!(8);
    });
    let p = only(&p);
    assert_eq!(p.pointer, "/data_items/1/child_age_min");
    assert_eq!(p.code, codes::CHILD_AGE_ORDER);
    // Equal ages and a missing bound are fine.
    assert_eq!(
        problems_after(|m| m["data_items"][1]["child_age_max"] = json!(4)),
        vec![]
    );
    assert_eq!(
        problems_after(|m| m["data_items"][1]["child_age_max"] = json!(null)),
        vec![]
    );
}

#[test]
fn suggestions_are_bounded() {
    // Many dangling references: every one is reported, suggestions stop
    // after the budget, and the work stays linear.
    let mut m = base();
    let mut refs: Vec<Value> = vec![json!("video")];
    refs.extend((0..5000).map(|i| json!(format!("missing-{i}"))));
    m["sensors"][0]["produces"] = Value::Array(refs);
    let p = check_references(&m);
    assert_eq!(p.len(), 5000);
    assert!(p.iter().all(|p| p.code == codes::DANGLING));
    assert!(
        p[4999].hint.starts_with("declare it in `data_items`"),
        "{}",
        p[4999].hint
    );
}

#[test]
fn codes_are_namespaced_and_distinct() {
    let set: HashSet<_> = codes::ALL.iter().collect();
    assert_eq!(set.len(), codes::ALL.len());
    assert!(codes::ALL.iter().all(|c| c.starts_with("ref/")));
}

#[test]
fn edit_distance_basics() {
    assert_eq!(edit_distance("kitten", "sitting"), 3);
    assert_eq!(edit_distance("", "abc"), 3);
    assert_eq!(edit_distance("same", "same"), 0);
    assert_eq!(edit_distance("audio", "audoi"), 1);
    assert_eq!(edit_distance("ca", "abc"), 3);
}

#[test]
fn problem_becomes_a_diagnostic_at_the_reference() {
    use crate::manifest::document::{Limits, load};
    use crate::source::SourceMap;
    let text = "[[sensors]]\nid = \"cam\"\nproduces = [\"video\", \"vidoe\"]\n\n[[data_items]]\nid = \"video\"\n";
    let mut map = SourceMap::new();
    let doc = load(&mut map, "m.toml", text.as_bytes(), &Limits::default()).unwrap();
    let problems = check_references(&doc.value);
    let p = only(&problems);
    let d = p.to_diagnostic(&doc);
    assert_eq!(d.code, codes::DANGLING);
    assert_eq!(d.pointer.as_deref(), Some("/sensors/0/produces/1"));
    let label = d.primary().unwrap();
    assert_eq!(&text[label.span.clone()], "\"vidoe\"");
    assert_eq!(d.notes, vec!["help: did you mean \"video\"?".to_string()]);
}

#[test]
fn an_id_repeated_many_times_is_one_finding_naming_where() {
    let mut m = base();
    let sensors = m["sensors"].as_array().unwrap().clone();
    m["sensors"] = Value::Array((0..1000).flat_map(|_| sensors.clone()).collect());
    let dup: Vec<_> = check_references(&m)
        .into_iter()
        .filter(|p| p.code == codes::DUPLICATE_ID)
        .collect();
    assert_eq!(dup.len(), 2, "{dup:#?}");
    assert_eq!(dup[0].pointer, "/sensors/2/id");
    assert_eq!(
        dup[0].message,
        "sensor id \"cam\" is declared 1000 times: at /sensors/0, /sensors/2, /sensors/4, \
         /sensors/6, /sensors/8 and 995 more"
    );
    assert_eq!(dup[1].pointer, "/sensors/3/id");
}

#[test]
fn messages_quote_a_long_id_as_an_excerpt() {
    let long = "x".repeat(10_000);
    let p = problems_after(|m| m["data_items"][0]["recipients"] = json!([long.clone()]));
    let p = only(&p);
    assert!(p.message.len() < 200, "{}", p.message);
    assert!(
        p.message.contains(&format!("{}…", "x".repeat(64))),
        "{}",
        p.message
    );
}
