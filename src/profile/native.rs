//! The `native` escape hatch (docs/engine.md): a handful of registered
//! Rust checks for rules whose schema encoding would be unmaintainable. Each
//! returns located findings `(manifest pointer, message)`.

use crate::derived::RefData;
use serde_json::Value;

/// Registered native checks.
pub const NATIVES: &[&str] = &["single_build", "security_claims"];

/// Runs native check `name` over the evaluation document `doc`.
pub(crate) fn run(name: &str, doc: &Value, refs: &RefData) -> Vec<(String, String)> {
    let m = &doc["manifest"];
    match name {
        "single_build" => single_build(m, refs),
        "security_claims" => security_claims(m),
        _ => Vec::new(),
    }
}

fn arr(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

fn strs(v: &Value) -> Vec<&str> {
    arr(v).iter().filter_map(Value::as_str).collect()
}

fn b(v: &Value, p: &str) -> bool {
    v.pointer(p).and_then(Value::as_bool).unwrap_or(false)
}

/// rb.single-build-disclosed: every firmware variant uses only items and
/// endpoints declared for its markets, and variants that differ say how.
fn single_build(m: &Value, refs: &RefData) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let variants = arr(&m["device"]["firmware"]["variants"]);
    let manifest_markets = strs(&m["markets"]);
    let expand = |ms: &[&str]| -> Vec<String> {
        let mut o = Vec::new();
        for x in ms {
            match *x {
                "EU" => o.extend(refs.eu_states().iter().cloned()),
                "EEA" => o.extend(refs.eea_states().iter().cloned()),
                "US" => {
                    o.push("US".into());
                    o.push("US-CA".into());
                    o.push("US-FED".into());
                }
                y => o.push(y.to_string()),
            }
        }
        o
    };
    for (vi, v) in variants.iter().enumerate() {
        let vm = expand(&strs(&v["markets"]));
        for (k, id) in strs(&v["items"]).iter().enumerate() {
            let at = format!("/device/firmware/variants/{vi}/items/{k}");
            match arr(&m["data_items"])
                .iter()
                .find(|i| i["id"].as_str() == Some(id))
            {
                None => out.push((
                    at,
                    format!("variant uses item `{id}`, which the blueprint does not declare"),
                )),
                Some(it) => {
                    let im = if it.get("markets").is_some() {
                        strs(&it["markets"])
                    } else {
                        manifest_markets.clone()
                    };
                    let im = expand(&im);
                    if !vm.iter().any(|x| im.contains(x)) {
                        out.push((at, format!("variant uses item `{id}`, which is not declared for the variant's markets")));
                    }
                }
            }
        }
        for (k, host) in strs(&v["endpoints"]).iter().enumerate() {
            if !arr(&m["network_endpoints"])
                .iter()
                .any(|e| e["host"].as_str() == Some(host))
            {
                out.push((
                    format!("/device/firmware/variants/{vi}/endpoints/{k}"),
                    format!("variant contacts `{host}`, which the blueprint does not declare"),
                ));
            }
        }
    }
    // Variants that differ in items or endpoints must describe the difference.
    fn key(v: &Value) -> (Vec<&str>, Vec<&str>) {
        let mut i = strs(&v["items"]);
        i.sort_unstable();
        let mut e = strs(&v["endpoints"]);
        e.sort_unstable();
        (i, e)
    }
    if let Some(first) = variants.first() {
        let k0 = key(first);
        for (vi, v) in variants.iter().enumerate().skip(1) {
            let undisclosed = v["differences"]
                .as_str()
                .is_none_or(|s| s.trim().is_empty());
            if key(v) != k0 && undisclosed {
                out.push((
                    format!("/device/firmware/variants/{vi}/differences"),
                    "this variant's items or endpoints differ from the first variant, but `differences` does not say how".into(),
                ));
            }
        }
    }
    out
}

/// EQ-TRANSIT on one endpoint.
fn transit_ok(e: &Value) -> bool {
    let t = &e["tls"];
    b(t, "/enabled")
        && b(t, "/cert_validation")
        && (t["kind"].as_str() == Some("oscore")
            || matches!(t["min_version"].as_str(), Some("1.2" | "1.3")))
}

fn personal(it: &Value) -> bool {
    let c = it["category"].as_str().unwrap_or("");
    (c == "user" || c.starts_with("user.")) && it["identifiability"].as_str() != Some("anonymous")
}

/// ftc.security-claims-substantiated: each marketing claim against what the
/// manifest must show.
fn security_claims(m: &Value) -> Vec<(String, String)> {
    let items = arr(&m["data_items"]);
    let endpoints = arr(&m["network_endpoints"]);
    let carries_personal = |e: &Value| {
        strs(&e["carries_items"]).iter().any(|id| {
            items
                .iter()
                .any(|i| i["id"].as_str() == Some(id) && personal(i))
        })
    };
    let transit_all = endpoints
        .iter()
        .filter(|e| carries_personal(e))
        .all(transit_ok);
    let cloud = |i: &Value| matches!(i["processing_location"].as_str(), Some("cloud" | "both"));
    let at_rest_all = items
        .iter()
        .filter(|i| personal(i) && cloud(i))
        .all(|i| b(i, "/encryption/at_rest"));
    let sec = &m["security"];
    let baseline = matches!(
        sec.pointer("/authentication/password_scheme")
            .and_then(Value::as_str),
        Some("unique_per_device" | "user_set_on_first_use")
    ) && !b(sec, "/credentials/hardcoded_secrets")
        && transit_all
        && b(sec, "/update/supported")
        && arr(&sec["open_ports"])
            .iter()
            .filter(|p| p["exposure"].as_str() == Some("wan"))
            .all(|p| b(p, "/auth_required"));
    let mut out = Vec::new();
    for (k, c) in arr(&sec["marketing_claims"]).iter().enumerate() {
        let claim = c["claim"].as_str().unwrap_or("");
        let why: Option<&str> = match claim {
            "secure" => (!baseline).then_some(
                "claim `secure` is not substantiated: the security baseline (EQ-BASELINE) does not hold",
            ),
            "encrypted" | "bank_grade_encryption" | "military_grade_encryption" => (!(transit_all && at_rest_all)).then_some(
                "encryption claim not substantiated: every personal-data endpoint needs TLS 1.2+ with validation and every cloud personal item encryption at rest",
            ),
            "end_to_end_encrypted" => {
                let ok = items
                    .iter()
                    .filter(|i| i["category"].as_str().is_some_and(|c| c.starts_with("user.content")))
                    .filter(|i| {
                        endpoints
                            .iter()
                            .any(|e| strs(&e["carries_items"]).contains(&i["id"].as_str().unwrap_or("")))
                    })
                    .all(|i| b(i, "/encryption/end_to_end"));
                (!ok).then_some("claim `end_to_end_encrypted` not substantiated: a transmitted content item lacks end-to-end encryption")
            }
            "local_only" | "no_cloud" => {
                let ok = !items.iter().any(|i| personal(i) && cloud(i)) && !endpoints.iter().any(carries_personal);
                (!ok).then_some("local-only claim contradicted: personal data is processed in the cloud or sent to an endpoint")
            }
            "automatic_updates" => (!(b(sec, "/update/supported") && b(sec, "/update/automatic_default")))
                .then_some("claim `automatic_updates` not substantiated: updates are not supported and automatic by default"),
            "certified" => (!arr(&sec["conformance"])
                .iter()
                .any(|x| x["assessor"].as_str().is_some_and(|s| !s.is_empty())))
            .then_some("claim `certified` not substantiated: no conformance entry names an assessor"),
            "no_data_sold" => items
                .iter()
                .any(|i| b(i, "/sale_or_share"))
                .then_some("claim `no_data_sold` contradicted: an item is sold or shared"),
            "unhackable" => Some("claim `unhackable` can never be substantiated"),
            _ => None,
        };
        if let Some(w) = why {
            out.push((
                format!("/security/marketing_claims/{k}/claim"),
                w.to_string(),
            ));
        }
    }
    out
}
