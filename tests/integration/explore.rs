//! The data-flow map (SVG) and `blueprint report` (self-contained HTML).

use crate::util::{blueprint, repo_file, text, write};
use blueprint::derived::RefData;
use blueprint::explore::flow::{FlowOptions, Layer, NodeKind, Zone, flow_map};
use blueprint::explore::report::{ReportInput, render};
use blueprint::manifest::document::{self, Limits};
use blueprint::profile::{ProfileLibrary, Selection};
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_bytes};
use serde_json::{Value, json};
use std::path::Path;

const EXAMPLES: [&str; 3] = ["smart-meter", "home-camera", "kids-smartwatch"];

fn load(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap();
    let mut map = SourceMap::new();
    document::load(
        &mut map,
        &path.display().to_string(),
        &bytes,
        &Limits::default(),
    )
    .unwrap()
    .value
}

fn refs() -> RefData {
    RefData::builtin().unwrap()
}

use crate::util::parse_xml as parse;

fn texts_of(doc: &roxmltree::Document<'_>, tag: &str) -> Vec<String> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .map(|n| {
            n.descendants()
                .filter(|d| d.is_text())
                .filter_map(|d| d.text())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
}

#[test]
fn smart_meter_flow_map_svg() {
    let m = load(&repo_file("examples/smart-meter.toml"));
    let map = flow_map(&m, &refs(), &FlowOptions::default());
    let svg = map.to_svg("Voltaris Metering GmbH EM5-G");
    let doc = parse(&svg);
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("role"), Some("img"));
    assert!(
        root.attribute("aria-label")
            .is_some_and(|l| l.contains("2 sensors, 6 data items")),
        "{:?}",
        root.attribute("aria-label")
    );
    assert_eq!(texts_of(&doc, "title").len(), 1 + map.nodes.len());
    // Every sensor, item, recipient and endpoint; DE in the EEA box.
    let labels = texts_of(&doc, "text").join("\n");
    for want in [
        "metrology",
        "cover_switch",
        "billing_register",
        "display_pin",
        "updates.voltaris.example",
        "DE",
        "European Economic Area",
    ] {
        assert!(labels.contains(want), "{want} missing from the map");
    }
    assert_eq!(map.countries().get(&Some(Zone::Eea)), Some(&vec!["DE"]));
    // Items that go nowhere are drawn apart.
    let local: Vec<&str> = map
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::LocalItem)
        .map(|n| n.label.as_str())
        .collect();
    assert_eq!(local, ["load_profile", "display_pin"]);
    // Deterministic.
    let again =
        flow_map(&m, &refs(), &FlowOptions::default()).to_svg("Voltaris Metering GmbH EM5-G");
    assert_eq!(svg, again);
    insta::assert_snapshot!(svg);
}

#[test]
fn camera_map_boxes_each_country_in_its_zone_and_marks_transfers() {
    let m = load(&repo_file("examples/home-camera.toml"));
    let map = flow_map(&m, &refs(), &FlowOptions::default());
    let countries = map.countries();
    assert_eq!(countries.get(&Some(Zone::Eea)), Some(&vec!["DE"]));
    assert_eq!(countries.get(&Some(Zone::Us)), Some(&vec!["US"]));
    assert_eq!(countries.get(&Some(Zone::MainlandChina)), Some(&vec!["CN"]));
    assert!(map.edges.iter().any(|e| e.cross_border));
    // Every link joins adjacent columns, left to right.
    for e in &map.edges {
        let (a, b) = (map.nodes[e.from].layer, map.nodes[e.to].layer);
        assert_eq!(a as usize + 1, b as usize, "{e:?}");
    }
    let svg = map.to_svg("camera");
    for zone in ["European Economic Area", "United States", "Mainland China"] {
        assert!(svg.contains(zone), "{zone}");
    }
}

#[test]
fn zones_come_from_the_reference_tables() {
    let r = refs();
    assert_eq!(Zone::of("DE", &r), Some(Zone::Eea));
    assert_eq!(Zone::of("NO", &r), Some(Zone::Eea), "EEA, not only EU");
    assert_eq!(Zone::of("GB", &r), Some(Zone::Uk));
    assert_eq!(Zone::of("US", &r), Some(Zone::Us));
    assert_eq!(Zone::of("CN", &r), Some(Zone::MainlandChina));
    assert_eq!(Zone::of("HK", &r), None, "Hong Kong is not mainland China");
    assert_eq!(Zone::of("CH", &r), None);
}

#[test]
fn report_for_each_example_shows_device_digest_countries_zones_and_findings() {
    let tmp = tempfile::tempdir().unwrap();
    for name in EXAMPLES {
        let manifest = repo_file(&format!("examples/{name}.toml"));
        let out = tmp.path().join(format!("{name}.html"));
        let run = blueprint()
            .arg("report")
            .arg(&manifest)
            .arg("-o")
            .arg(&out)
            .args(["--as-of", "2026-12-03"])
            .output()
            .unwrap();
        // Written even when validation finds errors (the camera has some).
        assert_eq!(run.status.code(), Some(0), "{name}: {}", text(&run.stderr));
        assert!(
            text(&run.stderr).starts_with("wrote "),
            "{}",
            text(&run.stderr)
        );
        let html = std::fs::read_to_string(&out).unwrap();
        assert!(!html.to_lowercase().contains("<script"), "{name}");
        assert!(
            !html.contains(" src=") && !html.contains("<link"),
            "{name}: loads nothing"
        );
        let doc = parse(&html);
        assert_eq!(doc.root_element().attribute("lang"), Some("en"));
        assert_eq!(texts_of(&doc, "h1").len(), 1);
        let h2 = texts_of(&doc, "h2");
        assert_eq!(
            h2,
            [
                "Device and digest",
                "Profiles and validation",
                "What it collects",
                "Data-flow map",
                "Where each data item goes",
                "Countries and protective zones"
            ],
            "{name}"
        );
        let page: String = doc
            .descendants()
            .filter(|n| n.is_text())
            .filter_map(|n| n.text())
            .collect();
        let m = load(&manifest);
        for ptr in ["/vendor/legal_name", "/device/model", "/blueprint/id"] {
            let v = m.pointer(ptr).and_then(Value::as_str).unwrap();
            assert!(page.contains(v), "{name}: {ptr} {v:?} missing");
        }
        let hash = blueprint().arg("hash").arg(&manifest).output().unwrap();
        assert!(page.contains(text(&hash.stdout).trim()), "{name}: digest");
        let r = refs();
        for key in ["recipients", "network_endpoints"] {
            for x in m[key].as_array().unwrap() {
                let cc = x["country"].as_str().unwrap();
                assert!(page.contains(cc), "{name}: country {cc}");
                if let Some(z) = Zone::of(cc, &r) {
                    assert!(page.contains(z.label()), "{name}: zone {}", z.label());
                }
            }
        }
        for item in m["data_items"].as_array().unwrap() {
            assert!(page.contains(item["id"].as_str().unwrap()));
            for p in item["purposes"].as_array().unwrap() {
                assert!(page.contains(p.as_str().unwrap()), "{name}: purpose");
            }
        }
    }
    let camera = std::fs::read_to_string(tmp.path().join("home-camera.html")).unwrap();
    for rule in [
        "gdpr.transfer-mechanism",
        "pipl.xborder-mechanism",
        "ccpa.notice-at-collection",
    ] {
        assert!(camera.contains(rule), "{rule}");
    }
    assert!(camera.contains("Does not pass"));
    assert!(camera.contains("GDPR Arts. 44-46"), "citations are shown");
    let meter = std::fs::read_to_string(tmp.path().join("smart-meter.html")).unwrap();
    assert!(meter.contains("Passes"));
}

#[test]
fn report_refuses_to_clobber_and_reports_unreadable_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = write(tmp.path(), "r.html", "keep me");
    let meter = repo_file("examples/smart-meter.toml");
    let run = blueprint()
        .arg("report")
        .arg(&meter)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(
        text(&run.stderr).contains("--force"),
        "{}",
        text(&run.stderr)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me");
    let run = blueprint()
        .arg("report")
        .arg(&meter)
        .arg("-o")
        .arg(&out)
        .arg("--force")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let missing = blueprint()
        .arg("report")
        .arg(tmp.path().join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let broken = write(tmp.path(), "broken.toml", "format = [\n");
    let run = blueprint().arg("report").arg(&broken).output().unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(run.stdout.is_empty());
}

/// Renders a manifest given as JSON through validation (schema stage only
/// when `schema_only`) into the report.
fn report_of(m: &Value, schema_only: bool) -> String {
    let bytes = serde_json::to_vec(m).unwrap();
    let mut map = SourceMap::new();
    let library = ProfileLibrary::builtin(&mut map).unwrap();
    let as_of = time::macros::date!(2026 - 12 - 03);
    let options = ValidateOptions {
        schema_only,
        as_of,
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    let report = validate_bytes(&mut map, Some(&library), "gen.json", &bytes, &options);
    let value = report.document.as_ref().unwrap().value.clone();
    render(
        &ReportInput {
            manifest: &value,
            source_name: "gen.json",
            digest: "sha256:0000",
            validation: &report,
            map: &map,
            library: &library,
            as_of,
        },
        &FlowOptions::default(),
    )
}

#[test]
fn user_strings_are_escaped_in_the_report_and_the_map() {
    let mut m = load(&repo_file("examples/smart-meter.toml"));
    let hostile = "<script>alert(\"x\")</script> & 'more'";
    m["data_items"][0]["name"] = json!(hostile);
    m["data_items"][0]["purposes"] = json!(["<script>alert(1)</script>"]);
    m["recipients"][0]["name"] = json!("Grid <img src=x onerror=alert(1)>");
    m["vendor"]["legal_name"] = json!("Evil & Co <b>");
    let html = report_of(&m, false);
    assert!(!html.to_lowercase().contains("<script"));
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // The text reads back as typed.
    let doc = parse(&html);
    let page: String = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    assert!(page.contains(hostile));
    assert!(page.contains("Evil & Co <b>"));
    // The bad purpose is a schema finding, shown in the report.
    assert!(
        page.contains("Schema and references"),
        "schema findings are listed"
    );
    assert!(page.contains("Does not pass the schema and reference checks"));
}

#[test]
fn ten_thousand_endpoints_render_in_bounded_size() {
    let mut m = load(&repo_file("examples/smart-meter.toml"));
    let countries = ["DE", "FR", "US", "CN", "GB", "JP", "BR", "NO"];
    let endpoints: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({
                "host": format!("n{i}.cdn.example"),
                "operator": "first_party",
                "country": countries[i % countries.len()],
                "purpose": "Content delivery",
                "protocol": "https",
                "port": 443,
                "carries_items": ["billing_register"],
                "declared_in_notice": true,
                "required_for_core_function": false,
                "tls": {"enabled": true, "kind": "tls", "min_version": "1.3", "cert_validation": true, "pinning": true}
            })
        })
        .collect();
    m["network_endpoints"] = Value::Array(endpoints);
    let map = flow_map(&m, &refs(), &FlowOptions::default());
    let receivers = &map.columns[Layer::Receiver as usize];
    assert_eq!(receivers.len(), 200);
    assert_eq!(map.declared[Layer::Receiver as usize], 10_002);
    assert!(
        map.nodes
            .iter()
            .any(|n| n.kind == NodeKind::More && n.label == "+9803 more")
    );
    // Both recipients stay drawn; folded endpoints still lead to their countries.
    assert_eq!(
        receivers
            .iter()
            .filter(|&&i| map.nodes[i].kind == NodeKind::Recipient)
            .count(),
        2
    );
    assert_eq!(map.countries().values().map(Vec::len).sum::<usize>(), 8);
    let svg = map.to_svg("big");
    assert!(svg.len() < 400_000, "SVG is {} bytes", svg.len());
    parse(&svg);
    let html = report_of(&m, true);
    assert!(html.len() < 1_000_000, "report is {} bytes", html.len());
    assert!(html.contains("and 9800 more"), "endpoint lists are bounded");
    parse(&html);
}
