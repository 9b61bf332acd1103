#!/usr/bin/env bash
# The stack test: the committed compose.yaml run for real with Docker (tests/Deployment.Tests/ComposeStack).
# Installs Debian's docker.io, docker-compose, debootstrap and python3-pika where missing, starts dockerd when none
# runs, makes the base images (scripts/container-images.sh), publishes the worker and the dashboard on this host and
# builds their images from that output, runs the stack tests, and removes the project's containers, networks, volumes
# and the images it built, whatever happened. The base images stay, as pulled images would.
# Prints "N passed, N failed" last; where the Docker engine cannot start, one line says why and "0 passed, 0 failed".
# scripts/test.sh runs it after the other tests; alone: scripts/compose-test.sh
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
results="$root/artifacts/test-results"
mkdir -p "$results"
log="$results/compose-test.log"
timings="$results/compose-stack-timings.txt"
setup="$results/compose-stack-setup.txt"
publish="artifacts/publish"
export COMPOSE_PROJECT_NAME="${SQNXT_COMPOSE_PROJECT:-sqnxt-compose-test}"
export SQNXT_COMPOSE_PROJECT="$COMPOSE_PROJECT_NAME"
# A tag of the test's own, so that a user's sqnxt-worker:latest is never replaced or removed.
export SQNXT_TAG="${SQNXT_COMPOSE_TAG:-compose-test}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

say() { echo "compose-test: $*"; }
cleanup() { :; }
# The counts are the last line: what the stack leaves behind is removed first.
finish() {
  trap - EXIT
  cleanup
  echo "$1 passed, $2 failed"
  exit $(($2 > 0 ? 1 : 0))
}

apt_ready=""
apt_install() {
  if [ "$(id -u)" != 0 ]; then
    say "$* missing and this user cannot apt-get install it"
    return 1
  fi
  if [ -z "$apt_ready" ] && [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -E '^(lock|partial|auxfiles)$')" ]; then
    apt-get update -qq >/dev/null 2>&1
  fi
  apt_ready=1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1
}

[ -x /usr/sbin/dockerd ] || { say "installing docker.io"; apt_install docker.io || true; }
[ -x /usr/bin/docker-compose ] || { say "installing docker-compose"; apt_install docker-compose || true; }
command -v debootstrap >/dev/null || { say "installing debootstrap (base images)"; apt_install debootstrap || true; }
/usr/bin/python3 -c "import pika" 2>/dev/null || { say "installing python3-pika (the Python classify client)"; apt_install python3-pika || true; }
[ -x /usr/bin/chromium ] || { say "installing chromium (browser steps)"; apt_install chromium || true; }

# The engine: the one that runs, or one started here (and stopped again at the end).
started_dockerd=""
if ! docker info >/dev/null 2>&1; then
  if [ ! -x /usr/sbin/dockerd ]; then
    say "skipped: Debian's docker.io could not be installed, so there is no Docker engine"
    finish 0 0
  fi
  say "starting dockerd"
  /usr/sbin/dockerd >"$results/dockerd.log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    kill -0 "$started_dockerd" 2>/dev/null || break
    sleep 0.5
  done
  if ! docker info >/dev/null 2>&1; then
    say "skipped: dockerd does not start here ($(grep -i -m1 -E 'level=(fatal|error)' "$results/dockerd.log" | sed -E 's/.*msg="?([^"]*)"?.*/\1/'))"
    kill "$started_dockerd" 2>/dev/null
    finish 0 0
  fi
fi

compose_env="$(mktemp)" # empty: a developer's .env must not change what is tested
dangling_before="$(mktemp)"
docker images -q --filter dangling=true | sort -u >"$dangling_before"
cleanup() {
  say "removing the project's containers, networks, volumes and the images built for it"
  docker-compose --env-file "$compose_env" -f compose.yaml down -v --remove-orphans --timeout 30 >>"$log" 2>&1
  docker image rm -f "sqnxt-worker:$SQNXT_TAG" "sqnxt-dashboard:$SQNXT_TAG" >>"$log" 2>&1
  # The build stages' images, left untagged by the classic builder; only the ones this run made.
  comm -13 "$dangling_before" <(docker images -q --filter dangling=true | sort -u) | xargs -r docker image rm -f >>"$log" 2>&1
  rm -rf "$publish" "$compose_env" "$dangling_before"
  if [ -n "$started_dockerd" ]; then
    kill "$started_dockerd" 2>/dev/null
    wait "$started_dockerd" 2>/dev/null
  fi
}
trap cleanup EXIT
: >"$log"
: >"$timings"
: >"$setup"

started=$SECONDS
say "base images"
if ! scripts/container-images.sh 2>&1 | tee -a "$log"; then
  say "the base images could not be made (see $log)"
  finish 0 1
fi
echo "$((SECONDS - started)) s  base images (scripts/container-images.sh)" >>"$setup"

step=$SECONDS
say "publishing the worker and the dashboard"
rm -rf "$publish"
if ! { dotnet publish WorkerHost/WorkerHost.csproj -c Release -o "$publish/worker" -nologo -v q &&
  dotnet publish Dashboard/Dashboard.csproj -c Release -o "$publish/dashboard" -nologo -v q; } >>"$log" 2>&1; then
  tail -20 "$log"
  say "dotnet publish failed (see $log)"
  finish 0 1
fi
echo "$((SECONDS - step)) s  dotnet publish of the worker and the dashboard" >>"$setup"

step=$SECONDS
say "building the images from the published output"
if ! SQNXT_WORKER_PUBLISHED="$publish/worker" SQNXT_DASHBOARD_PUBLISHED="$publish/dashboard" \
  docker-compose --env-file "$compose_env" -f compose.yaml build >>"$log" 2>&1; then
  grep -v -E '^ ---> |^Removing intermediate' "$log" | tail -20
  say "docker-compose build failed (see $log)"
  finish 0 1
fi
echo "$((SECONDS - step)) s  docker-compose build (worker, demo-data, dashboard)" >>"$setup"
for image in worker dashboard; do
  docker image inspect --format "{{.Size}}" "sqnxt-$image:$SQNXT_TAG" | awk -v name="sqnxt-$image" '{ printf "%s image: %d MB\n", name, $1 / 1e6 }' >>"$setup"
done

say "running the stack test"
dotnet build tests/Deployment.Tests/Deployment.Tests.csproj -c Release -nologo -v q >>"$log" 2>&1
test_log="$results/compose-stack-test.log"
dotnet test tests/Deployment.Tests/Deployment.Tests.csproj -c Release --no-build -nologo \
  --filter "FullyQualifiedName~SqueezeNext.Deployment.Tests.ComposeStack" 2>&1 | tee "$test_log"
status=${PIPESTATUS[0]}

passed=0
failed=0
. scripts/dotnet-test-counts.sh
add_dotnet_test_counts "$test_log" "$status"
[ $((passed + failed)) -gt 0 ] || { say "no stack test ran"; failed=1; }

cat "$setup" "$timings" 2>/dev/null | sed 's/^/compose-test: /'
say "$((SECONDS - started)) s in all"
finish "$passed" "$failed"
