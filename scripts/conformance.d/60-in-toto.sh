# shellcheck shell=bash
# Interoperability with the in-toto ecosystem's own DSSE code, both ways:
#   1. an envelope `blueprint sign` wrote verifies with securesystemslib's
#      `Envelope.verify` (and in-toto's Envelope class) under our `.pub`;
#   2. an envelope securesystemslib signs over a Statement blueprint made
#      verifies with `blueprint verify`, with a key blueprint never saw.
# securesystemslib and in-toto are installed from PyPI into a temporary
# virtualenv. Sourced by scripts/conformance.sh.

intoto_dir="$WORK/in-toto"
mkdir -p "$intoto_dir"
intoto_py="$intoto_dir/venv/bin/python"
if python3 -m venv "$intoto_dir/venv" >"$intoto_dir/venv.log" 2>&1 &&
    "$intoto_dir/venv/bin/pip" install --quiet --disable-pip-version-check \
        "securesystemslib==1.6.0" "in-toto==3.1.0" >>"$intoto_dir/venv.log" 2>&1; then
    pass "in-toto/virtualenv with securesystemslib 1.6.0 and in-toto 3.1.0"
else
    fail "in-toto/virtualenv" "$(tail -3 "$intoto_dir/venv.log")"
fi

# --- 1. blueprint signs, securesystemslib verifies -------------------------
"$BLUEPRINT" keygen -o "$intoto_dir/vendor" >/dev/null 2>&1
"$BLUEPRINT" sign examples/smart-meter.toml --key "$intoto_dir/vendor.key" \
    -o "$intoto_dir/meter.dsse.json" >/dev/null 2>&1
cat >"$intoto_dir/verify.py" <<'PY'
"""Verify a blueprint envelope with securesystemslib and in-toto."""
import copy, json, sys
from cryptography.hazmat.primitives.serialization import (
    Encoding, PublicFormat, load_pem_public_key)
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
from in_toto.models.metadata import ENVELOPE_PAYLOAD_TYPE, Envelope as InTotoEnvelope

envelope_path, pub_path, expect_keyid = sys.argv[1:4]
doc = json.load(open(envelope_path))
assert doc["payloadType"] == ENVELOPE_PAYLOAD_TYPE, doc["payloadType"]
raw = load_pem_public_key(open(pub_path, "rb").read()).public_bytes(
    Encoding.Raw, PublicFormat.Raw)
# securesystemslib matches signatures to keys by keyid; ours is the
# SHA-256 of the key's SubjectPublicKeyInfo DER.
key = SSlibKey(expect_keyid, "ed25519", "ed25519", {"public": raw.hex()})
for cls in (Envelope, InTotoEnvelope):
    # from_dict consumes the dict it is given.
    accepted = cls.from_dict(copy.deepcopy(doc)).verify([key], 1)
    assert list(accepted) == [expect_keyid], accepted
statement = json.loads(Envelope.from_dict(copy.deepcopy(doc)).payload)
assert statement["_type"] == "https://in-toto.io/Statement/v1"
print(f"securesystemslib and in-toto verified {statement['subject'][0]['name']}"
      f" ({statement['predicateType']}) signed by {expect_keyid[:16]}")
PY
intoto_keyid=$(openssl pkey -pubin -in "$intoto_dir/vendor.pub" -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
if intoto_out=$("$intoto_py" "$intoto_dir/verify.py" "$intoto_dir/meter.dsse.json" \
    "$intoto_dir/vendor.pub" "$intoto_keyid" 2>&1); then
    pass "in-toto/blueprint sign -> securesystemslib Envelope.verify: $intoto_out"
else
    fail "in-toto/blueprint sign -> securesystemslib Envelope.verify" "$(echo "$intoto_out" | tail -3)"
fi

# --- 2. securesystemslib signs, blueprint verifies -------------------------
cat >"$intoto_dir/sign.py" <<'PY'
"""Sign the Statement inside a blueprint envelope with a fresh key."""
import json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from securesystemslib.dsse import Envelope
from securesystemslib.signer import CryptoSigner

source, out_envelope, out_pub = sys.argv[1:4]
statement = Envelope.from_dict(json.load(open(source))).payload
private = Ed25519PrivateKey.generate()
open(out_pub, "wb").write(private.public_key().public_bytes(
    Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
envelope = Envelope(statement, "application/vnd.in-toto+json", {})
envelope.sign(CryptoSigner(private))
json.dump(envelope.to_dict(), open(out_envelope, "w"))
PY
if "$intoto_py" "$intoto_dir/sign.py" "$intoto_dir/meter.dsse.json" \
    "$intoto_dir/sslib.dsse.json" "$intoto_dir/sslib.pub" >"$intoto_dir/sign.log" 2>&1 &&
    intoto_out=$("$BLUEPRINT" verify "$intoto_dir/sslib.dsse.json" --pubkey "$intoto_dir/sslib.pub" \
        --manifest examples/smart-meter.toml 2>&1); then
    pass "in-toto/securesystemslib sign -> blueprint verify: $(echo "$intoto_out" | head -1)"
else
    fail "in-toto/securesystemslib sign -> blueprint verify" "$(cat "$intoto_dir/sign.log") $intoto_out"
fi
# ... and not under our vendor key, which did not sign it.
if "$BLUEPRINT" verify "$intoto_dir/sslib.dsse.json" --pubkey "$intoto_dir/vendor.pub" >/dev/null 2>&1; then
    fail "in-toto/securesystemslib envelope refused under another key"
else
    pass "in-toto/securesystemslib envelope refused under another key"
fi
