//! `observe pcap` throughput on a generated capture held in memory.
//!
//! The capture mixes what a device sends: DNS lookups, TLS connections with
//! a ClientHello naming the server, bulk TLS records and plaintext HTTP.
//! `scripts/bench-observe.sh` runs the same comparison on a ≥ 200 MB file
//! against tshark.

use blueprint::device::observe::pcap::{Device, Limits, Options, observe};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use etherparse::PacketBuilder;
use std::hint::black_box;

#[path = "../tests/support/client_hello.rs"]
mod hello;
use hello::client_hello;

const DEV: [u8; 4] = [192, 168, 1, 10];

fn record(out: &mut Vec<u8>, t: u32, pkt: &[u8]) {
    out.extend_from_slice(&t.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
    out.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
    out.extend_from_slice(pkt);
}

/// A pcap of at least `bytes` bytes.
fn capture(bytes: usize) -> Vec<u8> {
    let mut f = vec![
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0,
    ];
    let mut data = vec![0x17, 3, 3, 0x05, 0x70];
    data.resize(1400, 0xab);
    let mut conn: u32 = 0;
    while f.len() < bytes {
        conn += 1;
        let remote = [198, 51, (conn / 250 % 250) as u8, (conn % 250) as u8 + 1];
        let sport = 40000 + (conn % 20000) as u16;
        let mut pkt = Vec::with_capacity(1500);
        let host = format!("h{}.svc{}.example.com", conn % 5000, conn % 97);
        // DNS question and answer.
        let mut q = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in host.split('.') {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv4(DEV, [192, 168, 1, 1], 64)
            .udp(sport, 53)
            .write(&mut pkt, &q)
            .unwrap();
        record(&mut f, conn, &pkt);
        let mut a = q.clone();
        a[2] = 0x81;
        a[7] = 1;
        a.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        a.extend_from_slice(&remote);
        pkt.clear();
        PacketBuilder::ethernet2([4; 6], [2; 6])
            .ipv4([192, 168, 1, 1], DEV, 64)
            .udp(53, sport)
            .write(&mut pkt, &a)
            .unwrap();
        record(&mut f, conn, &pkt);
        // TLS connection: hello, then bulk records both ways.
        pkt.clear();
        PacketBuilder::ethernet2([2; 6], [4; 6])
            .ipv4(DEV, remote, 64)
            .tcp(sport, 443, 1, 1024)
            .write(&mut pkt, &client_hello(&host))
            .unwrap();
        record(&mut f, conn, &pkt);
        for i in 0..40 {
            pkt.clear();
            if i % 2 == 0 {
                PacketBuilder::ethernet2([4; 6], [2; 6])
                    .ipv4(remote, DEV, 64)
                    .tcp(443, sport, i, 1024)
                    .write(&mut pkt, &data)
                    .unwrap();
            } else {
                PacketBuilder::ethernet2([2; 6], [4; 6])
                    .ipv4(DEV, remote, 64)
                    .tcp(sport, 443, i, 1024)
                    .write(&mut pkt, &data[..200])
                    .unwrap();
            }
            record(&mut f, conn, &pkt);
        }
        if conn % 10 == 0 {
            pkt.clear();
            let req = format!("GET /t HTTP/1.1\r\nHost: {host}\r\n\r\n");
            PacketBuilder::ethernet2([2; 6], [4; 6])
                .ipv4(DEV, remote, 64)
                .tcp(sport + 1, 80, 1, 1024)
                .write(&mut pkt, req.as_bytes())
                .unwrap();
            record(&mut f, conn, &pkt);
        }
    }
    f
}

fn bench(c: &mut Criterion) {
    let cap = capture(64 << 20);
    let opts = Options {
        device: Device::Ip(DEV.into()),
        limits: Limits::default(),
        allow_truncated: false,
    };
    let mut g = c.benchmark_group("observe_pcap");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(cap.len() as u64));
    g.bench_function("64MiB_generated", |b| {
        b.iter(|| observe(black_box(&cap[..]), "bench.pcap", &opts).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
