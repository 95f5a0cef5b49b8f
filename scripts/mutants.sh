#!/usr/bin/env bash
# Mutation testing (cargo-mutants) of the security-critical modules: does
# the test suite notice when their code is changed?
#
#   scripts/mutants.sh                 # canon dsse keys statement merkle
#   scripts/mutants.sh merkle classes  # chosen modules
#   TESTS=all scripts/mutants.sh canon # also the integration tests (slower)
#   TIMEOUT=120 scripts/mutants.sh     # seconds before a mutant's tests count
#                                      # as hung (default 45; the area's tests
#                                      # take 2-16 s)
#
# Each mutant is built and tested in place (the working tree is restored
# after each one) with the `mutants` profile (no debug info), running the
# library's unit tests of the module's area by default (FILTERS below):
# about 10-15 s per mutant on two cores, so a module of 100 mutants takes
# about 20 minutes. Results go to target/mutants-out/<module>/mutants.out
# (caught.txt,
# missed.txt, unviable.txt, timeout.txt); the summary line per module is
# printed at the end. Mutants that survive are either killed by a new test
# or recorded as equivalent in docs/mutants.md.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=27.1.0
if ! cargo mutants --version 2>/dev/null | grep -q "$VERSION"; then
    cargo install --locked cargo-mutants --version "$VERSION"
fi
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
    echo "mutants.sh: commit or stash your changes first (mutants are applied in place)" >&2
    exit 2
fi
declare -A FILES=(
    [canon]=src/attest/canon.rs
    [dsse]=src/attest/dsse.rs
    [keys]=src/attest/keys.rs
    [statement]=src/attest/statement.rs
    [merkle]=src/escrow/merkle.rs
    [classes]=src/device/diff/classes.rs
    [eval]=src/profile/eval.rs
)
# The unit tests that exercise each module (a test filter); TESTS=all runs
# every library and integration test instead.
declare -A FILTERS=(
    [canon]=attest::
    [dsse]=attest::
    [keys]=attest::
    [statement]=attest::
    [merkle]=escrow::
    [classes]=device::
    [eval]=profile::
)
MODULES=("$@")
[ ${#MODULES[@]} -gt 0 ] || MODULES=(canon dsse keys statement merkle)
for m in "${MODULES[@]}"; do
    f="${FILES[$m]:-}"
    if [ -z "$f" ]; then
        echo "mutants.sh: unknown module $m (one of: ${!FILES[*]})" >&2
        exit 2
    fi
    TEST_ARGS=(--lib -- "${FILTERS[$m]}")
    [ "${TESTS:-lib}" = all ] && TEST_ARGS=()
    echo "== $m ($f; cargo test ${TEST_ARGS[*]})" >&2
    mkdir -p "target/mutants-out/$m"
    # Exit 2 (missed) and 3 (timeouts) are results; anything else stops.
    rc=0
    cargo mutants --in-place --no-shuffle --timeout "${TIMEOUT:-45}" --profile mutants -f "$f" \
        --output "target/mutants-out/$m" -- "${TEST_ARGS[@]}" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 2 ] && [ "$rc" -ne 3 ]; then
        echo "mutants.sh: cargo mutants failed on $m (exit $rc)" >&2
        exit "$rc"
    fi
done
# A mutant whose tests hang (timeout) is detected too: the suite never passes.
printf '\n%-10s %7s %7s %9s %8s  %s\n' module caught missed unviable timeout "detected of viable"
for m in "${MODULES[@]}"; do
    d="target/mutants-out/$m/mutants.out"
    n() { if [ -f "$d/$1.txt" ]; then grep -c . "$d/$1.txt" || true; else echo 0; fi; }
    c=$(n caught); x=$(n missed); u=$(n unviable); t=$(n timeout)
    v=$((c + x + t))
    pct=$([ "$v" -gt 0 ] && echo "$((1000 * (c + t) / v / 10)).$((1000 * (c + t) / v % 10)) %" || echo "-")
    printf '%-10s %7s %7s %9s %8s  %s\n' "$m" "$c" "$x" "$u" "$t" "$pct"
done
