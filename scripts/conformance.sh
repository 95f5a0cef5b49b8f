#!/usr/bin/env bash
# Conformance checks against the public vectors in ${SHARED:-../shared}/vectors
# (kept outside the repository). Run from the repository root:
#
#   scripts/conformance.sh            # CI=true makes missing vectors an error
#
# Every scripts/conformance.d/*.sh is sourced in order; each records results
# with `pass NAME`, `fail NAME [WHY]` or `check NAME COMMAND...`.
set -uo pipefail
cd "$(dirname "$0")/.."

SHARED=${SHARED:-../shared}
VECTORS="$SHARED/vectors"
if [ ! -d "$VECTORS" ]; then
    if [ "${CI:-}" = true ]; then
        echo "error: vectors not found at $VECTORS (set SHARED)" >&2
        exit 1
    fi
    echo "skipped: vectors not found at $VECTORS (set SHARED)"
    exit 0
fi

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok   $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $1${2:+: $2}"; }
# check NAME COMMAND...: passes when COMMAND exits 0.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

cargo build --quiet --bins --examples || { echo "error: build failed" >&2; exit 1; }
TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
BLUEPRINT=${BLUEPRINT:-$TARGET_DIR/debug/blueprint}
EXAMPLES=${EXAMPLES:-$TARGET_DIR/debug/examples}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for section in scripts/conformance.d/*.sh; do
    echo "== $section"
    # shellcheck source=/dev/null
    . "$section"
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
