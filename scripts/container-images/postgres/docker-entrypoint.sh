#!/bin/sh
# Initialises an empty data folder from POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB once, then runs PostgreSQL
# as the postgres user, listening on every address with password authentication (as the official image does).
set -eu

if [ "${1:-postgres}" != postgres ]; then exec "$@"; fi
shift || true

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" postgres "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "postgres: POSTGRES_PASSWORD is not set; refusing to create a database nobody can sign in to over the network" >&2
    exit 1
  fi
  user="${POSTGRES_USER:-postgres}"
  database="${POSTGRES_DB:-$user}"
  password_file="$(mktemp)"
  printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
  initdb -D "$PGDATA" -U "$user" --pwfile="$password_file" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$password_file"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "$database" != postgres ]; then
    # A server on the socket only, so nothing can connect before the database exists.
    pg_ctl -D "$PGDATA" -w -s -o "-c listen_addresses=''" start
    createdb -U "$user" "$database"
    pg_ctl -D "$PGDATA" -w -s -m fast stop
  fi
  echo "postgres: initialised $PGDATA (user $user, database $database)"
fi

exec postgres -D "$PGDATA" -c listen_addresses='*' "$@"
