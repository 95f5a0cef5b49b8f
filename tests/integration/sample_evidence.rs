//! The sample evidence that the README's "Diff a shipped device" tour uses,
//! made here and committed under `samples/`: a traffic capture of
//! the smart meter on a home network and its firmware's CycloneDX SBOM.
//!
//! The committed files must be exactly what this generator writes; after a
//! deliberate change, rewrite them with
//! `BLUEPRINT_REGENERATE=1 cargo test --test integration sample_evidence`.
//!
//! The story they tell: the meter at 192.168.10.204 looks up and talks TLS
//! to its three declared endpoints — and to one it never declared
//! (`telemetry.cloudsight.example`), which the diff reports as an
//! undeclared recipient. A phone on the same network gives
//! `observe pcap --list-hosts` a second device to list. The SBOM names the
//! firmware build the blueprint declares (same SHA-256).

#[path = "../support/client_hello.rs"]
mod hello;

use crate::util::repo_file;
use etherparse::PacketBuilder;
use hello::client_hello;
use serde_json::json;

/// The meter's address, as the README passes it to `--device`.
const METER: [u8; 4] = [192, 168, 10, 204];
const METER_MAC: [u8; 6] = [0x02, 0x56, 0x4c, 0x54, 0x45, 0x05];
const PHONE: [u8; 4] = [192, 168, 10, 50];
const PHONE_MAC: [u8; 6] = [0x02, 0x50, 0x48, 0x4f, 0x4e, 0x45];
const ROUTER: [u8; 4] = [192, 168, 10, 1];
const ROUTER_MAC: [u8; 6] = [0x02, 0x52, 0x4f, 0x55, 0x54, 0x45];
/// 2026-11-20T09:00:00Z, the capture's first second.
const START: u32 = 1_795_165_200;

/// One device's lookup of a host and one connection to it.
type Conversation = ([u8; 4], [u8; 6], &'static str, [u8; 4], bool);

/// Who talks to whom: (device, its MAC, host name, address, TLS?).
const CONVERSATIONS: &[Conversation] = &[
    (
        METER,
        METER_MAC,
        "gwa.netzbetrieb-musterstadt.example",
        [203, 0, 113, 10],
        true,
    ),
    (
        METER,
        METER_MAC,
        "emt.stromversorgung-muster.example",
        [203, 0, 113, 20],
        true,
    ),
    (
        PHONE,
        PHONE_MAC,
        "www.wikipedia.example",
        [198, 51, 100, 80],
        true,
    ),
    (
        METER,
        METER_MAC,
        "updates.voltaris.example",
        [203, 0, 113, 30],
        true,
    ),
    (
        METER,
        METER_MAC,
        "telemetry.cloudsight.example",
        [198, 51, 100, 7],
        true,
    ),
    (PHONE, PHONE_MAC, "news.example", [198, 51, 100, 81], false),
];

/// A classic little-endian pcap (microsecond timestamps, Ethernet).
fn capture() -> Vec<u8> {
    let mut f = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0,
    ];
    let mut t = 0u32;
    for (i, (dev, mac, host, remote, tls)) in CONVERSATIONS.iter().enumerate() {
        let sport = 49_152 + i as u16 * 7;
        let query = dns_query(0x1000 + i as u16, host);
        let mut answer = query.clone();
        answer[2] = 0x81; // response, recursion desired
        answer[3] = 0x80; // recursion available
        answer[7] = 1; // one answer
        answer.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
        answer.extend_from_slice(remote);
        let mut packets: Vec<Vec<u8>> = Vec::new();
        let out = |payload: &[u8], build: &dyn Fn(&mut Vec<u8>, &[u8])| {
            let mut p = Vec::new();
            build(&mut p, payload);
            p
        };
        packets.push(out(&query, &|p, b| {
            PacketBuilder::ethernet2(*mac, ROUTER_MAC)
                .ipv4(*dev, ROUTER, 64)
                .udp(sport, 53)
                .write(p, b)
                .unwrap()
        }));
        packets.push(out(&answer, &|p, b| {
            PacketBuilder::ethernet2(ROUTER_MAC, *mac)
                .ipv4(ROUTER, *dev, 64)
                .udp(53, sport)
                .write(p, b)
                .unwrap()
        }));
        let (port, first): (u16, Vec<u8>) = if *tls {
            (443, client_hello(host))
        } else {
            (
                80,
                format!("GET / HTTP/1.1\r\nHost: {host}\r\nUser-Agent: sample\r\n\r\n")
                    .into_bytes(),
            )
        };
        let mut reply = if *tls {
            vec![0x17, 3, 3, 0x01, 0x00]
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 251\r\n\r\n".to_vec()
        };
        reply.resize(256, 0x5a);
        packets.push(out(&first, &|p, b| {
            PacketBuilder::ethernet2(*mac, ROUTER_MAC)
                .ipv4(*dev, *remote, 64)
                .tcp(sport + 1, port, 1, 64_240)
                .write(p, b)
                .unwrap()
        }));
        for seq in 0..3u32 {
            packets.push(out(&reply, &|p, b| {
                PacketBuilder::ethernet2(ROUTER_MAC, *mac)
                    .ipv4(*remote, *dev, 58)
                    .tcp(port, sport + 1, 1 + seq * 256, 64_240)
                    .write(p, b)
                    .unwrap()
            }));
        }
        for p in packets {
            t += 1;
            record(&mut f, START + t / 4, (t % 4) * 250_000, &p);
        }
    }
    f
}

fn record(out: &mut Vec<u8>, secs: u32, micros: u32, pkt: &[u8]) {
    out.extend_from_slice(&secs.to_le_bytes());
    out.extend_from_slice(&micros.to_le_bytes());
    out.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
    out.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
    out.extend_from_slice(pkt);
}

/// A DNS query for the A record of `host` (RFC 1035 §4.1).
fn dns_query(id: u16, host: &str) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[1, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in host.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

/// The firmware's CycloneDX 1.5 SBOM; the image digest is the one the
/// smart meter's blueprint declares in `[device.firmware]`.
fn sbom() -> Vec<u8> {
    let component = |name: &str, version: &str, purl: &str, license: &str| {
        json!({
            "type": "library",
            "bom-ref": purl,
            "name": name,
            "version": version,
            "purl": purl,
            "licenses": [{"license": {"id": license}}],
        })
    };
    let bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "serialNumber": "urn:uuid:5b0e7a52-3c1d-4f8e-9a51-0e5000520000",
        "version": 1,
        "metadata": {
            "timestamp": "2026-11-20T09:00:00Z",
            "component": {
                "type": "firmware",
                "bom-ref": "em5-firmware@5.2.0",
                "supplier": {"name": "Voltaris Metering GmbH"},
                "name": "em5-firmware",
                "version": "5.2.0",
                "hashes": [{
                    "alg": "SHA-256",
                    "content": "7e3f91c2a4b5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"
                }]
            }
        },
        "components": [
            component("zephyr", "3.7.0", "pkg:generic/zephyr@3.7.0", "Apache-2.0"),
            component("mbedtls", "3.6.2", "pkg:generic/mbedtls@3.6.2", "Apache-2.0"),
            component("mcuboot", "2.1.0", "pkg:generic/mcuboot@2.1.0", "Apache-2.0"),
            component("em5-metrology", "5.2.0", "pkg:generic/voltaris/em5-metrology@5.2.0", "LicenseRef-Voltaris-Proprietary"),
        ]
    });
    let mut text = serde_json::to_string_pretty(&bom).unwrap();
    text.push('\n');
    text.into_bytes()
}

#[test]
fn committed_sample_evidence_is_what_the_generator_writes() {
    let dir = repo_file("samples");
    let files = [("capture.pcap", capture()), ("firmware.cdx.json", sbom())];
    let regenerate = std::env::var_os("BLUEPRINT_REGENERATE").is_some();
    for (name, bytes) in files {
        let path = dir.join(name);
        if regenerate {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &bytes).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == bytes,
            "samples/{name} is not what the generator writes; rewrite it with \
             BLUEPRINT_REGENERATE=1 cargo test --test integration sample_evidence"
        );
    }
}
