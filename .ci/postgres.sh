#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on localhost for the engine tests and print its URL.
# Installs Debian's postgresql if it is missing. Runs the server as the `postgres` user
# (PostgreSQL refuses to run as root) in a temporary data directory.
set -euo pipefail
PORT="${COCKPIT_PG_PORT:-54329}"
DATA="${COCKPIT_PG_DATA:-/tmp/cockpit-pgdata}"
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null
  else
    echo "postgresql is not installed and cannot be installed without root" >&2
    exit 1
  fi
fi
BIN="$(dirname "$(ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")"
RUN=()
if [ "$(id -u)" = 0 ]; then RUN=(su postgres -s /bin/sh -c); fi
run() { if [ ${#RUN[@]} -gt 0 ]; then "${RUN[@]}" "$*"; else sh -c "$*"; fi; }
if [ ! -f "$DATA/PG_VERSION" ]; then
  mkdir -p "$DATA"
  if [ "$(id -u)" = 0 ]; then chown postgres "$DATA"; fi
  run "$BIN/initdb -D $DATA -U postgres --auth=trust -E UTF8 >/dev/null"
fi
if ! run "$BIN/pg_ctl -D $DATA status" >/dev/null 2>&1; then
  run "$BIN/pg_ctl -D $DATA -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1' -l $DATA/log -w start" >/dev/null
fi
psql -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='cockpit'" | grep -q 1 \
  || psql -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE cockpit" >/dev/null
echo "postgresql://postgres@127.0.0.1:$PORT/cockpit"
