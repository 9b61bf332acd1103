#!/usr/bin/env bash
# Starts, stops or reports a private PostgreSQL cluster and a private RabbitMQ node on loopback, without Docker.
# Installs rabbitmq-server (and PostgreSQL, if none is installed) with apt the first time.
#
#   scripts/services.sh start|stop|status|env
#   scripts/services.sh stop-postgres|stop-rabbitmq   (one of them, for fault tests; `start` brings it back)
#
# Settings (environment):
#   SQNXT_SERVICES_DIR              state folder (default: <repo>/artifacts/services)
#   SQNXT_PG_PORT                   PostgreSQL port (55432)
#   SQNXT_RABBIT_PORT               AMQP port (55672)
#   SQNXT_RABBIT_MANAGEMENT_PORT    management UI port (55673)
#   SQNXT_RABBIT_DIST_PORT          Erlang distribution port (55674)
#   SQNXT_RABBIT_CONSUMER_TIMEOUT_MS  delivery-acknowledgement timeout (RabbitMQ's default: 30 minutes)
#   SQNXT_RABBIT_MAX_MESSAGE_BYTES  largest message the broker takes (16 MiB, RabbitMQ 4's default; 3.x allows 128 MiB)
#   SQNXT_DB_NAME                   database to create (sqnxt)
# `env` prints the connection settings as shell exports (ConnectionStrings__Postgres, RabbitMq__*).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${SQNXT_SERVICES_DIR:-$root/artifacts/services}"
pg_port="${SQNXT_PG_PORT:-55432}"
rabbit_port="${SQNXT_RABBIT_PORT:-55672}"
rabbit_management_port="${SQNXT_RABBIT_MANAGEMENT_PORT:-55673}"
rabbit_dist_port="${SQNXT_RABBIT_DIST_PORT:-55674}"
db_name="${SQNXT_DB_NAME:-sqnxt}"
# The newest installed PostgreSQL (15 on Debian 12, 16 on Ubuntu 24.04); the distribution's own is installed if none is.
find_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
pg_bin="$(find_pg_bin)"
pg_data="$dir/postgres/data"
pg_socket="$dir/postgres/socket"
rabbit_base="$dir/rabbitmq"
rabbit_node="sqnxt-${rabbit_port}@localhost"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    echo "services: $* is not installed and this user cannot apt-get install it" >&2
    exit 1
  fi
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -E '^(lock|partial|auxfiles)$')" ]; then
    apt-get update -qq >/dev/null
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

rabbit_env() {
  export HOME="$rabbit_base/home"
  export RABBITMQ_NODENAME="$rabbit_node"
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT="$rabbit_port"
  export RABBITMQ_DIST_PORT="$rabbit_dist_port"
  export RABBITMQ_MNESIA_BASE="$rabbit_base/mnesia"
  export RABBITMQ_LOG_BASE="$rabbit_base/log"
  export RABBITMQ_PID_FILE="$rabbit_base/rabbitmq.pid"
  export RABBITMQ_CONFIG_FILE="$rabbit_base/rabbitmq"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$rabbit_base/enabled_plugins"
  export ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

pg_running() { [ -f "$pg_data/postmaster.pid" ] && as_postgres "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; }

rabbit_running() {
  [ -f "$rabbit_base/rabbitmq.pid" ] || return 1
  (rabbit_env; timeout 20 /usr/lib/rabbitmq/bin/rabbitmqctl -q status >/dev/null 2>&1)
}

start_postgres() {
  if [ -z "$pg_bin" ] || [ ! -x "$pg_bin/postgres" ]; then
    apt_install postgresql
    pg_bin="$(find_pg_bin)"
  fi
  mkdir -p "$dir/postgres" "$pg_socket"
  if [ "$(id -u)" = 0 ]; then chown -R postgres: "$dir/postgres"; fi
  if [ ! -f "$pg_data/PG_VERSION" ]; then
    as_postgres "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! pg_running; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -w -l "$dir/postgres/server.log" \
      -o "-p $pg_port -k $pg_socket -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start >/dev/null
  fi
  if ! as_postgres "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "select 1 from pg_database where datname='$db_name'" | grep -q 1; then
    as_postgres "$pg_bin/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres "$db_name"
  fi
  echo "postgres: ready on 127.0.0.1:$pg_port (database $db_name)"
}

start_rabbitmq() {
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || apt_install rabbitmq-server
  mkdir -p "$rabbit_base/home" "$rabbit_base/mnesia" "$rabbit_base/log"
  {
    echo "listeners.tcp.default = $rabbit_port"
    echo "management.tcp.port = $rabbit_management_port"
    echo "management.tcp.ip = 127.0.0.1"
    if [ -n "${SQNXT_RABBIT_CONSUMER_TIMEOUT_MS:-}" ]; then echo "consumer_timeout = $SQNXT_RABBIT_CONSUMER_TIMEOUT_MS"; fi
    echo "max_message_size = ${SQNXT_RABBIT_MAX_MESSAGE_BYTES:-16777216}"
  } >"$rabbit_base/rabbitmq.conf"
  if rabbit_running; then
    echo "rabbitmq: already running on 127.0.0.1:$rabbit_port"
    return
  fi
  (
    rabbit_env
    /usr/lib/rabbitmq/bin/rabbitmq-plugins enable --offline rabbitmq_management >/dev/null
    /usr/lib/rabbitmq/bin/rabbitmq-server -detached >/dev/null 2>&1
    /usr/lib/rabbitmq/bin/rabbitmqctl wait --timeout 60 "$RABBITMQ_PID_FILE" >/dev/null
  )
  echo "rabbitmq: ready on 127.0.0.1:$rabbit_port (management http://127.0.0.1:$rabbit_management_port)"
}

stop_rabbitmq() {
  if [ -f "$rabbit_base/rabbitmq.pid" ]; then
    (rabbit_env; timeout 60 /usr/lib/rabbitmq/bin/rabbitmqctl shutdown >/dev/null 2>&1 || true)
    rm -f "$rabbit_base/rabbitmq.pid"
    echo "rabbitmq: stopped"
  fi
  # epmd outlives the node; stop it only when no other Erlang node still uses it.
  if ! (ERL_EPMD_ADDRESS=127.0.0.1 epmd -names 2>/dev/null | grep -q "^name "); then
    (ERL_EPMD_ADDRESS=127.0.0.1 epmd -kill >/dev/null 2>&1 || true)
  fi
}

stop_postgres() {
  if pg_running; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m fast -w stop >/dev/null
    echo "postgres: stopped"
  fi
}

print_env() {
  echo "export ConnectionStrings__Postgres='Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=$db_name'"
  echo "export RabbitMq__Host=127.0.0.1 RabbitMq__Port=$rabbit_port RabbitMq__Username=guest RabbitMq__Password=guest"
  echo "export RabbitMq__ManagementPort=$rabbit_management_port"
}

case "${1:-}" in
  start) start_postgres; start_rabbitmq ;;
  stop) stop_rabbitmq; stop_postgres ;;
  stop-postgres) stop_postgres ;;
  stop-rabbitmq) stop_rabbitmq ;;
  status)
    if pg_running; then echo "postgres: running on 127.0.0.1:$pg_port"; else echo "postgres: stopped"; fi
    if rabbit_running; then echo "rabbitmq: running on 127.0.0.1:$rabbit_port"; else echo "rabbitmq: stopped"; fi
    ;;
  env) print_env ;;
  *) echo "usage: scripts/services.sh start|stop|status|env|stop-postgres|stop-rabbitmq" >&2; exit 2 ;;
esac
