//! Markets (docs/engine.md) and pseudo-market expansion.

use super::RefData;
use serde_json::{Value, json};

/// Is `m` an EEA market (an EEA state or the pseudo-markets `EU`/`EEA`)?
pub(crate) fn is_eea_market(refs: &RefData, m: &str) -> bool {
    m == "EU" || m == "EEA" || refs.is_eea(m)
}

/// Is `m` a US market (`US` or any `US-*`)?
pub(crate) fn is_us_market(m: &str) -> bool {
    m == "US" || m.starts_with("US-")
}

/// Markets with `EU` → EU-27 and `EEA` → EU-27 + IS, LI, NO; others kept.
pub(crate) fn expand(refs: &RefData, markets: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |s: &str| {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    };
    for m in markets {
        match *m {
            "EU" => refs.eu_states().iter().for_each(|s| push(s)),
            "EEA" => refs.eea_states().iter().for_each(|s| push(s)),
            other => push(other),
        }
    }
    out
}

/// `global.mkt.*`.
pub(crate) fn global_mkt(refs: &RefData, markets: &[&str]) -> Value {
    let any = |f: &dyn Fn(&str) -> bool| markets.iter().any(|m| f(m));
    json!({
        "EEA": any(&|m| is_eea_market(refs, m)),
        "EU": any(&|m| m == "EU" || m == "EEA" || refs.is_eu(m)),
        "CN": any(&|m| m == "CN"),
        "US": any(&|m| is_us_market(m)),
        "US-CA": any(&|m| m == "US-CA"),
        "US-FED": any(&|m| m == "US-FED"),
        "GB": any(&|m| m == "GB"),
        "HK": any(&|m| m == "HK"),
        "MO": any(&|m| m == "MO"),
    })
}

/// Item `markets.{eea, cn, us, us_ca, gb}` over the item's own markets.
pub(crate) fn item_mkt(refs: &RefData, markets: &[&str]) -> Value {
    let any = |f: &dyn Fn(&str) -> bool| markets.iter().any(|m| f(m));
    json!({
        "eea": any(&|m| is_eea_market(refs, m)),
        "cn": any(&|m| m == "CN"),
        "us": any(&|m| is_us_market(m)),
        "us_ca": any(&|m| m == "US-CA"),
        "gb": any(&|m| m == "GB"),
    })
}
