//! Manifest-level facts (`global` in the evaluation document).

use super::items::{item_ref, outside_gdpr};
use super::markets::{expand, global_mkt};
use super::{Ctx, arr, flag, sref};
use serde_json::{Value, json};
use time::Date;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// `YYYY-MM-DD`.
pub(crate) const DATE_FMT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]");

/// Parses a `YYYY-MM-DD` date (a longer RFC 3339 string counts by its date).
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s.get(..10)?, DATE_FMT).ok()
}

/// Formats a date as `YYYY-MM-DD`.
pub(crate) fn fmt_date(d: Date) -> String {
    d.format(DATE_FMT).unwrap_or_default()
}

/// Date of each assessment against `device.placed_on_market` (engine.md
/// §5 pattern 3: two instance dates compared).
fn assessment_timing(ctx: &Ctx) -> Value {
    let placed = ctx
        .ptr("/device/placed_on_market")
        .and_then(Value::as_str)
        .and_then(parse_date);
    let mut o = serde_json::Map::new();
    for a in ["dpia", "pipia", "ccpa_risk_assessment"] {
        let at = format!("/assessments/{a}/date");
        let d = ctx.ptr(&at).and_then(Value::as_str).and_then(parse_date);
        let before = match (d, placed) {
            (Some(d), Some(p)) => json!(d <= p),
            _ => Value::Null,
        };
        o.insert(a.into(), json!({ "at": at, "before_placing": before }));
    }
    Value::Object(o)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn global_facts(
    ctx: &Ctx,
    as_of: Date,
    cross_border: &[(String, Value)],
    items: Vec<Value>,
    endpoints: Vec<Value>,
    recipients: Vec<Value>,
    sensors: Vec<Value>,
    channels: Vec<Value>,
) -> Value {
    let personal: Vec<&Value> = items.iter().filter(|f| flag(f, "/personal")).collect();
    let set = |p: &dyn Fn(&Value) -> bool| -> Vec<Value> {
        personal
            .iter()
            .filter(|f| p(f))
            .map(|f| item_ref(f))
            .collect()
    };
    let sets = obj! {
        "PERSONAL": set(&|_| true),
        "SENS_GDPR": set(&|f| flag(f, "/sens/gdpr9")),
        "SENS_PIPL": set(&|f| flag(f, "/sens/pipl28")),
        "SENS_CPRA": set(&|f| flag(f, "/sens/cpra")),
        "SENS_ANY": set(&|f| flag(f, "/sens/any")),
        "COPPA_PI": set(&|f| flag(f, "/sens/coppa")),
        "CHILD13": set(&|f| flag(f, "/child/below/13")),
        "CHILD14": set(&|f| flag(f, "/child/below/14")),
        "CHILD16": set(&|f| flag(f, "/child/below/16")),
        "CHILD18": set(&|f| flag(f, "/child/below/18")),
        "CN_ITEMS": set(&|f| flag(f, "/markets/cn")),
        "EEA_ITEMS": set(&|f| flag(f, "/markets/eea")),
        "US_ITEMS": set(&|f| flag(f, "/markets/us")),
    };
    let cn = cn_export(ctx, &items);
    let cross: Vec<Value> = cross_border
        .iter()
        .map(|(at, f)| {
            let e = ctx.ptr(at);
            obj! {
                "at": at.as_str(),
                "reached": f.get("reached").and_then(Value::as_bool).unwrap_or(false),
                "to_country": e.and_then(|e| sref(e, "/to_country")),
                "from_market": e.and_then(|e| sref(e, "/from_market")),
            }
        })
        .collect();
    obj! {
        "as_of": fmt_date(as_of),
        "derived_version": super::DERIVED_VERSION,
        "mkt": global_mkt(ctx.refs, &ctx.markets),
        "markets_expanded": expand(ctx.refs, &ctx.markets),
        "sets": sets,
        "items": items,
        "endpoints": endpoints,
        "recipients": recipients,
        "sensors": sensors,
        "remote_access_channels": channels,
        "cn_export": cn,
        "support_period": support_period(ctx),
        "foreign": foreign(ctx),
        "assessment_timing": assessment_timing(ctx),
        "cross_border": cross,
    }
}

/// CN export volumes (2024 Provisions on cross-border data flows): sums over `cross_border[]` entries from CN.
fn cn_export(ctx: &Ctx, items: &[Value]) -> Value {
    let (mut sum, mut spi_sum, mut max, mut spi_max) = (0i64, 0i64, 0i64, 0i64);
    for it in ctx.items {
        for e in arr(it.get("cross_border")) {
            if sref(e, "/from_market") != Some("CN") {
                continue;
            }
            let v = e
                .get("volume_individuals_ytd")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let s = e.get("spi_volume_ytd").and_then(Value::as_i64).unwrap_or(0);
            sum = sum.saturating_add(v);
            spi_sum = spi_sum.saturating_add(s);
            max = max.max(v);
            spi_max = spi_max.max(s);
        }
    }
    let declared = ctx
        .ptr("/organization/cn_export_individuals_ytd")
        .and_then(Value::as_i64);
    let spi_declared = ctx
        .ptr("/organization/cn_export_spi_individuals_ytd")
        .and_then(Value::as_i64);
    let in_range = |d: Option<i64>, lo: i64, hi: i64| d.is_none_or(|d| d >= lo && d <= hi);
    let important_abroad: Vec<Value> = ctx
        .items
        .iter()
        .zip(items)
        .filter(|(it, f)| {
            matches!(sref(it, "/cn_class"), Some("important" | "core"))
                && flag(it, "/cn_important_notified")
                && arr(f.get("flows")).iter().any(|fl| flag(fl, "/outside/cn"))
        })
        .map(|(_, f)| item_ref(f))
        .collect();
    let declared_totals: Vec<Value> = [
        (
            declared,
            "individuals",
            "/organization/cn_export_individuals_ytd",
            max,
            sum,
        ),
        (
            spi_declared,
            "spi",
            "/organization/cn_export_spi_individuals_ytd",
            spi_max,
            spi_sum,
        ),
    ]
    .iter()
    .filter_map(|(d, kind, at, lo, hi)| {
        d.map(|d| json!({ "at": at, "kind": kind, "in_range": d >= *lo && d <= *hi }))
    })
    .collect();
    json!({
        "individuals_ytd": declared.unwrap_or(sum),
        "spi_individuals_ytd": spi_declared.unwrap_or(spi_sum),
        "individuals_ytd_sum": sum,
        "spi_individuals_ytd_sum": spi_sum,
        "individuals_ytd_max_entry": max,
        "spi_individuals_ytd_max_entry": spi_max,
        "declared_in_range": in_range(declared, max, sum) && in_range(spi_declared, spi_max, spi_sum),
        "declared_totals": declared_totals,
        "important_abroad": important_abroad,
    })
}

/// Support-period shortenings and the placing-to-end span.
fn support_period(ctx: &Ctx) -> Value {
    let sp = "/security/support_period";
    let mut hist: Vec<(usize, Date, Date)> = arr(ctx.ptr(&format!("{sp}/history")))
        .iter()
        .enumerate()
        .filter_map(|(k, h)| {
            Some((
                k,
                parse_date(sref(h, "/date")?)?,
                parse_date(sref(h, "/end_date")?)?,
            ))
        })
        .collect();
    hist.sort_by_key(|(_, d, _)| *d);
    let mut shortenings = Vec::new();
    let mut max_end: Option<Date> = None;
    for (k, _, end) in &hist {
        if let Some(m) = max_end {
            if *end < m {
                shortenings.push(json!({
                    "at": format!("{sp}/history/{k}/end_date"),
                    "end": fmt_date(*end),
                    "previous_end": fmt_date(m),
                }));
            }
        }
        max_end = Some(max_end.map_or(*end, |m| m.max(*end)));
    }
    let end = ctx
        .ptr(&format!("{sp}/end_date"))
        .and_then(Value::as_str)
        .and_then(parse_date);
    if let (Some(e), Some(m)) = (end, max_end) {
        if e < m {
            shortenings.push(json!({
                "at": format!("{sp}/end_date"),
                "end": fmt_date(e),
                "previous_end": fmt_date(m),
            }));
        }
    }
    let placed = ctx
        .ptr("/device/placed_on_market")
        .and_then(Value::as_str)
        .and_then(parse_date);
    let days = match (end, placed) {
        (Some(e), Some(p)) => json!((e - p).whole_days()),
        _ => Value::Null,
    };
    json!({
        "shortenings": shortenings,
        "span": { "at": format!("{sp}/end_date"), "days_placing_to_end": days },
    })
}

/// Adds to `global.support_period.shortenings` the current end date when it
/// is earlier than the previous deposit's. A date comparison; no entry when the
/// history already flags the current end date.
pub(crate) fn previous_shortening(global: &mut Value, manifest: &Value, previous: &Value) {
    let sp = "/security/support_period/end_date";
    let date_at = |v: &Value| v.pointer(sp).and_then(Value::as_str).and_then(parse_date);
    let (Some(end), Some(prev)) = (date_at(manifest), date_at(previous)) else {
        return;
    };
    if end >= prev {
        return;
    }
    let Some(list) = global
        .pointer_mut("/support_period/shortenings")
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    if list
        .iter()
        .any(|s| s.get("at").and_then(Value::as_str) == Some(sp))
    {
        return;
    }
    list.push(json!({ "at": sp, "end": fmt_date(end), "previous_end": fmt_date(prev) }));
}

/// Recipients and endpoints outside the GDPR zone, resp. mainland China.
fn foreign(ctx: &Ctx) -> Value {
    let mut non_adequate = Vec::new();
    let mut non_cn = Vec::new();
    for (k, r) in ctx.recipients.iter().enumerate() {
        if let Some(c) = sref(r, "/country") {
            let at = format!("/recipients/{k}/country");
            if outside_gdpr(ctx, c, Some(r)) {
                non_adequate.push(json!({ "country": c, "at": at }));
            }
            if c != "CN" {
                non_cn.push(json!({ "country": c, "at": at }));
            }
        }
    }
    for (j, e) in ctx.endpoints.iter().enumerate() {
        if let Some(c) = sref(e, "/country") {
            let at = format!("/network_endpoints/{j}/country");
            let op = sref(e, "/operator")
                .and_then(|o| ctx.recipient_index.get(o))
                .map(|&k| &ctx.recipients[k]);
            if outside_gdpr(ctx, c, op) {
                non_adequate.push(json!({ "country": c, "at": at }));
            }
            if c != "CN" {
                non_cn.push(json!({ "country": c, "at": at }));
            }
        }
    }
    json!({ "non_adequate": non_adequate, "non_cn": non_cn })
}
