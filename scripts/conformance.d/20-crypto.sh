# shellcheck shell=bash
# Canonical form, Ed25519 and DSSE against public vectors and OpenSSL
# (RFC 8785, RFC 8032, DSSE; the OpenSSL interoperability of
# keys and signatures). Sourced by scripts/conformance.sh.
#
# Library checks that have no CLI of their own run through the example
# binary `crypto_vectors` (examples/crypto_vectors.rs):
#   crypto_vectors es6-numbers N        first N lines of the JCS ES6 sequence
#   crypto_vectors speccheck FILE       one V/X verdict per speccheck case
#   crypto_vectors wycheproof FILE      "<tests> <mismatches>"

crypto_dir="$WORK/crypto"
crypto_quiet() { "$@" >/dev/null 2>&1; }
mkdir -p "$crypto_dir"
crypto_vec="$EXAMPLES/crypto_vectors"

# --- RFC 8785: the six JCS files, byte-exact and as hex -------------------
for crypto_in in "$VECTORS"/jcs/input/*.json; do
    crypto_name=$(basename "$crypto_in" .json)
    if "$BLUEPRINT" canon --color never "$crypto_in" >"$crypto_dir/$crypto_name.out" 2>"$crypto_dir/$crypto_name.err" &&
        cmp -s "$crypto_dir/$crypto_name.out" "$VECTORS/jcs/output/$crypto_name.json" &&
        [ "$(od -An -v -tx1 "$crypto_dir/$crypto_name.out" | tr -d ' \n')" = \
          "$(tr -d ' \n' <"$VECTORS/jcs/outhex/$crypto_name.txt")" ]; then
        pass "jcs/$crypto_name byte-exact"
    else
        fail "jcs/$crypto_name byte-exact" "$(head -c 300 "$crypto_dir/$crypto_name.err")"
    fi
done

# --- ES6 number formatting: first 10^6 lines of numgen --------------------
crypto_sum=$("$crypto_vec" es6-numbers 1000000 | sha256sum | cut -d' ' -f1)
check "jcs/es6-numbers 10^6 lines sha256" \
    [ "$crypto_sum" = 49415fee2c56c77864931bd3624faad425c3c577d6d74e89a83bc725506dad16 ]

# --- Ed25519: speccheck verdicts pinned, Wycheproof file -----------------
crypto_verdicts=$("$crypto_vec" speccheck "$VECTORS/ed25519/speccheck-cases.json")
check "ed25519/speccheck verdicts XXXVXXXXXXXX (got $crypto_verdicts)" \
    [ "$crypto_verdicts" = XXXVXXXXXXXX ]
crypto_wp=$("$crypto_vec" wycheproof "$VECTORS/ed25519/wycheproof-ed25519_test.json")
check "ed25519/wycheproof 0 mismatches (tests, mismatches: $crypto_wp)" \
    [ "${crypto_wp#* }" = 0 -a "${crypto_wp% *}" -ge 150 ]

# --- OpenSSL interoperability ----------------------------------------------
if command -v openssl >/dev/null && command -v python3 >/dev/null; then
    # A bundled manifest that passes every profile it meets (signing
    # refuses anything with error-level findings).
    cp examples/smart-meter.toml "$crypto_dir/m.toml"
    # An OpenSSL key signs through `blueprint sign`.
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$crypto_dir/ossl.key" 2>/dev/null)
    openssl pkey -in "$crypto_dir/ossl.key" -pubout -out "$crypto_dir/ossl.pub"
    check "openssl genpkey key signs via blueprint sign" \
        crypto_quiet "$BLUEPRINT" sign "$crypto_dir/m.toml" --key "$crypto_dir/ossl.key" -o "$crypto_dir/env.json"

    # PAE computed independently of blueprint (DSSE protocol.md).
    python3 - "$crypto_dir" <<'PY'
import base64, json, sys
d = sys.argv[1]
env = json.load(open(f"{d}/env.json"))
t = env["payloadType"].encode()
body = base64.b64decode(env["payload"])
pae = b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
open(f"{d}/pae.bin", "wb").write(pae)
open(f"{d}/sig.bin", "wb").write(base64.b64decode(env["signatures"][0]["sig"]))
open(f"{d}/keyid.txt", "w").write(env["signatures"][0]["keyid"])
PY
    check "openssl pkeyutl -verify -rawin accepts blueprint's signature over the PAE" \
        crypto_quiet openssl pkeyutl -verify -pubin -inkey "$crypto_dir/ossl.pub" -rawin \
        -in "$crypto_dir/pae.bin" -sigfile "$crypto_dir/sig.bin"
    crypto_keyid=$(openssl pkey -pubin -in "$crypto_dir/ossl.pub" -outform DER | sha256sum | cut -d' ' -f1)
    check "keyid = sha256(SPKI DER) as computed by openssl" \
        [ "$crypto_keyid" = "$(cat "$crypto_dir/keyid.txt")" ]

    # OpenSSL signs the PAE with a second key; blueprint verify accepts it.
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$crypto_dir/lab.key" 2>/dev/null)
    openssl pkey -in "$crypto_dir/lab.key" -pubout -out "$crypto_dir/lab.pub"
    openssl pkeyutl -sign -inkey "$crypto_dir/lab.key" -rawin \
        -in "$crypto_dir/pae.bin" -out "$crypto_dir/lab.sig"
    python3 - "$crypto_dir" <<'PY'
import base64, json, sys
d = sys.argv[1]
env = json.load(open(f"{d}/env.json"))
sig = base64.b64encode(open(f"{d}/lab.sig", "rb").read()).decode()
only = dict(env, signatures=[{"sig": sig}])
json.dump(only, open(f"{d}/env-openssl.json", "w"))
env["signatures"].append({"keyid": "", "sig": sig})
json.dump(env, open(f"{d}/env-both.json", "w"))
PY
    check "blueprint verify accepts a signature made by openssl pkeyutl" \
        crypto_quiet "$BLUEPRINT" verify "$crypto_dir/env-openssl.json" --pubkey "$crypto_dir/lab.pub"
    check "blueprint verify: 2-of-2 with blueprint and openssl signatures" \
        crypto_quiet "$BLUEPRINT" verify "$crypto_dir/env-both.json" --threshold 2 \
        --pubkey "$crypto_dir/ossl.pub" --pubkey "$crypto_dir/lab.pub"
    "$BLUEPRINT" verify "$crypto_dir/env-openssl.json" --pubkey "$crypto_dir/ossl.pub" >/dev/null
    check "blueprint verify rejects the openssl signature under the wrong key (exit 1)" [ $? -eq 1 ]

    # Keys written by blueprint keygen are read by OpenSSL.
    "$BLUEPRINT" keygen --out "$crypto_dir/bp" >/dev/null
    check "openssl reads blueprint keygen's PKCS#8 private key" \
        openssl pkey -in "$crypto_dir/bp.key" -noout
    check "openssl derives the same SPKI public key as blueprint keygen wrote" \
        cmp -s <(openssl pkey -in "$crypto_dir/bp.key" -pubout) "$crypto_dir/bp.pub"
    chmod 644 "$crypto_dir/ossl.key"
    "$BLUEPRINT" sign "$crypto_dir/m.toml" --key "$crypto_dir/ossl.key" >/dev/null 2>&1
    check "a world-readable private key is refused (exit 2)" [ $? -eq 2 ]
else
    fail "openssl interoperability" "openssl or python3 not installed"
fi
