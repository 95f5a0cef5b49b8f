//! Which devices a capture holds, for choosing `observe pcap --device`:
//! each host with its packet and conversation counts.

use super::{Limits, PcapError, Sink, is_broadcast, is_local, mac_string, read_capture, slice};
use crate::device::observe::observation::Source;
use etherparse::{LaxNetSlice, TransportSlice};
use pcap_parser::Linktype;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Read;
use std::net::IpAddr;

/// One device seen in a capture, for choosing `--device`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Its MAC address, on link types that carry one.
    pub mac: Option<String>,
    /// Its local unicast IP addresses (at most [`MAX_HOST_IPS`]).
    pub ips: Vec<IpAddr>,
    /// Packets it sent or received.
    pub packets: u64,
    /// Distinct conversations (transport, both addresses and ports) it took part in.
    pub flows: u64,
}

/// Most IP addresses listed per host.
pub const MAX_HOST_IPS: usize = 8;
/// Most hosts tracked; more mark the listing partial.
pub const MAX_HOSTS: usize = 4096;

/// The devices of a capture, busiest first.
#[derive(Debug, Clone, PartialEq)]
pub struct HostList {
    pub source: Source,
    pub packets_total: u64,
    pub hosts: Vec<Host>,
    /// Set when more than [`MAX_HOSTS`] hosts or `Limits::max_flows`
    /// conversations were seen: counts beyond them are missing.
    pub partial: bool,
}

/// A host's identity: its MAC on Ethernet, else its (local) IP.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum HostKey {
    Mac([u8; 6]),
    Ip(IpAddr),
}

#[derive(Default)]
struct HostAcc {
    ips: BTreeSet<IpAddr>,
    packets: u64,
    flows: u64,
}

type Conversation = (u8, IpAddr, u16, IpAddr, u16);

struct HostCensus {
    hosts: HashMap<HostKey, HostAcc>,
    conversations: HashSet<(HostKey, Conversation)>,
    max_flows: usize,
    packets_total: u64,
    partial: bool,
}

impl HostCensus {
    fn count(&mut self, key: HostKey, ip: IpAddr, conv: Conversation) {
        if !self.hosts.contains_key(&key) && self.hosts.len() >= MAX_HOSTS {
            self.partial = true;
            return;
        }
        let acc = self.hosts.entry(key).or_default();
        acc.packets += 1;
        if acc.ips.len() < MAX_HOST_IPS && unicast_local(&ip) {
            acc.ips.insert(ip);
        }
        if self.conversations.contains(&(key, conv)) {
            return;
        }
        if self.conversations.len() >= self.max_flows {
            self.partial = true;
            return;
        }
        self.conversations.insert((key, conv));
        acc.flows += 1;
    }
}

/// A local address a device can have (not multicast, broadcast or unspecified).
fn unicast_local(ip: &IpAddr) -> bool {
    is_local(ip) && !ip.is_multicast() && !ip.is_unspecified() && !is_broadcast(ip)
}

impl Sink for HostCensus {
    fn packet(&mut self, lt: Linktype, data: &[u8], _origlen: u32, _micros: i64) {
        self.packets_total += 1;
        let Some(p) = slice(lt, data) else {
            return;
        };
        let (src, dst, proto) = match &p.net {
            Some(LaxNetSlice::Ipv4(v4)) => {
                let h = v4.header();
                (
                    IpAddr::V4(h.source_addr()),
                    IpAddr::V4(h.destination_addr()),
                    h.protocol().0,
                )
            }
            Some(LaxNetSlice::Ipv6(v6)) => {
                let h = v6.header();
                (
                    IpAddr::V6(h.source_addr()),
                    IpAddr::V6(h.destination_addr()),
                    v6.payload().ip_number.0,
                )
            }
            _ => return,
        };
        let (sport, dport) = match &p.transport {
            Some(TransportSlice::Tcp(t)) => (t.source_port(), t.destination_port()),
            Some(TransportSlice::Udp(u)) => (u.source_port(), u.destination_port()),
            _ => (0, 0),
        };
        // One conversation whichever way the packet goes.
        let conv = if (src, sport) <= (dst, dport) {
            (proto, src, sport, dst, dport)
        } else {
            (proto, dst, dport, src, sport)
        };
        match &p.link {
            Some(etherparse::LinkSlice::Ethernet2(e)) => {
                for (mac, ip) in [(e.source(), src), (e.destination(), dst)] {
                    // Group (multicast/broadcast) MACs are not devices.
                    if mac[0] & 1 == 0 {
                        self.count(HostKey::Mac(mac), ip, conv);
                    }
                }
            }
            _ => {
                for ip in [src, dst] {
                    if unicast_local(&ip) {
                        self.count(HostKey::Ip(ip), ip, conv);
                    }
                }
            }
        }
    }
}

/// Lists the devices of a capture with their packet and conversation
/// counts, for choosing `--device`. On Ethernet a host is a unicast MAC
/// address (with the local IPs it used); on link types without one, a
/// local unicast IP address (remote servers are not devices).
pub fn list_hosts<R: Read + Send>(
    input: R,
    file: &str,
    limits: &Limits,
    allow_truncated: bool,
) -> Result<HostList, PcapError> {
    let mut census = HostCensus {
        hosts: HashMap::new(),
        conversations: HashSet::new(),
        max_flows: limits.max_flows,
        packets_total: 0,
        partial: false,
    };
    let read = read_capture(input, file, limits, allow_truncated, &mut census)?;
    let mut hosts: Vec<(HostKey, HostAcc)> = census.hosts.into_iter().collect();
    hosts.sort_by(|(ka, a), (kb, b)| b.packets.cmp(&a.packets).then(ka.cmp(kb)));
    Ok(HostList {
        source: read.source,
        packets_total: census.packets_total,
        partial: census.partial || read.truncated_at.is_some(),
        hosts: hosts
            .into_iter()
            .map(|(k, a)| Host {
                mac: match k {
                    HostKey::Mac(m) => Some(mac_string(&m)),
                    HostKey::Ip(_) => None,
                },
                ips: a.ips.into_iter().collect(),
                packets: a.packets,
                flows: a.flows,
            })
            .collect(),
    })
}
