# Manifest schema against the fideslang taxonomy files (Fideslang, Ethyca;
# CC BY 4.0) in $VECTORS/taxonomy: every upstream data use (except the
# catch-all `collect`, which is no purpose), data subject and data category (except the roots
# `user` and `system`) must be accepted by schemas/blueprint.v1.schema.json.

SCHEMA_JSON=schemas/blueprint.v1.schema.json
TAXONOMY="$VECTORS/taxonomy"

# fides_keys of a taxonomy file, one per line.
fides_keys() { sed -n 's/^[- ]*fides_key: *//p' "$1"; }

# schema_enum DEF: the string values of $defs/DEF/enum, one per line.
schema_enum() {
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
print("\n".join(v for v in s["$defs"][sys.argv[2]]["enum"] if isinstance(v, str)))' "$SCHEMA_JSON" "$1"
}

# all_accepted FILE DEF EXCLUDED...: every key of FILE is in the enum DEF.
all_accepted() {
    local file=$1 def=$2
    shift 2
    local missing
    missing=$(comm -23 \
        <(fides_keys "$file" | grep -vxF -f <(printf '%s\n' "$@" "") | sort -u) \
        <(schema_enum "$def" | sort -u))
    if [ -n "$missing" ]; then
        echo "  not accepted by \$defs/$def:" $missing
        return 1
    fi
}

check "schema: fideslang data uses are purposes (collect excluded)" \
    all_accepted "$TAXONOMY/fideslang-data_uses.yml" purpose collect
check "schema: fideslang data subjects are subjects" \
    all_accepted "$TAXONOMY/fideslang-data_subjects.yml" subject
check "schema: fideslang data categories are categories (roots excluded)" \
    all_accepted "$TAXONOMY/fideslang-data_categories.yml" data_category user system
# The fideslang data use `collect` passes the schema (so every other rule still
# runs) and is reported by the purpose-limitation rules.
collect_reported() {
    printf '%s' '{"format":"blueprint/v1","blueprint":{"id":"c","version":1},"markets":["DE"],
"sensors":[],"recipients":[],"network_endpoints":[],
"data_items":[{"id":"i","category":"user.device.telemetry","subjects":["customer"],
"identifiability":"pseudonymous","source":"derived","purposes":["collect"],"legal_basis":{},
"consent":{},"retention":{},"processing_location":"cloud","storage_regions":[],"cross_border":[],
"recipients":[],"encryption":{}}],
"security":{"authentication":{},"update":{},"support_period":{},"vuln_disclosure":{},
"open_ports":[],"debug_interfaces":[],"remote_access_channels":[],"accounts":[]},
"user_rights":{},"transparency":{"privacy_notice":{}},"incident_response":{"authority_hours":{}}}' \
        >"$WORK/collect.json"
    local out
    out=$("$BLUEPRINT" validate --color never "$WORK/collect.json" 2>&1)
    ! grep -q 'schema/' <<<"$out" && grep -q 'gdpr.purpose-specified' <<<"$out"
}
check "schema: the data use collect is a purpose-limitation finding" collect_reported

# The examples have the manifest shape and resolve every reference (their
# privacy findings are the profiles' business, not the schema's).
shape_ok() {
    local report
    # Exit 1 (privacy findings) is expected here; the JSON says the rest.
    report=$("$BLUEPRINT" validate --format json "$1")
    [ -n "$report" ] || return 1
    printf '%s' "$report" | python3 -c '
import json, sys
diags = json.load(sys.stdin)["files"][0]["diagnostics"]
shape = ("parse/", "limit/", "canon/", "schema/", "ref/")
bad = [d["code"] for d in diags if d["code"].startswith(shape)]
sys.exit(1 if bad else 0)'
}
for example in examples/*.toml examples/*.json; do
    check "schema: $example has the manifest shape and resolves" shape_ok "$example"
done
