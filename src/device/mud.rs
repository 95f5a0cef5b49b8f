//! RFC 8520 Manufacturer Usage Description export: the declared endpoints
//! become from-device and to-device access lists (RFC 8519 ACLs with the
//! RFC 8520 §10 `ietf-acldns` and `direction-initiated` extensions), so a
//! network that supports MUD can enforce the blueprint.

use serde_json::{Map, Value, json};

/// Options that do not come from the blueprint.
#[derive(Debug, Clone)]
pub struct MudOptions {
    /// RFC 8520 §3.3 `mud-url` (an https URL where the file will be served).
    pub mud_url: String,
    /// RFC 8520 §3.4 `last-update`, RFC 3339, used when the blueprint's
    /// `blueprint.issued_at` is not a date-time.
    pub now: String,
    /// RFC 8520 §3.5 `cache-validity`, hours (1–168).
    pub cache_validity_hours: u8,
}

/// Something declared that a MUD file cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub pointer: String,
    pub reason: String,
}

/// The MUD file and what could not be expressed in it.
#[derive(Debug, Clone)]
pub struct MudFile {
    pub json: Value,
    pub skipped: Vec<Skipped>,
}

/// Transport protocol numbers and default port of an endpoint protocol.
fn transport(protocol: &str) -> (&'static [u8], Option<u16>) {
    match protocol {
        "https" | "wss" => (&[6], Some(443)),
        "http" => (&[6], Some(80)),
        "mqtts" => (&[6], Some(8883)),
        "mqtt" => (&[6], Some(1883)),
        "telnet" => (&[6], Some(23)),
        "coaps" => (&[17], Some(5684)),
        "coap" => (&[17], Some(5683)),
        "dtls" => (&[17], None),
        _ => (&[6, 17], None),
    }
}

fn port_match(key: &str, port: u16) -> Value {
    json!({ key: { "operator": "eq", "port": port } })
}

fn ace(
    name: String,
    l3_key: &str,
    l3: Map<String, Value>,
    l4_key: &str,
    l4: Map<String, Value>,
) -> Value {
    json!({
        "name": name,
        "matches": { l3_key: l3, l4_key: l4 },
        "actions": { "forwarding": "accept" }
    })
}

/// A short ACL-name-safe tag from the blueprint id.
fn tag(id: &str) -> String {
    let t: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let t = t.trim_matches('-');
    if t.is_empty() {
        "device".into()
    } else {
        t.chars().take(40).collect()
    }
}

/// Builds the MUD file of a blueprint.
pub fn mud(blueprint: &Value, opts: &MudOptions) -> MudFile {
    let id = blueprint
        .pointer("/blueprint/id")
        .and_then(Value::as_str)
        .unwrap_or("device");
    let t = tag(id);
    let mut skipped = Vec::new();
    // (family, direction) → ACEs; family 4/6, direction "fr"/"to".
    let mut from4 = Vec::new();
    let mut to4 = Vec::new();
    let mut from6 = Vec::new();
    let mut to6 = Vec::new();
    // Borrowed: 100,000 endpoints are not copied to be read once.
    let eps: &[Value] = blueprint
        .get("network_endpoints")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    for (i, e) in eps.iter().enumerate() {
        let ptr = format!("/network_endpoints/{i}");
        let host = e
            .get("host")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim_end_matches('.');
        let protocol = e
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or("custom");
        let (protos, default_port) = transport(protocol);
        let port = e
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
            .or(default_port);
        if host.is_empty() {
            skipped.push(Skipped {
                pointer: ptr,
                reason: "endpoint without a host".into(),
            });
            continue;
        }
        if host.starts_with("*.") {
            skipped.push(Skipped {
                pointer: ptr,
                reason: format!("wildcard host {host}: RFC 8520 `ietf-acldns` names match exactly"),
            });
            continue;
        }
        let Some(port) = port else {
            skipped.push(Skipped {
                pointer: ptr,
                reason: format!("{protocol} endpoint {host} declares no port"),
            });
            continue;
        };
        // Address literal or range, else a DNS name.
        let net = crate::device::diff::evidence::Cidr::parse(host).map(|_| {
            if host.contains('/') {
                host.to_owned()
            } else if host.contains(':') {
                format!("{host}/128")
            } else {
                format!("{host}/32")
            }
        });
        let families: &[u8] = match &net {
            Some(n) if n.contains(':') => &[6],
            Some(_) => &[4],
            None => &[4, 6],
        };
        for &fam in families {
            for &proto in protos {
                let l3_key = if fam == 4 { "ipv4" } else { "ipv6" };
                let l4_key = if proto == 6 { "tcp" } else { "udp" };
                let mut fr3 = Map::new();
                let mut to3 = Map::new();
                match &net {
                    Some(n) => {
                        let (d, s) = if fam == 4 {
                            ("destination-ipv4-network", "source-ipv4-network")
                        } else {
                            ("destination-ipv6-network", "source-ipv6-network")
                        };
                        fr3.insert(d.into(), json!(n));
                        to3.insert(s.into(), json!(n));
                    }
                    None => {
                        fr3.insert("ietf-acldns:dst-dnsname".into(), json!(host));
                        to3.insert("ietf-acldns:src-dnsname".into(), json!(host));
                    }
                }
                fr3.insert("protocol".into(), json!(proto));
                to3.insert("protocol".into(), json!(proto));
                let mut fr4 = port_match("destination-port", port)
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let mut to4m = port_match("source-port", port)
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                if proto == 6 {
                    // RFC 8520 §10: only the device may open the connection.
                    fr4.insert("ietf-mud:direction-initiated".into(), json!("from-device"));
                    to4m.insert("ietf-mud:direction-initiated".into(), json!("from-device"));
                }
                let (fl, tl) = if fam == 4 {
                    (&mut from4, &mut to4)
                } else {
                    (&mut from6, &mut to6)
                };
                let n = fl.len();
                fl.push(ace(
                    format!("ep{i}-{l4_key}{fam}-{n}-frdev"),
                    l3_key,
                    fr3,
                    l4_key,
                    fr4,
                ));
                tl.push(ace(
                    format!("ep{i}-{l4_key}{fam}-{n}-todev"),
                    l3_key,
                    to3,
                    l4_key,
                    to4m,
                ));
            }
        }
    }
    // LAN services the blueprint declares (RFC 8520 §8 `local-networks`).
    let ports = blueprint
        .pointer("/security/open_ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, p) in ports.iter().enumerate() {
        let ptr = format!("/security/open_ports/{i}");
        let exposure = p.get("exposure").and_then(Value::as_str).unwrap_or("");
        let Some(port) = p
            .get("port")
            .and_then(Value::as_u64)
            .and_then(|p| u16::try_from(p).ok())
        else {
            continue;
        };
        if exposure == "localhost" {
            continue;
        }
        if exposure != "lan" {
            skipped.push(Skipped {
                pointer: ptr,
                reason: format!("port {port} is exposed to the WAN; a MUD file only admits local-network peers here"),
            });
            continue;
        }
        let proto: u8 = match p.get("proto").and_then(Value::as_str) {
            Some("udp") => 17,
            _ => 6,
        };
        let l4_key = if proto == 6 { "tcp" } else { "udp" };
        for fam in [4u8, 6] {
            let l3_key = if fam == 4 { "ipv4" } else { "ipv6" };
            let mut l3 = Map::new();
            l3.insert("protocol".into(), json!(proto));
            let mut to = port_match("destination-port", port)
                .as_object()
                .cloned()
                .unwrap_or_default();
            let mut fr = port_match("source-port", port)
                .as_object()
                .cloned()
                .unwrap_or_default();
            if proto == 6 {
                to.insert("ietf-mud:direction-initiated".into(), json!("to-device"));
                fr.insert("ietf-mud:direction-initiated".into(), json!("to-device"));
            }
            let local = json!({ "local-networks": [Value::Null] });
            let mk = |name: String, l4: Map<String, Value>| {
                let mut a = ace(name, l3_key, l3.clone(), l4_key, l4);
                a["matches"]["ietf-mud:mud"] = local.clone();
                a
            };
            let (fl, tl) = if fam == 4 {
                (&mut from4, &mut to4)
            } else {
                (&mut from6, &mut to6)
            };
            let n = tl.len();
            tl.push(mk(format!("lan{i}-{l4_key}{fam}-{n}-todev"), to));
            fl.push(mk(format!("lan{i}-{l4_key}{fam}-{n}-frdev"), fr));
        }
    }
    let mut acls = Vec::new();
    let mut from_names = Vec::new();
    let mut to_names = Vec::new();
    for (name, ty, aces, from) in [
        (format!("mud-{t}-v4fr"), "ipv4-acl-type", from4, true),
        (format!("mud-{t}-v6fr"), "ipv6-acl-type", from6, true),
        (format!("mud-{t}-v4to"), "ipv4-acl-type", to4, false),
        (format!("mud-{t}-v6to"), "ipv6-acl-type", to6, false),
    ] {
        if aces.is_empty() {
            continue;
        }
        if from { &mut from_names } else { &mut to_names }.push(json!({ "name": name }));
        acls.push(json!({ "name": name, "type": ty, "aces": { "ace": aces } }));
    }
    let issued = blueprint
        .pointer("/blueprint/issued_at")
        .and_then(Value::as_str);
    let last_update = match issued {
        Some(s) if s.len() > 10 && s.contains('T') => s.to_owned(),
        Some(s) if s.len() == 10 => format!("{s}T00:00:00Z"),
        _ => opts.now.clone(),
    };
    let text = |p: &str| {
        blueprint
            .pointer(p)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let mut mud = Map::new();
    mud.insert("mud-version".into(), json!(1));
    mud.insert("mud-url".into(), json!(opts.mud_url));
    mud.insert("last-update".into(), json!(last_update));
    mud.insert(
        "cache-validity".into(),
        json!(opts.cache_validity_hours.clamp(1, 168)),
    );
    mud.insert("is-supported".into(), json!(true));
    let model = text("/device/model");
    mud.insert(
        "systeminfo".into(),
        json!(
            format!(
                "{} (blueprint {id})",
                model.clone().unwrap_or_else(|| id.to_owned())
            )
            .chars()
            .take(60)
            .collect::<String>()
        ),
    );
    if let Some(m) = text("/vendor/legal_name") {
        mud.insert("mfg-name".into(), json!(m));
    }
    if let Some(m) = model {
        mud.insert("model-name".into(), json!(m));
    }
    if let Some(v) = text("/device/firmware/version") {
        mud.insert("firmware-rev".into(), json!(v));
    }
    mud.insert(
        "from-device-policy".into(),
        json!({ "access-lists": { "access-list": from_names } }),
    );
    mud.insert(
        "to-device-policy".into(),
        json!({ "access-lists": { "access-list": to_names } }),
    );
    MudFile {
        json: json!({
            "ietf-mud:mud": mud,
            "ietf-access-control-list:acls": { "acl": acls }
        }),
        skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> MudOptions {
        MudOptions {
            mud_url: "https://mud.example.com/plug".into(),
            now: "2026-01-01T00:00:00Z".into(),
            cache_validity_hours: 48,
        }
    }

    #[test]
    fn endpoints_become_paired_acls() {
        let bp = json!({
            "blueprint": {"id": "acme-plug", "issued_at": "2026-02-01"},
            "network_endpoints": [
                {"host": "api.acme.example", "protocol": "https"},
                {"host": "203.0.113.0/24", "protocol": "coaps"},
                {"host": "*.cdn.example", "protocol": "https"}
            ],
            "security": {"open_ports": [{"port": 8080, "proto": "tcp", "exposure": "lan"}]}
        });
        let m = mud(&bp, &opts());
        let acls = m.json["ietf-access-control-list:acls"]["acl"]
            .as_array()
            .unwrap();
        let names: Vec<&str> = acls.iter().map(|a| a["name"].as_str().unwrap()).collect();
        for pol in ["from-device-policy", "to-device-policy"] {
            for r in m.json["ietf-mud:mud"][pol]["access-lists"]["access-list"]
                .as_array()
                .unwrap()
            {
                assert!(names.contains(&r["name"].as_str().unwrap()));
            }
        }
        let v4fr = &acls[0]["aces"]["ace"];
        assert_eq!(
            v4fr[0]["matches"]["ipv4"]["ietf-acldns:dst-dnsname"],
            "api.acme.example"
        );
        assert_eq!(v4fr[0]["matches"]["tcp"]["destination-port"]["port"], 443);
        assert_eq!(
            v4fr[1]["matches"]["ipv4"]["destination-ipv4-network"],
            "203.0.113.0/24"
        );
        assert_eq!(v4fr[1]["matches"]["udp"]["destination-port"]["port"], 5684);
        assert_eq!(
            m.json["ietf-mud:mud"]["last-update"],
            "2026-02-01T00:00:00Z"
        );
        assert_eq!(m.skipped.len(), 1);
        assert!(m.skipped[0].reason.contains("wildcard"));
    }
}
