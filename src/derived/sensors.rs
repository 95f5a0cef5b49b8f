//! Sensor facts: the join from `produces` to item facts.

use super::{Ctx, flag, sref, strs};
use serde_json::{Value, json};

/// Facts for every sensor, in manifest order.
pub(crate) fn sensor_facts(ctx: &Ctx, items: &[Value]) -> Vec<Value> {
    ctx.sensors
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let produced: Vec<(usize, &Value)> = strs(s.get("produces"))
                .iter()
                .filter_map(|id| ctx.item_index.get(id).map(|&i| (i, &items[i])))
                .collect();
            let personal: Vec<usize> = produced
                .iter()
                .filter(|(_, f)| flag(f, "/personal"))
                .map(|(i, _)| *i)
                .collect();
            let only_optional = personal.iter().all(|&i| {
                ctx.items[i]
                    .get("necessary_for_core_function")
                    .and_then(Value::as_bool)
                    == Some(false)
            });
            let bystander = produced
                .iter()
                .any(|(i, _)| strs(ctx.items[*i].get("subjects")).contains(&"bystander"));
            json!({
                "at": format!("/sensors/{k}"),
                "id": sref(s, "/id"),
                "produces_facts": {
                    "count": produced.len(),
                    "personal": !personal.is_empty(),
                    "only_optional": only_optional,
                    "bystander": bystander,
                },
            })
        })
        .collect()
}
