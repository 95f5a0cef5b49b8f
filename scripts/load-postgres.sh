#!/usr/bin/env bash
# Deposit load on one SQLite server, one PostgreSQL server, and two servers
# sharing the PostgreSQL database, with the same client (examples/load.rs):
#
#   scripts/with-postgres.sh scripts/load-postgres.sh [CLIENTS] [DEPOSITS]
#
# Needs BLUEPRINT_TEST_DATABASE_URL (an empty database's server; a new
# database is created on it for each PostgreSQL run). Release builds.
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-8}
DEPOSITS=${2:-500}
: "${BLUEPRINT_TEST_DATABASE_URL:?run under scripts/with-postgres.sh}"

cargo build --release --locked --bin blueprint --example load >/dev/null
BIN=target/release/blueprint
LOAD=target/release/examples/load
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts `serve` with ARGS and appends its URL to URLS once it listens.
serve() {
  local log="$WORK/serve.${#PIDS[@]}.$RANDOM.log"
  "$BIN" serve --addr 127.0.0.1:0 "$@" >/dev/null 2>"$log" &
  PIDS+=($!)
  for _ in $(seq 1 400); do
    if grep -q ' on http://' "$log"; then
      URLS+=("$(grep -o 'http://[0-9.:]*' "$log" | head -1)")
      return 0
    fi
    sleep 0.05
  done
  cat "$log" >&2
  return 1
}

stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}

echo "== one server, SQLite ($CLIENTS clients x $DEPOSITS deposits)"
"$BIN" registry init "$WORK/sqlite" --origin load.example/escrow >/dev/null
URLS=()
serve --registry "$WORK/sqlite"
"$LOAD" "${URLS[@]}" --clients "$CLIENTS" --deposits "$DEPOSITS"
stop_all

for servers in 1 2; do
  echo "== $servers server(s), one PostgreSQL database ($CLIENTS clients x $DEPOSITS deposits)"
  db="load_${servers}_$$"
  psql "$BLUEPRINT_TEST_DATABASE_URL" -qc "CREATE DATABASE $db"
  DB_URL="${BLUEPRINT_TEST_DATABASE_URL%/*}/$db"
  "$BIN" registry init "$WORK/pg$servers" --origin load.example/escrow --database "$DB_URL" >/dev/null
  URLS=()
  for _ in $(seq 1 "$servers"); do
    serve --registry "$WORK/pg$servers"
  done
  "$LOAD" "${URLS[@]}" --clients "$CLIENTS" --deposits "$DEPOSITS"
  stop_all
  "$BIN" registry fsck "$WORK/pg$servers"
done
