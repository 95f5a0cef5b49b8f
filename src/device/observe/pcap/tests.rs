//! Reader tests on captures built in memory, including hostile ones.
use super::*;
use etherparse::PacketBuilder;

const DEV: [u8; 4] = [192, 168, 1, 10];
const DEV_MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const GW_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];

fn macs(src: [u8; 4], dst: [u8; 4]) -> ([u8; 6], [u8; 6]) {
    match (src == DEV, dst == DEV) {
        (true, _) => (DEV_MAC, GW_MAC),
        (_, true) => (GW_MAC, DEV_MAC),
        _ => ([2, 0, 0, 0, 0, 3], [2, 0, 0, 0, 0, 4]),
    }
}

fn tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let (sm, dm) = macs(src, dst);
    let b = PacketBuilder::ethernet2(sm, dm)
        .ipv4(src, dst, 64)
        .tcp(sport, dport, 1, 1024);
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let (sm, dm) = macs(src, dst);
    let b = PacketBuilder::ethernet2(sm, dm)
        .ipv4(src, dst, 64)
        .udp(sport, dport);
    let mut out = Vec::new();
    b.write(&mut out, payload).unwrap();
    out
}

fn legacy(linktype: u32, snaplen: u32, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&snaplen.to_le_bytes());
    f.extend_from_slice(&linktype.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        f.extend_from_slice(&(1_700_000_000 + i as u32).to_le_bytes());
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(p);
    }
    f
}

fn block(ty: u32, body: &[u8]) -> Vec<u8> {
    let pad = (4 - body.len() % 4) % 4;
    let len = (12 + body.len() + pad) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(&ty.to_le_bytes());
    b.extend_from_slice(&len.to_le_bytes());
    b.extend_from_slice(body);
    b.extend_from_slice(&vec![0; pad]);
    b.extend_from_slice(&len.to_le_bytes());
    b
}

fn pcapng(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut f = block(0x0a0d_0d0a, &shb);
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&262_144u32.to_le_bytes());
    f.extend(block(1, &idb));
    for (i, p) in packets.iter().enumerate() {
        let ts: u64 = (1_700_000_000 + i as u64) * 1_000_000;
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(p.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(p.len() as u32).to_le_bytes());
        epb.extend_from_slice(p);
        epb.extend_from_slice(&vec![0; (4 - p.len() % 4) % 4]);
        f.extend(block(6, &epb));
    }
    f
}

fn dns_response(name: &str, ip: [u8; 4]) -> Vec<u8> {
    let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    for l in name.split('.') {
        m.push(l.len() as u8);
        m.extend_from_slice(l.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
    m.extend_from_slice(&ip);
    m
}

fn sample() -> Vec<Vec<u8>> {
    let hello = crate::device::observe::proto::tests::client_hello("api.acme.example");
    vec![
        udp(DEV, [192, 168, 1, 1], 40000, 53, b"\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03cdn\x04acme\x07example\x00\x00\x01\x00\x01"),
        udp([192, 168, 1, 1], DEV, 53, 40000, &dns_response("cdn.acme.example", [198, 51, 100, 7])),
        tcp(DEV, [203, 0, 113, 5], 50000, 443, &hello),
        tcp([203, 0, 113, 5], DEV, 443, 50000, b"\x17\x03\x03\x00\x02ab"),
        tcp(DEV, [198, 51, 100, 7], 50001, 80, b"GET / HTTP/1.1\r\nHost: cdn.acme.example\r\n\r\n"),
        udp(DEV, [192, 0, 2, 99], 45000, 10001, b"\x01\x02\x03"),
        tcp([192, 168, 1, 20], [192, 168, 1, 30], 1, 2, b"other host"),
    ]
}

fn opts() -> Options {
    Options {
        device: Device::Ip(IpAddr::from(DEV)),
        limits: Limits::default(),
        allow_truncated: false,
    }
}

fn run(bytes: &[u8], o: &Options) -> Result<Observation, PcapError> {
    observe(bytes, "test.pcap", o)
}

fn check_sample(obs: &Observation) {
    check_sample_mac(obs, Some("02:00:00:00:00:01"));
}

fn check_sample_mac(obs: &Observation, mac: Option<&str>) {
    let t = obs.traffic.as_ref().unwrap();
    assert_eq!(t.coverage.packets_total, 7);
    assert_eq!(t.coverage.packets_device, 6);
    assert_eq!(t.coverage.duration_s, 6.0);
    assert!(t.coverage.partial.is_empty());
    assert_eq!(t.device.mac.as_deref(), mac);
    let find = |ip: &str| {
        t.flows
            .iter()
            .find(|f| f.remote_ip.to_string() == ip)
            .unwrap()
    };
    let tls = find("203.0.113.5");
    assert_eq!(tls.tls_sni, vec!["api.acme.example"]);
    assert_eq!(
        (tls.port, tls.encrypted, tls.packets_out, tls.packets_in),
        (443, Some(true), 1, 1)
    );
    let http = find("198.51.100.7");
    assert_eq!(http.http_host, vec!["cdn.acme.example"]);
    assert_eq!(http.dns_names, vec!["cdn.acme.example"]);
    assert_eq!((http.port, http.encrypted), (80, Some(false)));
    let bare = find("192.0.2.99");
    assert!(bare.dns_names.is_empty() && bare.tls_sni.is_empty());
    assert_eq!(
        (bare.port, bare.transport, bare.encrypted),
        (10001, Transport::Udp, None)
    );
    assert_eq!(t.dns.len(), 1);
    assert_eq!(t.dns[0].name, "cdn.acme.example");
    assert_eq!(t.dns[0].answers, vec!["198.51.100.7"]);
    assert_eq!(t.dns[0].count, 1);
}

#[test]
fn pcap_and_pcapng_give_the_same_flows() {
    let a = run(&legacy(1, 65535, &sample()), &opts()).unwrap();
    check_sample(&a);
    assert_eq!(a.source.kind, "pcap");
    let b = run(&pcapng(&sample()), &opts()).unwrap();
    check_sample(&b);
    assert_eq!(b.source.kind, "pcapng");
    assert_eq!(a.traffic, b.traffic);
}

#[test]
fn device_by_mac() {
    let mut o = opts();
    o.device = "02:00:00:00:00:01".parse().unwrap();
    let obs = run(&legacy(1, 65535, &sample()), &o).unwrap();
    check_sample(&obs);
    assert_eq!(obs.traffic.unwrap().device.ips, vec![IpAddr::from(DEV)]);
}

#[test]
fn raw_ip_link_type() {
    let pkts: Vec<Vec<u8>> = sample().into_iter().map(|p| p[14..].to_vec()).collect();
    check_sample_mac(&run(&legacy(101, 65535, &pkts), &opts()).unwrap(), None);
}

// Hostile captures.
#[test]
fn absurd_record_length_is_refused_without_allocating() {
    let mut f = legacy(1, 65535, &sample()[..1]);
    f[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        run(&f, &opts()),
        Err(PcapError::RecordTooLarge { .. })
    ));
}

#[test]
fn pcapng_epb_with_absurd_caplen_is_refused() {
    let mut f = pcapng(&sample()[..1]);
    // SHB (28) + IDB (20) + EPB header (8) + if_id, ts_high, ts_low (12) → caplen.
    let at = 28 + 20 + 8 + 12;
    f[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let r = run(&f, &opts());
    assert!(
        matches!(
            r,
            Err(PcapError::RecordTooLarge { .. }
                | PcapError::Malformed { .. }
                | PcapError::CaplenExceedsOriginal { .. })
        ),
        "{r:?}"
    );
}

#[test]
fn snaplen_above_limit_is_refused() {
    let f = legacy(1, 262_145, &sample());
    assert!(matches!(
        run(&f, &opts()),
        Err(PcapError::SnaplenTooLarge {
            snaplen: 262_145,
            ..
        })
    ));
}

#[test]
fn caplen_above_origlen_is_refused() {
    let mut f = legacy(1, 65535, &sample()[..1]);
    f[24 + 12..24 + 16].copy_from_slice(&10u32.to_le_bytes());
    assert!(matches!(
        run(&f, &opts()),
        Err(PcapError::CaplenExceedsOriginal { index: 0, .. })
    ));
}

#[test]
fn truncated_capture_errors_or_is_marked_partial() {
    let f = legacy(1, 65535, &sample());
    let cut = &f[..f.len() - 5];
    assert!(matches!(
        run(cut, &opts()),
        Err(PcapError::Truncated { packets: 6, .. })
    ));
    let mut o = opts();
    o.allow_truncated = true;
    let obs = run(cut, &o).unwrap();
    let c = &obs.traffic.unwrap().coverage;
    assert!(c.truncated && !c.partial.is_empty());
    assert_eq!(c.packets_total, 6);
}

#[test]
fn unknown_link_type_and_garbage_are_refused() {
    assert!(matches!(
        run(&legacy(147, 65535, &sample()), &opts()),
        Err(PcapError::UnknownLinkType(147))
    ));
    assert!(matches!(
        run(b"hello world, not a capture", &opts()),
        Err(PcapError::NotACapture)
    ));
    assert!(matches!(run(b"", &opts()), Err(PcapError::NotACapture)));
}

#[test]
fn full_flow_table_marks_the_observation_partial() {
    let mut o = opts();
    o.limits.max_flows = 2;
    let obs = run(&legacy(1, 65535, &sample()), &o).unwrap();
    let t = obs.traffic.unwrap();
    assert_eq!(t.flows.len(), 2);
    assert!(t.coverage.packets_dropped > 0);
    assert!(
        t.coverage
            .partial
            .iter()
            .any(|p| p.contains("flow table full"))
    );
}

#[test]
fn mutated_captures_never_panic() {
    let base = legacy(1, 65535, &sample());
    let ng = pcapng(&sample());
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for f in [base, ng] {
        for _ in 0..200 {
            let mut m = f.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed as usize) % m.len();
                m[i] = (seed >> 32) as u8;
            }
            let _ = run(&m, &opts());
            let cut = (seed as usize >> 8) % m.len();
            let _ = run(&m[..cut], &opts());
        }
    }
}

fn hosts(bytes: &[u8]) -> HostList {
    list_hosts(bytes, "test.pcap", &Limits::default(), false).unwrap()
}

#[test]
fn hosts_on_ethernet_are_macs_with_their_local_ips() {
    let list = hosts(&legacy(1, 65535, &sample()));
    assert_eq!(list.packets_total, 7);
    assert!(!list.partial);
    let dev = &list.hosts[0];
    assert_eq!(dev.mac.as_deref(), Some("02:00:00:00:00:01"));
    assert_eq!(dev.ips, vec![IpAddr::from(DEV)]);
    // 6 packets in 4 conversations: DNS, TLS, HTTP, the bare UDP.
    assert_eq!((dev.packets, dev.flows), (6, 4));
    // The gateway carries the other side, with only its local address.
    let gw = &list.hosts[1];
    assert_eq!(gw.mac.as_deref(), Some("02:00:00:00:00:02"));
    assert_eq!(gw.ips, vec![IpAddr::from([192, 168, 1, 1])]);
    assert_eq!((gw.packets, gw.flows), (6, 4));
    // pcapng lists the same hosts.
    assert_eq!(hosts(&pcapng(&sample())).hosts, list.hosts);
}

#[test]
fn hosts_without_a_link_layer_are_local_ips_only() {
    let pkts: Vec<Vec<u8>> = sample().into_iter().map(|p| p[14..].to_vec()).collect();
    let list = hosts(&legacy(101, 65535, &pkts));
    let ips: Vec<String> = list
        .hosts
        .iter()
        .map(|h| {
            assert_eq!(h.mac, None);
            h.ips[0].to_string()
        })
        .collect();
    // Busiest first; the public servers are not devices.
    assert_eq!(
        ips,
        [
            "192.168.1.10",
            "192.168.1.1",
            "192.168.1.20",
            "192.168.1.30"
        ]
    );
    assert_eq!(list.hosts[0].packets, 6);
}

#[test]
fn host_listing_is_bounded_and_refuses_what_observe_refuses() {
    let many: Vec<Vec<u8>> = (0..5000u32)
        .map(|i| {
            let b = i.to_be_bytes();
            udp(
                [10, b[1], b[2], b[3]],
                [10, 255, 255, 254],
                1000,
                2000,
                b"x",
            )
        })
        .collect();
    let list = hosts(&legacy(
        101,
        65535,
        &many.iter().map(|p| p[14..].to_vec()).collect::<Vec<_>>(),
    ));
    assert!(list.partial);
    assert_eq!(list.hosts.len(), MAX_HOSTS);
    let mut f = legacy(1, 65535, &sample()[..1]);
    f[24 + 8..24 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        list_hosts(&f[..], "x", &Limits::default(), false),
        Err(PcapError::RecordTooLarge { .. })
    ));
}
