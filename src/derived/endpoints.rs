//! Network-endpoint and remote-access-channel facts.

use super::items::under;
use super::{Ctx, arr, flag, located, sref, strs};
use serde_json::{Value, json};

/// Facts for every network endpoint, in manifest order.
pub(crate) fn endpoint_facts(ctx: &Ctx, items: &[Value]) -> Vec<Value> {
    let covers = strs(ctx.ptr("/transparency/data_exposure_disclosure/covers"));
    ctx.endpoints
        .iter()
        .enumerate()
        .map(|(j, e)| {
            let carried: Vec<(usize, &Value)> = strs(e.get("carries_items"))
                .iter()
                .filter_map(|id| ctx.item_index.get(id).map(|&k| (k, &items[k])))
                .collect();
            let any = |p: &dyn Fn(&Value) -> bool| carried.iter().any(|(_, f)| p(f));
            let personal = |f: &Value| flag(f, "/personal");
            let op = sref(e, "/operator").unwrap_or("");
            let first_party = op == "first_party";
            let op_idx = ctx.recipient_index.get(op).copied();
            let unlisted: Vec<Value> = if first_party {
                Vec::new()
            } else {
                carried
                    .iter()
                    .filter(|(k, f)| {
                        personal(f)
                            && !strs(ctx.items[*k].get("recipients")).contains(&op)
                    })
                    .map(|(k, f)| {
                        located(
                            sref(f, "/id").unwrap_or(""),
                            &format!("/data_items/{k}/recipients"),
                        )
                    })
                    .collect()
            };
            obj! {
                "at": format!("/network_endpoints/{j}"),
                "host": sref(e, "/host"),
                "carries": obj! {
                    "items": carried.iter().map(|(_, f)| f["id"].clone()).collect::<Vec<_>>(),
                    "personal": any(&personal),
                    "personal_eea": any(&|f| personal(f) && flag(f, "/markets/eea")),
                    "personal_cn": any(&|f| personal(f) && flag(f, "/markets/cn")),
                    "sens_any": any(&|f| personal(f) && flag(f, "/sens/any")),
                    "coppa": any(&|f| flag(f, "/sens/coppa")),
                    "credentials": any(&|f| sref(f, "/category").is_some_and(|c| under(c, "user.authorization"))),
                },
                "operator": obj! {
                    "at": format!("/network_endpoints/{j}/operator"),
                    "first_party": first_party,
                    "recipient": op_idx.map_or(Value::Null, |k| ctx.recipient_mirror(k)),
                    "unlisted_on": unlisted,
                },
                "exposure_disclosed": sref(e, "/host").is_some_and(|h| covers.contains(&h)),
            }
        })
        .collect()
}

/// Facts for every `security.remote_access_channels[]` entry.
pub(crate) fn channel_facts(ctx: &Ctx) -> Vec<Value> {
    let covers = strs(ctx.ptr("/transparency/data_exposure_disclosure/covers"));
    arr(ctx.ptr("/security/remote_access_channels"))
        .iter()
        .enumerate()
        .map(|(k, c)| {
            json!({
                "at": format!("/security/remote_access_channels/{k}"),
                "id": sref(c, "/id"),
                "exposure_disclosed": sref(c, "/id").is_some_and(|id| covers.contains(&id)),
            })
        })
        .collect()
}
