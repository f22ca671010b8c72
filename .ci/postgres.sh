#!/usr/bin/env bash
# Start a throw-away PostgreSQL server on loopback for the multi-host tests and print the URL.
# Usage: eval "$(bash .ci/postgres.sh)"   (exports RLTUI_TEST_POSTGRES_URL)
set -euo pipefail
if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
data=${RLTUI_PG_DATA:-/tmp/rltui-ci-postgres}
port=${RLTUI_PG_PORT:-55432}
run() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ -f "$data/postmaster.pid" ] && run "$bin/pg_ctl -D $data stop -m fast" >&2 || true
rm -rf "$data"; mkdir -p "$data"
[ "$(id -u)" = 0 ] && chown postgres "$data"
run "$bin/initdb -D $data -A trust -U postgres" >/dev/null
run "$bin/pg_ctl -D $data -l $data/server.log -w -o \"-p $port -k /tmp -c listen_addresses=127.0.0.1\" start" >&2
run "$bin/createdb -h 127.0.0.1 -p $port -U postgres rltui_test" >&2
echo "export RLTUI_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:$port/rltui_test"
