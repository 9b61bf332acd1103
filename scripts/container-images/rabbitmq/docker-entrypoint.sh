#!/bin/sh
# Writes the node's configuration from the environment, then runs RabbitMQ as the rabbitmq user.
set -eu

if [ "${1:-rabbitmq-server}" != rabbitmq-server ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  user="${RABBITMQ_DEFAULT_USER:-guest}"
  password="${RABBITMQ_DEFAULT_PASS:-guest}"
  case "$user$password" in
    *"
"*) echo "rabbitmq: RABBITMQ_DEFAULT_USER and RABBITMQ_DEFAULT_PASS must be one line each" >&2; exit 1 ;;
  esac
  # default_user/default_pass take effect only when the node starts on an empty volume, as in the official image;
  # the guest account may sign in from other containers, as there.
  cat >/etc/rabbitmq/rabbitmq.conf <<CONF
loopback_users.guest = false
listeners.tcp.default = 5672
management.tcp.port = 15672
default_user = $user
default_pass = $password
CONF
  chown -R rabbitmq:rabbitmq /var/lib/rabbitmq
  exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups "$0" "$@"
fi

exec rabbitmq-server
