#!/usr/bin/env bash
# Conformance checks against the public corpora in ${SHARED:-../shared}/vectors
# (never copied into the repository). Run from the repository root.
#
# Every file in scripts/conformance.d/*.sh is sourced in order. A section
# records results with `check NAME COMMAND...` (or `pass NAME` / `fail NAME`).
# Prints "N passed, M failed" and exits non-zero on any failure. When the
# vectors are missing the run is skipped, unless CI=true, which fails it.
set -uo pipefail

cd "$(dirname "$0")/.."
SHARED="${SHARED:-../shared}"
VECTORS="$SHARED/vectors"
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$*"; }
check() {
    local name="$1"
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

if [ ! -d "$VECTORS" ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "error: $VECTORS is missing (set SHARED)" >&2
        exit 2
    fi
    echo "skipped: $VECTORS not found (set SHARED to run the conformance checks)"
    exit 0
fi

cargo build --quiet --bin blueprint || { echo "error: build failed" >&2; exit 2; }
BLUEPRINT="${BLUEPRINT:-target/debug/blueprint}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

for section in scripts/conformance.d/*.sh; do
    [ -e "$section" ] || continue
    echo "== $section"
    # shellcheck source=/dev/null
    source "$section"
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
