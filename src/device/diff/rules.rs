//! How each manifest field moves the risk envelope: the
//! rule table that judges one structural change as loosening (a P
//! class), tightening (M1, M8) or drift (M4), before escalation.

use super::manifest::{Change, ChangeKind};
use super::{Class, sensitivity};
use serde_json::Value;
use std::collections::BTreeSet;

/// How a field moves the risk envelope.
#[derive(Clone, Copy)]
pub(super) enum Rule {
    /// Expected to change between versions: not a deviation.
    Ignore,
    /// No change of substance (M4).
    Drift,
    /// Boolean, `true` protects: true→false loosens (class), false→true is M1.
    Good(Class),
    /// Like `Good`, for commitments: tightening is M8.
    GoodCommit(Class),
    /// Boolean, `true` is risky.
    Bad(Class),
    /// Ordered enum, ascending protection.
    Ladder(&'static [&'static str], Class),
    /// Number, lower protects; `null` is unbounded. (loosen class, tighten class)
    Lower(Class, Class),
    /// Number, higher protects.
    Higher(Class, Class),
    /// Date, later protects (support end).
    Later(Class),
    /// Set membership: adding loosens.
    AddLoosens(Class),
    /// Set membership: removing loosens.
    RemoveLoosens(Class),
    /// A reference (URL, contact): unsetting it loosens, changing it is drift.
    Required(Class),
    /// Field needs its own judgement.
    Custom(fn(&Change, &Ctx) -> Judged),
}

/// A judgement before escalation.
pub(super) struct Judged {
    pub(super) class: Class,
    /// Class E1 raises a minor deviation to (None: never escalates).
    pub(super) e1: Option<Class>,
    pub(super) why: String,
}

pub(super) fn judged(class: Class, why: impl Into<String>) -> Judged {
    let e1 = match class {
        Class::M2 => Some(Class::P3),
        Class::M3 | Class::M6 => Some(Class::P1),
        Class::M7 => Some(Class::P5),
        Class::M9 => Some(Class::P10),
        _ => None,
    };
    Judged {
        class,
        e1,
        why: why.into(),
    }
}

pub(super) struct Ctx<'a> {
    pub(super) old: &'a Value,
    pub(super) new: &'a Value,
}

const CONSENT: &[&str] = crate::derived::CONSENT_LADDER;
const TLS_VERSIONS: &[&str] = &["1.0", "1.1", "1.2", "1.3"];
const IDENTIFIABILITY: &[&str] = &["identified", "pseudonymous", "anonymous"];
const BIOMETRIC: &[&str] = &["identification", "verification", "none"];
const EXPOSURE: &[&str] = &["wan", "lan", "localhost"];
const DISCLOSES: &[&str] = &[
    "personal_data",
    "security_relevant",
    "documented_harmless",
    "nothing",
];
const DELETION: &[&str] = &[
    "none",
    "logical_delete",
    "anonymize",
    "secure_overwrite",
    "crypto_erase",
    "physical_destruction",
];
const OPERATED_BY: &[&str] = &["third_party", "vendor", "user"];
const ROLE: &[&str] = &[
    "government",
    "third_party",
    "controller",
    "contractor",
    "service_provider",
    "processor",
];
const PLAINTEXT_PROTOCOLS: &[&str] = &["http", "mqtt", "coap", "telnet"];

pub(super) fn rule(shape: &str) -> Rule {
    use Class::*;
    use Rule::*;
    match shape {
        "blueprint.version" | "blueprint.issued_at" => Ignore,
        "markets[]" => AddLoosens(P4),
        // device
        "device.intended_users[]" | "device.deployment_contexts[]" => AddLoosens(P1),
        "device.directed_to_children" => Bad(P1),
        "device.firmware.variants[]" => Custom(variant_added),
        "device.firmware.variants[].items[]" | "device.firmware.variants[].endpoints[]" => {
            AddLoosens(P11)
        }
        // sensors
        "sensors[]" => AddLoosens(P2),
        "sensors[].type" => Custom(|_, _| judged(Class::P2, "The sensor's type changed.")),
        "sensors[].external_sensing" => Bad(P2),
        "sensors[].produces[]" => AddLoosens(P1),
        "sensors[].documented" => Good(P2),
        "sensors[].indicator" => Custom(indicator),
        "sensors[].default_enabled" => Bad(P9),
        "sensors[].user_disableable" => Good(P9),
        "sensors[].always_on" => Bad(P1),
        // data items
        "data_items[]" => Custom(item_added),
        "data_items[].category" => Custom(category),
        "data_items[].processing_location" => Custom(processing_location),
        "data_items[].identifiability" => Ladder(IDENTIFIABILITY, P1),
        "data_items[].biometric_use" => Ladder(BIOMETRIC, P1),
        "data_items[].precision_m" => Higher(M6, M1),
        "data_items[].time_series" => Custom(|c, _| {
            if c.after.as_ref().and_then(Value::as_bool).unwrap_or(true) {
                judged(Class::M6, "Values are now kept as a time series.")
            } else {
                judged(Class::M1, "Values are no longer kept as a time series.")
            }
        }),
        "data_items[].subjects[]" | "data_items[].markets[]" => AddLoosens(P1),
        "data_items[].purposes[]" => AddLoosens(P9),
        "data_items[].default_enabled"
        | "data_items[].sale_or_share"
        | "data_items[].lifecycle.sell"
        | "data_items[].lifecycle.use" => Bad(P9),
        s if s.starts_with("data_items[].used_for.") => Bad(P9),
        "data_items[].lifecycle.transfer" => Bad(P3),
        "data_items[].lifecycle.collect" => Bad(P1),
        "data_items[].lifecycle.store" => Bad(P10),
        "data_items[].legal_basis.gdpr" | "data_items[].legal_basis.pipl" => Custom(legal_basis),
        "data_items[].consent.kind" => Ladder(CONSENT, P9),
        "data_items[].consent.parental[]" => RemoveLoosens(P9),
        "data_items[].consent.per_purpose"
        | "data_items[].consent.withdrawable"
        | "data_items[].consent.records_kept"
        | "data_items[].consent.age_gate"
        | "data_items[].consent.reconsent_on_change" => Good(P9),
        "data_items[].consent.required_to_use_device" => Bad(P9),
        "data_items[].retention.period_days" => Custom(retention),
        "data_items[].retention.applies_to[]" => RemoveLoosens(P10),
        "data_items[].retention.deletion_method" => Ladder(DELETION, P10),
        "data_items[].storage_regions[]" | "data_items[].cross_border[]" => AddLoosens(P4),
        "data_items[].cross_border[].to_country" => Custom(|_, _| {
            judged(
                Class::P4,
                "The destination country of a cross-border transfer changed.",
            )
        }),
        "data_items[].cross_border[].mechanism" => Custom(mechanism),
        "data_items[].cross_border[].recipient" => Custom(|_, _| {
            judged(
                Class::P3,
                "A cross-border transfer now goes to another recipient.",
            )
        }),
        "data_items[].cross_border[].volume_individuals_ytd"
        | "data_items[].cross_border[].spi_volume_ytd" => Custom(|c, _| {
            let mut j = number_move(c, true, Class::M6, Class::M1);
            j.e1 = Some(Class::P4);
            j
        }),
        "data_items[].cross_border[].filing_ref" | "data_items[].cross_border[].valid_until" => {
            Required(P12)
        }
        "data_items[].recipients[]" => AddLoosens(P3),
        "data_items[].encryption.at_rest"
        | "data_items[].encryption.end_to_end"
        | "data_items[].encryption.local_link" => Good(P6),
        // recipients and endpoints
        "recipients[]" => AddLoosens(P3),
        "recipients[].country" => {
            Custom(|_, _| judged(Class::P4, "The recipient's country changed."))
        }
        "recipients[].role" => Ladder(ROLE, P3),
        s if s.starts_with("recipients[].contract.") => Good(P12),
        "recipients[].dpf_certified" => Good(P12),
        "recipients[].named_in_notice" => Good(P3),
        "recipients[].foreign_adversary_controlled" | "recipients[].covered_person" => Bad(P4),
        "network_endpoints[]" => Custom(endpoint_added),
        "network_endpoints[].operator" => {
            Custom(|_, _| judged(Class::P3, "The endpoint is now operated by another party."))
        }
        "network_endpoints[].country" => Custom(endpoint_country),
        "network_endpoints[].protocol" => Custom(protocol),
        "network_endpoints[].tls.enabled"
        | "network_endpoints[].tls.cert_validation"
        | "network_endpoints[].tls.pinning" => Good(P6),
        "network_endpoints[].tls.min_version" => Ladder(TLS_VERSIONS, P6),
        "network_endpoints[].port" | "network_endpoints[].addresses[]" => Custom(|c, _| {
            if c.kind == ChangeKind::Removed {
                judged(Class::M1, "An endpoint address was removed.")
            } else {
                judged(Class::M2, "The endpoint's port or addresses changed.")
            }
        }),
        "network_endpoints[].carries_items[]" => Custom(carries),
        "network_endpoints[].declared_in_notice" => Good(P3),
        // security
        "security.authentication.password_scheme" => Custom(password_scheme),
        "security.authentication.unique_generation" => Custom(unique_generation),
        "security.authentication.brute_force_protection"
        | "security.authentication.best_practice_crypto"
        | "security.authentication.change_mechanism"
        | "security.authentication.remote_auth_outside_lan" => Good(P7),
        "security.accounts[]" => Custom(account_added),
        "security.accounts[].reachable_from[]" => Custom(|c, _| {
            if c.kind == ChangeKind::Removed {
                judged(Class::M1, "The account is reachable from fewer places.")
            } else if c.after.as_ref().and_then(Value::as_str) == Some("physical") {
                judged(
                    Class::M7,
                    "The account is now reachable with physical access.",
                )
            } else {
                judged(Class::P5, "The account is now reachable over the network.")
            }
        }),
        "security.accounts[].credential" => Custom(credential),
        "security.accounts[].documented" | "security.accounts[].user_can_disable" => Good(P5),
        "security.remote_access_channels[]" | "security.remote_access_channels[].type" => {
            AddLoosens(P5)
        }
        "security.remote_access_channels[].default_enabled"
        | "security.remote_access_channels[].vendor_staff_content_access" => Bad(P5),
        "security.remote_access_channels[].per_session_user_consent"
        | "security.remote_access_channels[].user_can_disable"
        | "security.remote_access_channels[].documented"
        | "security.remote_access_channels[].logged" => Good(P5),
        "security.remote_access_channels[].operated_by" => Ladder(OPERATED_BY, P5),
        "security.debug_interfaces[]" => Custom(debug_added),
        "security.debug_interfaces[].network_reachable" => Bad(P5),
        "security.debug_interfaces[].disabled_in_software" => Good(P5),
        "security.debug_interfaces[].physically_accessible" => Custom(|c, _| {
            if c.after.as_ref().and_then(Value::as_bool).unwrap_or(false) {
                judged(
                    Class::M7,
                    "The debug interface is now physically accessible.",
                )
            } else {
                judged(
                    Class::M1,
                    "The debug interface is no longer physically accessible.",
                )
            }
        }),
        "security.open_ports[]" => Custom(port_added),
        "security.open_ports[].exposure" => Custom(exposure),
        "security.open_ports[].auth_required" | "security.open_ports[].documented" => Good(P5),
        "security.open_ports[].encrypted" => Good(P6),
        "security.open_ports[].discloses_unauthenticated" => Ladder(DISCLOSES, P6),
        "security.open_ports[].service"
        | "security.open_ports[].default_enabled"
        | "security.open_ports[].config_capable" => Custom(|c, ctx| {
            let lan_only = port_is_lan_only(c, ctx);
            if lan_only {
                judged(Class::M7, "A LAN-only service changed.")
            } else {
                judged(
                    Class::P5,
                    "A network service reachable from the WAN changed.",
                )
            }
        }),
        "security.credentials.hardcoded_secrets" => Bad(P5),
        "security.credentials.hardcoded_identity" => Bad(P7),
        "security.credentials.per_device_keys"
        | "security.credentials.tamper_resistant_identity" => Good(P7),
        "security.credentials.secure_storage" => Good(P6),
        "security.update.signed"
        | "security.update.verify_before_install"
        | "security.update.secure_mechanism"
        | "security.update.over_tls"
        | "security.secure_boot" => Good(P8),
        "security.update.supported" | "security.update.automatic_default" => GoodCommit(P13),
        "security.update.timely_policy_days" => Lower(P13, M8),
        "security.support_period.end_date" => Later(P13),
        "security.support_period.shown_at_point_of_sale" => GoodCommit(P13),
        "security.support_period.expected_use_years" => Higher(P13, M8),
        "security.vuln_disclosure.policy_url"
        | "security.vuln_disclosure.contact"
        | "security.vuln_disclosure.advisory_channel" => Required(P13),
        "security.vuln_disclosure.ack_days"
        | "security.vuln_disclosure.status_update_days"
        | "security.vuln_disclosure.remediation_days" => Lower(P13, M8),
        "security.vuln_disclosure.in_english" => GoodCommit(P13),
        "security.factory_reset.erases_user_data"
        | "security.factory_reset.erases_cloud_binding" => Good(P10),
        //
        "user_rights.withdraw_consent"
        | "user_rights.opt_out_sale_share"
        | "user_rights.opt_out_ai_training"
        | "user_rights.opt_out_signal_honored"
        | "user_rights.limit_spi" => Good(P9),
        "user_rights.response_days" => Custom(response_days),
        "user_rights.request_channels[]" => RemoveLoosens(P10),
        "user_rights.portability.format" => Drift,
        s if s.starts_with("user_rights.") && !s.ends_with("[]") => Good(P10),
        "transparency.privacy_notice.changes_notified"
        | "transparency.notice_at_collection"
        | "transparency.bystander_signage" => Good(P9),
        s if s.starts_with("transparency.privacy_notice.content.") => Good(P9),
        "transparency.sensing_capabilities_documented" => Good(P2),
        "transparency.telemetry_documented" => Good(P1),
        s if s.starts_with("incident_response.authority_hours.") => Lower(P13, M8),
        "incident_response.hbnr_days" | "incident_response.ransom_payment_hours" => Lower(P13, M8),
        "incident_response.plan"
        | "incident_response.records"
        | "incident_response.data_preservation"
        | "incident_response.supplemental_reports"
        | "incident_response.user_notice_commitment" => GoodCommit(P13),
        "assessments.dpia.done"
        | "assessments.pipia.done"
        | "assessments.ccpa_risk_assessment.done"
        | "cn.mlps.filed" => Good(P12),
        "assessments.dpia.covers_items[]"
        | "assessments.pipia.covers_items[]"
        | "assessments.ccpa_risk_assessment.covers_items[]" => RemoveLoosens(P12),
        "cn.mlps.filing_no" => Required(P12),
        _ => Drift,
    }
}

pub(super) fn str_of(v: &Option<Value>) -> Option<&str> {
    v.as_ref().and_then(Value::as_str)
}

pub(super) fn bool_of(v: &Option<Value>) -> bool {
    v.as_ref().and_then(Value::as_bool).unwrap_or(false)
}

/// Applies a generic rule.
pub(super) fn apply(rule: Rule, c: &Change, ctx: &Ctx) -> Option<Judged> {
    use ChangeKind::*;
    let field = c.shape.rsplit('.').next().unwrap_or(&c.shape).to_owned();
    Some(match rule {
        Rule::Ignore => return None,
        Rule::Drift => judged(
            Class::M4,
            format!("`{field}` changed without a change of substance."),
        ),
        Rule::Good(loose) | Rule::GoodCommit(loose) => {
            let tight = if matches!(rule, Rule::GoodCommit(_)) {
                Class::M8
            } else {
                Class::M1
            };
            match (bool_of(&c.before), bool_of(&c.after)) {
                (true, false) => judged(loose, format!("`{field}` is no longer true.")),
                (false, true) => judged(tight, format!("`{field}` is now true.")),
                _ => judged(Class::M4, format!("`{field}` changed representation.")),
            }
        }
        Rule::Bad(loose) => match (bool_of(&c.before), bool_of(&c.after)) {
            (false, true) => judged(loose, format!("`{field}` is now true.")),
            (true, false) => judged(Class::M1, format!("`{field}` is no longer true.")),
            _ => judged(Class::M4, format!("`{field}` changed representation.")),
        },
        Rule::Ladder(order, loose) => {
            let rank =
                |v: &Option<Value>| str_of(v).and_then(|s| order.iter().position(|o| *o == s));
            match (rank(&c.before), rank(&c.after)) {
                (Some(a), Some(b)) if b < a => judged(
                    loose,
                    format!("`{field}` weakened from {:?} to {:?}.", order[a], order[b]),
                ),
                (Some(a), Some(b)) if b > a => judged(
                    Class::M1,
                    format!(
                        "`{field}` strengthened from {:?} to {:?}.",
                        order[a], order[b]
                    ),
                ),
                (Some(_), None) if c.kind == Removed => {
                    judged(loose, format!("`{field}` is no longer declared."))
                }
                _ => judged(
                    Class::M4,
                    format!("`{field}` changed to a value outside the known order."),
                ),
            }
        }
        Rule::Lower(loose, tight) => number_move(c, true, loose, tight),
        Rule::Higher(loose, tight) => number_move(c, false, loose, tight),
        Rule::Later(loose) => match (str_of(&c.before), str_of(&c.after)) {
            (Some(a), Some(b)) if b < a => {
                judged(loose, format!("`{field}` moved earlier, from {a} to {b}."))
            }
            (Some(a), Some(b)) if b > a => judged(
                Class::M8,
                format!("`{field}` moved later, from {a} to {b}."),
            ),
            (Some(_), None) => judged(loose, format!("`{field}` is no longer declared.")),
            _ => judged(Class::M4, format!("`{field}` changed.")),
        },
        Rule::AddLoosens(loose) => match c.kind {
            Removed => judged(
                Class::M1,
                format!("{} removed from `{}`.", label(c), parent(&c.shape)),
            ),
            _ => judged(
                loose,
                format!("{} added to `{}`.", label(c), parent(&c.shape)),
            ),
        },
        Rule::RemoveLoosens(loose) => match c.kind {
            Removed => judged(
                loose,
                format!("{} removed from `{}`.", label(c), parent(&c.shape)),
            ),
            _ => judged(
                Class::M1,
                format!("{} added to `{}`.", label(c), parent(&c.shape)),
            ),
        },
        Rule::Required(loose) => match c.kind {
            Removed => judged(loose, format!("`{field}` is no longer set.")),
            _ => judged(Class::M4, format!("`{field}` changed.")),
        },
        Rule::Custom(f) => f(c, ctx),
    })
}

fn parent(shape: &str) -> &str {
    shape.strip_suffix("[]").unwrap_or(shape)
}

fn label(c: &Change) -> String {
    match c.after.as_ref().or(c.before.as_ref()) {
        Some(Value::String(s)) => format!("{s:?}"),
        _ => c
            .ids
            .last()
            .map(|i| format!("{i:?}"))
            .unwrap_or_else(|| "An entry".into()),
    }
}

/// Direction of a numeric change; `null`/absent counts as unbounded.
fn number_move(c: &Change, lower_better: bool, loose: Class, tight: Class) -> Judged {
    let num = |v: &Option<Value>| v.as_ref().and_then(Value::as_f64).unwrap_or(f64::INFINITY);
    let field = c.shape.rsplit('.').next().unwrap_or(&c.shape);
    let (a, b) = (num(&c.before), num(&c.after));
    let worse = if lower_better { b > a } else { b < a };
    let show = |x: f64| {
        if x.is_finite() {
            x.to_string()
        } else {
            "unbounded".into()
        }
    };
    if worse {
        judged(
            loose,
            format!("`{field}` loosened from {} to {}.", show(a), show(b)),
        )
    } else if a != b {
        judged(
            tight,
            format!("`{field}` tightened from {} to {}.", show(a), show(b)),
        )
    } else {
        judged(Class::M4, format!("`{field}` changed representation."))
    }
}

/// The list element at `depth` a change concerns, from the newer manifest
/// when it survives there, else from the older one.
pub(super) fn element<'a>(c: &Change, ctx: &Ctx<'a>, depth: usize) -> Option<&'a Value> {
    let e = c.elements.get(depth)?;
    e.new
        .as_deref()
        .and_then(|p| ctx.new.pointer(p))
        .or_else(|| e.old.as_deref().and_then(|p| ctx.old.pointer(p)))
}

fn item_added(c: &Change, ctx: &Ctx) -> Judged {
    let item = c.after.as_ref().or(c.before.as_ref());
    let personal = item.is_some_and(sensitivity::personal);
    match (c.kind, personal) {
        (ChangeKind::Removed, _) => judged(Class::M1, "The data item is no longer collected."),
        (_, true) => judged(
            Class::P1,
            "A personal data item not in the blueprint is collected.",
        ),
        (_, false) => {
            let _ = ctx;
            judged(Class::M3, "A non-personal data item was added.")
        }
    }
}

fn category(c: &Change, ctx: &Ctx) -> Judged {
    let item = element(c, ctx, 0);
    if item.is_some_and(sensitivity::personal) {
        judged(
            Class::P1,
            format!(
                "The item's category changed from {:?} to {:?}: a data category not in the blueprint.",
                str_of(&c.before).unwrap_or("(none)"),
                str_of(&c.after).unwrap_or("(none)")
            ),
        )
    } else {
        judged(Class::M3, "A non-personal item's category changed.")
    }
}

fn processing_location(c: &Change, _: &Ctx) -> Judged {
    match (str_of(&c.before), str_of(&c.after)) {
        (Some("device"), Some(to)) if to != "device" => judged(
            Class::P1,
            format!(
                "An item declared `processing_location = device` now leaves the device ({to})."
            ),
        ),
        (Some(_), Some("device")) => {
            judged(Class::M1, "The item is now processed on the device only.")
        }
        _ => judged(
            Class::M4,
            "The processing location changed between cloud and both.",
        ),
    }
}

fn legal_basis(c: &Change, _: &Ctx) -> Judged {
    match (str_of(&c.before), str_of(&c.after)) {
        (Some("consent"), Some(to)) => judged(
            Class::P9,
            format!(
                "The legal basis moved from consent to {to}: the user loses the consent control."
            ),
        ),
        (_, Some("consent")) => judged(Class::M1, "The legal basis is now consent."),
        _ => judged(
            Class::M4,
            "The legal basis changed between non-consent bases.",
        ),
    }
}

/// P10 needs retention "materially longer": more than 2× or indefinite (docs/deviations.md).
fn retention(c: &Change, _: &Ctx) -> Judged {
    let num = |v: &Option<Value>| v.as_ref().and_then(Value::as_f64);
    match (num(&c.before), num(&c.after)) {
        (Some(a), Some(b)) if b <= a => {
            if b < a {
                judged(
                    Class::M1,
                    format!("Retention shortened from {a} to {b} days."),
                )
            } else {
                judged(Class::M4, "Retention unchanged.")
            }
        }
        (Some(a), Some(b)) if b <= 2.0 * a => Judged {
            class: Class::M6,
            e1: Some(Class::P10),
            why: format!(
                "Retention lengthened from {a} to {b} days (not more than twice the declared period)."
            ),
        },
        (Some(a), Some(b)) => judged(
            Class::P10,
            format!(
                "Retention lengthened from {a} to {b} days, more than twice the declared period."
            ),
        ),
        (Some(a), None) => judged(
            Class::P10,
            format!("Retention went from {a} days to open-ended."),
        ),
        (None, Some(b)) => judged(
            Class::M1,
            format!("Open-ended retention is now limited to {b} days."),
        ),
        (None, None) => judged(Class::M4, "Retention unchanged."),
    }
}

fn mechanism(c: &Change, _: &Ctx) -> Judged {
    match (str_of(&c.before), str_of(&c.after)) {
        (Some(m), Some("none")) if m != "none" => judged(
            Class::P4,
            format!(
                "The transfer mechanism went from {m} to none: data leaves without a protective mechanism."
            ),
        ),
        (Some("none"), Some(m)) => judged(Class::M1, format!("The transfer now relies on {m}.")),
        _ => judged(Class::M4, "The declared transfer mechanism changed."),
    }
}

fn indicator(c: &Change, _: &Ctx) -> Judged {
    match (str_of(&c.before), str_of(&c.after)) {
        (Some(b), Some("none")) if b != "none" => judged(
            Class::P2,
            "The recording indicator was removed: sensing is no longer visible.",
        ),
        (Some("none"), Some(_)) => judged(Class::M1, "A recording indicator was added."),
        _ => judged(Class::M4, "The recording indicator changed kind."),
    }
}

fn variant_added(c: &Change, ctx: &Ctx) -> Judged {
    if c.kind == ChangeKind::Removed {
        return judged(Class::M1, "A firmware variant was withdrawn.");
    }
    let v = c.after.as_ref();
    let names = |doc: &Value, list: &str, key: &str| -> BTreeSet<String> {
        doc.get(list)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.get(key).and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let items = names(ctx.old, "data_items", "id");
    let hosts = names(ctx.old, "network_endpoints", "host");
    let uses = |k: &str, known: &BTreeSet<String>| -> Vec<String> {
        v.and_then(|v| v.get(k))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|s| !known.contains(*s))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut new_uses = uses("items", &items);
    new_uses.extend(uses("endpoints", &hosts));
    if new_uses.is_empty() {
        judged(
            Class::M4,
            "A firmware variant was declared that uses only accepted items and endpoints.",
        )
    } else {
        judged(
            Class::P11,
            format!(
                "A new firmware variant uses items or endpoints the accepted blueprint did not have: {}.",
                new_uses.join(", ")
            ),
        )
    }
}

/// M2 when another endpoint of the same operator already had the same
/// country, protocol, TLS posture and carried items (docs/deviations.md); M3 when it
/// carries nothing personal (G3); otherwise P3.
fn endpoint_added(c: &Change, ctx: &Ctx) -> Judged {
    let Some(new) = c.after.as_ref() else {
        return judged(Class::M1, "The endpoint was removed.");
    };
    let same = |e: &Value| {
        ["operator", "country", "protocol", "tls"]
            .iter()
            .all(|k| e.get(*k) == new.get(*k))
            && sorted(e.get("carries_items")) == sorted(new.get("carries_items"))
    };
    let old_eps = ctx.old.get("network_endpoints").and_then(Value::as_array);
    if old_eps.is_some_and(|eps| eps.iter().any(same)) {
        return judged(
            Class::M2,
            "A new host of a declared operator, with the same country, protocol, TLS posture and carried items.",
        );
    }
    let personal = carried_items(new)
        .iter()
        .any(|id| sensitivity::item(ctx.new, id).is_some_and(sensitivity::personal));
    if personal {
        judged(Class::P3, "A new endpoint receives personal data.")
    } else {
        judged(Class::M3, "A new endpoint that carries no personal data.")
    }
}

pub(super) fn sorted(v: Option<&Value>) -> Vec<String> {
    let mut out: Vec<String> = v
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn carried_items(endpoint: &Value) -> Vec<String> {
    sorted(endpoint.get("carries_items"))
}

fn endpoint_country(c: &Change, ctx: &Ctx) -> Judged {
    let ep = element(c, ctx, 0);
    let personal = ep.is_some_and(|e| {
        carried_items(e)
            .iter()
            .any(|id| sensitivity::item(ctx.new, id).is_some_and(sensitivity::personal))
    });
    if personal {
        judged(
            Class::P4,
            "An endpoint carrying personal data moved to another country.",
        )
    } else {
        judged(
            Class::M3,
            "An endpoint carrying no personal data moved to another country.",
        )
    }
}

fn protocol(c: &Change, _: &Ctx) -> Judged {
    let plain = |v: &Option<Value>| str_of(v).map(|s| PLAINTEXT_PROTOCOLS.contains(&s));
    match (plain(&c.before), plain(&c.after)) {
        (Some(false), Some(true)) if str_of(&c.before) != Some("custom") => judged(
            Class::P6,
            format!(
                "The protocol changed from {} to plaintext {}.",
                str_of(&c.before).unwrap_or(""),
                str_of(&c.after).unwrap_or("")
            ),
        ),
        (Some(true), Some(false)) if str_of(&c.after) != Some("custom") => {
            judged(Class::M1, "The protocol is now encrypted.")
        }
        _ => judged(
            Class::M4,
            "The protocol changed without a change of encryption.",
        ),
    }
}

fn carries(c: &Change, ctx: &Ctx) -> Judged {
    if c.kind == ChangeKind::Removed {
        return judged(
            Class::M1,
            format!("The endpoint no longer carries {}.", label(c)),
        );
    }
    let id = str_of(&c.after).unwrap_or("");
    if sensitivity::item(ctx.new, id).is_some_and(sensitivity::personal) {
        judged(
            Class::P3,
            format!("The endpoint now receives personal item {id:?}."),
        )
    } else {
        judged(
            Class::M3,
            format!("The endpoint now receives non-personal item {id:?}."),
        )
    }
}

fn password_scheme(c: &Change, _: &Ctx) -> Judged {
    let rank = |v: &Option<Value>| match str_of(v) {
        Some("none") => Some(0),
        Some("universal_default") => Some(1),
        Some("unique_per_device" | "user_set_on_first_use") => Some(2),
        _ => None,
    };
    match (rank(&c.before), rank(&c.after)) {
        (Some(a), Some(b)) if b < a => judged(Class::P7, "The password scheme weakened."),
        (Some(a), Some(b)) if b > a => judged(Class::M1, "The password scheme strengthened."),
        _ => judged(
            Class::M4,
            "The password scheme changed between equivalent schemes.",
        ),
    }
}

fn unique_generation(c: &Change, _: &Ctx) -> Judged {
    let derivable = |v: &Option<Value>| {
        str_of(v).map(|s| matches!(s, "serial_derived" | "mac_derived" | "counter"))
    };
    match (derivable(&c.before), derivable(&c.after)) {
        (Some(false), Some(true)) => judged(Class::P7, "Per-device passwords are now derivable."),
        (Some(true), Some(false)) => {
            judged(Class::M1, "Per-device passwords are no longer derivable.")
        }
        _ => judged(
            Class::M4,
            "The password generation changed between equivalent methods.",
        ),
    }
}

fn account_added(c: &Change, _: &Ctx) -> Judged {
    let Some(a) = c.after.as_ref() else {
        return judged(Class::M1, "The account was removed.");
    };
    let network = sorted(a.get("reachable_from"))
        .iter()
        .any(|r| r == "lan" || r == "wan");
    let owner = a.get("kind").and_then(Value::as_str) == Some("owner");
    let user_set = a.get("credential").and_then(Value::as_str) == Some("user_set");
    if !network || (owner && user_set) {
        judged(
            Class::M7,
            "A new account that is owner-controlled or physical-only.",
        )
    } else {
        judged(Class::P5, "A new account reachable over the network.")
    }
}

fn credential(c: &Change, _: &Ctx) -> Judged {
    let rank = |v: &Option<Value>| match str_of(v) {
        Some("fixed" | "none") => Some(0),
        Some("user_set" | "unique_per_device") => Some(1),
        Some("key_based") => Some(2),
        _ => None,
    };
    match (rank(&c.before), rank(&c.after)) {
        (Some(_), Some(0)) if rank(&c.before) != Some(0) => {
            judged(Class::P5, "The account now has a fixed or no credential.")
        }
        (Some(a), Some(b)) if b < a => judged(Class::P7, "The account's credential weakened."),
        (Some(a), Some(b)) if b > a => judged(Class::M1, "The account's credential strengthened."),
        _ => judged(
            Class::M4,
            "The account's credential changed between equivalent kinds.",
        ),
    }
}

fn debug_added(c: &Change, _: &Ctx) -> Judged {
    let Some(d) = c.after.as_ref() else {
        return judged(Class::M1, "The debug interface was removed.");
    };
    if d.get("network_reachable")
        .and_then(Value::as_bool)
        .unwrap_or(true)
    {
        judged(Class::P5, "A new network-reachable debug interface.")
    } else {
        judged(
            Class::M7,
            "A new debug interface that is not reachable over the network.",
        )
    }
}

fn port_added(c: &Change, _: &Ctx) -> Judged {
    let Some(p) = c.after.as_ref() else {
        return judged(Class::M1, "The open port was closed.");
    };
    let exposure = p.get("exposure").and_then(Value::as_str).unwrap_or("wan");
    let auth = p
        .get("auth_required")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    match exposure {
        "localhost" => judged(
            Class::M7,
            "A new service reachable only from the device itself.",
        ),
        "lan" if auth => judged(Class::M7, "A new authenticated LAN-only service."),
        "lan" => judged(Class::P5, "A new unauthenticated network service."),
        _ => judged(Class::P5, "A new WAN-reachable listening port."),
    }
}

fn port_is_lan_only(c: &Change, ctx: &Ctx) -> bool {
    element(c, ctx, 0).is_some_and(|p| {
        matches!(
            p.get("exposure").and_then(Value::as_str),
            Some("lan" | "localhost")
        ) && p.get("auth_required").and_then(Value::as_bool) == Some(true)
    })
}

fn exposure(c: &Change, _: &Ctx) -> Judged {
    let rank = |v: &Option<Value>| str_of(v).and_then(|s| EXPOSURE.iter().position(|o| *o == s));
    match (rank(&c.before), rank(&c.after)) {
        (Some(_), Some(0)) if rank(&c.before) != Some(0) => {
            judged(Class::P5, "The service is now reachable from the WAN.")
        }
        (Some(a), Some(b)) if b < a => {
            judged(Class::M7, "The service is now reachable from the LAN.")
        }
        (Some(a), Some(b)) if b > a => judged(Class::M1, "The service's exposure shrank."),
        _ => judged(Class::M4, "The service's exposure changed."),
    }
}

/// Longer than declared but inside the statutory 30 days is M9 (docs/deviations.md).
fn response_days(c: &Change, _: &Ctx) -> Judged {
    let num = |v: &Option<Value>| v.as_ref().and_then(Value::as_f64);
    match (num(&c.before), num(&c.after)) {
        (Some(a), Some(b)) if b > a && b <= 30.0 => judged(
            Class::M9,
            format!("Request response time went from {a} to {b} days, still within 30."),
        ),
        (Some(a), Some(b)) if b > a => judged(
            Class::P10,
            format!("Request response time went from {a} to {b} days, beyond the statutory 30."),
        ),
        (Some(_), None) => judged(
            Class::P10,
            "No request response time is committed any more.",
        ),
        (_, Some(b)) => judged(Class::M1, format!("Request response time is now {b} days.")),
        _ => judged(Class::M4, "Request response time unchanged."),
    }
}
