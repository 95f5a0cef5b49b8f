//! Which data items make a deviation sensitive,
//! for escalation rule E1 and for telling personal from non-personal changes.
//!
//! This is the deviation engine's own reading of the matrix over a single
//! item; it resolves the "C" cells as the derived view does, using only the
//! item's fields (and `device.deployment_contexts` for video).

use serde_json::Value;

/// `personal(i)` : a `user.*` category and not anonymous.
pub fn personal(item: &Value) -> bool {
    let cat = category(item);
    (cat == "user" || cat.starts_with("user."))
        && item.get("identifiability").and_then(Value::as_str) != Some("anonymous")
}

/// Children's data: `subjects ∋ child` or a `user.children.*` category .
pub fn children(item: &Value) -> bool {
    under(category(item), "user.children")
        || item
            .get("subjects")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v.as_str() == Some("child")))
}

/// `i ∈ SENS_ANY` or children's data,  over personal items only.
pub fn sensitive(item: &Value, manifest: &Value) -> bool {
    personal(item) && (children(item) || sens_any(item, manifest))
}

fn category(item: &Value) -> &str {
    item.get("category").and_then(Value::as_str).unwrap_or("")
}

fn under(cat: &str, key: &str) -> bool {
    cat == key || (cat.starts_with(key) && cat.as_bytes().get(key.len()) == Some(&b'.'))
}

fn flag(item: &Value, ptr: &str) -> bool {
    item.pointer(ptr).and_then(Value::as_bool).unwrap_or(false)
}

/// The union of the GDPR, PIPL and CPRA sensitivity columns of the derived view.
fn sens_any(item: &Value, manifest: &Value) -> bool {
    let cat = category(item);
    let biometric_use = item
        .get("biometric_use")
        .and_then(Value::as_str)
        .unwrap_or("none");
    let health_inference = flag(item, "/used_for/health_inference");
    // `time_series` defaults to true.
    let time_series = item
        .get("time_series")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let precision = item.get("precision_m").and_then(Value::as_i64);
    // Keys sensitive per se in at least one column (Y), or whose C always
    // holds in at least one column by conservative defaults.
    const ALWAYS: [&str; 18] = [
        "user.biometrics", // PIPL: Y
        "user.authorization.biometrics",
        "user.authorization.credentials",
        "user.authorization.password",
        "user.health",
        "user.neural",
        "user.demographic.race_ethnicity",
        "user.demographic.political_opinion",
        "user.demographic.religious_belief",
        "user.demographic.philosophical_belief",
        "user.demographic.union_membership",
        "user.demographic.sexual_orientation",
        "user.demographic.citizenship_or_immigration_status",
        "user.demographic.marital_status",
        "user.criminal_history",
        "user.government_id",
        "user.content.communications",
        "user.location.precise",
    ];
    if ALWAYS.iter().any(|k| under(cat, k)) {
        // `user.health.baby_formula` / `.maternity_clothing` are C, held by health inference.
        if under(cat, "user.health.baby_formula") || under(cat, "user.health.maternity_clothing") {
            return health_inference;
        }
        return true;
    }
    if under(cat, "user.financial.bank_account")
        || under(cat, "user.financial.credit_card")
        || under(cat, "user.payment")
    {
        return true;
    }
    if under(cat, "user.content.self_image") || under(cat, "user.content.video_recording") {
        let healthcare = manifest
            .pointer("/device/deployment_contexts")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("healthcare")));
        return biometric_use != "none" || health_inference || healthcare;
    }
    if under(cat, "user.content.audio_recording") {
        return biometric_use != "none" || health_inference;
    }
    if under(cat, "user.behavior.activity") {
        return health_inference;
    }
    if under(cat, "user.location.coarse") {
        return time_series || precision.is_some_and(|p| p <= 564);
    }
    if under(cat, "user.device.network_environment") {
        return time_series || precision.is_none_or(|p| p <= 564);
    }
    false
}

/// Items of `manifest` by id.
pub fn item<'a>(manifest: &'a Value, id: &str) -> Option<&'a Value> {
    manifest
        .get("data_items")?
        .as_array()?
        .iter()
        .find(|i| i.get("id").and_then(Value::as_str) == Some(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matrix_cells() {
        let m = json!({});
        let s = |i: Value| sensitive(&i, &m);
        assert!(s(json!({"category": "user.health.vital_signs"})));
        assert!(s(json!({"category": "user.location.precise"})));
        assert!(s(json!({"category": "user.location.coarse"})));
        assert!(!s(
            json!({"category": "user.location.coarse", "time_series": false, "precision_m": 5000})
        ));
        assert!(!s(
            json!({"category": "user.content.audio_recording", "biometric_use": "none"})
        ));
        assert!(s(
            json!({"category": "user.content.audio_recording", "biometric_use": "verification"})
        ));
        assert!(s(
            json!({"category": "user.device.device_id", "subjects": ["child"]})
        ));
        assert!(!s(json!({"category": "user.device.device_id"})));
        assert!(!s(
            json!({"category": "user.health", "identifiability": "anonymous"})
        ));
        assert!(!s(json!({"category": "system.operations"})));
        let hc = json!({"device": {"deployment_contexts": ["healthcare"]}});
        assert!(sensitive(
            &json!({"category": "user.content.video_recording"}),
            &hc
        ));
    }
}
