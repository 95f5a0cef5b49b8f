//! Deviation classes from pairs of manifests, evidence
//! matching, and the `diff`, `observe` and `mud` commands.

use crate::util::{blueprint, repo_file, text, write};
use blueprint::device::diff::evidence::{EvidenceInput, diff_evidence};
use blueprint::device::diff::manifest::diff_manifests;
use blueprint::device::diff::{Class, Deviation, EscalationRule, Verdict};
use blueprint::device::observe::Observation;
use serde_json::{Value, json};

fn base() -> Value {
    let bytes = std::fs::read(repo_file("tests/fixtures/diff/base.json")).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

enum Op<'a> {
    Set(&'a str, Value),
    Remove(&'a str),
    Push(&'a str, Value),
}

/// The base manifest with the operations applied (a pair: base → result).
fn changed(ops: &[Op]) -> Value {
    let mut v = base();
    for op in ops {
        match op {
            Op::Set(p, x) => {
                let (parent, key) = p.rsplit_once('/').unwrap();
                let target = v.pointer_mut(parent).unwrap_or_else(|| panic!("{parent}"));
                match target {
                    Value::Object(m) => {
                        m.insert(key.to_owned(), x.clone());
                    }
                    Value::Array(a) => a[key.parse::<usize>().unwrap()] = x.clone(),
                    _ => panic!("{p}"),
                }
            }
            Op::Remove(p) => {
                let (parent, key) = p.rsplit_once('/').unwrap();
                match v.pointer_mut(parent).unwrap() {
                    Value::Object(m) => {
                        m.remove(key).unwrap();
                    }
                    Value::Array(a) => {
                        a.remove(key.parse::<usize>().unwrap());
                    }
                    _ => panic!("{p}"),
                }
            }
            Op::Push(p, x) => v
                .pointer_mut(p)
                .unwrap()
                .as_array_mut()
                .unwrap()
                .push(x.clone()),
        }
    }
    v
}

fn diff(ops: &[Op]) -> Vec<Deviation> {
    diff_manifests(&base(), &changed(ops))
}

fn show(devs: &[Deviation]) -> String {
    devs.iter()
        .map(|d| format!("{} {} {:?} {}", d.class.code(), d.path, d.ids, d.rationale))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Asserts a deviation of `class` at `path` (exact pointer).
fn expect<'a>(devs: &'a [Deviation], class: Class, path: &str) -> &'a Deviation {
    devs.iter()
        .find(|d| d.class == class && d.path == path)
        .unwrap_or_else(|| panic!("no {class:?} at {path}; got:\n{}", show(devs)))
}

/// Asserts the change is minor only: the expected class, nothing forfeit-worthy.
fn expect_minor<'a>(devs: &'a [Deviation], class: Class, path: &str) -> &'a Deviation {
    assert!(
        devs.iter().all(|d| !d.forfeit_worthy),
        "unexpected forfeit-worthy deviation:\n{}",
        show(devs)
    );
    expect(devs, class, path)
}

fn endpoint(host: &str, items: &[&str]) -> Value {
    json!({ "host": host, "operator": "first_party", "country": "DE", "protocol": "https", "port": 443,
        "tls": { "enabled": true, "kind": "tls", "min_version": "1.2", "cert_validation": true, "pinning": false },
        "carries_items": items, "declared_in_notice": true })
}

#[test]
fn identical_and_reordered_manifests_have_no_deviation() {
    assert!(diff(&[]).is_empty());
    let mut r = base();
    r["network_endpoints"].as_array_mut().unwrap().reverse();
    r["data_items"].as_array_mut().unwrap().reverse();
    r["user_rights"]["request_channels"]
        .as_array_mut()
        .unwrap()
        .reverse();
    assert!(
        diff_manifests(&base(), &r).is_empty(),
        "{}",
        show(&diff_manifests(&base(), &r))
    );
    // Version and issue date are expected to move.
    assert!(
        diff(&[
            Op::Set("/blueprint/version", json!(2)),
            Op::Set("/blueprint/issued_at", json!("2026-06-01"))
        ])
        .is_empty()
    );
}

#[test]
fn p1_undeclared_personal_data() {
    let devs = diff(&[Op::Push(
        "/data_items",
        json!({"id": "audio", "category": "user.content.audio_recording", "identifiability": "identified"}),
    )]);
    let d = expect(&devs, Class::P1, "/data_items/4");
    assert_eq!(d.ids, vec!["audio"]);
    assert!(d.forfeit_worthy && d.before.is_none() && d.after.is_some());
    // An item declared on-device that now leaves the device.
    let mut on_device = base();
    on_device["data_items"][1]["processing_location"] = json!("device");
    let devs = diff_manifests(&on_device, &base());
    expect(&devs, Class::P1, "/data_items/1/processing_location");
}

#[test]
fn p2_undeclared_sensor_and_hidden_indicator() {
    let devs = diff(&[Op::Push(
        "/sensors",
        json!({"id": "mic", "type": "microphone", "documented": true, "produces": ["video"]}),
    )]);
    expect(&devs, Class::P2, "/sensors/1");
    let devs = diff(&[Op::Set("/sensors/0/indicator", json!("none"))]);
    expect(&devs, Class::P2, "/sensors/0/indicator");
}

#[test]
fn p3_undeclared_recipient() {
    let mut ep = endpoint("collect.adnet.example", &["device_id"]);
    ep["operator"] = json!("adnet");
    let devs = diff(&[Op::Push("/network_endpoints", ep)]);
    let d = expect(&devs, Class::P3, "/network_endpoints/6");
    assert_eq!(d.ids, vec!["collect.adnet.example"]);
    let devs = diff(&[Op::Push("/data_items/0/recipients", json!("adnet"))]);
    expect(&devs, Class::P3, "/data_items/0/recipients/1");
}

#[test]
fn p4_jurisdiction_shift() {
    let devs = diff(&[Op::Push("/data_items/0/storage_regions", json!("CN"))]);
    expect(&devs, Class::P4, "/data_items/0/storage_regions/1");
    let devs = diff(&[Op::Set("/recipients/0/country", json!("US"))]);
    expect(&devs, Class::P4, "/recipients/0/country");
    let devs = diff(&[Op::Set("/network_endpoints/0/country", json!("US"))]);
    expect(&devs, Class::P4, "/network_endpoints/0/country");
}

#[test]
fn p5_backdoors() {
    let devs = diff(&[Op::Push(
        "/security/accounts",
        json!({"id": "support", "kind": "support", "reachable_from": ["wan"], "credential": "fixed", "documented": true}),
    )]);
    expect(&devs, Class::P5, "/security/accounts/1");
    let devs = diff(&[Op::Set("/security/open_ports/0/exposure", json!("wan"))]);
    expect(&devs, Class::P5, "/security/open_ports/0/exposure");
    let devs = diff(&[Op::Push(
        "/security/remote_access_channels",
        json!({"id": "tunnel", "type": "support_tunnel", "operated_by": "vendor"}),
    )]);
    expect(&devs, Class::P5, "/security/remote_access_channels/0");
    let devs = diff(&[Op::Set(
        "/security/debug_interfaces/0/network_reachable",
        json!(true),
    )]);
    expect(
        &devs,
        Class::P5,
        "/security/debug_interfaces/0/network_reachable",
    );
}

#[test]
fn p6_confidentiality_downgrade() {
    let devs = diff(&[Op::Set("/network_endpoints/0/tls/enabled", json!(false))]);
    let d = expect(&devs, Class::P6, "/network_endpoints/0/tls/enabled");
    assert_eq!(d.ids, vec!["api.acme.example"]);
    assert_eq!(
        (d.before.clone(), d.after.clone()),
        (Some(json!(true)), Some(json!(false)))
    );
    let devs = diff(&[Op::Set(
        "/network_endpoints/0/tls/min_version",
        json!("1.0"),
    )]);
    expect(&devs, Class::P6, "/network_endpoints/0/tls/min_version");
    let devs = diff(&[Op::Set("/network_endpoints/0/protocol", json!("http"))]);
    expect(&devs, Class::P6, "/network_endpoints/0/protocol");
    let devs = diff(&[Op::Set("/data_items/0/encryption/at_rest", json!(false))]);
    expect(&devs, Class::P6, "/data_items/0/encryption/at_rest");
}

#[test]
fn p7_authentication_downgrade() {
    let devs = diff(&[Op::Set(
        "/security/authentication/password_scheme",
        json!("universal_default"),
    )]);
    expect(&devs, Class::P7, "/security/authentication/password_scheme");
    let devs = diff(&[Op::Set(
        "/security/authentication/unique_generation",
        json!("mac_derived"),
    )]);
    expect(
        &devs,
        Class::P7,
        "/security/authentication/unique_generation",
    );
    let devs = diff(&[Op::Set(
        "/security/authentication/brute_force_protection",
        json!(false),
    )]);
    expect(
        &devs,
        Class::P7,
        "/security/authentication/brute_force_protection",
    );
}

#[test]
fn p8_update_integrity_downgrade() {
    let devs = diff(&[Op::Set("/security/update/signed", json!(false))]);
    expect(&devs, Class::P8, "/security/update/signed");
    let devs = diff(&[Op::Set("/security/update/over_tls", json!(false))]);
    expect(&devs, Class::P8, "/security/update/over_tls");
}

#[test]
fn p9_purpose_and_basis_creep() {
    let devs = diff(&[Op::Push(
        "/data_items/0/purposes",
        json!("marketing.advertising.profiling"),
    )]);
    expect(&devs, Class::P9, "/data_items/0/purposes/1");
    let devs = diff(&[Op::Set("/data_items/0/consent/kind", json!("opt_out"))]);
    expect(&devs, Class::P9, "/data_items/0/consent/kind");
    let devs = diff(&[Op::Set("/data_items/0/used_for/targeted_ads", json!(true))]);
    expect(&devs, Class::P9, "/data_items/0/used_for/targeted_ads");
    let devs = diff(&[Op::Set(
        "/data_items/0/legal_basis/gdpr",
        json!("legitimate_interests"),
    )]);
    expect(&devs, Class::P9, "/data_items/0/legal_basis/gdpr");
}

#[test]
fn p10_rights_and_retention() {
    let devs = diff(&[Op::Set("/data_items/0/retention/period_days", Value::Null)]);
    expect(&devs, Class::P10, "/data_items/0/retention/period_days");
    let devs = diff(&[Op::Set("/data_items/0/retention/period_days", json!(90))]);
    expect(&devs, Class::P10, "/data_items/0/retention/period_days");
    let devs = diff(&[Op::Set("/user_rights/erasure/cloud", json!(false))]);
    expect(&devs, Class::P10, "/user_rights/erasure/cloud");
}

#[test]
fn p11_undisclosed_variant() {
    let devs = diff(&[Op::Push(
        "/device/firmware/variants",
        json!({"markets": ["CN"], "build_id": "cn-1", "digest": "sha256:33", "items": ["video"], "endpoints": ["api.acme.cn"]}),
    )]);
    expect(&devs, Class::P11, "/device/firmware/variants/1");
    let devs = diff(&[Op::Push(
        "/device/firmware/variants/0/items",
        json!("location"),
    )]);
    expect(&devs, Class::P11, "/device/firmware/variants/0/items/1");
    // A variant using only accepted items and endpoints is drift.
    let devs = diff(&[Op::Push(
        "/device/firmware/variants",
        json!({"markets": ["GB"], "build_id": "gb-1", "digest": "sha256:44", "items": ["video"], "endpoints": ["api.acme.example"]}),
    )]);
    expect_minor(&devs, Class::M4, "/device/firmware/variants/1");
}

#[test]
fn p12_false_lawfulness_attestation() {
    let devs = diff(&[Op::Set("/assessments/dpia/done", json!(false))]);
    expect(&devs, Class::P12, "/assessments/dpia/done");
    let devs = diff(&[Op::Set("/recipients/0/contract/scc", json!(false))]);
    expect(&devs, Class::P12, "/recipients/0/contract/scc");
}

#[test]
fn p13_commitment_reduction() {
    let devs = diff(&[Op::Set(
        "/security/support_period/end_date",
        json!("2028-12-31"),
    )]);
    expect(&devs, Class::P13, "/security/support_period/end_date");
    let devs = diff(&[Op::Remove("/security/vuln_disclosure/contact")]);
    expect(&devs, Class::P13, "/security/vuln_disclosure/contact");
    let devs = diff(&[Op::Set(
        "/incident_response/authority_hours/gdpr",
        json!(120),
    )]);
    expect(&devs, Class::P13, "/incident_response/authority_hours/gdpr");
}

#[test]
fn m1_protective_deviation() {
    let devs = diff(&[Op::Set("/data_items/0/retention/period_days", json!(7))]);
    expect_minor(&devs, Class::M1, "/data_items/0/retention/period_days");
    let devs = diff(&[Op::Remove("/network_endpoints/3")]);
    expect_minor(&devs, Class::M1, "/network_endpoints/3");
    let devs = diff(&[Op::Set("/data_items/0/consent/kind", json!("separate"))]);
    expect_minor(&devs, Class::M1, "/data_items/0/consent/kind");
    let devs = diff(&[Op::Set(
        "/network_endpoints/0/tls/min_version",
        json!("1.3"),
    )]);
    expect_minor(&devs, Class::M1, "/network_endpoints/0/tls/min_version");
}

#[test]
fn m2_endpoint_churn() {
    let devs = diff(&[Op::Push(
        "/network_endpoints",
        endpoint("ids2.acme.example", &["device_id"]),
    )]);
    let d = expect_minor(&devs, Class::M2, "/network_endpoints/6");
    assert!(d.escalation.is_none());
}

#[test]
fn m3_non_personal_telemetry() {
    let devs = diff(&[Op::Push(
        "/data_items",
        json!({"id": "uptime", "category": "system.operations", "identifiability": "anonymous"}),
    )]);
    expect_minor(&devs, Class::M3, "/data_items/4");
    let mut ep = endpoint("stats.acme.example", &["telemetry"]);
    ep["country"] = json!("US");
    let devs = diff(&[Op::Push("/network_endpoints", ep)]);
    expect_minor(&devs, Class::M3, "/network_endpoints/6");
}

#[test]
fn m4_documentation_drift() {
    let devs = diff(&[Op::Set(
        "/transparency/privacy_notice/url",
        json!("https://acme.example/privacy-v2"),
    )]);
    expect_minor(&devs, Class::M4, "/transparency/privacy_notice/url");
    let devs = diff(&[Op::Set("/device/firmware/version", json!("1.0.1"))]);
    expect_minor(&devs, Class::M4, "/device/firmware/version");
}

#[test]
fn m5_over_declaration_from_evidence() {
    let r = diff_evidence(
        &base(),
        "base.json",
        &[input(
            "t.json",
            obs(vec![flow(
                "198.51.100.1",
                443,
                &["api.acme.example"],
                &[],
                Some(true),
            )]),
        )],
    );
    let d = expect_minor(&r.deviations, Class::M5, "/network_endpoints/3");
    assert_eq!(d.ids, vec!["metrics.acme.example"]);
}

#[test]
fn m6_parameter_change() {
    let devs = diff(&[Op::Set("/data_items/2/retention/period_days", json!(45))]);
    let d = expect_minor(&devs, Class::M6, "/data_items/2/retention/period_days");
    assert_eq!(d.ids, vec!["device_id"]);
}

#[test]
fn m7_lan_only_service_change() {
    let devs = diff(&[Op::Set(
        "/security/open_ports/0/service",
        json!("local-api-v2"),
    )]);
    expect_minor(&devs, Class::M7, "/security/open_ports/0/service");
    let devs = diff(&[Op::Push(
        "/security/debug_interfaces",
        json!({"type": "jtag", "physically_accessible": true, "disabled_in_software": true, "network_reachable": false}),
    )]);
    expect_minor(&devs, Class::M7, "/security/debug_interfaces/1");
}

#[test]
fn m8_commitment_improvement() {
    let devs = diff(&[Op::Set(
        "/security/support_period/end_date",
        json!("2033-12-31"),
    )]);
    expect_minor(&devs, Class::M8, "/security/support_period/end_date");
    let devs = diff(&[Op::Set("/security/vuln_disclosure/ack_days", json!(3))]);
    expect_minor(&devs, Class::M8, "/security/vuln_disclosure/ack_days");
}

#[test]
fn m9_performance_lag_within_legal_limits() {
    let devs = diff(&[Op::Set("/user_rights/response_days", json!(28))]);
    expect_minor(&devs, Class::M9, "/user_rights/response_days");
    // Beyond the statutory 30 days it is a rights failure.
    let devs = diff(&[Op::Set("/user_rights/response_days", json!(45))]);
    expect(&devs, Class::P10, "/user_rights/response_days");
}

#[test]
fn e1_sensitive_data_escalates_minor_deviations() {
    // M2 churn on an endpoint carrying precise location (SENS_ANY) → P3.
    let devs = diff(&[Op::Push(
        "/network_endpoints",
        endpoint("geo2.acme.example", &["location"]),
    )]);
    let d = expect(&devs, Class::P3, "/network_endpoints/6");
    let e = d.escalation.as_ref().expect("escalated");
    assert_eq!((e.rule, e.from), (EscalationRule::E1, Class::M2));
    assert!(e.reason.contains("location"));
    // M6 retention change on a sensitive item → P10.
    let devs = diff(&[Op::Set("/data_items/1/retention/period_days", json!(45))]);
    let d = expect(&devs, Class::P10, "/data_items/1/retention/period_days");
    assert_eq!(
        d.escalation.as_ref().map(|e| (e.rule, e.from)),
        Some((EscalationRule::E1, Class::M6))
    );
    // Children's data escalates too.
    let with_child = diff_manifests(
        &changed(&[Op::Set("/data_items/2/subjects", json!(["child"]))]),
        &changed(&[
            Op::Set("/data_items/2/subjects", json!(["child"])),
            Op::Set("/data_items/2/retention/period_days", json!(45)),
        ]),
    );
    let d = expect(
        &with_child,
        Class::P10,
        "/data_items/2/retention/period_days",
    );
    assert_eq!(
        d.escalation.as_ref().map(|e| e.rule),
        Some(EscalationRule::E1)
    );
    // Protective changes never escalate.
    let devs = diff(&[Op::Set("/data_items/1/retention/period_days", json!(7))]);
    expect_minor(&devs, Class::M1, "/data_items/1/retention/period_days");
}

#[test]
fn e2_concealment_escalates_minor_deviations() {
    // An endpoint that would be churn (M2) but is hidden from the notice → P3.
    let mut hidden = endpoint("ids3.acme.example", &["device_id"]);
    hidden["declared_in_notice"] = json!(false);
    let devs = diff(&[Op::Push("/network_endpoints", hidden)]);
    let d = expect(&devs, Class::P3, "/network_endpoints/6");
    let e = d.escalation.as_ref().expect("escalated");
    assert_eq!((e.rule, e.from), (EscalationRule::E2, Class::M2));
    // A LAN service change (M7) on a port made undocumented → P5.
    let devs = diff(&[
        Op::Set("/security/open_ports/0/service", json!("debug-shell")),
        Op::Set("/security/open_ports/0/documented", json!(false)),
    ]);
    let d = expect(&devs, Class::P5, "/security/open_ports/0/service");
    assert_eq!(
        d.escalation.as_ref().map(|e| (e.rule, e.from)),
        Some((EscalationRule::E2, Class::M7))
    );
    expect(&devs, Class::P5, "/security/open_ports/0/documented");
}

#[test]
fn every_class_and_rule_is_covered_above() {
    // Guards this file: the tests above name each class and escalation rule.
    let me = include_str!("diff.rs");
    for c in Class::ALL {
        assert!(
            me.contains(&format!("fn {}_", c.code().to_lowercase())),
            "no test for {c:?}"
        );
    }
    assert!(me.contains("fn e1_") && me.contains("fn e2_"));
}

// ---------------------------------------------------------------------------
// Evidence

fn flow(ip: &str, port: u16, sni: &[&str], dns: &[&str], encrypted: Option<bool>) -> Value {
    json!({
        "remote_ip": ip, "port": port, "transport": "tcp", "device_is_server": false, "scope": "public",
        "dns_names": dns, "tls_sni": sni, "http_host": [], "protocol": if encrypted == Some(true) { Some("tls") } else { None },
        "encrypted": encrypted, "bytes_out": 100, "bytes_in": 200, "packets_out": 2, "packets_in": 2,
        "first_seen": "2026-02-01T10:00:00Z", "last_seen": "2026-02-01T10:00:05Z"
    })
}

fn obs(flows: Vec<Value>) -> Value {
    json!({
        "format": "blueprint-observation/v1",
        "source": {"file": "t.pcap", "kind": "pcap", "sha256": "00", "bytes": 1},
        "traffic": {
            "device": {"selector": "192.168.1.10", "ips": ["192.168.1.10"], "mac": null},
            "coverage": {"first_seen": "2026-02-01T10:00:00Z", "last_seen": "2026-02-01T10:10:00Z", "duration_s": 600.0,
                "link_types": ["ETHERNET"], "packets_total": 100, "packets_device": 90, "packets_clipped": 0,
                "packets_undecoded": 0, "packets_dropped": 0, "truncated": false, "partial": []},
            "flows": flows,
            "dns": []
        }
    })
}

fn input(name: &str, v: Value) -> EvidenceInput {
    EvidenceInput {
        name: name.into(),
        observation: Ok(serde_json::from_value::<Observation>(v).unwrap()),
    }
}

fn all_endpoints_seen() -> Vec<Value> {
    vec![
        flow("198.51.100.1", 443, &["api.acme.example"], &[], Some(true)),
        flow("198.51.100.2", 443, &[], &["geo.acme.example"], Some(true)),
        flow("198.51.100.3", 443, &["ids.acme.example"], &[], Some(true)),
        flow(
            "198.51.100.4",
            443,
            &["metrics.acme.example"],
            &[],
            Some(true),
        ),
        flow(
            "198.51.100.5",
            443,
            &["img.cdn.acme-media.example"],
            &[],
            Some(true),
        ),
        flow("203.0.113.9", 10001, &[], &[], None),
    ]
}

#[test]
fn evidence_that_matches_every_declared_endpoint() {
    let r = diff_evidence(
        &base(),
        "base.json",
        &[input("t.json", obs(all_endpoints_seen()))],
    );
    assert!(r.deviations.is_empty(), "{}", show(&r.deviations));
    assert_eq!(r.verdict, Verdict::Matches);
}

#[test]
fn evidence_classes() {
    let mut flows = all_endpoints_seen();
    flows.push(flow("192.0.2.99", 10001, &[], &[], None)); // bare IP, nothing explains it
    flows.push(flow(
        "198.51.100.9",
        443,
        &["collect.adnet.example"],
        &[],
        Some(true),
    ));
    flows.push(flow(
        "198.51.100.10",
        443,
        &["eu.acme.example"],
        &[],
        Some(true),
    )); // same domain
    let mut plain = flow("198.51.100.1", 80, &[], &[], Some(false));
    plain["http_host"] = json!(["api.acme.example"]);
    plain["protocol"] = json!("http");
    flows.push(plain);
    let r = diff_evidence(&base(), "base.json", &[input("t.json", obs(flows))]);
    let bare = expect(&r.deviations, Class::P3, "/network_endpoints");
    assert!(
        r.deviations
            .iter()
            .any(|d| d.class == Class::P3 && d.ids == vec!["192.0.2.99"])
    );
    assert!(
        r.deviations
            .iter()
            .any(|d| d.class == Class::P3 && d.ids == vec!["collect.adnet.example"])
    );
    assert_eq!(bare.evidence[0].kind, "flow");
    let p6 = expect(&r.deviations, Class::P6, "/network_endpoints/0");
    assert_eq!(p6.ids, vec!["api.acme.example"]);
    // Churn next to geo.acme.example, which carries precise location: E1.
    let churn = r
        .deviations
        .iter()
        .find(|d| d.ids.first().map(String::as_str) == Some("eu.acme.example"))
        .expect("churn");
    assert_eq!(churn.ids, vec!["eu.acme.example", "api.acme.example"]);
    assert_eq!(
        (churn.class, churn.escalation.as_ref().map(|e| e.from)),
        (Class::P3, Some(Class::M2))
    );
    // The plaintext flow also used an undeclared port: minor churn.
    let port = expect(&r.deviations, Class::M2, "/network_endpoints/0");
    assert_eq!(port.after, Some(json!(80)));
    assert_eq!(r.verdict, Verdict::ForfeitWorthy);
    // Forfeit-worthy deviations come first.
    assert!(r.deviations.first().unwrap().forfeit_worthy);
}

#[test]
fn evidence_sibling_of_sensitive_endpoint_escalates() {
    // The only endpoint under acme-geo.example carries precise location.
    let bp = changed(&[Op::Set(
        "/network_endpoints/1/host",
        json!("geo.acme-geo.example"),
    )]);
    let flows = vec![flow(
        "198.51.100.11",
        443,
        &["geo-eu.acme-geo.example"],
        &[],
        Some(true),
    )];
    let r = diff_evidence(&bp, "bp.json", &[input("t.json", obs(flows))]);
    let d = r
        .deviations
        .iter()
        .find(|d| d.ids.first().map(String::as_str) == Some("geo-eu.acme-geo.example"))
        .unwrap();
    assert_eq!(d.class, Class::P3);
    assert_eq!(
        d.escalation.as_ref().map(|e| (e.rule, e.from)),
        Some((EscalationRule::E1, Class::M2))
    );
    // The same churn next to a non-sensitive endpoint stays minor.
    let flows = vec![flow(
        "198.51.100.12",
        443,
        &["ids-eu.acme.example"],
        &[],
        Some(true),
    )];
    let r = diff_evidence(&bp, "bp.json", &[input("t.json", obs(flows))]);
    let d = r
        .deviations
        .iter()
        .find(|d| d.ids.first().map(String::as_str) == Some("ids-eu.acme.example"))
        .unwrap();
    assert_eq!(d.class, Class::M2);
}

#[test]
fn bare_ip_matches_only_through_dns_or_declared_ranges() {
    let flows = vec![
        flow("203.0.113.50", 10001, &[], &[], None), // inside the declared range
        flow("198.51.100.77", 443, &[], &["ids.acme.example"], Some(true)), // DNS in the capture
    ];
    let r = diff_evidence(&base(), "base.json", &[input("t.json", obs(flows))]);
    assert!(
        r.deviations.iter().all(|d| d.class == Class::M5),
        "{}",
        show(&r.deviations)
    );
}

#[test]
fn incomplete_evidence_is_never_a_match() {
    let mut o = obs(all_endpoints_seen());
    o["traffic"]["coverage"]["truncated"] = json!(true);
    let r = diff_evidence(&base(), "base.json", &[input("t.json", o)]);
    assert_eq!(r.verdict, Verdict::InsufficientEvidence);
    let r = diff_evidence(
        &base(),
        "base.json",
        &[EvidenceInput {
            name: "x.pcap".into(),
            observation: Err("not a capture".into()),
        }],
    );
    assert_eq!(r.verdict, Verdict::InsufficientEvidence);
    assert_eq!(r.insufficient_evidence[0].source, "x.pcap");
    let mut o = obs(vec![]);
    o["traffic"]["coverage"]["packets_device"] = json!(0);
    let r = diff_evidence(&base(), "base.json", &[input("t.json", o)]);
    assert_eq!(r.verdict, Verdict::InsufficientEvidence);
    let r = diff_evidence(&base(), "base.json", &[]);
    assert_eq!(r.verdict, Verdict::InsufficientEvidence);
}

fn sbom_obs(digests: &[&str], components: Value) -> Value {
    json!({
        "format": "blueprint-observation/v1",
        "source": {"file": "fw.cdx.json", "kind": "cyclonedx", "sha256": "00", "bytes": 1},
        "firmware": {"spec_version": "1.5", "name": "acme-cam-fw", "version": "1.0.0", "digests": digests, "components": components}
    })
}

#[test]
fn firmware_digest_and_components() {
    let declared = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    let r = diff_evidence(
        &base(),
        "base.json",
        &[input("fw", sbom_obs(&[declared], json!([])))],
    );
    assert_eq!(r.verdict, Verdict::Matches, "{}", show(&r.deviations));
    let r = diff_evidence(
        &base(),
        "base.json",
        &[input("fw", sbom_obs(&["sha256:9999"], json!([])))],
    );
    expect(&r.deviations, Class::P11, "/device/firmware");
    let r = diff_evidence(
        &base(),
        "base.json",
        &[input("fw", sbom_obs(&[], json!([])))],
    );
    assert_eq!(r.verdict, Verdict::InsufficientEvidence);
    let mut bp = base();
    bp["device"]["firmware"]["components"] =
        json!([{"name": "busybox", "version": "1.36.1"}, {"name": "openssl", "version": "3.0.13"}]);
    let comps = json!([{"name": "busybox", "version": "1.36.1", "purl": null, "hashes": []},
                       {"name": "dropbear", "version": "2022.83", "purl": null, "hashes": []}]);
    let r = diff_evidence(&bp, "bp.json", &[input("fw", sbom_obs(&[declared], comps))]);
    let d = expect(&r.deviations, Class::P11, "/device/firmware/components");
    assert_eq!(d.ids, vec!["dropbear"]);
    expect(&r.deviations, Class::M5, "/device/firmware/components/1");
}

// ---------------------------------------------------------------------------
// CLI

fn schema_validator(name: &str) -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_slice(&std::fs::read(repo_file(&format!("schemas/{name}"))).unwrap())
            .unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn cli_manifest_diff_json_follows_the_schema_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let new = changed(&[
        Op::Set("/network_endpoints/0/tls/enabled", json!(false)),
        Op::Set("/user_rights/response_days", json!(28)),
    ]);
    let newp = write(dir.path(), "new.json", serde_json::to_vec(&new).unwrap());
    let out = blueprint()
        .args([
            "diff",
            repo_file("tests/fixtures/diff/base.json").to_str().unwrap(),
            newp.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = schema_validator("deviations.v1.schema.json");
    let errors: Vec<String> = v.iter_errors(&report).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(report["verdict"], "forfeit-worthy");
    assert_eq!(report["deviations"][0]["class"], "P6");
    assert_eq!(report["deviations"][1]["class"], "M9");
}

#[test]
fn cli_diff_of_identical_manifests_exits_0_and_human_output_groups_classes() {
    let base = repo_file("tests/fixtures/diff/base.json");
    let out = blueprint()
        .args(["diff", base.to_str().unwrap(), base.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("matches the blueprint"));
    let dir = tempfile::tempdir().unwrap();
    let new = changed(&[
        Op::Set("/security/update/signed", json!(false)),
        Op::Set("/security/vuln_disclosure/ack_days", json!(3)),
    ]);
    let newp = write(dir.path(), "new.json", serde_json::to_vec(&new).unwrap());
    let out = blueprint()
        .args(["diff", base.to_str().unwrap(), newp.to_str().unwrap()])
        .output()
        .unwrap();
    let t = text(&out.stdout);
    let p8 = t
        .find("P8 Update-integrity downgrade [FORFEIT-WORTHY]")
        .expect(&t);
    let m8 = t.find("M8 Commitment improvement [minor]").expect(&t);
    assert!(p8 < m8);
}

#[test]
fn cli_sarif_output() {
    let dir = tempfile::tempdir().unwrap();
    let new = changed(&[Op::Set("/security/update/signed", json!(false))]);
    let newp = write(dir.path(), "new.json", serde_json::to_vec(&new).unwrap());
    let base = repo_file("tests/fixtures/diff/base.json");
    let out = blueprint()
        .args([
            "diff",
            base.to_str().unwrap(),
            newp.to_str().unwrap(),
            "--format",
            "sarif",
        ])
        .output()
        .unwrap();
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["version"], "2.1.0");
    assert_eq!(s["runs"][0]["results"][0]["ruleId"], "diff/P8");
    assert_eq!(s["runs"][0]["results"][0]["level"], "error");
}

#[test]
fn cli_evidence_diff_with_unreadable_evidence_is_insufficient() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(dir.path(), "bad.pcap", b"\xd4\xc3\xb2\xa1 truncated");
    let base = repo_file("tests/fixtures/diff/base.json");
    let out = blueprint()
        .args([
            "diff",
            base.to_str().unwrap(),
            "--evidence",
            bad.to_str().unwrap(),
            "--device",
            "192.168.1.10",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdict"], "insufficient-evidence");
    let obs_file = write(
        dir.path(),
        "obs.json",
        serde_json::to_vec(&obs(all_endpoints_seen())).unwrap(),
    );
    let out = blueprint()
        .args([
            "diff",
            base.to_str().unwrap(),
            "--evidence",
            obs_file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn cli_observe_rejects_hostile_capture_and_writes_valid_observations() {
    let dir = tempfile::tempdir().unwrap();
    // pcap header, snaplen 65535, Ethernet; one record claiming 4 GiB.
    let mut f = Vec::new();
    f.extend_from_slice(&[
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ]);
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    let p = write(dir.path(), "huge.pcap", &f);
    let out = blueprint()
        .args([
            "observe",
            "pcap",
            p.to_str().unwrap(),
            "--device",
            "10.0.0.1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("larger than"),
        "{}",
        text(&out.stderr)
    );
    // An empty but valid capture is no evidence about the device.
    let p = write(dir.path(), "empty.pcap", &f[..24]);
    let out = blueprint()
        .args([
            "observe",
            "pcap",
            p.to_str().unwrap(),
            "--device",
            "10.0.0.1",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("--list-hosts"));
    // A capture with the device's packets gives a schema-valid observation.
    let p = write(dir.path(), "one.pcap", crate::outputs::capture());
    let out = blueprint()
        .args([
            "observe",
            "pcap",
            p.to_str().unwrap(),
            "--device",
            "192.168.1.20",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let o: Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = schema_validator("observation.v1.schema.json");
    let errors: Vec<String> = v.iter_errors(&o).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(v.is_valid(&obs(all_endpoints_seen())));
    assert!(v.is_valid(&sbom_obs(&["sha256:00"], json!([]))));
}

#[test]
fn cli_observe_sbom() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "fw.cdx.json",
        r#"{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"name":"fw","version":"1","hashes":[{"alg":"SHA-256","content":"AA"}]}},"components":[]}"#,
    );
    let out = blueprint()
        .args(["observe", "sbom", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let o: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(o["firmware"]["digests"][0], "sha256:aa");
    let p = write(dir.path(), "bad.json", r#"{"bomFormat":"SPDX"}"#);
    let out = blueprint()
        .args(["observe", "sbom", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cli_mud_export() {
    let base = repo_file("tests/fixtures/diff/base.json");
    let out = blueprint()
        .args([
            "mud",
            base.to_str().unwrap(),
            "--mud-url",
            "https://acme.example/cam.json",
            // The diff fixture is a partial manifest: export it anyway.
            "--allow-errors",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        m["ietf-mud:mud"]["mud-url"],
        "https://acme.example/cam.json"
    );
    assert_eq!(m["ietf-mud:mud"]["last-update"], "2026-01-15T00:00:00Z");
    let acl = &m["ietf-access-control-list:acls"]["acl"][0];
    assert_eq!(acl["name"], "mud-acme-cam-v4fr");
    assert_eq!(
        acl["aces"]["ace"][0]["matches"]["ipv4"]["ietf-acldns:dst-dnsname"],
        "api.acme.example"
    );
    // The wildcard host cannot be expressed and is reported.
    assert!(text(&out.stderr).contains("wildcard"));
}

// ---------------------------------------------------------------------------
// Signed blueprints

/// Signs the bundled smart meter with a fixed key; returns (envelope, pubkey, manifest).
fn signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let key = blueprint::attest::keys::SigningKeyFile::from_seed(&[7; 32]);
    let private = dir.join("v.key");
    let public = dir.join("v.pub");
    std::fs::write(&private, key.to_pem().unwrap().as_bytes()).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&public, key.public().to_pem().unwrap()).unwrap();
    let manifest = repo_file("examples/smart-meter.toml");
    let env = dir.join("env.json");
    let o = blueprint()
        .arg("sign")
        .arg(&manifest)
        .arg("--key")
        .arg(&private)
        .arg("-o")
        .arg(&env)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    (env, public, manifest)
}

#[test]
fn cli_diff_verifies_a_signed_blueprint_first() {
    let dir = tempfile::tempdir().unwrap();
    let (env, public, manifest) = signed(dir.path());
    // The verified payload is the manifest: no deviation from itself.
    let out = blueprint()
        .arg("diff")
        .arg(&env)
        .arg(&manifest)
        .arg("--pubkey")
        .arg(&public)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("matches the blueprint"));
    // Without a key the envelope is not used.
    let out = blueprint()
        .arg("diff")
        .arg(&env)
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--pubkey"));
    // Another vendor's key: verification fails and the diff stops.
    let other = dir.path().join("other.pub");
    std::fs::write(
        &other,
        blueprint::attest::keys::SigningKeyFile::from_seed(&[8; 32])
            .public()
            .to_pem()
            .unwrap(),
    )
    .unwrap();
    let out = blueprint()
        .arg("diff")
        .arg(&env)
        .arg(&manifest)
        .arg("--pubkey")
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("does not verify"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    // A tampered payload never reaches the diff.
    let mut v: Value = serde_json::from_slice(&std::fs::read(&env).unwrap()).unwrap();
    let p = v["payload"].as_str().unwrap().to_owned();
    v["payload"] = json!(format!("{}{}", &p[..p.len() - 8], "AAAAAAAA"));
    let bad = write(dir.path(), "bad.json", serde_json::to_vec(&v).unwrap());
    let out = blueprint()
        .arg("diff")
        .arg(&bad)
        .arg(&manifest)
        .arg("--pubkey")
        .arg(&public)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}
