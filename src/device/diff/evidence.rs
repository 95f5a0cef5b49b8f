//! Blueprint against evidence from a shipped unit: traffic
//! flows against `network_endpoints`, firmware digests and components
//! against `device.firmware`.
//!
//! Matching rules: a declared host matches a name exactly (case-insensitive)
//! or, written `*.example.com`, any name below `example.com`. A flow's names
//! are its TLS SNI and HTTP `Host` when present, otherwise the DNS names that
//! resolved to its address inside the capture; a flow with no name matches
//! only a declared address range. Missing, truncated or unparsable evidence
//! becomes a [`Gap`], so the verdict can never be "matches" (`docs/deviations.md`).

use super::sensitivity;
use super::{Class, Deviation, EscalationRule, Evidence, Gap, Mode, Report, subject_of};
use crate::device::observe::Observation;
use crate::device::observe::observation::{Firmware, Flow, Traffic};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// One evidence file as the caller could read it.
#[derive(Debug, Clone)]
pub struct EvidenceInput {
    /// File name, for the report.
    pub name: String,
    /// The observation, or why the file could not be used.
    pub observation: Result<Observation, String>,
}

/// Most flows listed as evidence under one deviation.
const MAX_FLOWS_PER_DEVIATION: usize = 50;

struct Endpoint<'a> {
    index: usize,
    host: String,
    port: Option<u64>,
    tls: bool,
    carries: Vec<String>,
    ranges: Vec<Cidr>,
    value: &'a Value,
}

fn endpoints(blueprint: &Value) -> Vec<Endpoint<'_>> {
    let Some(list) = blueprint.get("network_endpoints").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .map(|(index, e)| {
            let host = e
                .get("host")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim_end_matches('.')
                .to_ascii_lowercase();
            let protocol = e.get("protocol").and_then(Value::as_str).unwrap_or("");
            let tls = e
                .pointer("/tls/enabled")
                .and_then(Value::as_bool)
                .unwrap_or(matches!(
                    protocol,
                    "https" | "mqtts" | "coaps" | "wss" | "dtls"
                ));
            let mut ranges: Vec<Cidr> = e
                .get("addresses")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .filter_map(Cidr::parse)
                        .collect()
                })
                .unwrap_or_default();
            ranges.extend(Cidr::parse(&host));
            let carries = e
                .get("carries_items")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            Endpoint {
                index,
                host,
                port: e.get("port").and_then(Value::as_u64),
                tls,
                carries,
                ranges,
                value: e,
            }
        })
        .collect()
}

/// An IPv4 or IPv6 prefix (`192.0.2.0/24`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    len: u8,
}

impl Cidr {
    /// Parses `ADDR` or `ADDR/LEN`.
    pub fn parse(s: &str) -> Option<Cidr> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            Some(l) => l.parse::<u8>().ok().filter(|l| *l <= max)?,
            None => max,
        };
        Some(Cidr { addr, len })
    }

    /// Whether `ip` lies inside the prefix.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        let (a, b, bits) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => (
                u128::from(u32::from(a)) << 96,
                u128::from(u32::from(*b)) << 96,
                self.len,
            ),
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(*b), self.len),
            _ => return false,
        };
        if bits == 0 {
            return true;
        }
        let mask = u128::MAX << (128 - u32::from(bits));
        a & mask == b & mask
    }
}

/// Declared host pattern against an observed name.
pub fn host_matches(pattern: &str, name: &str) -> bool {
    let name = name.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            name.len() > suffix.len() + 1
                && name[name.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
                && name.as_bytes()[name.len() - suffix.len() - 1] == b'.'
        }
        None => pattern.eq_ignore_ascii_case(name),
    }
}

/// The registrable domain of a host name, by the common rule: the last two
/// labels, or three under a two-letter country code with a generic second
/// level (`co.uk`, `com.cn`). Used only to recognize endpoint churn (M2).
pub fn registrable(name: &str) -> Option<String> {
    let name = name
        .trim_start_matches("*.")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if name.parse::<IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = name.split('.').filter(|l| !l.is_empty()).collect();
    let n = labels.len();
    if n < 2 {
        return None;
    }
    let generic = ["co", "com", "net", "org", "gov", "edu", "ac", "ne", "or"];
    let take = if n >= 3 && labels[n - 1].len() == 2 && generic.contains(&labels[n - 2]) {
        3
    } else {
        2
    };
    Some(labels[n - take..].join("."))
}

/// The names a flow claims: SNI and HTTP Host win over DNS (they name the
/// service the device asked for); DNS names otherwise.
fn flow_names(f: &Flow) -> (Vec<&str>, &'static str) {
    let direct: Vec<&str> = f
        .tls_sni
        .iter()
        .chain(&f.http_host)
        .map(String::as_str)
        .collect();
    if !direct.is_empty() {
        return (
            direct,
            if f.tls_sni.is_empty() {
                "http-host"
            } else {
                "tls-sni"
            },
        );
    }
    (f.dns_names.iter().map(String::as_str).collect(), "dns")
}

fn infrastructure(f: &Flow) -> bool {
    matches!(f.protocol.as_deref(), Some("dns" | "ntp" | "dhcp"))
        || (f.transport == crate::device::observe::observation::Transport::Udp
            && matches!(f.port, 53 | 123 | 67 | 68))
}

fn flow_evidence(source: &str, f: &Flow) -> Evidence {
    Evidence {
        kind: "flow".into(),
        source: source.to_owned(),
        detail: serde_json::to_value(f).unwrap_or(Value::Null),
    }
}

/// Findings grouped by (class, subject) so one remote party gives one deviation.
#[derive(Default)]
struct Groups {
    map: BTreeMap<(Class, String), Deviation>,
}

impl Groups {
    fn add(&mut self, key: (Class, String), make: impl FnOnce() -> Deviation, ev: Evidence) {
        let d = self.map.entry(key).or_insert_with(make);
        if d.evidence.len() < MAX_FLOWS_PER_DEVIATION {
            d.evidence.push(ev);
        }
    }
}

fn sensitive_items(blueprint: &Value, ids: &[String]) -> Vec<String> {
    ids.iter()
        .filter(|id| {
            sensitivity::item(blueprint, id).is_some_and(|i| sensitivity::sensitive(i, blueprint))
        })
        .cloned()
        .collect()
}

fn traffic(
    blueprint: &Value,
    eps: &[Endpoint],
    source: &str,
    t: &Traffic,
    seen: &mut BTreeSet<usize>,
    groups: &mut Groups,
) {
    for f in &t.flows {
        if f.scope == "local" {
            continue;
        }
        let (names, via) = flow_names(f);
        let matched: Vec<&Endpoint> = if names.is_empty() {
            eps.iter()
                .filter(|e| e.ranges.iter().any(|r| r.contains(&f.remote_ip)))
                .collect()
        } else {
            eps.iter()
                .filter(|e| {
                    names.iter().any(|n| host_matches(&e.host, n))
                        || e.ranges.iter().any(|r| r.contains(&f.remote_ip))
                })
                .collect()
        };
        let label = names
            .first()
            .map(|n| (*n).to_owned())
            .unwrap_or_else(|| f.remote_ip.to_string());
        if !matched.is_empty() {
            for e in &matched {
                seen.insert(e.index);
                let path = format!("/network_endpoints/{}", e.index);
                if e.tls && f.encrypted == Some(false) {
                    let why = format!(
                        "Plaintext {} to {} ({}:{}), which the blueprint declares with TLS.",
                        f.protocol.as_deref().unwrap_or("traffic"),
                        e.host,
                        f.remote_ip,
                        f.port
                    );
                    groups.add(
                        (Class::P6, e.host.clone()),
                        || {
                            let mut d = Deviation::new(Class::P6, path.clone()).because(&why);
                            d.ids = vec![e.host.clone()];
                            d.before = e.value.get("tls").cloned();
                            d.after = Some(json!({"encrypted": false, "protocol": f.protocol}));
                            d
                        },
                        flow_evidence(source, f),
                    );
                } else if !e.tls && f.encrypted == Some(true) {
                    groups.add(
                        (Class::M1, e.host.clone()),
                        || {
                            let mut d = Deviation::new(Class::M1, path.clone())
                                .because(format!("Traffic to {} is encrypted although the blueprint declares plaintext.", e.host));
                            d.ids = vec![e.host.clone()];
                            d.before = e.value.get("tls").cloned();
                            d.after = Some(json!({"encrypted": true, "protocol": f.protocol}));
                            d
                        },
                        flow_evidence(source, f),
                    );
                }
                if let Some(p) = e
                    .port
                    .filter(|p| *p != u64::from(f.port) && !f.device_is_server)
                {
                    let _ = p;
                    let mut d = Deviation::new(Class::M2, path.clone()).because(format!(
                        "{} was reached on port {} instead of the declared {}.",
                        e.host, f.port, p
                    ));
                    d.ids = vec![e.host.clone()];
                    d.before = e.value.get("port").cloned();
                    d.after = Some(json!(f.port));
                    let sens = sensitive_items(blueprint, &e.carries);
                    if !sens.is_empty() {
                        d.escalate(
                            EscalationRule::E1,
                            Class::P3,
                            format!("the endpoint carries sensitive item(s) {}", sens.join(", ")),
                        );
                    }
                    groups.add(
                        (d.class, format!("{}:{}", e.host, f.port)),
                        || d,
                        flow_evidence(source, f),
                    );
                }
            }
            continue;
        }
        // Same registrable domain as declared endpoints: endpoint churn (M2),
        // judged against every sibling's carried items for E1.
        let siblings: Vec<&Endpoint> = names
            .iter()
            .filter_map(|n| registrable(n))
            .flat_map(|reg| {
                eps.iter()
                    .filter(move |e| registrable(&e.host).as_deref() == Some(reg.as_str()))
            })
            .collect();
        if let Some(first) = siblings.first() {
            let why = format!(
                "{label} ({via}) is not declared, but shares its domain with declared endpoint {}.",
                first.host
            );
            let carried: Vec<String> = siblings
                .iter()
                .flat_map(|e| e.carries.iter().cloned())
                .collect();
            let sens = sensitive_items(blueprint, &carried);
            let mut d = Deviation::new(Class::M2, "/network_endpoints").because(&why);
            d.ids = vec![label.clone(), first.host.clone()];
            d.after = Some(json!({"names": names, "remote_ip": f.remote_ip, "port": f.port}));
            if !sens.is_empty() {
                d.escalate(
                    EscalationRule::E1,
                    Class::P3,
                    format!(
                        "a declared endpoint of the same domain carries sensitive item(s) {}",
                        sens.join(", ")
                    ),
                );
            }
            groups.add((d.class, label.clone()), || d, flow_evidence(source, f));
            continue;
        }
        if infrastructure(f) {
            let mut d = Deviation::new(Class::M3, "/network_endpoints").because(format!(
                "Undeclared {} service {label} ({}): an infrastructure protocol that carries no personal payload.",
                f.protocol.as_deref().unwrap_or("infrastructure"),
                f.remote_ip
            ));
            d.ids = vec![label.clone()];
            d.after = Some(json!({"names": names, "remote_ip": f.remote_ip, "port": f.port}));
            groups.add((Class::M3, label.clone()), || d, flow_evidence(source, f));
            continue;
        }
        let why = if names.is_empty() {
            format!(
                "The device exchanged traffic with {} (port {}), an address no DNS answer in the capture and no declared address range explains.",
                f.remote_ip, f.port
            )
        } else {
            format!("The device talked to {label} ({via}), which no declared endpoint matches.")
        };
        groups.add(
            (Class::P3, label.clone()),
            || {
                let mut d = Deviation::new(Class::P3, "/network_endpoints").because(&why);
                d.ids = vec![label.clone()];
                d.after = Some(json!({"names": names, "remote_ip": f.remote_ip, "port": f.port, "transport": f.transport}));
                d
            },
            flow_evidence(source, f),
        );
    }
}

fn norm_digest(d: &str) -> String {
    let d = d.trim().to_ascii_lowercase();
    if d.contains(':') {
        d
    } else {
        format!("sha256:{d}")
    }
}

fn firmware(
    blueprint: &Value,
    source: &str,
    fw: &Firmware,
    out: &mut Vec<Deviation>,
    gaps: &mut Vec<Gap>,
) {
    let mut declared: BTreeMap<String, String> = BTreeMap::new();
    if let Some(d) = blueprint
        .pointer("/device/firmware/digest")
        .and_then(Value::as_str)
    {
        declared.insert(norm_digest(d), "/device/firmware/digest".into());
    }
    if let Some(vs) = blueprint
        .pointer("/device/firmware/variants")
        .and_then(Value::as_array)
    {
        for (i, v) in vs.iter().enumerate() {
            if let Some(d) = v.get("digest").and_then(Value::as_str) {
                declared.insert(
                    norm_digest(d),
                    format!("/device/firmware/variants/{i}/digest"),
                );
            }
        }
    }
    let ev = |detail: Value| Evidence {
        kind: "firmware".into(),
        source: source.to_owned(),
        detail,
    };
    if declared.is_empty() {
        gaps.push(Gap {
            source: source.to_owned(),
            reason: "the blueprint declares no firmware digest to compare the image with".into(),
        });
    } else if fw.digests.is_empty() {
        gaps.push(Gap {
            source: source.to_owned(),
            reason: "the SBOM carries no digest of the firmware image (metadata.component.hashes)"
                .into(),
        });
    } else if let Some(path) = fw.digests.iter().find_map(|d| declared.get(d)) {
        let declared_version = blueprint
            .pointer("/device/firmware/version")
            .and_then(Value::as_str);
        if path == "/device/firmware/digest"
            && fw.version.is_some()
            && declared_version.is_some()
            && fw.version.as_deref() != declared_version
        {
            let mut d = Deviation::new(Class::M4, "/device/firmware/version").because(
                "The image digest matches the blueprint but the SBOM names another version.",
            );
            d.before = declared_version.map(Value::from);
            d.after = fw.version.clone().map(Value::from);
            d.evidence
                .push(ev(json!({"version": fw.version, "digests": fw.digests})));
            out.push(d);
        }
    } else if fw.digests.iter().any(|d| {
        declared
            .keys()
            .any(|k| k.split(':').next() == d.split(':').next())
    }) {
        let mut d = Deviation::new(Class::P11, "/device/firmware").because("The shipped firmware image's digest is neither the declared build nor any declared variant.");
        d.ids = fw.name.iter().cloned().collect();
        d.before = Some(json!(declared.keys().collect::<Vec<_>>()));
        d.after = Some(json!(fw.digests));
        d.evidence.push(ev(
            json!({"name": fw.name, "version": fw.version, "digests": fw.digests}),
        ));
        out.push(d);
    } else {
        gaps.push(Gap {
            source: source.to_owned(),
            reason: "the SBOM's image digests use no algorithm the blueprint declares".into(),
        });
    }
    // Components, when the blueprint lists them.
    let Some(list) = blueprint
        .pointer("/device/firmware/components")
        .and_then(Value::as_array)
    else {
        return;
    };
    let declared: Vec<(String, Option<String>, BTreeSet<String>)> = list
        .iter()
        .filter_map(|c| {
            let name = c.get("name")?.as_str()?.to_owned();
            let version = c.get("version").and_then(Value::as_str).map(str::to_owned);
            let mut hashes: BTreeSet<String> = c
                .get("hashes")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(norm_digest)
                        .collect()
                })
                .unwrap_or_default();
            hashes.extend(c.get("digest").and_then(Value::as_str).map(norm_digest));
            Some((name, version, hashes))
        })
        .collect();
    let mut used = vec![false; declared.len()];
    let mut undisclosed = Vec::new();
    for c in &fw.components {
        let hit = declared.iter().position(|(n, v, h)| {
            n == &c.name
                && (v.is_none() || v == &c.version)
                && (h.is_empty() || c.hashes.iter().any(|x| h.contains(x)))
        });
        match hit {
            Some(i) => used[i] = true,
            None => undisclosed.push(c),
        }
    }
    if !undisclosed.is_empty() {
        let mut d = Deviation::new(Class::P11, "/device/firmware/components").because(format!(
            "{} firmware component(s) or component digests are not in the blueprint.",
            undisclosed.len()
        ));
        d.ids = undisclosed.iter().map(|c| c.name.clone()).collect();
        d.after = Some(json!(undisclosed));
        for c in undisclosed.iter().take(MAX_FLOWS_PER_DEVIATION) {
            d.evidence.push(ev(json!(c)));
        }
        out.push(d);
    }
    for (i, (name, _, _)) in declared.iter().enumerate() {
        if !used[i] {
            let mut d = Deviation::new(Class::M5, format!("/device/firmware/components/{i}"))
                .because(format!(
                    "Declared component {name} is not in the shipped firmware's SBOM."
                ));
            d.ids = vec![name.clone()];
            d.before = list.get(i).cloned();
            out.push(d);
        }
    }
}

/// Compares a blueprint with the observations of a shipped unit.
pub fn diff_evidence(blueprint: &Value, source: &str, inputs: &[EvidenceInput]) -> Report {
    let eps = endpoints(blueprint);
    let mut groups = Groups::default();
    let mut out = Vec::new();
    let mut gaps = Vec::new();
    let mut seen = BTreeSet::new();
    let mut traffic_ok = false;
    if inputs.is_empty() {
        gaps.push(Gap {
            source: String::new(),
            reason: "no evidence was given".into(),
        });
    }
    for input in inputs {
        let obs = match &input.observation {
            Ok(o) => o,
            Err(why) => {
                gaps.push(Gap {
                    source: input.name.clone(),
                    reason: why.clone(),
                });
                continue;
            }
        };
        if obs.traffic.is_none() && obs.firmware.is_none() {
            gaps.push(Gap {
                source: input.name.clone(),
                reason: "the observation holds neither traffic nor firmware evidence".into(),
            });
        }
        if let Some(t) = &obs.traffic {
            let mut usable = true;
            if t.coverage.truncated || !t.coverage.partial.is_empty() {
                usable = false;
                gaps.push(Gap {
                    source: input.name.clone(),
                    reason: format!(
                        "partial capture: {}",
                        if t.coverage.partial.is_empty() {
                            "truncated".to_owned()
                        } else {
                            t.coverage.partial.join("; ")
                        }
                    ),
                });
            }
            if t.coverage.packets_device == 0 {
                usable = false;
                gaps.push(Gap {
                    source: input.name.clone(),
                    reason: format!(
                        "the device ({}) sent or received no packets in the capture",
                        t.device.selector
                    ),
                });
            }
            traffic(blueprint, &eps, &input.name, t, &mut seen, &mut groups);
            traffic_ok |= usable;
        }
        if let Some(fw) = &obs.firmware {
            firmware(blueprint, &input.name, fw, &mut out, &mut gaps);
        }
    }
    if traffic_ok {
        for e in &eps {
            if !seen.contains(&e.index) {
                let mut d = Deviation::new(Class::M5, format!("/network_endpoints/{}", e.index))
                    .because(format!(
                        "Declared endpoint {} was not contacted in the captures.",
                        e.host
                    ));
                d.ids = vec![e.host.clone()];
                d.before = Some(e.value.clone());
                out.push(d);
            }
        }
    }
    out.extend(groups.map.into_values());
    let against = inputs.iter().map(|i| i.name.clone()).collect();
    Report::new(
        Mode::Evidence,
        subject_of(blueprint, source, against),
        out,
        gaps,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_exact_hosts() {
        assert!(host_matches("api.example.com", "API.Example.com."));
        assert!(host_matches("*.example.com", "a.example.com"));
        assert!(host_matches("*.example.com", "a.b.example.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(!host_matches("*.example.com", "badexample.com"));
        assert!(!host_matches("api.example.com", "api.example.com.evil"));
    }

    #[test]
    fn cidr() {
        let c = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(c.contains(&"203.0.113.77".parse().unwrap()));
        assert!(!c.contains(&"203.0.114.1".parse().unwrap()));
        assert!(
            Cidr::parse("2001:db8::/32")
                .unwrap()
                .contains(&"2001:db8::1".parse().unwrap())
        );
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("a1.tuyaeu.com").is_none());
    }

    #[test]
    fn registrable_domains() {
        assert_eq!(registrable("a1.tuyaeu.com").as_deref(), Some("tuyaeu.com"));
        assert_eq!(
            registrable("x.y.example.co.uk").as_deref(),
            Some("example.co.uk")
        );
        assert_eq!(registrable("1.2.3.4"), None);
    }
}
