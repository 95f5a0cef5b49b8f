//! Streaming reader for pcap and pcapng captures that turns one device's
//! packets into an [`Observation`].
//!
//! Memory is bounded whatever the file: records go through one fixed buffer
//! (`Limits::max_record` plus block overhead), every length field is checked
//! against that limit before use, and the flow and name tables have caps
//! whose overflow marks the observation partial (`docs/limits.md`; a partial observation is never "matches").

use super::observation::{
    Coverage, DeviceSelector, DnsQuery, Flow, OBSERVATION_FORMAT, Observation, Source, Traffic,
    Transport,
};
use super::proto;
use etherparse::{EtherType, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_parser::{Linktype, PcapBlockOwned, PcapError as ParserError, pcapng::Block};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::net::IpAddr;
use std::str::FromStr;

/// Resource limits for one capture.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest captured length of one record (libpcap's own maximum snaplen).
    pub max_record: usize,
    /// Most flows kept for the device.
    pub max_flows: usize,
    /// Most DNS (name, type, resolver) questions and most addresses with names.
    pub max_dns: usize,
    /// Most names kept per flow and per address.
    pub max_names: usize,
    /// Most pcapng interfaces.
    pub max_interfaces: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_record: 256 * 1024,
            max_flows: 100_000,
            max_dns: 100_000,
            max_names: 32,
            max_interfaces: 256,
        }
    }
}

/// Which device to observe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Ip(IpAddr),
    Mac([u8; 6]),
}

/// A `--device` value that is neither an IP nor a MAC address.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is neither an IP address nor a MAC address (aa:bb:cc:dd:ee:ff)")]
pub struct BadDevice(pub String);

impl FromStr for Device {
    type Err = BadDevice;
    fn from_str(s: &str) -> Result<Self, BadDevice> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Device::Ip(ip));
        }
        let parts: Vec<&str> = s.split([':', '-']).collect();
        if parts.len() == 6 {
            let mut mac = [0u8; 6];
            for (m, p) in mac.iter_mut().zip(&parts) {
                if p.len() != 2 {
                    return Err(BadDevice(s.into()));
                }
                *m = u8::from_str_radix(p, 16).map_err(|_| BadDevice(s.into()))?;
            }
            return Ok(Device::Mac(mac));
        }
        Err(BadDevice(s.into()))
    }
}

fn mac_string(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Options of one `observe pcap` run.
#[derive(Debug, Clone)]
pub struct Options {
    pub device: Device,
    pub limits: Limits,
    /// Keep what was read before a truncated final record (the observation
    /// is then marked truncated and can never match a blueprint).
    pub allow_truncated: bool,
}

/// Why a capture could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    #[error("cannot read the capture: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a pcap or pcapng capture (unrecognized header)")]
    NotACapture,
    #[error("record at byte {offset} is larger than the {limit}-byte limit")]
    RecordTooLarge { offset: u64, limit: usize },
    #[error("capture header declares snaplen {snaplen}, above the {limit}-byte limit")]
    SnaplenTooLarge { snaplen: u32, limit: usize },
    #[error(
        "record {index} at byte {offset}: captured length {caplen} exceeds original length {origlen}"
    )]
    CaplenExceedsOriginal {
        index: u64,
        offset: u64,
        caplen: u32,
        origlen: u32,
    },
    #[error(
        "unsupported link-layer type {0} (supported: Ethernet, raw IP, Linux cooked v1/v2, BSD loopback)"
    )]
    UnknownLinkType(i32),
    #[error("packet block refers to interface {0}, which no interface description block declared")]
    UnknownInterface(u32),
    #[error("more than {0} pcapng interfaces")]
    TooManyInterfaces(usize),
    #[error(
        "capture is truncated: the file ends inside a record after {packets} packets (byte {offset}); pass --allow-truncated to keep the partial evidence"
    )]
    Truncated { packets: u64, offset: u64 },
    #[error("malformed capture at byte {offset}: {what}")]
    Malformed { offset: u64, what: String },
}

/// Reader wrapper hashing and counting the bytes as they stream past.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

#[derive(Clone, Copy, Hash, PartialEq, Eq)]
struct FlowKey {
    transport: Transport,
    remote: IpAddr,
    port: u16,
    device_is_server: bool,
}

struct FlowAcc {
    sni: BTreeSet<String>,
    host: BTreeSet<String>,
    protocol: Option<&'static str>,
    encrypted: Option<bool>,
    bytes_out: u64,
    bytes_in: u64,
    packets_out: u64,
    packets_in: u64,
    first: i64,
    last: i64,
}

#[derive(Default)]
struct QueryAcc {
    answers: BTreeSet<String>,
    count: u64,
}

struct State<'o> {
    opts: &'o Options,
    flows: HashMap<FlowKey, FlowAcc>,
    names: HashMap<IpAddr, BTreeSet<String>>,
    queries: HashMap<(String, u16, IpAddr), QueryAcc>,
    device_ips: BTreeSet<IpAddr>,
    device_mac: Option<[u8; 6]>,
    cov: Coverage,
    first: Option<i64>,
    last: Option<i64>,
    dns_full: bool,
}

/// Receives the decoded records of a capture, in file order.
trait Sink {
    /// One packet record: link type, captured bytes, original length, time.
    fn packet(&mut self, lt: Linktype, data: &[u8], origlen: u32, micros: i64);
}

/// What reading a whole capture tells besides its packets.
struct CaptureRead {
    source: Source,
    link_types: Vec<String>,
    /// Set when `allow_truncated` kept the records before a cut-off one.
    truncated_at: Option<u64>,
}

/// Streams every record of a pcap or pcapng capture into `sink`, with the
/// length checks and limits described at the top of this module.
fn read_capture<R: Read + Send, S: Sink>(
    input: R,
    file: &str,
    limits: &Limits,
    allow_truncated: bool,
    sink: &mut S,
) -> Result<CaptureRead, PcapError> {
    let mut src = Hashing {
        inner: input,
        hash: Sha256::new(),
        bytes: 0,
    };
    let limit = limits.max_record;
    // pcapng EPB overhead is 32 bytes plus options; keep room for them.
    let capacity = limit + 64 * 1024;
    let mut link_types: Vec<String> = Vec::new();
    let mut truncated_at = None;
    // SPBs carry no timestamp; they get the latest one seen.
    let mut last_time: Option<i64> = None;
    let kind;
    {
        let mut reader = match pcap_parser::create_reader(capacity, &mut src) {
            Ok(r) => r,
            Err(ParserError::HeaderNotRecognized) => return Err(PcapError::NotACapture),
            Err(ParserError::ReadError) => {
                return Err(PcapError::Io(std::io::Error::other("read failed")));
            }
            Err(_) => return Err(PcapError::NotACapture),
        };
        let mut legacy: Option<(Linktype, bool)> = None;
        // pcapng interfaces: (link type, ticks per second, offset seconds).
        let mut ifaces: Vec<(Linktype, u64, i64)> = Vec::new();
        let mut offset: u64 = 0;
        let mut index: u64 = 0;
        let mut is_ng = false;
        loop {
            match reader.next() {
                Ok((consumed, block)) => {
                    match block {
                        PcapBlockOwned::LegacyHeader(h) => {
                            if h.snaplen as usize > limit {
                                return Err(PcapError::SnaplenTooLarge {
                                    snaplen: h.snaplen,
                                    limit,
                                });
                            }
                            check_linktype(h.network)?;
                            link_types.push(linktype_name(h.network));
                            legacy = Some((h.network, h.is_nanosecond_precision()));
                        }
                        PcapBlockOwned::Legacy(b) => {
                            let (lt, nanos) = legacy.ok_or_else(|| PcapError::Malformed {
                                offset,
                                what: "packet record before the file header".into(),
                            })?;
                            check_lengths(b.caplen, b.origlen, limit, index, offset)?;
                            let frac = i64::from(b.ts_usec);
                            let micros = i64::from(b.ts_sec) * 1_000_000
                                + if nanos { frac / 1000 } else { frac };
                            let data = b.data.get(..b.caplen as usize).unwrap_or(b.data);
                            deliver(sink, &mut last_time, lt, data, b.origlen, micros);
                            index += 1;
                        }
                        PcapBlockOwned::NG(block) => {
                            is_ng = true;
                            match block {
                                Block::SectionHeader(_) => ifaces.clear(),
                                Block::InterfaceDescription(idb) => {
                                    if ifaces.len() >= limits.max_interfaces {
                                        return Err(PcapError::TooManyInterfaces(
                                            limits.max_interfaces,
                                        ));
                                    }
                                    if idb.snaplen as usize > limit {
                                        return Err(PcapError::SnaplenTooLarge {
                                            snaplen: idb.snaplen,
                                            limit,
                                        });
                                    }
                                    check_linktype(idb.linktype)?;
                                    let name = linktype_name(idb.linktype);
                                    if !link_types.contains(&name) {
                                        link_types.push(name);
                                    }
                                    let res = idb.ts_resolution().unwrap_or(1_000_000).max(1);
                                    ifaces.push((idb.linktype, res, idb.ts_offset()));
                                }
                                Block::EnhancedPacket(epb) => {
                                    let &(lt, res, off) = ifaces
                                        .get(epb.if_id as usize)
                                        .ok_or(PcapError::UnknownInterface(epb.if_id))?;
                                    check_lengths(epb.caplen, epb.origlen, limit, index, offset)?;
                                    let ticks =
                                        (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                                    let secs = i64::try_from(ticks / res)
                                        .unwrap_or(i64::MAX)
                                        .saturating_add(off);
                                    let sub = (ticks % res) as i128 * 1_000_000 / i128::from(res);
                                    let micros =
                                        secs.saturating_mul(1_000_000).saturating_add(sub as i64);
                                    let data =
                                        epb.data.get(..epb.caplen as usize).unwrap_or(epb.data);
                                    deliver(sink, &mut last_time, lt, data, epb.origlen, micros);
                                    index += 1;
                                }
                                Block::SimplePacket(spb) => {
                                    let &(lt, _, _) =
                                        ifaces.first().ok_or(PcapError::UnknownInterface(0))?;
                                    if spb.data.len() > limit {
                                        return Err(PcapError::RecordTooLarge { offset, limit });
                                    }
                                    let data =
                                        spb.data.get(..spb.origlen as usize).unwrap_or(spb.data);
                                    let t = last_time.unwrap_or(0);
                                    deliver(sink, &mut last_time, lt, data, spb.origlen, t);
                                    index += 1;
                                }
                                _ => {}
                            }
                        }
                    }
                    offset += consumed as u64;
                    reader.consume(consumed);
                }
                Err(ParserError::Eof) => break,
                Err(ParserError::Incomplete(_)) => {
                    if reader.refill().is_err() {
                        return Err(PcapError::Io(std::io::Error::other("read failed")));
                    }
                }
                Err(ParserError::BufferTooSmall) => {
                    return Err(PcapError::RecordTooLarge { offset, limit });
                }
                Err(ParserError::UnexpectedEof) => {
                    if !allow_truncated {
                        return Err(PcapError::Truncated {
                            packets: index,
                            offset,
                        });
                    }
                    truncated_at = Some(offset);
                    break;
                }
                Err(ParserError::ReadError) => {
                    return Err(PcapError::Io(std::io::Error::other("read failed")));
                }
                Err(e) => {
                    return Err(PcapError::Malformed {
                        offset,
                        what: format!("{:?}", e.to_owned_vec()),
                    });
                }
            }
        }
        kind = if is_ng { "pcapng" } else { "pcap" };
    }
    Ok(CaptureRead {
        source: Source {
            file: file.to_owned(),
            kind: kind.to_owned(),
            sha256: hex(&src.hash.finalize()),
            bytes: src.bytes,
        },
        link_types,
        truncated_at,
    })
}

/// Hands one record to `sink`, keeping the latest time seen.
fn deliver<S: Sink>(
    sink: &mut S,
    last: &mut Option<i64>,
    lt: Linktype,
    data: &[u8],
    origlen: u32,
    micros: i64,
) {
    *last = Some(last.map_or(micros, |l| l.max(micros)));
    sink.packet(lt, data, origlen, micros);
}

impl Sink for State<'_> {
    fn packet(&mut self, lt: Linktype, data: &[u8], origlen: u32, micros: i64) {
        State::packet(self, lt, data, origlen, micros);
    }
}

/// Reads a capture from `input` and observes the selected device.
pub fn observe<R: Read + Send>(
    input: R,
    file: &str,
    opts: &Options,
) -> Result<Observation, PcapError> {
    let mut st = State {
        opts,
        flows: HashMap::new(),
        names: HashMap::new(),
        queries: HashMap::new(),
        device_ips: BTreeSet::new(),
        device_mac: None,
        cov: Coverage::default(),
        first: None,
        last: None,
        dns_full: false,
    };
    if let Device::Mac(m) = opts.device {
        st.device_mac = Some(m);
    }
    if let Device::Ip(ip) = opts.device {
        st.device_ips.insert(ip);
    }
    let read = read_capture(input, file, &opts.limits, opts.allow_truncated, &mut st)?;
    st.cov.link_types = read.link_types;
    if let Some(offset) = read.truncated_at {
        st.cov.truncated = true;
        st.cov
            .partial
            .push(format!("the file ends inside a record at byte {offset}"));
    }
    Ok(st.finish(read.source))
}

fn check_linktype(lt: Linktype) -> Result<(), PcapError> {
    match lt.0 {
        0 | 1 | 12 | 14 | 101 | 108 | 113 | 228 | 229 | 276 => Ok(()),
        n => Err(PcapError::UnknownLinkType(n)),
    }
}

fn linktype_name(lt: Linktype) -> String {
    match lt.0 {
        0 => "NULL".into(),
        1 => "ETHERNET".into(),
        12 | 14 | 101 => "RAW".into(),
        108 => "LOOP".into(),
        113 => "LINUX_SLL".into(),
        228 => "IPV4".into(),
        229 => "IPV6".into(),
        276 => "LINUX_SLL2".into(),
        n => format!("LINKTYPE_{n}"),
    }
}

/// Length checks before the record is used (`docs/limits.md`).
fn check_lengths(
    caplen: u32,
    origlen: u32,
    limit: usize,
    index: u64,
    offset: u64,
) -> Result<(), PcapError> {
    if caplen as usize > limit {
        return Err(PcapError::RecordTooLarge { offset, limit });
    }
    if caplen > origlen {
        return Err(PcapError::CaplenExceedsOriginal {
            index,
            offset,
            caplen,
            origlen,
        });
    }
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Local scope: private, loopback, link-local, multicast, broadcast, unspecified.
pub fn is_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            a.is_private()
                || a.is_loopback()
                || a.is_link_local()
                || a.is_multicast()
                || a.is_broadcast()
                || a.is_unspecified()
                || (a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64) // RFC 6598 shared space
        }
        IpAddr::V6(a) => {
            a.is_loopback()
                || a.is_multicast()
                || a.is_unspecified()
                || a.is_unique_local()
                || a.is_unicast_link_local()
        }
    }
}

/// Rfc 3339 text of a time in microseconds since the epoch.
fn rfc3339(micros: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| micros.to_string())
}

impl State<'_> {
    fn packet(&mut self, lt: Linktype, data: &[u8], origlen: u32, micros: i64) {
        self.cov.packets_total += 1;
        if (data.len() as u64) < u64::from(origlen) {
            self.cov.packets_clipped += 1;
        }
        self.first = Some(self.first.map_or(micros, |f| f.min(micros)));
        self.last = Some(self.last.map_or(micros, |l| l.max(micros)));
        let Some(p) = slice(lt, data) else {
            self.cov.packets_undecoded += 1;
            return;
        };
        let (src_mac, dst_mac) = match &p.link {
            Some(etherparse::LinkSlice::Ethernet2(e)) => (Some(e.source()), Some(e.destination())),
            _ => (None, None),
        };
        let (src, dst, proto_num) = match &p.net {
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
            _ => {
                self.cov.packets_undecoded += 1;
                return;
            }
        };
        // Which side is the device?
        let outbound = match self.opts.device {
            Device::Ip(ip) => {
                if src == ip {
                    true
                } else if dst == ip {
                    false
                } else {
                    return;
                }
            }
            Device::Mac(m) => {
                if src_mac == Some(m) {
                    self.learn_ip(src);
                    true
                } else if dst_mac == Some(m) {
                    if !dst.is_unspecified() && !is_broadcast(&dst) && !dst.is_multicast() {
                        self.learn_ip(dst);
                    }
                    false
                } else {
                    return;
                }
            }
        };
        if let (Device::Ip(_), Some(m)) =
            (self.opts.device, if outbound { src_mac } else { dst_mac })
        {
            self.device_mac.get_or_insert(m);
        }
        self.cov.packets_device += 1;
        let remote = if outbound { dst } else { src };
        let (transport, sport, dport, payload, syn_only) = match &p.transport {
            Some(TransportSlice::Tcp(t)) => (
                Transport::Tcp,
                t.source_port(),
                t.destination_port(),
                t.payload(),
                t.syn() && !t.ack(),
            ),
            Some(TransportSlice::Udp(u)) => (
                Transport::Udp,
                u.source_port(),
                u.destination_port(),
                u.payload(),
                false,
            ),
            Some(TransportSlice::Icmpv4(_)) | Some(TransportSlice::Icmpv6(_)) => {
                (Transport::Icmp, 0, 0, &[][..], false)
            }
            _ => {
                let _ = proto_num;
                (Transport::Other, 0, 0, &[][..], false)
            }
        };
        let (local_port, remote_port) = if outbound {
            (sport, dport)
        } else {
            (dport, sport)
        };
        let key = self.flow_key(
            transport,
            remote,
            local_port,
            remote_port,
            syn_only,
            outbound,
        );
        let len = u64::from(origlen);
        if !self.flows.contains_key(&key) && self.flows.len() >= self.opts.limits.max_flows {
            self.cov.packets_dropped += 1;
            return;
        }
        let acc = self.flows.entry(key).or_insert_with(|| FlowAcc {
            sni: BTreeSet::new(),
            host: BTreeSet::new(),
            protocol: None,
            encrypted: None,
            bytes_out: 0,
            bytes_in: 0,
            packets_out: 0,
            packets_in: 0,
            first: micros,
            last: micros,
        });
        if outbound {
            acc.bytes_out += len;
            acc.packets_out += 1;
        } else {
            acc.bytes_in += len;
            acc.packets_in += 1;
        }
        acc.first = acc.first.min(micros);
        acc.last = acc.last.max(micros);
        if payload.is_empty() {
            return;
        }
        let max_names = self.opts.limits.max_names;
        let dns_port = key.port == 53 && transport == Transport::Udp;
        classify(acc, transport, key.port, payload, max_names);
        if dns_port {
            self.dns(payload, remote, outbound);
        }
    }

    fn learn_ip(&mut self, ip: IpAddr) {
        if self.device_ips.len() < 16 && !ip.is_unspecified() {
            self.device_ips.insert(ip);
        }
    }

    /// The flow a packet belongs to, keyed by the service port. A TCP SYN
    /// tells who initiated; otherwise an existing flow wins; otherwise a
    /// well-known port (< 1024) facing an ephemeral one is the service; for
    /// UDP between two high ports the sender of the first packet is the
    /// client (P2P and custom protocols); else the lower port is the service.
    fn flow_key(
        &self,
        transport: Transport,
        remote: IpAddr,
        local: u16,
        rport: u16,
        syn: bool,
        outbound: bool,
    ) -> FlowKey {
        let out_key = FlowKey {
            transport,
            remote,
            port: rport,
            device_is_server: false,
        };
        let in_key = FlowKey {
            transport,
            remote,
            port: local,
            device_is_server: true,
        };
        if transport == Transport::Icmp || transport == Transport::Other {
            return FlowKey {
                transport,
                remote,
                port: 0,
                device_is_server: false,
            };
        }
        if syn {
            return if outbound { out_key } else { in_key };
        }
        if self.flows.contains_key(&out_key) {
            return out_key;
        }
        if self.flows.contains_key(&in_key) {
            return in_key;
        }
        match (local < 1024, rport < 1024) {
            (false, true) => out_key,
            (true, false) => in_key,
            (false, false) if transport == Transport::Udp => {
                if outbound {
                    out_key
                } else {
                    in_key
                }
            }
            _ if local < rport => in_key,
            _ => out_key,
        }
    }

    fn dns(&mut self, payload: &[u8], remote: IpAddr, outbound: bool) {
        let Some(msg) = proto::parse_dns(payload) else {
            return;
        };
        let max_dns = self.opts.limits.max_dns;
        let max_names = self.opts.limits.max_names;
        for (name, ty) in &msg.questions {
            let key = (name.clone(), *ty, remote);
            if !self.queries.contains_key(&key) && self.queries.len() >= max_dns {
                self.dns_full = true;
                continue;
            }
            let q = self.queries.entry(key).or_default();
            if outbound && !msg.response {
                q.count += 1;
            }
            if msg.response && !outbound {
                for a in &msg.answers {
                    if q.answers.len() >= max_names {
                        break;
                    }
                    q.answers.insert(match &a.data {
                        proto::DnsData::Addr(ip) => ip.to_string(),
                        proto::DnsData::Cname(n) => n.clone(),
                    });
                }
            }
        }
        if !msg.response || outbound {
            return;
        }
        // Every address answered is reachable by the question names and by
        // every owner name on the CNAME chain.
        let mut names: BTreeSet<&str> = msg.questions.iter().map(|(n, _)| n.as_str()).collect();
        for a in &msg.answers {
            names.insert(a.owner.as_str());
        }
        for a in &msg.answers {
            if let proto::DnsData::Addr(ip) = a.data {
                if !self.names.contains_key(&ip) && self.names.len() >= max_dns {
                    self.dns_full = true;
                    continue;
                }
                let set = self.names.entry(ip).or_default();
                for n in &names {
                    if set.len() < max_names {
                        set.insert((*n).to_owned());
                    }
                }
            }
        }
    }

    fn finish(mut self, source: Source) -> Observation {
        if self.cov.packets_dropped > 0 {
            self.cov.partial.push(format!(
                "flow table full ({} flows): {} device packets not counted",
                self.opts.limits.max_flows, self.cov.packets_dropped
            ));
        }
        if self.dns_full {
            self.cov.partial.push(format!(
                "DNS table full ({} entries)",
                self.opts.limits.max_dns
            ));
        }
        self.cov.first_seen = self.first.map(rfc3339);
        self.cov.last_seen = self.last.map(rfc3339);
        self.cov.duration_s = match (self.first, self.last) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e6,
            _ => 0.0,
        };
        let mut flows: Vec<Flow> = self
            .flows
            .iter()
            .map(|(k, a)| Flow {
                remote_ip: k.remote,
                port: k.port,
                transport: k.transport,
                device_is_server: k.device_is_server,
                scope: if is_local(&k.remote) {
                    "local"
                } else {
                    "public"
                }
                .into(),
                dns_names: self
                    .names
                    .get(&k.remote)
                    .map(|s| s.iter().cloned().collect())
                    .unwrap_or_default(),
                tls_sni: a.sni.iter().cloned().collect(),
                http_host: a.host.iter().cloned().collect(),
                protocol: a.protocol.map(str::to_owned),
                encrypted: a.encrypted,
                bytes_out: a.bytes_out,
                bytes_in: a.bytes_in,
                packets_out: a.packets_out,
                packets_in: a.packets_in,
                first_seen: rfc3339(a.first),
                last_seen: rfc3339(a.last),
            })
            .collect();
        flows.sort_by(|a, b| {
            (a.remote_ip, a.transport, a.port, a.device_is_server).cmp(&(
                b.remote_ip,
                b.transport,
                b.port,
                b.device_is_server,
            ))
        });
        let mut dns: Vec<DnsQuery> = self
            .queries
            .into_iter()
            .map(|((name, ty, resolver), q)| DnsQuery {
                name,
                qtype: proto::qtype_name(ty),
                resolver,
                answers: q.answers.into_iter().collect(),
                count: q.count,
            })
            .collect();
        dns.sort_by(|a, b| (&a.name, &a.qtype, a.resolver).cmp(&(&b.name, &b.qtype, b.resolver)));
        let selector = match self.opts.device {
            Device::Ip(ip) => ip.to_string(),
            Device::Mac(m) => mac_string(&m),
        };
        Observation {
            format: OBSERVATION_FORMAT.into(),
            source,
            traffic: Some(Traffic {
                device: DeviceSelector {
                    selector,
                    ips: self.device_ips.into_iter().collect(),
                    mac: self.device_mac.as_ref().map(mac_string),
                },
                coverage: self.cov,
                flows,
                dns,
            }),
            firmware: None,
        }
    }
}

/// Decodes a record of link type `lt` as far as it goes.
fn slice(lt: Linktype, data: &[u8]) -> Option<LaxSlicedPacket<'_>> {
    match lt.0 {
        1 => LaxSlicedPacket::from_ethernet(data).ok(),
        12 | 14 | 101 | 228 | 229 => LaxSlicedPacket::from_ip(data).ok(),
        0 | 108 => data.get(4..).and_then(|d| LaxSlicedPacket::from_ip(d).ok()),
        113 => data.get(16..).map(|d| {
            LaxSlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([data[14], data[15]])), d)
        }),
        276 => data.get(20..).map(|d| {
            LaxSlicedPacket::from_ether_type(EtherType(u16::from_be_bytes([data[0], data[1]])), d)
        }),
        _ => None,
    }
}

fn is_broadcast(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V4(a) if a.is_broadcast())
}

/// Recognizes the application protocol of a payload and records names.
fn classify(acc: &mut FlowAcc, transport: Transport, port: u16, p: &[u8], max_names: usize) {
    let mut set = |proto: &'static str, enc: bool| {
        acc.protocol.get_or_insert(proto);
        // Plaintext evidence wins: one plaintext exchange is a downgrade.
        acc.encrypted = Some(acc.encrypted.unwrap_or(enc) && enc);
    };
    match transport {
        Transport::Tcp => {
            if proto::is_tls_record(p) {
                set("tls", true);
                if p[0] == 22 {
                    if let Some(sni) = proto::tls_client_hello_sni(p) {
                        if acc.sni.len() < max_names {
                            acc.sni.insert(sni);
                        }
                    }
                }
            } else if let Some(host) = proto::http_request(p) {
                set("http", false);
                if let Some(h) = host {
                    if acc.host.len() < max_names {
                        acc.host.insert(h);
                    }
                }
            } else if proto::is_http_response(p) {
                set("http", false);
            } else if proto::is_mqtt_connect(p) {
                set("mqtt", false);
            }
        }
        Transport::Udp => {
            if port == 53 {
                set("dns", false);
            } else if port == 123 {
                set("ntp", false);
            } else if port == 67 || port == 68 {
                set("dhcp", false);
            } else if proto::is_dtls_record(p) {
                set("dtls", true);
            } else if proto::is_quic_long_header(p) {
                set("quic", true);
            }
        }
        _ => {}
    }
}

mod hosts;
pub use hosts::{Host, HostList, MAX_HOST_IPS, MAX_HOSTS, list_hosts};

#[cfg(test)]
mod tests;
