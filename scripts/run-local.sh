#!/usr/bin/env bash
# Runs the whole system on this machine without Docker: PostgreSQL and RabbitMQ (scripts/services.sh), one worker
# and the dashboard on 127.0.0.1, with Debian's Fashion-MNIST as the demo dataset. Ctrl-C stops everything.
#
#   scripts/run-local.sh
#
# Settings (environment; the defaults suit a developer machine):
#   SQNXT_LOCAL_DIR           state: published apps, data root, artifacts, logs, password (<repo>/artifacts/local)
#   SQNXT_DASHBOARD_PORT      dashboard port (5080)         SQNXT_WORKER_PORT   worker health/metrics port (5081)
#   DASHBOARD_ADMIN_PASSWORD  the admin password (default: generated once, kept in $SQNXT_LOCAL_DIR/admin-password)
#   SQNXT_LOCAL_NO_BUILD=1    publish what the last Release build made (the tests use this; they build first)
#   SQNXT_PG_PORT, SQNXT_RABBIT_PORT, SQNXT_RABBIT_MANAGEMENT_PORT, SQNXT_RABBIT_DIST_PORT   see scripts/services.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
state="${SQNXT_LOCAL_DIR:-$root/artifacts/local}"
dashboard_port="${SQNXT_DASHBOARD_PORT:-5080}"
worker_port="${SQNXT_WORKER_PORT:-5081}"
fashion=/usr/share/datasets/fashion-mnist
export SQNXT_SERVICES_DIR="$state/services"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say() { echo "run-local: $*"; }
fail() { echo "run-local: error: $*" >&2; exit 1; }

command -v dotnet >/dev/null || fail "the .NET 10 SDK is needed (https://learn.microsoft.com/dotnet/core/install/linux)"
mkdir -p "$state/logs" "$state/data" "$state/worker-artifacts"

# The demo dataset, from Debian's archive (MIT licence, 30 MB).
if [ ! -f "$fashion/train-images-idx3-ubyte.gz" ]; then
  say "installing dataset-fashion-mnist (the demo dataset)"
  if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); elif command -v sudo >/dev/null; then apt_get=(sudo apt-get); else fail "cannot install dataset-fashion-mnist: run as root or install it with apt"; fi
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -E '^(lock|partial|auxfiles)$')" ]; then "${apt_get[@]}" update -qq >/dev/null; fi
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null
fi
ln -sfn "$fashion" "$state/data/fashion-mnist"
# libjpeg-turbo decodes JPEGs faster than the fallback (ImageSharp), and at a reduced size for classification.
if ! ldconfig -p | grep -q 'libturbojpeg\.so\.0'; then
  if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); elif command -v sudo >/dev/null; then apt_get=(sudo apt-get); else apt_get=(); fi
  if [ ${#apt_get[@]} -gt 0 ]; then
    say "installing libturbojpeg0 (faster JPEG decoding)"
    DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends libturbojpeg0 >/dev/null || say "could not install libturbojpeg0: JPEGs decode with ImageSharp"
  else
    say "libturbojpeg0 is not installed: JPEGs decode with ImageSharp (slower)"
  fi
fi

# Published builds: a Blazor app serves its static assets from publish output (a Production run from bin/ does not).
say "building (dotnet publish, Release)"
publish_args=(-c Release -nologo -v quiet)
if [ "${SQNXT_LOCAL_NO_BUILD:-0}" = 1 ]; then publish_args+=(--no-build); fi
for app in WorkerHost Dashboard; do
  dotnet publish "$app/$app.csproj" "${publish_args[@]}" -o "$state/app/$app" >"$state/logs/publish-$app.log" 2>&1 \
    || { tail -30 "$state/logs/publish-$app.log"; fail "dotnet publish $app failed (log: $state/logs/publish-$app.log)"; }
done

if [ -z "${DASHBOARD_ADMIN_PASSWORD:-}" ]; then
  if [ ! -s "$state/admin-password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$state/admin-password")
  fi
  DASHBOARD_ADMIN_PASSWORD="$(cat "$state/admin-password")"
  password_where="in $state/admin-password"
else
  password_where="from DASHBOARD_ADMIN_PASSWORD"
fi
export DASHBOARD_ADMIN_PASSWORD
# The claim-check store both apps share: images and weights over 1 MB travel by reference (docs/messages.md).
export MessageData__Directory="$state/message-data"

worker_pid=""
dashboard_pid=""
stopping=0
stop_all() {
  [ "$stopping" = 1 ] && return
  stopping=1
  trap - INT TERM
  echo
  say "stopping"
  for pid in $dashboard_pid $worker_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $dashboard_pid $worker_pid; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  scripts/services.sh stop | sed 's/^/run-local: /'
  say "stopped"
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

scripts/services.sh start | sed 's/^/run-local: /'
eval "$(scripts/services.sh env)"

# GET a URL with bash alone (curl is not on every fresh machine); succeeds on HTTP 200.
http_ok() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    read -r -t 10 _ status _ <&3 && [ "$status" = 200 ]
  ) 2>/dev/null
}

wait_ready() {
  local name="$1" port="$2" pid="$3" log="$4"
  for _ in $(seq 1 240); do
    http_ok "$port" /health/ready && return 0
    kill -0 "$pid" 2>/dev/null || { tail -30 "$log"; fail "$name exited during start (log: $log)"; }
    sleep 0.5
  done
  tail -30 "$log"
  fail "$name was not ready after 2 minutes (log: $log)"
}

# Each app runs from its publish folder (its content root: appsettings.json, wwwroot). The worker applies the
# database migrations before it answers, so it starts first.
(
  set -a; . "$root/scripts/training-heap.env"; set +a
  cd "$state/app/WorkerHost"
  Urls="http://127.0.0.1:$worker_port" Worker__DataRoot="$state/data" Worker__ArtifactRoot="$state/worker-artifacts" \
    exec dotnet SqueezeNext.WorkerHost.dll
) >>"$state/logs/worker.log" 2>&1 &
worker_pid=$!
wait_ready worker "$worker_port" "$worker_pid" "$state/logs/worker.log"

(
  cd "$state/app/Dashboard"
  # Uploads land on the workers' data root, where imports read them.
  Urls="http://127.0.0.1:$dashboard_port" DataProtection__KeysDirectory="$state/dashboard-keys" Datasets__DataRoot="$state/data" \
    exec dotnet SqueezeNext.Dashboard.dll
) >>"$state/logs/dashboard.log" 2>&1 &
dashboard_pid=$!
wait_ready dashboard "$dashboard_port" "$dashboard_pid" "$state/logs/dashboard.log"

cat <<EOF

  SqueezeNext.Jobs is running.
    dashboard   http://127.0.0.1:$dashboard_port   user admin, password $password_where
    worker      http://127.0.0.1:$worker_port/health/ready   /metrics
    RabbitMQ    http://127.0.0.1:${RabbitMq__ManagementPort} (guest/guest)   PostgreSQL: $ConnectionStrings__Postgres
    data root   $state/data (demo dataset: fashion-mnist)
    logs        $state/logs
  Ctrl-C stops everything.

EOF

# Runs until Ctrl-C, or until one of the apps stops by itself.
set +e
wait -n "$worker_pid" "$dashboard_pid"
status=$?
if [ "$stopping" = 0 ]; then
  say "an app stopped by itself (exit $status); the last lines of the logs:"
  tail -15 "$state/logs/worker.log" "$state/logs/dashboard.log"
  stop_all
  exit 1
fi
