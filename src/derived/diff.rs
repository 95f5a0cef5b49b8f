//! `global.diff` and item `diff`: changes against the previous deposit of
//! the same `blueprint.id` (docs/engine.md pattern 11). Present
//! only when the caller supplies that previous manifest.

use super::items::normalize_category;
use super::{arr, sref, strs};
use serde_json::{Map, Value, json};

fn category(it: &Value) -> String {
    let raw = sref(it, "/category").unwrap_or("");
    normalize_category(raw).unwrap_or_else(|| raw.to_string())
}

fn added<'a>(now: &[&'a str], before: &[&str]) -> Vec<&'a str> {
    now.iter()
        .filter(|x| !before.contains(x))
        .copied()
        .collect()
}

/// Per-item diff entries (by item index) and the manifest-level diff.
pub(crate) fn diff(m: &Value, prev: &Value) -> (Vec<Value>, Value) {
    let prev_items = arr(prev.get("data_items"));
    let mut entries = Vec::new();
    for (i, it) in arr(m.get("data_items")).iter().enumerate() {
        let id = sref(it, "/id").unwrap_or("");
        let old = prev_items.iter().find(|p| sref(p, "/id") == Some(id));
        let purposes = strs(it.get("purposes"));
        let recipients = strs(it.get("recipients"));
        let cat = category(it);
        let e = match old {
            None => json!({
                "at": format!("/data_items/{i}"),
                "id": id,
                "new_item": true,
                "added_purposes": purposes,
                "added_categories": [cat],
                "added_recipients": recipients,
                "changed_processing": true,
            }),
            Some(o) => {
                let changed = [
                    "processing_location",
                    "storage_regions",
                    "cross_border",
                    "used_for",
                    "sale_or_share",
                ]
                .iter()
                .any(|k| it.get(*k) != o.get(*k));
                let old_cat = category(o);
                json!({
                    "at": format!("/data_items/{i}"),
                    "id": id,
                    "new_item": false,
                    "added_purposes": added(&purposes, &strs(o.get("purposes"))),
                    "added_categories": if cat != old_cat { vec![cat] } else { Vec::new() },
                    "added_recipients": added(&recipients, &strs(o.get("recipients"))),
                    "changed_processing": changed,
                })
            }
        };
        entries.push(e);
    }
    // Rights that were offered and no longer are.
    let mut removed_rights = Vec::new();
    if let (Some(Value::Object(now)), Some(Value::Object(old))) =
        (m.get("user_rights"), prev.get("user_rights"))
    {
        for (k, v) in old {
            if v == &Value::Bool(true) && now.get(k) != Some(&Value::Bool(true)) {
                removed_rights.push(json!({ "right": k, "at": format!("/user_rights/{k}") }));
            }
        }
    }
    let old_channels = strs(prev.pointer("/user_rights/request_channels"));
    let now_channels = strs(m.pointer("/user_rights/request_channels"));
    let removed_channels = added(&old_channels, &now_channels);
    let mut g = Map::new();
    g.insert(
        "support_end_previous".into(),
        prev.pointer("/security/support_period/end_date")
            .cloned()
            .unwrap_or(Value::Null),
    );
    g.insert(
        "previous_version".into(),
        prev.pointer("/blueprint/version")
            .cloned()
            .unwrap_or(Value::Null),
    );
    g.insert("items".into(), Value::Array(entries.clone()));
    g.insert("removed_rights".into(), Value::Array(removed_rights));
    g.insert("removed_request_channels".into(), json!(removed_channels));
    (entries, Value::Object(g))
}
