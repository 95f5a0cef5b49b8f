#!/usr/bin/env bash
# `blueprint observe pcap` throughput on a generated capture of >= 200 MB,
# next to tshark extracting the same facts from the same file in the same run:
#   tshark -r FILE -T fields -e ip.dst -e tls.handshake.extensions_server_name
# Prints wall time, MB/s and peak RSS of both, and their ratios.
# Usage: scripts/bench-observe.sh [SIZE_MB]   (default 256)
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB="${1:-256}"
if ! command -v tshark >/dev/null; then
    echo "installing tshark (bench only)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt-get install -y -qq tshark >/dev/null
fi
cargo build --release --quiet --bin blueprint
BIN=target/release/blueprint
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
CAP="$WORK/gen.pcap"

# The generator writes DNS lookups, TLS connections with a ClientHello
# naming the server, bulk TLS records both ways, and some plaintext HTTP.
python3 - "$CAP" "$SIZE_MB" <<'PY'
import struct, sys
path, size = sys.argv[1], int(sys.argv[2]) << 20
DEV = bytes([192, 168, 1, 10]); GW = bytes([192, 168, 1, 1])
def ip(src, dst, proto, payload):
    h = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0, src, dst)
    return h + payload
def tcp(sp, dp, payload, flags=0x18):
    return struct.pack('>HHIIBBHHH', sp, dp, 1, 1, 5 << 4, flags, 1024, 0, 0) + payload
def udp(sp, dp, payload):
    return struct.pack('>HHHH', sp, dp, 8 + len(payload), 0) + payload
def eth(src_dev, pkt):
    macs = (b'\x02' * 6 + b'\x04' * 6) if not src_dev else (b'\x04' * 6 + b'\x02' * 6)
    return macs + b'\x08\x00' + pkt
def hello(sni):
    n = sni.encode()
    ext = struct.pack('>HHHBH', 0, len(n) + 5, len(n) + 3, 0, len(n)) + n
    body = b'\x03\x03' + b'\x07' * 32 + b'\x00\x00\x02\x13\x01\x01\x00' + struct.pack('>H', len(ext)) + ext
    hs = b'\x01' + struct.pack('>I', len(body))[1:] + body
    return b'\x16\x03\x01' + struct.pack('>H', len(hs)) + hs
bulk = b'\x17\x03\x03\x05\x70' + b'\xab' * 1395
with open(path, 'wb') as f:
    f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    written, conn = 24, 0
    def rec(t, frame):
        global written
        f.write(struct.pack('<IIII', t, 0, len(frame), len(frame))); f.write(frame)
        written += 16 + len(frame)
    while written < size:
        conn += 1
        remote = bytes([198, 51, conn // 250 % 250, conn % 250 + 1])
        sp = 40000 + conn % 20000
        host = 'h%d.svc%d.example.com' % (conn % 5000, conn % 97)
        q = b'\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00' + b''.join(bytes([len(l)]) + l.encode() for l in host.split('.')) + b'\x00\x00\x01\x00\x01'
        rec(conn, eth(False, ip(DEV, GW, 17, udp(sp, 53, q))))
        a = q[:2] + b'\x81\x80\x00\x01\x00\x01' + q[8:] + b'\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04' + remote
        rec(conn, eth(True, ip(GW, DEV, 17, udp(53, sp, a))))
        rec(conn, eth(False, ip(DEV, remote, 6, tcp(sp, 443, hello(host)))))
        for i in range(40):
            if i % 2 == 0:
                rec(conn, eth(True, ip(remote, DEV, 6, tcp(443, sp, bulk))))
            else:
                rec(conn, eth(False, ip(DEV, remote, 6, tcp(sp, 443, bulk[:200]))))
        if conn % 10 == 0:
            rec(conn, eth(False, ip(DEV, remote, 6, tcp(sp + 1, 80, ('GET /t HTTP/1.1\r\nHost: %s\r\n\r\n' % host).encode()))))
PY
BYTES=$(stat -c %s "$CAP")
MB=$(awk "BEGIN { printf \"%.1f\", $BYTES / 1048576 }")
echo "capture: $MB MiB ($BYTES bytes), $(tshark -r "$CAP" -T fields -e frame.number 2>/dev/null | wc -l) packets"

# measure NAME CMD... → prints "NAME seconds peak_kib"
measure() {
    local name="$1"; shift
    cat "$CAP" >/dev/null # warm the page cache for both tools alike
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/$name.out" 2>/dev/null
    read -r secs kib <"$WORK/time"
    echo "$name $secs $kib"
}

read -r _ b_s b_kib < <(measure blueprint "$BIN" observe pcap "$CAP" --device 192.168.1.10 -o "$WORK/obs.json")
read -r _ t_s t_kib < <(measure tshark tshark -r "$CAP" -T fields -e ip.dst -e tls.handshake.extensions_server_name)
flows=$(jq '.traffic.flows | length' "$WORK/obs.json")
snis=$(jq '[.traffic.flows[].tls_sni[]] | length' "$WORK/obs.json")
t_snis=$(awk -F'\t' '$2 != ""' "$WORK/tshark.out" | wc -l)
printf '%-10s %8s s %9s MB/s %9s MiB peak RSS\n' \
    blueprint "$b_s" "$(awk "BEGIN { printf \"%.0f\", $MB / $b_s }")" "$(awk "BEGIN { printf \"%.1f\", $b_kib / 1024 }")" \
    tshark "$t_s" "$(awk "BEGIN { printf \"%.0f\", $MB / $t_s }")" "$(awk "BEGIN { printf \"%.1f\", $t_kib / 1024 }")"
echo "blueprint: $flows flows, $snis SNI names kept; tshark: $t_snis ClientHellos with SNI"
awk "BEGIN { printf \"ratio time (tshark / blueprint): %.1fx faster; ratio peak memory (tshark / blueprint): %.1fx smaller\n\", $t_s / $b_s, $t_kib / $b_kib }"
