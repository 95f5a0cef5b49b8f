#!/usr/bin/env bash
# `blueprint diff` of two manifests with 100,000 endpoints each, through the
# CLI: wall time and peak RSS, next to parsing the same two files (a diff of
# each file with itself costs the parse plus a walk with no change found).
# The in-process split (parse vs diff) is in `cargo bench --bench diff`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin blueprint
BIN=target/release/blueprint
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
python3 - "$WORK" <<'PY'
import json, sys
d = sys.argv[1]
def manifest(variant):
    eps = []
    for i in range(100_000):
        host, tls, country, items = 'h%d.acme.io' % i, {'enabled': True, 'min_version': '1.2'}, 'DE', ['device_id']
        if variant:
            k = i % 200
            if k == 0: tls['enabled'] = False
            elif k == 1: country = 'US'
            elif k == 2: items = items + ['location']
            elif k == 3: host = 'new%d.acme.io' % i
        eps.append({'host': host, 'operator': 'first_party', 'country': country, 'protocol': 'https', 'tls': tls, 'carries_items': items})
    if variant: eps.reverse()
    return {'blueprint': {'id': 'bench', 'version': 2 if variant else 1},
            'data_items': [{'id': 'device_id', 'category': 'user.device.device_id', 'identifiability': 'pseudonymous'},
                           {'id': 'location', 'category': 'user.location.precise', 'identifiability': 'identified'}],
            'network_endpoints': eps}
for name, v in (('a.json', False), ('b.json', True)):
    with open('%s/%s' % (d, name), 'w') as f: json.dump(manifest(v), f, separators=(',', ':'))
PY
ls -l "$WORK"/a.json "$WORK"/b.json | awk '{ printf "%s %.1f MB\n", $NF, $5 / 1e6 }'
run() {
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" diff "$@" --format json --force -o "$WORK/out.json" || true
    read -r secs kib < <(tail -n 1 "$WORK/time")
    echo "$secs $kib $(jq '.deviations | length' "$WORK/out.json")"
}
read -r s_same k_same n_same < <(run "$WORK/a.json" "$WORK/a.json")
read -r s_diff k_diff n_diff < <(run "$WORK/a.json" "$WORK/b.json")
echo "diff a a (parse both + walk): ${s_same} s, peak $((k_same / 1024)) MiB, $n_same deviations"
echo "diff a b (100k endpoints, 1% changed, reversed): ${s_diff} s, peak $((k_diff / 1024)) MiB, $n_diff deviations"
awk "BEGIN { printf \"ratio diff / parse-only run: %.2f\n\", $s_diff / $s_same }"
