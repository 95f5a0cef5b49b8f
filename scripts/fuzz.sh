#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers and verifiers (`fuzz/`, cargo fuzz
# on the nightly toolchain, libFuzzer with AddressSanitizer).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   run each target SECONDS (default 20)
#   scripts/fuzz.sh --build                 build every target, run none
#   scripts/fuzz.sh --seeds                 rewrite the committed seeds
#
# Each run starts from the committed seeds (fuzz/seeds/<target>/) and the
# project's own examples and profiles, keeps its working corpus in
# fuzz/corpus/ (not committed) and prints one line per target: seconds,
# executions, corpus size, result. A crash leaves its input in
# fuzz/artifacts/<target>/ and makes the script exit 1; turn the input into
# a regression test under tests/ before fixing it.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS_ALL=(manifest_load profile_load canon_roundtrip dsse_verify receipt_checkpoint
    proof_verify pcap_read sbom_read manifest_diff registry_request)
CARGO_FUZZ_VERSION=0.13.2

need_cargo_fuzz() {
    if ! rustup toolchain list | grep -q '^nightly'; then
        echo "error: cargo fuzz needs the nightly toolchain (rustup toolchain install nightly)" >&2
        exit 2
    fi
    if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
        echo "installing cargo-fuzz $CARGO_FUZZ_VERSION ..." >&2
        cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
    fi
}

# The raw 32-byte Ed25519 key of a SubjectPublicKeyInfo PEM file.
raw_key() { openssl pkey -pubin -in "$1" -outform DER | tail -c 32; }

write_seeds() {
    cargo build --quiet --bin blueprint
    local bp=$PWD/target/debug/blueprint tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    rm -rf fuzz/seeds
    mkdir -p fuzz/seeds/{dsse_verify,receipt_checkpoint,proof_verify,manifest_diff,canon_roundtrip,registry_request}
    # Envelopes, each after the raw key that signed it.
    "$bp" keygen -o "$tmp/v" >/dev/null
    "$bp" sign examples/smart-meter.toml --key "$tmp/v.key" -o "$tmp/meter.dsse.json" >/dev/null
    "$bp" keygen -o "$tmp/lab" >/dev/null
    "$bp" sign --append "$tmp/meter.dsse.json" --key "$tmp/lab.key" -o "$tmp/both.dsse.json" >/dev/null
    { raw_key "$tmp/v.pub"; cat "$tmp/meter.dsse.json"; } >fuzz/seeds/dsse_verify/meter
    { raw_key "$tmp/lab.pub"; cat "$tmp/both.dsse.json"; } >fuzz/seeds/dsse_verify/cosigned
    # A registry's receipt and checkpoint, after the log key.
    (
        cd "$tmp"
        "$bp" registry init reg --origin fuzz.example/log --quorum 1 --window 1 >/dev/null
        "$bp" registry deposit reg meter.dsse.json --pubkey v.pub --bond 1 EUR -o receipt.json >/dev/null
        "$bp" registry checkpoint reg >checkpoint.txt
    )
    { raw_key "$tmp/reg/log.pub"; cat "$tmp/receipt.json"; } >fuzz/seeds/receipt_checkpoint/receipt
    { raw_key "$tmp/reg/log.pub"; cat "$tmp/checkpoint.txt"; } >fuzz/seeds/receipt_checkpoint/checkpoint
    # Proofs: sizes and indices in the first 16 bytes, then leaf, root and
    # proof hashes (see fuzz_targets/proof_verify.rs).
    python3 - fuzz/seeds/proof_verify <<'PY'
import hashlib, struct, sys
out = sys.argv[1]
for name, a, b, n in [("size7", 3, 7, 3), ("size1", 0, 1, 0), ("size256", 200, 256, 8)]:
    h = lambda s: hashlib.sha256(s.encode()).digest()
    body = struct.pack("<QQ", a, b) + h("leaf") + h("root") + b"".join(h(str(i)) for i in range(n))
    open(f"{out}/{name}", "wb").write(body)
PY
    # Diff pairs: two canonical manifests separated by NUL.
    "$bp" canon examples/smart-meter.toml >"$tmp/a.json"
    "$bp" canon examples/smart-meter-v3.toml >"$tmp/b.json"
    { cat "$tmp/a.json"; printf '\0'; cat "$tmp/b.json"; } >fuzz/seeds/manifest_diff/meter-v2-v3
    "$bp" canon examples/kids-smartwatch.toml >fuzz/seeds/canon_roundtrip/watch.json
    # Registry requests: `METHOD PATH`, a newline, the body. The deposit
    # runs first and fills the fuzzing server's log.
    python3 - fuzz/seeds/registry_request "$tmp/meter.dsse.json" "$tmp/v.pub" <<'PY'
import json, sys
out, env, pub = sys.argv[1], json.load(open(sys.argv[2])), open(sys.argv[3]).read()
import os; os.makedirs(out, exist_ok=True)
seeds = {
    "deposit": ("POST /api/v1/deposits",
                {"envelope": env, "bond": {"amount": "50000", "currency": "EUR"}, "vendor_public_key": pub}),
    "report": ("POST /api/v1/reports", {"envelope": env}),
    "cosign": ("POST /api/v1/reports/sha256:" + "ab" * 32 + "/cosignatures",
               {"keyid": "sha256:" + "cd" * 32, "signature": "AAAA"}),
    "ruling": ("POST /api/v1/reports/sha256:" + "ab" * 32 + "/ruling", {}),
    "release": ("POST /api/v1/releases", {"blueprint_id": "acme/meter", "version": 1}),
    "checkpoint": ("GET /checkpoint", None),
    "tile": ("GET /tile/0/000.p/1", None),
    "entry": ("GET /api/v1/entries/0", None),
    "inclusion": ("GET /api/v1/proofs/inclusion/0?size=1", None),
    "consistency": ("GET /api/v1/proofs/consistency?from=1&to=1", None),
    "escrow": ("GET /api/v1/escrow", None),
    "index": ("GET /", None),
}
for name, (line, body) in seeds.items():
    with open(f"{out}/{name}", "wb") as f:
        f.write(line.encode() + b"\n" + (json.dumps(body).encode() if body is not None else b""))
PY
    printf '{"n":[1e21,-0,5e-324,1.7976931348623157e308],"s":"\\ud83d\\ude00\\u0000","\\u00e9":{}}' \
        >fuzz/seeds/canon_roundtrip/numbers-and-strings.json
    du -sh fuzz/seeds
}

# The starting corpus of a target: its committed seeds plus repository files.
corpus_of() {
    local t=$1 dir=fuzz/corpus/$1
    mkdir -p "$dir"
    [ -d "fuzz/seeds/$t" ] && cp -n fuzz/seeds/"$t"/* "$dir"/ 2>/dev/null || true
    case $t in
    manifest_load | manifest_diff) cp -n examples/*.toml examples/*.json "$dir"/ 2>/dev/null || true ;;
    profile_load) cp -n profiles/*.toml "$dir"/ ;;
    pcap_read) cp -n samples/capture.pcap "$dir"/ ;;
    sbom_read) cp -n samples/firmware.cdx.json "$dir"/ ;;
    esac
    echo "$dir"
}

case "${1:-}" in
--seeds)
    write_seeds
    exit 0
    ;;
--build)
    need_cargo_fuzz
    cargo +nightly fuzz build --fuzz-dir fuzz
    exit 0
    ;;
esac

SECONDS_PER=${1:-20}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${TARGETS_ALL[@]}")
need_cargo_fuzz
cargo +nightly fuzz build --fuzz-dir fuzz

status=0
printf '%-20s %8s %12s %14s  %s\n' target seconds executions corpus result
for t in "${TARGETS[@]}"; do
    dir=$(corpus_of "$t")
    log=$(mktemp)
    # registry_request keeps its registry under the temporary directory.
    work=$(mktemp -d)
    if TMPDIR=$work cargo +nightly fuzz run --fuzz-dir fuzz "$t" "$dir" -- \
        -max_total_time="$SECONDS_PER" -rss_limit_mb=2048 -timeout=10 \
        -max_len=1048576 -print_final_stats=1 >"$log" 2>&1; then
        result=ok
    else
        result="CRASH (see fuzz/artifacts/$t/)"
        status=1
        tail -30 "$log" >&2
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    files=$(find "$dir" -type f | wc -l)
    bytes=$(du -sb "$dir" | cut -f1)
    printf '%-20s %8s %12s %14s  %s\n' "$t" "$SECONDS_PER" "$execs" "$files files/${bytes}B" "$result"
    rm -f "$log"
    rm -rf "$work"
done
exit $status
