//! The registry's public explorer: the index and device pages of a registry
//! with the three example devices deposited (one bond forfeited by a
//! ruling), escaping of hostile manifests, unknown ids, and the static
//! export (`blueprint registry site`).

use crate::util::{blueprint, repo_file, text};
use blueprint::attest::dsse::Envelope;
use blueprint::attest::keys::SigningKeyFile;
use blueprint::attest::statement::{self, PAYLOAD_TYPE};
use blueprint::escrow::registry::Registry;
use blueprint::explore::site::{LinkStyle, STYLESHEET, Site, device_page, index_page, safe_name};
use blueprint::manifest::document::Limits;
use blueprint::profile::{ProfileLibrary, Selection};
use blueprint::source::SourceMap;
use blueprint::validate::{ValidateOptions, validate_for_signing};
use serde_json::Value;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const DAY: &str = "2026-12-03";
const NOW: &str = "2026-12-03T10:00:00Z";
const LATER: &str = "2026-12-03T11:00:00Z";
const RULING: &str = "2026-12-19T10:00:00Z";

fn day() -> time::Date {
    time::Date::parse(
        DAY,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap()
}

/// Replaces the first `from` after the line `anchor` (the file's own
/// `# finding:` comment), failing when the example changed under the test.
fn fix(text: &str, anchor: &str, from: &str, to: &str) -> String {
    let at = text
        .find(anchor)
        .unwrap_or_else(|| panic!("{anchor} not found"));
    let rel = text[at..]
        .find(from)
        .unwrap_or_else(|| panic!("{from} not found after {anchor}"));
    let mut out = text.to_owned();
    out.replace_range(at + rel..at + rel + from.len(), to);
    out
}

/// The home camera with its deliberate findings fixed as their comments say
/// (the same edits as `scripts/e2e-browser.sh`), so it can be signed.
fn fixed_camera() -> String {
    let t = fs::read_to_string(repo_file("examples/home-camera.toml")).unwrap();
    let t = fix(
        &t,
        "# finding: gdpr.transfer-mechanism",
        "storage_regions = [\"US\"]\n",
        "storage_regions = []\n",
    );
    let t = fix(
        &t,
        "# finding: pipl.xborder-notice-consent",
        "consent = { kind = \"opt_in\"",
        "consent = { kind = \"separate\"",
    );
    let t = fix(
        &t,
        "\n[security.support_period]\n",
        "\n[security.support_period]\n",
        "\n[security.support_period]\npublished_url = \"https://lumencam.example/support\"\n",
    );
    fix(
        &t,
        "# finding: ccpa.notice-at-collection",
        "spi_categories = false",
        "spi_categories = true",
    )
}

/// The kids' smartwatch with its deliberate findings fixed.
fn fixed_watch() -> String {
    let t = fs::read_to_string(repo_file("examples/kids-smartwatch.toml")).unwrap();
    let t = fix(
        &t,
        "# finding: coppa.retention-policy",
        "retention = { criteria",
        "retention = { period_days = 30, criteria",
    );
    fix(
        &t,
        "# finding: gdpr.child-consent and coppa.vpc",
        "parental = [], age_gate = false",
        "parental = [\"guardian\", \"parental_verifiable\"], age_gate = true",
    )
}

/// A key with a fixed seed, written as `dir/NAME.key` (0600) and `.pub`.
fn key(dir: &Path, name: &str, seed: u8) -> SigningKeyFile {
    let k = SigningKeyFile::from_seed(&[seed; 32]);
    let private = dir.join(format!("{name}.key"));
    fs::write(&private, k.to_pem().unwrap().as_bytes()).unwrap();
    fs::set_permissions(&private, fs::Permissions::from_mode(0o600)).unwrap();
    fs::write(
        dir.join(format!("{name}.pub")),
        k.public().to_pem().unwrap(),
    )
    .unwrap();
    k
}

/// Validates `text` as of [`DAY`] and signs it: `dir/NAME.dsse.json`.
fn sign(dir: &Path, name: &str, text: &str, key: &SigningKeyFile) -> PathBuf {
    let mut map = SourceMap::new();
    let library = ProfileLibrary::builtin(&mut map).unwrap();
    let options = ValidateOptions {
        schema_only: false,
        as_of: day(),
        limits: Limits::default(),
        selection: Selection::Auto,
    };
    let (report, validated) = validate_for_signing(
        &mut map,
        &library,
        &format!(
            "{name}.{}",
            if text.starts_with('{') {
                "json"
            } else {
                "toml"
            }
        ),
        text.as_bytes(),
        &options,
    );
    let v = validated.unwrap_or_else(|| panic!("{name} does not validate: {:?}", report.counts));
    let payload = statement::deposit_payload(v.value(), v.summary()).unwrap();
    let env = Envelope::sign(PAYLOAD_TYPE, &payload, key);
    let path = dir.join(format!("{name}.dsse.json"));
    fs::write(&path, env.to_json()).unwrap();
    path
}

fn run(args: &[&str], cwd: &Path) -> (i32, String, String) {
    let o = blueprint().args(args).current_dir(cwd).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        text(&o.stdout),
        text(&o.stderr),
    )
}

fn ok(args: &[&str], cwd: &Path) -> String {
    let (code, out, err) = run(args, cwd);
    assert_eq!(code, 0, "{args:?}: {out}{err}");
    out
}

struct Fixture {
    tmp: tempfile::TempDir,
}

impl Fixture {
    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    fn reg(&self) -> PathBuf {
        self.dir().join("reg")
    }

    fn open(&self) -> Registry {
        Registry::open(&self.reg()).unwrap()
    }
}

/// A registry with the smart meter (versions 2 and 3), the fixed camera and
/// the fixed smartwatch deposited, and a report on meter version 2 signed
/// by two labs and ruled on: that bond is forfeited, the others are held.
fn three_devices() -> Fixture {
    let f = Fixture {
        tmp: tempfile::tempdir().unwrap(),
    };
    let d = f.dir();
    let meter_key = key(d, "meter", 11);
    let camera_key = key(d, "camera", 12);
    let watch_key = key(d, "watch", 13);
    key(d, "lab-a", 21);
    key(d, "lab-b", 22);
    ok(
        &[
            "registry",
            "init",
            "reg",
            "--origin",
            "registry.example/escrow",
            "--quorum",
            "2",
            "--window",
            "14",
            "--now",
            NOW,
        ],
        d,
    );
    for lab in ["lab-a", "lab-b"] {
        let public = format!("{lab}.pub");
        ok(
            &[
                "registry", "member", "add", "reg", "--name", lab, "--role", "lab", "--pubkey",
                &public, "--now", NOW,
            ],
            d,
        );
    }
    let meter = fs::read_to_string(repo_file("examples/smart-meter.toml")).unwrap();
    let meter3 = fs::read_to_string(repo_file("examples/smart-meter-v3.toml")).unwrap();
    sign(d, "meter", &meter, &meter_key);
    sign(d, "camera", &fixed_camera(), &camera_key);
    sign(d, "watch", &fixed_watch(), &watch_key);
    sign(d, "meter-v3", &meter3, &meter_key);
    for (env, public, bond, currency) in [
        ("meter", Some("meter.pub"), "50000", "EUR"),
        ("camera", Some("camera.pub"), "120000", "USD"),
        ("watch", Some("watch.pub"), "80000", "GBP"),
        ("meter-v3", None, "50000", "EUR"),
    ] {
        let file = format!("{env}.dsse.json");
        let mut args = vec![
            "registry", "deposit", "reg", &file, "--bond", bond, currency, "--now", NOW,
        ];
        if let Some(p) = public {
            args.extend(["--pubkey", p]);
        }
        ok(&args, d);
    }
    let (code, _, err) = run(
        &[
            "diff",
            "meter.dsse.json",
            "meter-v3.dsse.json",
            "--pubkey",
            "meter.pub",
            "--format",
            "json",
            "-o",
            "deviations.json",
        ],
        d,
    );
    assert_eq!(code, 1, "the loosened meter deviates: {err}");
    let meter_path = repo_file("examples/smart-meter.toml");
    let digest = ok(&["hash", meter_path.to_str().unwrap()], d);
    let digest = digest.trim();
    let evidence = repo_file("examples/smart-meter-v3.toml");
    let report = ok(
        &[
            "registry",
            "report",
            "reg",
            "deviations.json",
            "--key",
            "lab-a.key",
            "--blueprint-digest",
            digest,
            "--evidence",
            evidence.to_str().unwrap(),
            "--now",
            LATER,
        ],
        d,
    );
    let report = report.lines().next().unwrap().to_owned();
    ok(
        &[
            "registry",
            "cosign",
            "reg",
            &report,
            "--key",
            "lab-b.key",
            "--now",
            LATER,
        ],
        d,
    );
    ok(&["registry", "rule", "reg", &report, "--now", RULING], d);
    f
}

/// `registry init reg` in `dir`, at [`NOW`].
fn init_registry(dir: &Path) {
    ok(
        &[
            "registry",
            "init",
            "reg",
            "--origin",
            "registry.example/escrow",
            "--now",
            NOW,
        ],
        dir,
    );
}

fn site() -> Site {
    Site::new().unwrap()
}

use crate::util::parse_xml as parse;

fn all_text(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

/// What a person relies on in every page's structure: a language, one h1,
/// headings that never skip a level going down, every table captioned,
/// every scrolling box labelled and reachable by keyboard.
fn assert_accessible(page: &str) {
    let doc = parse(page);
    let root = doc.root_element();
    assert_eq!(root.attribute("lang"), Some("en"));
    let levels: Vec<u8> = doc
        .descendants()
        .filter_map(|n| match n.tag_name().name() {
            "h1" => Some(1),
            "h2" => Some(2),
            "h3" => Some(3),
            "h4" => Some(4),
            _ => None,
        })
        .collect();
    assert_eq!(levels.iter().filter(|&&l| l == 1).count(), 1, "one h1");
    assert_eq!(levels.first(), Some(&1));
    for w in levels.windows(2) {
        assert!(w[1] <= w[0] + 1, "heading levels skip: {levels:?}");
    }
    for table in doc.descendants().filter(|n| n.has_tag_name("table")) {
        assert!(
            table.children().any(|c| c.has_tag_name("caption")),
            "a table without a caption"
        );
    }
    for div in doc
        .descendants()
        .filter(|n| n.attribute("class").is_some_and(|c| c.contains("scroll")))
    {
        assert!(div.attribute("aria-label").is_some() && div.attribute("tabindex") == Some("0"));
    }
}

/// Redacts what the log key makes differ from run to run (the registry's
/// key is fresh, and entry 0 records it): the checkpoint's root and note.
fn stable(page: &str) -> String {
    let root = regex_lite(
        page,
        "<dt>Root hash</dt><dd><code class=\"hash\">",
        "</code>",
    );
    let note = regex_lite(&root, "<pre class=\"note-text\">", "</pre>");
    regex_lite(&note, "<svg ", "</svg>")
}

/// Replaces the text between each `open` and the next `close` with `…`.
fn regex_lite(s: &str, open: &str, close: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(a) = rest.find(open) {
        out.push_str(&rest[..a + open.len()]);
        rest = &rest[a + open.len()..];
        let b = rest.find(close).unwrap_or(rest.len());
        out.push('…');
        rest = &rest[b..];
    }
    out.push_str(rest);
    out
}

#[test]
fn index_shows_every_device_its_bonds_the_checkpoint_and_the_ruling() {
    let f = three_devices();
    let mut reg = f.open();
    let site = site();
    let page = index_page(&mut reg, &site, LinkStyle::Server).unwrap();
    // The second rendering takes the device names from the site's cache.
    assert_eq!(
        index_page(&mut reg, &site, LinkStyle::Server).unwrap(),
        page
    );
    assert_accessible(&page);
    let doc = parse(&page);
    let body = all_text(doc.root_element());
    for device in [
        "Voltaris Metering GmbH EM5-G",
        "Lumen Home Technologies Ltd. HC-200",
        "Kidtrack B.V. K3",
    ] {
        assert!(body.contains(device), "{device} missing");
    }
    // Meter version 2 lost its bond to the ruling; every other bond is held.
    assert!(body.contains("v2: 50000 EUR forfeited"), "{body}");
    assert!(body.contains("v3: 50000 EUR held"));
    assert!(body.contains("120000 USD held") && body.contains("80000 GBP held"));
    assert!(body.contains("bond forfeited"), "the ruling is shown");
    // The checkpoint covers all ten entries.
    assert!(body.contains("10 entries"), "{body}");
    let links: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("href"))
        .collect();
    for href in [
        "/style.css",
        "/devices/voltaris-em5",
        "/devices/lumen-hc200",
        "/devices/kidtrack-k3",
        "/api/v1/checkpoint",
        "/api/v1/entries/6",
    ] {
        assert!(links.contains(&href), "{href} not linked: {links:?}");
    }
    insta::assert_snapshot!("site_index", stable(&page));
}

#[test]
fn device_pages_show_collection_map_profiles_and_history() {
    let f = three_devices();
    let mut reg = f.open();
    let site = site();
    let camera = device_page(&mut reg, &site, LinkStyle::Server, "lumen-hc200", day())
        .unwrap()
        .expect("the camera is deposited");
    assert_accessible(&camera);
    let doc = parse(&camera);
    let body = all_text(doc.root_element());
    assert!(body.contains("Lumen Home Technologies Ltd. HC-200"));
    assert!(body.contains("120000 USD held"));
    // The map is an image with a title, described by the same flows in words.
    let svg = doc
        .descendants()
        .find(|n| n.has_tag_name("svg"))
        .expect("the map");
    assert_eq!(svg.attribute("role"), Some("img"));
    assert_eq!(svg.attribute("aria-describedby"), Some("flow-words"));
    assert!(svg.children().any(|c| c.has_tag_name("title")));
    let drawn = all_text(svg);
    for shown in [
        "cam",
        "video_eu",
        "DE",
        "US",
        "CN",
        "European Economic Area",
        "Mainland China",
    ] {
        assert!(drawn.contains(shown), "{shown} not drawn");
    }
    let words = doc
        .descendants()
        .find(|n| n.attribute("id") == Some("flow-words"))
        .map(all_text)
        .unwrap();
    assert!(words.contains("cam → video_eu"), "{words}");
    assert!(words.contains("DE (European Economic Area)"), "{words}");
    assert!(words.contains("Mainland China: CN"), "{words}");
    // Validated again: it passes every profile that applies.
    assert!(
        body.contains("Validated again as of 2026-12-03: passes"),
        "{body}"
    );
    assert!(body.contains("eu-gdpr") && body.contains("cn-pipl"));
    let links: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("href"))
        .collect();
    assert!(links.contains(&"/api/v1/entries/4"), "{links:?}");
    assert!(links.contains(&"/api/v1/proofs/inclusion/4"), "{links:?}");
    assert!(links.contains(&"/"));

    let meter = device_page(&mut reg, &site, LinkStyle::Server, "voltaris-em5", day())
        .unwrap()
        .unwrap();
    assert_accessible(&meter);
    // Both versions, newest first, each with its entry, bond and reason.
    let v3 = meter.find("<th scope=\"row\">3</th>").unwrap();
    let v2 = meter.find("<th scope=\"row\">2</th>").unwrap();
    assert!(v3 < v2);
    assert!(meter.contains("forfeited by the ruling at entry 9"));
    insta::assert_snapshot!("site_device_meter", stable(&meter));

    let watch = device_page(&mut reg, &site, LinkStyle::Server, "kidtrack-k3", day())
        .unwrap()
        .unwrap();
    assert!(watch.contains("us-coppa"));
}

#[test]
fn an_unknown_id_has_no_page() {
    let f = three_devices();
    let mut reg = f.open();
    let site = site();
    for id in ["nope", "", "../voltaris-em5", "VOLTARIS-EM5"] {
        assert!(
            device_page(&mut reg, &site, LinkStyle::Server, id, day())
                .unwrap()
                .is_none(),
            "{id:?}"
        );
    }
}

#[test]
fn hostile_strings_from_a_manifest_are_escaped() {
    let f = Fixture {
        tmp: tempfile::tempdir().unwrap(),
    };
    let d = f.dir();
    let k = key(d, "vendor", 5);
    init_registry(d);
    let id = "<script>alert(1)</script>/../x y";
    let vendor = "Evil & Co <img src=x onerror=alert(1)>";
    let item = "\"><script>alert('item')</script>";
    let meter = fs::read_to_string(repo_file("examples/smart-meter.toml")).unwrap();
    let mut m: Value = {
        let mut map = SourceMap::new();
        blueprint::manifest::document::load(
            &mut map,
            "m.toml",
            meter.as_bytes(),
            &Limits::default(),
        )
        .unwrap()
        .value
    };
    m["blueprint"]["id"] = Value::from(id);
    m["vendor"]["legal_name"] = Value::from(vendor);
    m["data_items"][0]["name"] = Value::from(item);
    m["recipients"][0]["name"] = Value::from("</title><b>recipient</b>");
    let env = sign(d, "hostile", &serde_json::to_string(&m).unwrap(), &k);
    ok(
        &[
            "registry",
            "deposit",
            "reg",
            env.to_str().unwrap(),
            "--bond",
            "1",
            "EUR",
            "--pubkey",
            "vendor.pub",
            "--now",
            NOW,
        ],
        d,
    );
    let mut reg = f.open();
    let site = site();
    let index = index_page(&mut reg, &site, LinkStyle::Server).unwrap();
    let page = device_page(&mut reg, &site, LinkStyle::Server, id, day())
        .unwrap()
        .unwrap();
    for html in [&index, &page] {
        let lower = html.to_lowercase();
        assert!(!lower.contains("<script"), "unescaped script");
        assert!(!lower.contains("<img"), "unescaped img");
        assert!(!lower.contains("<b>"), "unescaped b");
        // Well-formed, and the text reads back as typed.
        let doc = parse(html);
        let text = all_text(doc.root_element());
        assert!(text.contains(id) && text.contains(vendor), "{text}");
    }
    assert!(all_text(parse(&page).root_element()).contains(item));
    // The id is one percent-encoded path segment.
    assert!(
        index.contains("href=\"/devices/%3Cscript%3Ealert%281%29%3C%2Fscript%3E%2F..%2Fx%20y\"")
    );
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            e.path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn static_export_writes_relative_pages_and_stays_inside_out() {
    let f = three_devices();
    let d = f.dir();
    let out = ok(
        &["registry", "site", "reg", "--out", "www", "--as-of", DAY],
        d,
    );
    assert!(out.contains("3 device pages"), "{out}");
    let www = d.join("www");
    assert_eq!(
        files_under(&www),
        [
            "devices/kidtrack-k3.html",
            "devices/lumen-hc200.html",
            "devices/voltaris-em5.html",
            "index.html",
            "style.css",
        ]
    );
    assert_eq!(
        fs::read_to_string(www.join("style.css")).unwrap(),
        STYLESHEET
    );
    // Every relative link resolves to an exported file, except the tiles'
    // checkpoint, which `registry tiles` writes next to them.
    for page in ["index.html", "devices/lumen-hc200.html"] {
        let html = fs::read_to_string(www.join(page)).unwrap();
        assert_accessible(&html);
        let doc = parse(&html);
        let base = www.join(page).parent().unwrap().to_owned();
        for href in doc.descendants().filter_map(|n| n.attribute("href")) {
            assert!(!href.starts_with('/') && !href.contains("://"), "{href}");
            if href.starts_with('#') || href.ends_with("checkpoint") {
                continue;
            }
            assert!(base.join(href).is_file(), "{page}: {href} does not resolve");
        }
    }
    ok(&["registry", "tiles", "reg", "--out", "www"], d);
    assert!(www.join("checkpoint").is_file());
    assert!(
        fs::read_to_string(www.join("index.html"))
            .unwrap()
            .contains("href=\"checkpoint\"")
    );

    // A `devices` that is a symbolic link is refused; nothing is written
    // through it.
    let elsewhere = d.join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let www2 = d.join("www2");
    fs::create_dir(&www2).unwrap();
    std::os::unix::fs::symlink(&elsewhere, www2.join("devices")).unwrap();
    let (code, _, err) = run(&["registry", "site", "reg", "--out", "www2"], d);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    // A symbolic link planted at a page's name is replaced, not followed.
    let target = d.join("target.html");
    fs::write(&target, "keep").unwrap();
    fs::remove_file(www.join("index.html")).unwrap();
    std::os::unix::fs::symlink(&target, www.join("index.html")).unwrap();
    ok(&["registry", "site", "reg", "--out", "www"], d);
    assert_eq!(fs::read_to_string(&target).unwrap(), "keep");
    assert!(
        !fs::symlink_metadata(www.join("index.html"))
            .unwrap()
            .is_symlink()
    );
    // Ids that are not plain file names get a hashed name.
    assert_eq!(safe_name("lumen-hc200"), "lumen-hc200");
    assert!(safe_name("../x").starts_with('_'));
}

#[test]
fn an_unreadable_registry_is_an_operational_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run(&["registry", "site", "missing", "--out", "www"], tmp.path());
    assert_eq!(code, 2, "{err}");
    assert!(!tmp.path().join("www").exists());
}

#[test]
fn a_registry_without_deposits_has_an_index_and_no_device_pages() {
    let tmp = tempfile::tempdir().unwrap();
    init_registry(tmp.path());
    let mut reg = Registry::open(&tmp.path().join("reg")).unwrap();
    let page = index_page(&mut reg, &site(), LinkStyle::Static).unwrap();
    assert_accessible(&page);
    let text = all_text(parse(&page).root_element());
    assert!(text.contains("0 devices deposited"), "{text}");
    assert!(text.contains("Nothing has been deposited yet."));
    assert!(text.contains("No deviation report has been filed."));
    assert!(text.contains("1 entry"), "{text}");
    let out = ok(&["registry", "site", "reg", "--out", "www"], tmp.path());
    assert!(out.contains("0 device pages"), "{out}");
    assert_eq!(
        files_under(&tmp.path().join("www")),
        ["index.html", "style.css"]
    );
}
