#!/usr/bin/env bash
# Starts Herald's private PostgreSQL cluster under .data/ (installing PostgreSQL if it is missing) and creates the
# databases named as arguments. Idempotent: a running cluster is left as it is. Prints nothing but problems.
# HERALD_PG_PORT and HERALD_PG_DATA choose another port and folder (the restart test runs its own cluster).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
port="${HERALD_PG_PORT:-5433}"
data="${HERALD_PG_DATA:-$root/.data/pg}"

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing PostgreSQL (apt-get install -y postgresql)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq postgresql >/dev/null
fi
bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"

# initdb and the server run as the postgres user, who must be able to reach .data/ through every parent folder.
mkdir -p "$root/.data"
dir="$root/.data"
while [ "$dir" != "/" ]; do
  runuser -u postgres -- test -x "$dir" 2>/dev/null || chmod o+x "$dir"
  dir="$(dirname "$dir")"
done
if [ ! -f "$data/PG_VERSION" ]; then
  mkdir -p "$data"
  chown postgres:postgres "$data"
  chmod 700 "$data"
  runuser -u postgres -- "$bin/initdb" -D "$data" -U herald --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
if ! runuser -u postgres -- "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  # setsid: the server gets a session of its own, so no signal sent to the caller's process group reaches it.
  runuser -u postgres -- setsid "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=600 -c shared_buffers=256MB" \
    start >/dev/null
fi
# One role must give its password, for the tests of what a wrong password logs; every other connection to this
# private cluster is trusted.
if ! grep -q "herald_password" "$data/pg_hba.conf"; then
  sed -i '1i host all herald_password 127.0.0.1/32 scram-sha-256' "$data/pg_hba.conf"
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" reload >/dev/null
fi
psql -h 127.0.0.1 -p "$port" -U herald -d postgres -qc \
  "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'herald_password') THEN
     CREATE ROLE herald_password LOGIN PASSWORD 'the-right-password'; END IF; END \$\$" >/dev/null
for db in "$@"; do
  if ! psql -h 127.0.0.1 -p "$port" -U herald -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U herald -d postgres -qc "CREATE DATABASE \"$db\"" >/dev/null
  fi
done
