#!/bin/sh
# e2e/postgres/entrypoint.sh: makes a cluster in $PGDATA when it has none
# (superuser POSTGRES_USER, default postgres, with password POSTGRES_PASSWORD;
# database POSTGRES_DB, default the user's name), then runs postgres in the
# foreground, logging to stderr, with any arguments (`-c name=value`).
set -eu
user=${POSTGRES_USER:-postgres}
db=${POSTGRES_DB:-$user}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "postgres-entrypoint: POSTGRES_PASSWORD is empty" >&2; exit 1; }
  # A directory of its own inside a mounted volume: initdb sets its mode,
  # which it cannot do on a mount point owned by root.
  mkdir -p "$PGDATA"
  # The password through a pipe, never on disk or in the process list.
  printf '%s\n' "$POSTGRES_PASSWORD" | initdb --pgdata="$PGDATA" --username="$user" --pwfile=/dev/stdin \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  # Clients from anywhere, with the password (initdb allows only loopback).
  echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  if [ "$db" != postgres ]; then
    # Single-user mode: no server, no socket yet. The name as a quoted identifier.
    printf 'CREATE DATABASE "%s";\n' "$(printf '%s' "$db" | sed 's/"/""/g')" |
      postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres-entrypoint: initialized $PGDATA (user $user, database $db)" >&2
fi
exec postgres -D "$PGDATA" "$@"
