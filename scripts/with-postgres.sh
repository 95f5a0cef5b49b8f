#!/usr/bin/env bash
# Runs CMD with a throwaway PostgreSQL server and
# BLUEPRINT_TEST_DATABASE_URL pointing at an empty database on it:
#
#   scripts/with-postgres.sh cargo test --locked --test integration registry_pg
#
# Installs Debian's `postgresql` package when initdb/pg_ctl are missing,
# creates a cluster with initdb in a temporary folder (as the `postgres`
# user when run as root: initdb refuses root), starts it on a free port of
# 127.0.0.1 and its own unix socket folder, with password authentication
# over TCP, fsync and synchronous_commit on (the registry refuses less).
# The cluster is stopped and removed when CMD ends, however it ends.
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 2
fi

find_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! PGBIN=$(find_bin); then
  echo "with-postgres: installing PostgreSQL (apt-get)" >&2
  as_root apt-get update -qq
  # The package's own cluster is not used; policy-rc.d-less containers
  # may start it, which does no harm (another port).
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  PGBIN=$(find_bin) || {
    echo "with-postgres: initdb/pg_ctl not found after installing postgresql" >&2
    exit 2
  }
fi

# The server runs as a non-root user.
if [ "$(id -u)" -eq 0 ]; then
  RUN_USER=postgres
  if ! id "$RUN_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_USER"
  fi
  as_pg() { runuser -u "$RUN_USER" -- "$@"; }
else
  RUN_USER=$(id -un)
  as_pg() { "$@"; }
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/blueprint-pg.XXXXXX")
DATA="$TMP/data"
SOCK="$TMP/sock"
mkdir -p "$SOCK"
chmod 755 "$TMP"
chown "$RUN_USER" "$TMP" "$SOCK"

cleanup() {
  if [ -f "$DATA/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '%s\n' "$PASSWORD" >"$TMP/pwfile"
chown "$RUN_USER" "$TMP/pwfile"
chmod 600 "$TMP/pwfile"
as_pg "$PGBIN/initdb" -D "$DATA" -U blueprint --pwfile="$TMP/pwfile" \
  --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions >"$TMP/initdb.log" 2>&1 || {
  cat "$TMP/initdb.log" >&2
  exit 2
}
rm -f "$TMP/pwfile"

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

started=
for _ in 1 2 3 4 5 6 7 8; do
  PORT=$((20000 + RANDOM % 40000))
  port_free "$PORT" || continue
  if as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$TMP/server.log" -w -t 60 \
    -o "-p $PORT -k $SOCK -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on -c synchronous_commit=on" \
    start >/dev/null; then
    started=1
    break
  fi
done
if [ -z "$started" ]; then
  echo "with-postgres: the server did not start" >&2
  cat "$TMP/server.log" >&2 || true
  exit 2
fi

as_pg "$PGBIN/createdb" -h "$SOCK" -p "$PORT" -U blueprint blueprint

# psql and the other client tools of that server, for CMD.
export PATH="$PGBIN:$PATH"
export BLUEPRINT_TEST_DATABASE_URL="postgres://blueprint:$PASSWORD@127.0.0.1:$PORT/blueprint"
echo "with-postgres: PostgreSQL $("$PGBIN/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$PORT (cluster in $TMP)" >&2

# Not exec: the trap removes the cluster when CMD ends. CMD runs in the
# background so that a signal to this script is handled at once: it is
# passed on to CMD, and the cluster goes when CMD has ended.
set +e
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM
trap 'kill -INT "$child" 2>/dev/null; wait "$child"; exit 130' INT
wait "$child"
status=$?
set -e
exit "$status"
