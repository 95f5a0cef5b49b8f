//! Recipient facts: the reverse join from items and endpoints.

use super::{Ctx, flag, sref, strs};
use serde_json::{Value, json};

/// Facts for every recipient, in manifest order.
pub(crate) fn recipient_facts(ctx: &Ctx, items: &[Value]) -> Vec<Value> {
    ctx.recipients
        .iter()
        .enumerate()
        .map(|(k, r)| {
            let rid = sref(r, "/id").unwrap_or("");
            // Items listing the recipient, plus items carried by endpoints it operates.
            let mut got: Vec<usize> = Vec::new();
            for (i, it) in ctx.items.iter().enumerate() {
                if strs(it.get("recipients")).contains(&rid) {
                    got.push(i);
                }
            }
            for e in ctx.endpoints {
                if sref(e, "/operator") == Some(rid) {
                    for id in strs(e.get("carries_items")) {
                        if let Some(&i) = ctx.item_index.get(id) {
                            if !got.contains(&i) {
                                got.push(i);
                            }
                        }
                    }
                }
            }
            got.sort_unstable();
            let facts: Vec<&Value> = got.iter().map(|&i| &items[i]).collect();
            let any = |p: &dyn Fn(&Value) -> bool| facts.iter().any(|f| p(f));
            let personal = |f: &Value| flag(f, "/personal");
            json!({
                "at": format!("/recipients/{k}"),
                "id": rid,
                "receives": {
                    "items": facts.iter().map(|f| f["id"].clone()).collect::<Vec<_>>(),
                    "personal": any(&personal),
                    "cn": any(&|f| personal(f) && flag(f, "/markets/cn")),
                    "eea": any(&|f| personal(f) && flag(f, "/markets/eea")),
                    "sens_cpra": any(&|f| personal(f) && flag(f, "/sens/cpra")),
                    "coppa_pi": any(&|f| flag(f, "/sens/coppa")),
                },
            })
        })
        .collect()
}
