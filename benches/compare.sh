#!/usr/bin/env bash
# Throughput of `blueprint validate` next to its floors and to other
# validators, on one generated corpus, in one run:
#
#   benches/compare.sh                     # 2,000 manifests
#   N=500 benches/compare.sh               # a smaller corpus
#   BEFORE_BIN=/path/to/old/blueprint benches/compare.sh   # adds a column
#
# The corpus: examples/*.toml converted to JSON by `blueprint canon`,
# pretty-printed (~28 KB each on average), each copy with its own
# `blueprint.id`. Rows:
#
# - `blueprint validate --schema-only --format json DIR` (-j1 and all cores);
# - the floors (examples/floor.rs, same crates, one thread): serde_json
#   parse, and parse + jsonschema `iter_errors` with the manifest schema;
# - Python `jsonschema` (Draft202012Validator.is_valid, pre-parsed) and Node
#   `ajv` (Ajv2020 + ajv-formats, pre-parsed), each installed into a
#   temporary directory; skipped when pip or npm cannot install them;
# - `blueprint validate --format json` with every profile on -j1 and -j2;
# - validate + canonicalize + hash + sign per manifest (examples/floor.rs
#   `pipeline`) on 1 and 2 threads, next to the sum of its component floors
#   (schema, serialize, SHA-256, Ed25519). Only manifests without
#   error-level findings are signed (the smart meters; the camera and the
#   smartwatch carry deliberate findings), so the pipeline reports how many.
#
# Release binaries are built first (honours CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-2000}"
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked --quiet --bin blueprint --example floor
BIN="$TARGET/release/blueprint"
FLOOR="$TARGET/release/examples/floor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/corpus" "$WORK/base"

for f in examples/*.toml; do
    "$BIN" canon "$f" > "$WORK/base/$(basename "$f" .toml).json"
done
python3 - "$WORK/base" "$WORK/corpus" "$N" <<'PY'
import json, os, sys
base, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
docs = [json.load(open(os.path.join(base, f))) for f in sorted(os.listdir(base))]
total = 0
for i in range(n):
    d = json.loads(json.dumps(docs[i % len(docs)]))
    d["blueprint"]["id"] = "%s-%05d" % (d["blueprint"]["id"], i)
    text = json.dumps(d, indent=2, ensure_ascii=False) + "\n"
    total += len(text.encode())
    with open(os.path.join(out, "m%05d.json" % i), "w") as f:
        f.write(text)
print("corpus: %d manifests, %.1f KB on average" % (n, total / n / 1024), file=sys.stderr)
PY
CORPUS="$WORK/corpus"
FILES=("$CORPUS"/*.json)

# Seconds taken by a command (its output discarded; exit 1 is findings).
seconds() {
    local start end
    start=$(date +%s%N)
    "$@" > /dev/null 2>&1 || [ $? -eq 1 ]
    end=$(date +%s%N)
    echo "scale=3; ($end - $start) / 1000000000" | bc
}
rate() { echo "scale=1; $N / $1" | bc; }
floor_rate() { "$FLOOR" "$@" "$CORPUS" | awk '{print $4}'; }
floor_rate_threads() { "$FLOOR" "$1" "$CORPUS" "$2" | awk '{print $4}'; }

declare -A R
R[schema_j1]=$(rate "$(seconds "$BIN" validate --schema-only --format json -j1 "$CORPUS")")
R[schema_all]=$(rate "$(seconds "$BIN" validate --schema-only --format json "$CORPUS")")
R[full_j1]=$(rate "$(seconds "$BIN" validate --format json -j1 "$CORPUS")")
R[full_j2]=$(rate "$(seconds "$BIN" validate --format json -j2 "$CORPUS")")
R[floor_parse]=$(floor_rate parse)
R[floor_schema]=$(floor_rate schema)
R[floor_serialize]=$(floor_rate serialize)
R[floor_hash]=$(floor_rate hash)
R[floor_sign]=$(floor_rate sign)
R[pipe_1]=$(floor_rate_threads pipeline 1)
R[pipe_2]=$(floor_rate_threads pipeline 2)
# Sum of per-document times of the components, as a rate.
R[pipe_floor]=$(echo "scale=12; r = 1 / (1/${R[floor_schema]} + 1/${R[floor_serialize]} + 1/${R[floor_hash]} + 1/${R[floor_sign]}); scale=1; r / 1" | bc)

if [ -n "${BEFORE_BIN:-}" ]; then
    # An older binary may take files only, and one thread.
    R[before_schema]=$(rate "$(seconds "$BEFORE_BIN" validate --schema-only --format json "${FILES[@]}")")
    R[before_full]=$(rate "$(seconds "$BEFORE_BIN" validate --format json "${FILES[@]}")")
fi

SCHEMA="$PWD/schemas/blueprint.v1.schema.json"
R[python]="n/a"
if python3 -m venv "$WORK/venv" > /dev/null 2>&1 &&
    "$WORK/venv/bin/pip" install --quiet jsonschema > /dev/null 2>&1; then
    R[python]=$("$WORK/venv/bin/python" - "$SCHEMA" "$CORPUS" <<'PY'
import json, os, sys, time
from jsonschema import Draft202012Validator
schema = json.load(open(sys.argv[1]))
v = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
d = sys.argv[2]
docs = [json.load(open(os.path.join(d, f))) for f in sorted(os.listdir(d))]
t = time.perf_counter()
ok = sum(1 for x in docs if v.is_valid(x))
s = time.perf_counter() - t
if ok != len(docs):
    print("python: %d of %d valid" % (ok, len(docs)), file=sys.stderr)
print("%.1f" % (len(docs) / s))
PY
)
fi
R[ajv]="n/a"
mkdir -p "$WORK/node"
if (cd "$WORK/node" && npm install --silent --no-audit --no-fund ajv ajv-formats > /dev/null 2>&1); then
    cat > "$WORK/node/run.js" <<'JS'
const fs = require("fs"), path = require("path");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");
const [schemaPath, dir] = process.argv.slice(2);
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
const docs = fs.readdirSync(dir).sort().map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")));
const t = process.hrtime.bigint();
let ok = 0;
for (const d of docs) if (validate(d)) ok++;
const s = Number(process.hrtime.bigint() - t) / 1e9;
if (ok !== docs.length) console.error(`ajv: ${ok} of ${docs.length} valid`);
console.log((docs.length / s).toFixed(1));
JS
    R[ajv]=$(node "$WORK/node/run.js" "$SCHEMA" "$CORPUS")
fi

ratio() {
    case "$1$2" in *n/a*) echo "-" ;; *) echo "scale=2; $1 / $2" | bc ;; esac
}
row() { # name, rate, ratio-to, ratio-label
    printf '%-58s %10s %8s  %s\n' "$1" "$2" "$(ratio "$2" "$3")" "$4"
}
echo
echo "corpus: $N manifests; $(nproc) cores; docs/s (higher is better)"
printf '%-58s %10s %8s  %s\n' "what" "docs/s" "ratio" "ratio to"
row "floor: serde_json parse" "${R[floor_parse]}" "${R[floor_schema]}" "schema floor"
row "floor: parse + jsonschema iter_errors (1 thread)" "${R[floor_schema]}" "${R[floor_schema]}" "schema floor"
row "blueprint validate --schema-only --format json -j1" "${R[schema_j1]}" "${R[floor_schema]}" "schema floor"
row "blueprint validate --schema-only --format json (all cores)" "${R[schema_all]}" "${R[floor_schema]}" "schema floor"
if [ -n "${BEFORE_BIN:-}" ]; then
    row "BEFORE validate --schema-only --format json FILES" "${R[before_schema]}" "${R[floor_schema]}" "schema floor"
fi
row "python jsonschema is_valid (pre-parsed)" "${R[python]}" "${R[floor_schema]}" "schema floor"
row "node ajv 2020 + ajv-formats (pre-parsed)" "${R[ajv]}" "${R[floor_schema]}" "schema floor"
row "blueprint validate --format json -j1 (every profile)" "${R[full_j1]}" "${R[floor_schema]}" "schema floor"
row "blueprint validate --format json -j2 (every profile)" "${R[full_j2]}" "${R[full_j1]}" "-j1"
if [ -n "${BEFORE_BIN:-}" ]; then
    row "BEFORE validate --format json FILES (every profile)" "${R[before_full]}" "${R[full_j1]}" "-j1 now"
fi
row "floor: validate+canon+hash+sign components (sum)" "${R[pipe_floor]}" "${R[pipe_floor]}" "component sum"
row "pipeline validate+canonicalize+hash+sign, 1 thread" "${R[pipe_1]}" "${R[pipe_floor]}" "component sum"
row "pipeline validate+canonicalize+hash+sign, 2 threads" "${R[pipe_2]}" "${R[pipe_1]}" "1 thread"
