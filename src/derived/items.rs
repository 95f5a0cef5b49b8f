//! Data-item facts: category normalisation, personal/cloud,
//! markets, sensitivity, child facts, flows and the
//! joins to recipients, endpoints, sensors and assessments.

use super::markets::{is_eea_market, item_mkt};
use super::{Ctx, arr, flag, located, mirror, sref, strs};
use serde_json::{Map, Value, json};
use std::collections::HashSet;

/// Deprecated fideslang keys → v3.2.0 keys. `true` in the
/// third column means the rule also applies to sub-keys (`user.biometric.*`).
const DEPRECATED: &[(&str, &str, bool)] = &[
    (
        "user.authorization.biometric",
        "user.authorization.biometrics",
        false,
    ),
    ("user.biometric", "user.biometrics", true),
    ("user.childrens", "user.children", true),
    ("user.health_and_medical", "user.health", true),
    ("user.location.imprecise", "user.location.coarse", false),
    ("user.sensor", "user.device.sensor", false),
    ("user.user_sensor", "user.device.sensor", false),
    ("user.telemetry", "user.device.telemetry", false),
    (
        "user.job_title",
        "user.professional_information.job_title",
        false,
    ),
    (
        "user.workplace",
        "user.professional_information.workplace",
        false,
    ),
    ("user.social", "user.social_activity", false),
    ("user.contact.url", "user.contact.social_url", false),
    ("user.account.settings", "user.settings", false),
    ("user.unique_id.pseudonymous", "user.unique_id", false),
];

/// The v3.2.0 key for `cat`, or `None` when `cat` is not deprecated.
pub fn normalize_category(cat: &str) -> Option<String> {
    for (old, new, subkeys) in DEPRECATED {
        if cat == *old {
            return Some((*new).to_string());
        }
        if *subkeys {
            if let Some(rest) = cat.strip_prefix(old) {
                if rest.starts_with('.') {
                    return Some(format!("{new}{rest}"));
                }
            }
        }
    }
    None
}

/// Rewrites deprecated categories in place (docs/engine.md rule 2), so that
/// every pointer into the manifest stays valid.
pub fn normalize_manifest(m: &mut Value) {
    if let Some(items) = m.get_mut("data_items").and_then(Value::as_array_mut) {
        for it in items {
            if let Some(c) = it.get_mut("category") {
                if let Some(new) = c.as_str().and_then(normalize_category) {
                    *c = Value::String(new);
                }
            }
        }
    }
}

/// `cat` equals `key` or lies under it.
pub(crate) fn under(cat: &str, key: &str) -> bool {
    cat == key || (cat.starts_with(key) && cat.as_bytes().get(key.len()) == Some(&b'.'))
}

/// Consent ladder of docs/engine.md, weakest first (shared with the diff,
/// which judges a change of `consent.kind` by it).
pub const CONSENT_LADDER: &[&str] = &[
    "none",
    "notice_only",
    "opt_out",
    "opt_in",
    "explicit",
    "separate",
    "written",
];

/// The canonical category of item `it`, and whether it was deprecated.
fn category(it: &Value) -> (String, bool) {
    let raw = sref(it, "/category").unwrap_or("");
    match normalize_category(raw) {
        Some(n) => (n, true),
        None => (raw.to_string(), false),
    }
}

/// Child facts (docs/engine.md).
fn child_facts(ctx: &Ctx, it: &Value, cat: &str, markets: &[&str]) -> Value {
    let subjects = strs(it.get("subjects"));
    let present = subjects.contains(&"child") || under(cat, "user.children");
    let band_floor = if under(cat, "user.children.thirteen_to_sixteen") {
        Some(13)
    } else if under(cat, "user.children.children_under_thirteen")
        || under(cat, "user.children.under_fourteen")
    {
        Some(0)
    } else {
        None
    };
    let given_min = it.get("child_age_min").and_then(Value::as_i64);
    let min_age = match (given_min, band_floor) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) => a,
        (None, Some(b)) => b,
        (None, None) => 0,
    };
    let max_age = it.get("child_age_max").and_then(Value::as_i64);
    // Highest Art. 8 age over the item's EEA markets; pseudo-markets give
    // the default.
    let mut age: Option<u32> = None;
    for m in markets {
        if !is_eea_market(ctx.refs, m) {
            continue;
        }
        let a = ctx
            .refs
            .consent_age
            .get(*m)
            .copied()
            .unwrap_or(ctx.refs.consent_age_default);
        age = Some(age.map_or(a, |x| x.max(a)));
    }
    let gdpr_age = age.unwrap_or(ctx.refs.consent_age_default);
    let below = |n: i64| present && min_age < n;
    json!({
        "present": present,
        "offered_to_children": offered_to_children(ctx),
        "min_age": if present { json!(min_age) } else { Value::Null },
        "max_age": max_age,
        "below": { "13": below(13), "14": below(14), "16": below(16), "18": below(18) },
        "gdpr_consent_age": gdpr_age,
        "below_gdpr_consent_age": below(i64::from(gdpr_age)),
    })
}

/// Is the service offered to children: declared for them, directed to them,
/// or the vendor knows it collects from them? Only then do the rules on a
/// child's own consent apply (GDPR Art. 8(1) "offer of information society
/// services directly to a child"; 16 CFR §312.2 "directed to children",
/// "actual knowledge"). An item that merely records a child, such as a baby
/// monitor's camera used by a parent, is the parent's data to consent to.
fn offered_to_children(ctx: &Ctx) -> bool {
    strs(ctx.ptr("/device/intended_users")).contains(&"children")
        || ctx
            .ptr("/device/directed_to_children")
            .and_then(Value::as_bool)
            == Some(true)
        || ctx
            .ptr("/device/actual_knowledge_children")
            .and_then(Value::as_bool)
            == Some(true)
}

/// Is the item kept (GDPR Art. 32(1)(a) protects data "stored"): a retention
/// above zero days or open-ended, or a declared storage region. An item only
/// relayed in real time (retention 0, no storage region) is protected in
/// transit only. Without a declared period, `lifecycle.store = false` says it
/// is not kept.
fn storage_facts(it: &Value) -> (bool, bool) {
    let retained = match it.pointer("/retention/period_days") {
        Some(Value::Number(n)) => n.as_i64().is_some_and(|d| d > 0),
        Some(Value::Null) => true,
        _ => it.pointer("/lifecycle/store").and_then(Value::as_bool) != Some(false),
    };
    let stored = retained || !strs(it.get("storage_regions")).is_empty();
    (retained, stored)
}

/// Sensitivity per regime (docs/engine.md, "Derived facts"). Returns
/// (gdpr9, pipl28 without the child rule, cpra, reason).
fn sensitivity(ctx: &Ctx, it: &Value, cat: &str) -> (bool, bool, bool, Vec<String>) {
    let bu = sref(it, "/biometric_use").unwrap_or("none");
    let bio_id = matches!(bu, "identification" | "verification");
    let bio_any = bu != "none";
    let hi = flag(it, "/used_for/health_inference");
    let healthcare = strs(ctx.m.pointer("/device/deployment_contexts")).contains(&"healthcare");
    let ts = it
        .get("time_series")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let prec = it.get("precision_m").and_then(Value::as_f64);
    let near = |p: Option<f64>| p.is_none_or(|p| p <= 564.0);
    let u = |k: &str| under(cat, k);

    let (mut g, mut p, mut c) = (false, false, false);
    let mut why = Vec::new();
    let mut note = |r: &str, s: &str| why.push(format!("{r}: {s}"));

    if u("user.authorization.biometrics") {
        (g, p, c) = (true, true, true);
        note("all", "biometric authentication");
    } else if u("user.biometrics") {
        p = true;
        if bio_id {
            g = true;
            c = true;
            note("gdpr9/cpra", "biometric_use identifies");
        }
    } else if u("user.content.self_image") || u("user.content.video_recording") {
        g = bio_any || hi || healthcare;
        p = bio_any;
        if g {
            note(
                "gdpr9",
                "biometric processing, health inference or healthcare context",
            );
        }
    } else if u("user.content.audio_recording") {
        g = bio_any || hi;
        p = g;
        if g {
            note("gdpr9/pipl28", "voiceprint or health inference");
        }
    } else if u("user.content.communications") {
        p = true;
        c = true;
        note("pipl28/cpra", "communication contents");
    } else if u("user.health.baby_formula") || u("user.health.maternity_clothing") {
        (g, p, c) = (hi, hi, hi);
        if hi {
            note("all", "used for health inference");
        }
    } else if u("user.health") {
        (g, p, c) = (true, true, true);
        note("all", "health data");
    } else if u("user.neural") {
        (g, p, c) = (true, true, true);
        note("all", "neural data");
    } else if u("user.behavior.activity") {
        (g, p, c) = (hi, hi, hi);
        if hi {
            note("all", "used for health inference");
        }
    } else if u("user.demographic.race_ethnicity")
        || u("user.demographic.philosophical_belief")
        || u("user.demographic.union_membership")
    {
        (g, c) = (true, true);
    } else if u("user.demographic.political_opinion") {
        g = true;
    } else if u("user.demographic.religious_belief")
        || u("user.demographic.sexual_orientation")
        || u("user.demographic.citizenship_or_immigration_status")
        || u("user.government_id.immigration")
    {
        (g, p, c) = (true, true, true);
    } else if u("user.demographic.marital_status")
        || u("user.criminal_history")
        || u("user.behavior.browsing_history")
    {
        p = true;
    } else if u("user.government_id") {
        p = true;
        c = u("user.government_id.national_identification_number")
            || u("user.government_id.passport_number")
            || u("user.government_id.drivers_license_number");
    } else if u("user.financial.bank_account")
        || u("user.financial.credit_card")
        || u("user.payment")
        || u("user.authorization.credentials")
        || u("user.authorization.password")
    {
        (p, c) = (true, true);
    } else if u("user.location.precise") {
        p = true;
        c = near(prec);
    } else if u("user.location.coarse") {
        p = ts;
        c = prec.is_some() && near(prec);
    } else if u("user.device.network_environment") {
        p = ts;
        c = near(prec);
    } else if u("user.children.children_under_thirteen")
        || u("user.children.under_fourteen")
        || u("user.children.thirteen_to_sixteen")
    {
        p = true;
    }
    if why.is_empty() && (g || p || c) {
        why.push(format!("category {cat}"));
    }
    (g, p, c, why)
}

/// `personal(i)` on a raw manifest item.
pub(crate) fn is_personal(it: &Value) -> bool {
    let (cat, _) = category(it);
    under(&cat, "user") && sref(it, "/identifiability") != Some("anonymous")
}

/// Facts for every data item, in manifest order.
pub(crate) fn item_facts(ctx: &Ctx) -> Vec<Value> {
    let personal: Vec<bool> = ctx.items.iter().map(is_personal).collect();
    // Per sensor: every personal item it produces is optional
    // (`necessary_for_core_function = false`).
    let only_optional: Vec<bool> = ctx
        .sensors
        .iter()
        .map(|s| {
            strs(s.get("produces"))
                .iter()
                .filter_map(|p| ctx.item_index.get(p).copied())
                .filter(|&i| personal[i])
                .all(|i| {
                    ctx.items[i]
                        .get("necessary_for_core_function")
                        .and_then(Value::as_bool)
                        == Some(false)
                })
        })
        .collect();
    ctx.items
        .iter()
        .enumerate()
        .map(|(i, it)| one_item(ctx, i, it, &only_optional))
        .collect()
}

fn one_item(ctx: &Ctx, i: usize, it: &Value, only_optional: &[bool]) -> Value {
    let at = format!("/data_items/{i}");
    let id = sref(it, "/id").unwrap_or("");
    let (cat, deprecated) = category(it);
    let ancestors: Vec<String> = cat
        .match_indices('.')
        .map(|(k, _)| cat[..k].to_string())
        .chain(std::iter::once(cat.clone()))
        .filter(|s| !s.is_empty())
        .collect();
    let personal = under(&cat, "user") && sref(it, "/identifiability") != Some("anonymous");
    let own_markets = it.get("markets").map(|v| strs(Some(v)));
    let markets: Vec<&str> = match &own_markets {
        Some(m) => m.clone(),
        None => ctx.markets.clone(),
    };
    let mkt = item_mkt(ctx.refs, &markets);
    let cloud = matches!(sref(it, "/processing_location"), Some("cloud" | "both"));
    let child = child_facts(ctx, it, &cat, &markets);
    let below13 = flag(&child, "/below/13");
    let below14 = flag(&child, "/below/14");
    let (g, p, c, mut why) = sensitivity(ctx, it, &cat);
    let p = p || below14;
    if below14 {
        why.push("pipl28: concerns a child under 14".into());
    }
    let coppa = personal && below13 && flag(&mkt, "/us");
    let any = g || p || c;

    // Joins.
    let recipients: Vec<Value> = strs(it.get("recipients"))
        .iter()
        .filter_map(|r| ctx.recipient_index.get(r))
        .map(|&k| ctx.recipient_mirror(k))
        .collect();
    let mut endpoints = Vec::new();
    let mut endpoint_idx = Vec::new();
    for (j, e) in ctx.endpoints.iter().enumerate() {
        if strs(e.get("carries_items")).contains(&id) {
            let mut o = Map::new();
            for k in ["host", "country", "protocol", "tls", "operator", "port"] {
                if let Some(v) = e.get(k) {
                    o.insert(k.into(), v.clone());
                }
            }
            o.insert("at".into(), json!(format!("/network_endpoints/{j}")));
            o.insert("mirror".into(), json!(true));
            endpoints.push(Value::Object(o));
            endpoint_idx.push(j);
        }
    }
    let sensors: Vec<Value> = ctx
        .sensors
        .iter()
        .enumerate()
        .filter(|(_, s)| strs(s.get("produces")).contains(&id))
        .map(|(k, s)| {
            // A mirror of the fields rules read (not the `produces` list).
            let mut m = serde_json::Map::new();
            if let Value::Object(o) = s {
                for (key, v) in o {
                    if key != "produces" {
                        m.insert(key.clone(), v.clone());
                    }
                }
            }
            m.insert("at".into(), Value::String(format!("/sensors/{k}")));
            m.insert("mirror".into(), Value::Bool(true));
            m.insert(
                "only_optional".into(),
                Value::Bool(only_optional.get(k).copied().unwrap_or(false)),
            );
            Value::Object(m)
        })
        .collect();
    let covers = |a: &str| strs(ctx.ptr(&format!("/assessments/{a}/covers_items"))).contains(&id);
    let exposure_disclosed =
        strs(ctx.ptr("/transparency/data_exposure_disclosure/covers")).contains(&id);
    let consent_rank =
        sref(it, "/consent/kind").and_then(|k| CONSENT_LADDER.iter().position(|l| *l == k));

    let flows = flows(ctx, i, it, &endpoint_idx);
    let (retained, stored) = storage_facts(it);
    obj! {
        "at": at,
        "id": id,
        "category": cat,
        "deprecated_category": deprecated,
        "ancestors": ancestors,
        "personal": personal,
        "markets": mkt,
        "cloud": cloud,
        "retained": retained,
        "stored": stored,
        "sens": obj! {
            "gdpr9": g, "pipl28": p, "cpra": c, "coppa": coppa, "any": any,
            "reason": why.join("; "),
        },
        "child": child,
        "flows": flows,
        "recipients": recipients,
        "endpoints": endpoints,
        "sensors": sensors,
        "covered_by": obj! {
            "dpia": covers("dpia"),
            "pipia": covers("pipia"),
            "ccpa_risk_assessment": covers("ccpa_risk_assessment"),
        },
        "exposure_disclosed": exposure_disclosed,
        "consent_rank": consent_rank,
    }
}

/// Is `country` outside the GDPR protective zone for a flow to `recipient`?
/// (docs/engine.md: EEA plus ADEQUATE; US only via DPF).
pub(crate) fn outside_gdpr(ctx: &Ctx, country: &str, recipient: Option<&Value>) -> bool {
    if ctx.refs.is_eea(country) || ctx.refs.is_adequate(country) {
        return false;
    }
    let dpf = recipient.is_some_and(|r| flag(r, "/dpf_certified"));
    !(country == "US" && dpf)
}

/// One flow per storage region, recipient and carrying endpoint.
fn flows(ctx: &Ctx, i: usize, it: &Value, endpoint_idx: &[usize]) -> Vec<Value> {
    let cb = arr(it.get("cross_border"));
    let own: Vec<&str> = match it.get("markets") {
        Some(m) => strs(Some(m)),
        None => ctx.markets.clone(),
    };
    // The item's markets as countries: EU/EEA expanded, US-* as US.
    let mut own_cc: Vec<String> = super::markets::expand(ctx.refs, &own);
    for m in &own {
        if super::markets::is_us_market(m) {
            own_cc.push("US".into());
        }
    }
    // A transfer mechanism covers one flow: a cross_border entry to the
    // flow's country that names the flow's recipient (null: the vendor's own
    // systems). An entry for one recipient never covers another recipient in
    // the same country (GDPR Art. 46(1) and PIPL Art. 38 safeguard a
    // transfer to a given recipient; docs/engine.md, "Transfers").
    let mech = |country: &str, recipient: Option<&str>| -> Value {
        let mut gdpr = Vec::new();
        let mut cn = Vec::new();
        let mut declared = Vec::new();
        let mut entries = Vec::new();
        for (j, e) in cb.iter().enumerate() {
            if sref(e, "/to_country") != Some(country) || sref(e, "/recipient") != recipient {
                continue;
            }
            entries.push(json!(format!("/data_items/{i}/cross_border/{j}")));
            let Some(m) = e.get("mechanism").cloned() else {
                continue;
            };
            declared.push(m.clone());
            match sref(e, "/from_market") {
                Some("CN") => cn.push(m),
                Some(f) if is_eea_market(ctx.refs, f) => gdpr.push(m),
                _ => {}
            }
        }
        obj! { "gdpr": gdpr, "cn": cn, "declared": declared, "entries": entries }
    };
    let mut out = Vec::new();
    let mut push = |at: String, via: &str, country: Option<&str>, rec: Option<usize>| {
        let rv = rec.map(|k| &ctx.recipients[k]);
        let c = country.unwrap_or("");
        out.push(obj! {
            "at": at,
            "via": via,
            "country": country,
            "recipient": rec.map_or(Value::Null, |k| ctx.recipient_mirror(k)),
            "mech": mech(c, rv.and_then(|r| sref(r, "/id"))),
            "outside": obj! {
                "gdpr": !c.is_empty() && outside_gdpr(ctx, c, rv),
                "cn": !c.is_empty() && c != "CN",
                "item_markets": !c.is_empty() && !own_cc.iter().any(|m| m == c),
            },
        });
    };
    for (k, r) in strs(it.get("storage_regions")).iter().enumerate() {
        push(
            format!("/data_items/{i}/storage_regions/{k}"),
            "storage",
            Some(r),
            None,
        );
    }
    for (k, r) in strs(it.get("recipients")).iter().enumerate() {
        if let Some(&idx) = ctx.recipient_index.get(r) {
            let country = sref(&ctx.recipients[idx], "/country");
            push(
                format!("/data_items/{i}/recipients/{k}"),
                "recipient",
                country,
                Some(idx),
            );
        }
    }
    for &j in endpoint_idx {
        let e = &ctx.endpoints[j];
        let op = sref(e, "/operator").and_then(|o| ctx.recipient_index.get(o).copied());
        push(
            format!("/network_endpoints/{j}"),
            "endpoint",
            sref(e, "/country"),
            op,
        );
    }
    out
}

/// Facts for every `data_items[*].cross_border[*]` entry, keyed by pointer,
/// and, once per item that has entries, the facts its entries share
/// (`parent`, `parent_item`), keyed by the item's pointer: copying them
/// into each entry would make an item with n entries cost n copies of
/// itself (entries included), n² in all.
pub(crate) fn cross_border_facts(
    ctx: &Ctx,
    items: &[Value],
) -> (Vec<(String, Value)>, super::Parents) {
    let mut out = Vec::new();
    let mut parents = super::Parents::new();
    for (i, it) in ctx.items.iter().enumerate() {
        let Some(facts) = items.get(i) else { continue };
        let entries = arr(it.get("cross_border"));
        if entries.is_empty() {
            continue;
        }
        let countries: HashSet<&str> = arr(facts.get("flows"))
            .iter()
            .filter_map(|f| sref(f, "/country"))
            .collect();
        // The item's own facts, without the joins (flows, mirrors).
        let parent: Value = match facts {
            Value::Object(o) => Value::Object(
                o.iter()
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "flows" | "recipients" | "endpoints" | "sensors")
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            ),
            _ => Value::Null,
        };
        let item_at = format!("/data_items/{i}");
        let mut shared = Map::new();
        shared.insert("parent".into(), parent);
        shared.insert("parent_item".into(), mirror(it, &item_at));
        parents.insert(item_at, shared);
        for (j, e) in entries.iter().enumerate() {
            let at = format!("/data_items/{i}/cross_border/{j}");
            let recipient = sref(e, "/recipient")
                .and_then(|r| ctx.recipient_index.get(r))
                .map_or(Value::Null, |&k| ctx.recipient_mirror(k));
            let reached = sref(e, "/to_country").is_some_and(|c| countries.contains(c));
            out.push((
                at.clone(),
                obj! {
                    "at": at,
                    "recipient": recipient,
                    "reached": reached,
                },
            ));
        }
    }
    (out, parents)
}

/// `{id, at}` of item `i`.
pub(crate) fn item_ref(facts: &Value) -> Value {
    located(
        sref(facts, "/id").unwrap_or(""),
        sref(facts, "/at").unwrap_or(""),
    )
}
