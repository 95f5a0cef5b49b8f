//! RFC 8520 Manufacturer Usage Description export: the declared endpoints
//! become from-device and to-device access lists (RFC 8519 ACLs with the
//! RFC 8520 §10 `ietf-acldns` and `direction-initiated` extensions), so a
//! network that supports MUD can enforce the blueprint.
//!
//! The file is held as one small rule per peer, address family and
//! transport; its ACEs are produced while it is serialized, so a manifest
//! with 100,000 endpoints does not become a JSON tree of 400,000 ACEs.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use std::fmt;
use std::sync::Arc;

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
    /// The file: serialize it (e.g. `serde_json::to_writer_pretty`) to
    /// write it, or `serde_json::to_value` to inspect it.
    pub document: MudDocument,
    pub skipped: Vec<Skipped>,
}

/// An RFC 8520 MUD file. Its JSON objects are written with their members
/// in byte order of the names (as a `serde_json::Value` writes them), so the
/// bytes of a file depend only on the blueprint and the options.
#[derive(Debug, Clone)]
pub struct MudDocument {
    /// The ACL-name-safe tag of the blueprint id.
    tag: String,
    container: Container,
    /// Rules of the IPv4 access lists, in ACE order.
    v4: Vec<Rule>,
    /// Rules of the IPv6 access lists, in ACE order.
    v6: Vec<Rule>,
}

/// RFC 8520 §2.1 `ietf-mud:mud` container members besides the policies.
#[derive(Debug, Clone)]
struct Container {
    mud_url: String,
    last_update: String,
    cache_validity: u8,
    systeminfo: String,
    mfg_name: Option<String>,
    model_name: Option<String>,
    firmware_rev: Option<String>,
}

/// One permitted flow: an ACE in the from-device list and its mirror, at
/// the same position, in the to-device list of the same family.
#[derive(Debug, Clone)]
struct Rule {
    /// Index of the endpoint or open port it comes from.
    index: usize,
    peer: Peer,
    /// IP protocol number: 6 TCP, 17 UDP.
    proto: u8,
    /// The remote service's port (an endpoint) or the device's (a LAN port).
    port: u16,
}

#[derive(Debug, Clone)]
enum Peer {
    /// A DNS name (RFC 8520 §10 `ietf-acldns`), shared by the IPv4 and
    /// IPv6 rules of the endpoint; the device opens the connection.
    Dns(Arc<str>),
    /// An address range, `ADDR/LEN`; the device opens the connection.
    Net(Box<str>),
    /// Any host on the local network (RFC 8520 §8 `local-networks`)
    /// reaching a service of the device; the peer opens the connection.
    Local,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    FromDevice,
    ToDevice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn digit(self) -> u8 {
        match self {
            Family::V4 => 4,
            Family::V6 => 6,
        }
    }
}

fn l4_key(proto: u8) -> &'static str {
    if proto == 6 { "tcp" } else { "udp" }
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
    let mut skipped = Vec::new();
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    // Borrowed: 100,000 endpoints are not copied to be read once.
    let eps: &[Value] = blueprint
        .get("network_endpoints")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    for (i, e) in eps.iter().enumerate() {
        let ptr = || format!("/network_endpoints/{i}");
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
                pointer: ptr(),
                reason: "endpoint without a host".into(),
            });
            continue;
        }
        if host.starts_with("*.") {
            skipped.push(Skipped {
                pointer: ptr(),
                reason: format!("wildcard host {host}: RFC 8520 `ietf-acldns` names match exactly"),
            });
            continue;
        }
        let Some(port) = port else {
            skipped.push(Skipped {
                pointer: ptr(),
                reason: format!("{protocol} endpoint {host} declares no port"),
            });
            continue;
        };
        // Address literal or range, else a DNS name.
        let (peer, families): (Peer, &[Family]) =
            match crate::device::diff::evidence::Cidr::parse(host) {
                Some(_) => {
                    let family = if host.contains(':') {
                        Family::V6
                    } else {
                        Family::V4
                    };
                    let net = if host.contains('/') {
                        host.to_owned()
                    } else if family == Family::V6 {
                        format!("{host}/128")
                    } else {
                        format!("{host}/32")
                    };
                    let families: &[Family] = if family == Family::V6 {
                        &[Family::V6]
                    } else {
                        &[Family::V4]
                    };
                    (Peer::Net(net.into()), families)
                }
                None => (Peer::Dns(host.into()), &[Family::V4, Family::V6]),
            };
        for &family in families {
            let rules = if family == Family::V4 {
                &mut v4
            } else {
                &mut v6
            };
            for &proto in protos {
                rules.push(Rule {
                    index: i,
                    peer: peer.clone(),
                    proto,
                    port,
                });
            }
        }
    }
    // LAN services the blueprint declares (RFC 8520 §8 `local-networks`).
    let ports: &[Value] = blueprint
        .pointer("/security/open_ports")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    for (i, p) in ports.iter().enumerate() {
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
                pointer: format!("/security/open_ports/{i}"),
                reason: format!("port {port} is exposed to the WAN; a MUD file only admits local-network peers here"),
            });
            continue;
        }
        let proto: u8 = match p.get("proto").and_then(Value::as_str) {
            Some("udp") => 17,
            _ => 6,
        };
        for rules in [&mut v4, &mut v6] {
            rules.push(Rule {
                index: i,
                peer: Peer::Local,
                proto,
                port,
            });
        }
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
    let model_name = text("/device/model");
    let systeminfo = format!("{} (blueprint {id})", model_name.as_deref().unwrap_or(id))
        .chars()
        .take(60)
        .collect();
    MudFile {
        document: MudDocument {
            tag: tag(id),
            container: Container {
                mud_url: opts.mud_url.clone(),
                last_update,
                cache_validity: opts.cache_validity_hours.clamp(1, 168),
                systeminfo,
                mfg_name: text("/vendor/legal_name"),
                model_name,
                firmware_rev: text("/device/firmware/version"),
            },
            v4,
            v6,
        },
        skipped,
    }
}

// Serialization. Each object's members are written in byte order of their
// names: the order a `serde_json::Value` (a sorted map) gave them, which
// earlier files have, so that the same blueprint gives the same bytes.

impl Serialize for MudDocument {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        // RFC 8519 §4.1 `acls`, then the RFC 8520 §2.1 container.
        m.serialize_entry("ietf-access-control-list:acls", &One("acl", Acls(self)))?;
        m.serialize_entry("ietf-mud:mud", &ContainerView(self))?;
        m.end()
    }
}

impl MudDocument {
    fn rules(&self, family: Family) -> &[Rule] {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }

    /// The access lists in file order (IPv4 and IPv6 from-device, then
    /// to-device); a family without rules has none.
    fn acls(&self) -> impl Iterator<Item = AclView<'_>> {
        [
            (Direction::FromDevice, Family::V4),
            (Direction::FromDevice, Family::V6),
            (Direction::ToDevice, Family::V4),
            (Direction::ToDevice, Family::V6),
        ]
        .into_iter()
        .map(move |(direction, family)| AclView {
            doc: self,
            direction,
            family,
        })
        .filter(|a| !a.rules().is_empty())
    }
}

/// A JSON object with one member.
struct One<T>(&'static str, T);

impl<T: Serialize> Serialize for One<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(self.0, &self.1)?;
        m.end()
    }
}

struct Acls<'a>(&'a MudDocument);

impl Serialize for Acls<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.acls())
    }
}

/// The RFC 8520 §2.1 `ietf-mud:mud` container.
struct ContainerView<'a>(&'a MudDocument);

impl Serialize for ContainerView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = &self.0.container;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("cache-validity", &c.cache_validity)?;
        if let Some(v) = &c.firmware_rev {
            m.serialize_entry("firmware-rev", v)?;
        }
        m.serialize_entry("from-device-policy", &Policy(self.0, Direction::FromDevice))?;
        m.serialize_entry("is-supported", &true)?;
        m.serialize_entry("last-update", &c.last_update)?;
        if let Some(v) = &c.mfg_name {
            m.serialize_entry("mfg-name", v)?;
        }
        if let Some(v) = &c.model_name {
            m.serialize_entry("model-name", v)?;
        }
        m.serialize_entry("mud-url", &c.mud_url)?;
        m.serialize_entry("mud-version", &1u8)?;
        m.serialize_entry("systeminfo", &c.systeminfo)?;
        m.serialize_entry("to-device-policy", &Policy(self.0, Direction::ToDevice))?;
        m.end()
    }
}

/// RFC 8520 §2.1 `from-device-policy` / `to-device-policy`: the names of
/// the access lists of one direction.
struct Policy<'a>(&'a MudDocument, Direction);

impl Serialize for Policy<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        One("access-lists", One("access-list", AclNames(self.0, self.1))).serialize(s)
    }
}

struct AclNames<'a>(&'a MudDocument, Direction);

impl Serialize for AclNames<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.0
                .acls()
                .filter(|a| a.direction == self.1)
                .map(|a| One("name", AclName(a))),
        )
    }
}

/// One RFC 8519 ACL.
#[derive(Clone, Copy)]
struct AclView<'a> {
    doc: &'a MudDocument,
    direction: Direction,
    family: Family,
}

impl AclView<'_> {
    fn rules(&self) -> &[Rule] {
        self.doc.rules(self.family)
    }
}

impl Serialize for AclView<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("aces", &One("ace", Aces(*self)))?;
        m.serialize_entry("name", &AclName(*self))?;
        m.serialize_entry(
            "type",
            match self.family {
                Family::V4 => "ipv4-acl-type",
                Family::V6 => "ipv6-acl-type",
            },
        )?;
        m.end()
    }
}

/// `mud-TAG-v4fr`: family and direction.
struct AclName<'a>(AclView<'a>);

impl Serialize for AclName<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = &self.0;
        let dir = match a.direction {
            Direction::FromDevice => "fr",
            Direction::ToDevice => "to",
        };
        s.collect_str(&format_args!(
            "mud-{}-v{}{dir}",
            a.doc.tag,
            a.family.digit()
        ))
    }
}

struct Aces<'a>(AclView<'a>);

impl Serialize for Aces<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let acl = self.0;
        s.collect_seq(acl.rules().iter().enumerate().map(|(n, rule)| Ace {
            rule,
            n,
            direction: acl.direction,
            family: acl.family,
        }))
    }
}

/// One RFC 8519 ACE, made from its rule as it is written.
struct Ace<'a> {
    rule: &'a Rule,
    /// Position in its list.
    n: usize,
    direction: Direction,
    family: Family,
}

impl Ace<'_> {
    /// The port member of the transport match and who opens the connection:
    /// to an endpoint the device does (RFC 8520 §10: only the device may
    /// open it); a LAN service of the device is opened by its peer.
    fn transport(&self) -> (&'static str, &'static str) {
        match (&self.rule.peer, self.direction) {
            (Peer::Local, Direction::FromDevice) => ("source-port", "to-device"),
            (Peer::Local, Direction::ToDevice) => ("destination-port", "to-device"),
            (_, Direction::FromDevice) => ("destination-port", "from-device"),
            (_, Direction::ToDevice) => ("source-port", "from-device"),
        }
    }
}

impl fmt::Display for Ace<'_> {
    /// The ACE name: origin, transport, family, position, direction.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let origin = match self.rule.peer {
            Peer::Local => "lan",
            _ => "ep",
        };
        let dir = match self.direction {
            Direction::FromDevice => "frdev",
            Direction::ToDevice => "todev",
        };
        write!(
            f,
            "{origin}{}-{}{}-{}-{dir}",
            self.rule.index,
            l4_key(self.rule.proto),
            self.family.digit(),
            self.n
        )
    }
}

impl Serialize for Ace<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("actions", &One("forwarding", "accept"))?;
        m.serialize_entry("matches", &Matches(self))?;
        m.serialize_entry("name", &Shown(self))?;
        m.end()
    }
}

/// A string written from its `Display` form.
struct Shown<'a, T>(&'a T);

impl<T: fmt::Display> Serialize for Shown<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// RFC 8519 §4.1 `matches`: network, transport and (LAN) RFC 8520 §8 MUD
/// matches.
struct Matches<'a, 'b>(&'a Ace<'b>);

impl Serialize for Matches<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ace = self.0;
        let local = matches!(ace.rule.peer, Peer::Local);
        let mut m = s.serialize_map(Some(2 + usize::from(local)))?;
        if local {
            // RFC 8520 §8: `local-networks` is an empty leaf.
            m.serialize_entry("ietf-mud:mud", &One("local-networks", [()]))?;
        }
        let l3 = match ace.family {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        };
        m.serialize_entry(l3, &Network(ace))?;
        m.serialize_entry(l4_key(ace.rule.proto), &Transport(ace))?;
        m.end()
    }
}

/// The `ipv4`/`ipv6` match: the peer and the protocol.
struct Network<'a, 'b>(&'a Ace<'b>);

impl Serialize for Network<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ace = self.0;
        let proto = ace.rule.proto;
        let v6 = ace.family == Family::V6;
        let mut m = s.serialize_map(None)?;
        match (&ace.rule.peer, ace.direction) {
            (Peer::Dns(host), Direction::FromDevice) => {
                m.serialize_entry("ietf-acldns:dst-dnsname", &**host)?;
                m.serialize_entry("protocol", &proto)?;
            }
            (Peer::Dns(host), Direction::ToDevice) => {
                m.serialize_entry("ietf-acldns:src-dnsname", &**host)?;
                m.serialize_entry("protocol", &proto)?;
            }
            (Peer::Net(net), Direction::FromDevice) => {
                let key = if v6 {
                    "destination-ipv6-network"
                } else {
                    "destination-ipv4-network"
                };
                m.serialize_entry(key, &**net)?;
                m.serialize_entry("protocol", &proto)?;
            }
            (Peer::Net(net), Direction::ToDevice) => {
                let key = if v6 {
                    "source-ipv6-network"
                } else {
                    "source-ipv4-network"
                };
                m.serialize_entry("protocol", &proto)?;
                m.serialize_entry(key, &**net)?;
            }
            (Peer::Local, _) => m.serialize_entry("protocol", &proto)?,
        }
        m.end()
    }
}

/// The `tcp`/`udp` match: the port and, for TCP, who initiates.
struct Transport<'a, 'b>(&'a Ace<'b>);

impl Serialize for Transport<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const INITIATED: &str = "ietf-mud:direction-initiated";
        let ace = self.0;
        let (port_key, initiated) = ace.transport();
        let port = PortMatch(ace.rule.port);
        let tcp = ace.rule.proto == 6;
        let mut m = s.serialize_map(Some(1 + usize::from(tcp)))?;
        let port_first = port_key < INITIATED;
        if port_first {
            m.serialize_entry(port_key, &port)?;
        }
        if tcp {
            m.serialize_entry(INITIATED, initiated)?;
        }
        if !port_first {
            m.serialize_entry(port_key, &port)?;
        }
        m.end()
    }
}

/// RFC 8519 port range-or-operator, `eq`.
struct PortMatch(u16);

impl Serialize for PortMatch {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("operator", "eq")?;
        m.serialize_entry("port", &self.0)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
        let json = serde_json::to_value(&m.document).unwrap();
        let acls = json["ietf-access-control-list:acls"]["acl"]
            .as_array()
            .unwrap();
        let names: Vec<&str> = acls.iter().map(|a| a["name"].as_str().unwrap()).collect();
        for pol in ["from-device-policy", "to-device-policy"] {
            for r in json["ietf-mud:mud"][pol]["access-lists"]["access-list"]
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
        assert_eq!(json["ietf-mud:mud"]["last-update"], "2026-02-01T00:00:00Z");
        assert_eq!(m.skipped.len(), 1);
        assert!(m.skipped[0].reason.contains("wildcard"));
    }

    /// Every kind of ACE: DNS names, IPv4 and IPv6 ranges, a protocol
    /// allowed on TCP and UDP, LAN services on TCP and UDP.
    fn every_kind() -> Value {
        json!({
            "blueprint": {"id": "Acme Plug!", "issued_at": "2026-02-01T10:00:00Z"},
            "vendor": {"legal_name": "Acme GmbH"},
            "device": {"model": "Plug 2", "firmware": {"version": "1.4.2"}},
            "network_endpoints": [
                {"host": "api.acme.example.", "protocol": "https"},
                {"host": "203.0.113.7", "protocol": "mqtts"},
                {"host": "2001:db8::/32", "protocol": "coaps"},
                {"host": "gw.acme.example", "protocol": "custom", "port": 9000},
                {"host": "nop.acme.example", "protocol": "dtls"}
            ],
            "security": {"open_ports": [
                {"port": 8080, "proto": "tcp", "exposure": "lan"},
                {"port": 5353, "proto": "udp", "exposure": "lan"},
                {"port": 22, "proto": "tcp", "exposure": "wan"},
                {"port": 9, "proto": "tcp", "exposure": "localhost"}
            ]}
        })
    }

    #[test]
    fn members_are_written_in_the_order_of_a_sorted_map() {
        let doc = mud(&every_kind(), &opts()).document;
        let direct = serde_json::to_string_pretty(&doc).unwrap();
        let value = serde_json::to_value(&doc).unwrap();
        assert_eq!(direct, serde_json::to_string_pretty(&value).unwrap());
        // An empty blueprint still gives a well-formed file.
        let empty = mud(&json!({}), &opts()).document;
        let direct = serde_json::to_string(&empty).unwrap();
        let value = serde_json::to_value(&empty).unwrap();
        assert_eq!(direct, serde_json::to_string(&value).unwrap());
        assert_eq!(value["ietf-access-control-list:acls"]["acl"], json!([]));
        assert_eq!(
            value["ietf-mud:mud"]["systeminfo"],
            "device (blueprint device)"
        );
    }

    #[test]
    fn to_device_aces_mirror_from_device_aces() {
        let m = mud(&every_kind(), &opts());
        let v = serde_json::to_value(&m.document).unwrap();
        let acls = v["ietf-access-control-list:acls"]["acl"]
            .as_array()
            .unwrap();
        let names: Vec<&str> = acls.iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(
            names,
            [
                "mud-acme-plug-v4fr",
                "mud-acme-plug-v6fr",
                "mud-acme-plug-v4to",
                "mud-acme-plug-v6to"
            ]
        );
        let ace = |acl: usize, n: usize| &acls[acl]["aces"]["ace"][n];
        // The IPv4 address: to it from the device, back from it.
        assert_eq!(ace(0, 1)["name"], "ep1-tcp4-1-frdev");
        assert_eq!(
            ace(0, 1)["matches"]["ipv4"]["destination-ipv4-network"],
            "203.0.113.7/32"
        );
        assert_eq!(
            ace(2, 1)["matches"]["ipv4"]["source-ipv4-network"],
            "203.0.113.7/32"
        );
        assert_eq!(ace(2, 1)["matches"]["tcp"]["source-port"]["port"], 8883);
        assert_eq!(
            ace(2, 1)["matches"]["tcp"]["ietf-mud:direction-initiated"],
            "from-device"
        );
        // The IPv6 range is only in the IPv6 lists, on UDP without a direction.
        assert_eq!(ace(3, 1)["name"], "ep2-udp6-1-todev");
        assert_eq!(
            ace(3, 1)["matches"]["udp"],
            json!({"source-port": {"operator": "eq", "port": 5684}})
        );
        // A custom protocol is allowed on TCP and on UDP.
        assert_eq!(ace(0, 2)["name"], "ep3-tcp4-2-frdev");
        assert_eq!(ace(0, 3)["name"], "ep3-udp4-3-frdev");
        // LAN services: the peer opens the connection to the device's port.
        let lan = ace(2, 4);
        assert_eq!(lan["name"], "lan0-tcp4-4-todev");
        assert_eq!(
            lan["matches"]["ietf-mud:mud"],
            json!({"local-networks": [null]})
        );
        assert_eq!(lan["matches"]["tcp"]["destination-port"]["port"], 8080);
        assert_eq!(
            lan["matches"]["tcp"]["ietf-mud:direction-initiated"],
            "to-device"
        );
        assert_eq!(ace(0, 4)["matches"]["tcp"]["source-port"]["port"], 8080);
        assert_eq!(ace(1, 5)["name"], "lan1-udp6-5-frdev");
        let mudc = &v["ietf-mud:mud"];
        assert_eq!(mudc["mfg-name"], "Acme GmbH");
        assert_eq!(mudc["model-name"], "Plug 2");
        assert_eq!(mudc["firmware-rev"], "1.4.2");
        assert_eq!(mudc["systeminfo"], "Plug 2 (blueprint Acme Plug!)");
        assert_eq!(mudc["last-update"], "2026-02-01T10:00:00Z");
        let skipped: Vec<&str> = m.skipped.iter().map(|s| s.pointer.as_str()).collect();
        assert_eq!(skipped, ["/network_endpoints/4", "/security/open_ports/2"]);
    }
}
