# shellcheck shell=bash
# RFC 6962/9162 Merkle proofs against the transparency-dev/merkle test data
# in $VECTORS/merkle/{inclusion,consistency} (Apache-2.0): every file goes
# through `blueprint proof verify-inclusion` or `verify-consistency`, and
# its verdict must match the file's `wantErr`. Sourced by
# scripts/conformance.sh.
#
# Exit codes expected: 0 when wantErr is false; 1 when it is true and every
# hash is 32 bytes; 2 (malformed input, nothing checked) when some hash is
# not 32 bytes. blueprint accepts only 32-byte SHA-256 hashes, so a file
# that expects success with shorter "don't care" roots is refused as
# malformed: such files are listed in merkle_stricter, and any other
# disagreement fails.

merkle_stricter=(
    # size1 = size2 = 1 with equal 12-byte roots: valid upstream, not a hash here.
    consistency/additional/sizes-are-equal-one-and-proof-is-empty.json
)

merkle_dir="$VECTORS/merkle"
if [ ! -d "$merkle_dir/inclusion" ] || [ ! -d "$merkle_dir/consistency" ]; then
    if [ "${CI:-}" = true ]; then
        fail "merkle vectors present at $merkle_dir/{inclusion,consistency}"
    else
        echo "skipped: merkle vectors not found at $merkle_dir"
    fi
else
    # One line per file: relative path, kind, wantErr, any-bad-length, then
    # the command's arguments as --name=value (never empty), tab-separated.
    # The proof goes through --proof-file, which tells an empty proof from
    # a proof holding one empty hash.
    python3 - "$merkle_dir" "$WORK" >"$WORK/merkle-cases.tsv" <<'PY'
import base64, json, os, sys
root, work = sys.argv[1], sys.argv[2]
n = 0
def proof_file(proof):
    # One hash per line; [""] becomes a single empty line, which is malformed.
    global n
    n += 1
    path = os.path.join(work, "merkle-proof-%d.txt" % n)
    with open(path, "w") as f:
        f.write("".join(h + "\n" for h in proof))
    return path
def hexes(values):
    return [base64.b64decode(v).hex() for v in (values or [])]
for kind in ("inclusion", "consistency"):
    for d, _, files in sorted(os.walk(os.path.join(root, kind))):
        for f in sorted(files):
            path = os.path.join(d, f)
            rel = os.path.relpath(path, root)
            v = json.load(open(path))
            if kind == "inclusion":
                leaf, rt = hexes([v["leafHash"]])[0], hexes([v["root"]])[0]
                proof = hexes(v["proof"])
                args = ["verify-inclusion", "--leaf-hash=" + leaf, "--index=%d" % v["leafIdx"],
                        "--size=%d" % v["treeSize"], "--root=" + rt, "--proof-file=" + proof_file(proof)]
                hashes = [leaf, rt] + proof
            else:
                r1, r2 = hexes([v["root1"]])[0], hexes([v["root2"]])[0]
                proof = hexes(v["proof"])
                args = ["verify-consistency", "--size1=%d" % v["size1"], "--size2=%d" % v["size2"],
                        "--root1=" + r1, "--root2=" + r2, "--proof-file=" + proof_file(proof)]
                hashes = [r1, r2] + proof
            bad_len = any(len(h) != 64 for h in hashes)
            print("\t".join([rel, kind, str(v["wantErr"]).lower(), str(bad_len).lower()] + args))
PY
    merkle_files=0
    while IFS=$'\t' read -r -a merkle_case; do
        merkle_files=$((merkle_files + 1))
        merkle_rel=${merkle_case[0]}
        merkle_want_err=${merkle_case[2]}
        merkle_bad_len=${merkle_case[3]}
        if [ "$merkle_bad_len" = true ]; then
            merkle_expect=2
        elif [ "$merkle_want_err" = true ]; then
            merkle_expect=1
        else
            merkle_expect=0
        fi
        merkle_note=""
        if [ "$merkle_want_err" = false ] && [ "$merkle_expect" = 2 ]; then
            if printf '%s\n' "${merkle_stricter[@]}" | grep -qxF "$merkle_rel"; then
                merkle_note=" (stricter: hashes are 32 bytes)"
            else
                merkle_expect=0
            fi
        fi
        "$BLUEPRINT" proof "${merkle_case[@]:4}" >"$WORK/merkle.out" 2>&1
        merkle_rc=$?
        if [ "$merkle_rc" = "$merkle_expect" ]; then
            pass "merkle/$merkle_rel wantErr=$merkle_want_err exit $merkle_rc$merkle_note"
        else
            fail "merkle/$merkle_rel wantErr=$merkle_want_err" \
                "exit $merkle_rc, expected $merkle_expect: $(head -c 200 "$WORK/merkle.out")"
        fi
    done <"$WORK/merkle-cases.tsv"
    # Every file was read, and the stricter list names only real files.
    merkle_on_disk=$(find "$merkle_dir/inclusion" "$merkle_dir/consistency" -type f -name '*.json' | wc -l)
    check "merkle: all $merkle_on_disk vector files checked (got $merkle_files)" \
        [ "$merkle_files" -eq "$merkle_on_disk" -a "$merkle_files" -gt 0 ]
    for merkle_rel in "${merkle_stricter[@]}"; do
        check "merkle: stricter-policy file $merkle_rel exists" [ -f "$merkle_dir/$merkle_rel" ]
    done
fi
