#!/usr/bin/env bash
# Builds the solution and runs every test project, then the compose stack test (scripts/compose-test.sh: compose.yaml
# run for real with Docker), and prints "N passed, N failed" over both as the last line.
# Exits non-zero when the build fails, a test fails, a test host aborts, or no test ran.
# Extra arguments go to `dotnet test` and leave the stack test out (for example:
# scripts/test.sh --filter "FullyQualifiedName~Artifacts"); so does SQNXT_SKIP_COMPOSE_TEST=1. `--level L` first runs one level.
set -uo pipefail

# --level L runs the tests of one level only: unit, in-process, processes, browser or containers (the trait each test
# class carries; containers adds the compose stack test).
level=""
if [ "${1:-}" = "--level" ]; then
  level="${2:-}"
  case "$level" in
    unit|in-process|processes|browser|containers) ;;
    *) echo "--level: '$level' is not one of unit, in-process, processes, browser, containers"; echo "0 passed, 1 failed"; exit 2 ;;
  esac
  shift 2
  set -- --filter "Level=$level" "$@"
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
results="$root/artifacts/test-results"
mkdir -p "$results"
log="$results/dotnet-test.log"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# What the tests use from Debian: Fashion-MNIST, Chromium for the browser tests, PyTorch as the reference for the
# pytorchcv import, strace, libturbojpeg0, docker-compose to validate compose.yaml, promtool for the alert rules, and apt's package lists so a test can fetch
# gdk-pixbuf-tests' hostile images. Tests that need them skip, saying why, when they cannot be had.
ensure_apt_lists() {
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -E '^(lock|partial|auxfiles)$')" ]; then
    apt-get update -qq >/dev/null 2>&1 || echo "warning: apt-get update failed"
  fi
}
if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  echo "== installing dataset-fashion-mnist"
  ensure_apt_lists
  apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null 2>&1 || echo "warning: could not install dataset-fashion-mnist"
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium (browser tests)"
  ensure_apt_lists
  apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || echo "warning: could not install chromium"
fi
if ! /usr/bin/python3 -c "import torch" >/dev/null 2>&1; then
  # The independent PyTorch implementation the pytorchcv import is checked against.
  echo "== installing python3-torch (reference for the pytorchcv import)"
  ensure_apt_lists
  apt-get install -y -qq --no-install-recommends python3-torch >/dev/null 2>&1 || echo "warning: could not install python3-torch"
fi
if ! /usr/bin/python3 -c "import pika" >/dev/null 2>&1; then
  # The Python clients of docs/examples, which the tests run against the workers.
  echo "== installing python3-pika (Python client tests)"
  ensure_apt_lists
  apt-get install -y -qq --no-install-recommends python3-pika >/dev/null 2>&1 || echo "warning: could not install python3-pika"
fi
if [ ! -x /usr/bin/strace ]; then
  # Records the worker's file accesses for the test that it stays under its data and artifact roots.
  echo "== installing strace (worker file-access test)"
  ensure_apt_lists
  apt-get install -y -qq --no-install-recommends strace >/dev/null 2>&1 || echo "warning: could not install strace"
fi
if ! ldconfig -p | grep -q 'libturbojpeg\.so\.0'; then
  # libjpeg-turbo's TurboJPEG library: the JPEG decoder where it is installed (the decoding tests require it).
  echo "== installing libturbojpeg0 (JPEG decoding)"
  ensure_apt_lists
  apt-get install -y -qq --no-install-recommends libturbojpeg0 >/dev/null 2>&1 || echo "warning: could not install libturbojpeg0"
fi
if [ ! -x /usr/bin/docker-compose ]; then
  # Validates compose.yaml offline; without --no-install-recommends it would pull in the Docker engine.
  echo "== installing docker-compose (compose.yaml validation)"
  ensure_apt_lists
  apt-get install -y -qq --no-install-recommends docker-compose >/dev/null 2>&1 || echo "warning: could not install docker-compose"
fi
if [ ! -x /usr/bin/promtool ]; then
  # promtool checks the observability profile's Prometheus configuration and alert rules.
  echo "== installing prometheus (promtool)"
  ensure_apt_lists
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 || echo "warning: could not install prometheus"
fi
ensure_apt_lists

echo "== build"
dotnet build SqueezeNext.Jobs.sln -c Release -nologo -v minimal >"$results/build.log" 2>&1
build_status=$?
grep -E ": (error|warning) " "$results/build.log" | sort -u | head -50
if [ "$build_status" -ne 0 ]; then
  tail -20 "$results/build.log"
  echo "build failed (see $results/build.log)"
  echo "0 passed, 1 failed"
  exit 1
fi

# The job-layer tests talk to a real PostgreSQL and RabbitMQ: private instances (scripts/test-services.env).
set -a; . scripts/test-services.env; set +a
echo "== services"
scripts/services.sh stop >/dev/null 2>&1 || true
if ! scripts/services.sh start; then
  echo "could not start PostgreSQL and RabbitMQ (see $SQNXT_SERVICES_DIR)"
  echo "0 passed, 1 failed"
  exit 1
fi
trap 'scripts/services.sh stop >/dev/null 2>&1 || true' EXIT

echo "== test"
dotnet test SqueezeNext.Jobs.sln -c Release --no-build -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=0
failed=0
. scripts/dotnet-test-counts.sh
add_dotnet_test_counts "$log" "$status"

if { [ $# -eq 0 ] || [ "$level" = containers ]; } && [ "${SQNXT_SKIP_COMPOSE_TEST:-}" != 1 ]; then
  echo "== compose stack test"
  scripts/services.sh stop >/dev/null 2>&1 || true
  scripts/compose-test.sh 2>&1 | tee "$results/compose-test.out"
  compose_counts="$(tail -1 "$results/compose-test.out")"
  if [[ "$compose_counts" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
  else
    echo "the compose stack test printed no counts"
    failed=$((failed + 1))
  fi
else
  echo "== compose stack test left out (extra arguments or SQNXT_SKIP_COMPOSE_TEST=1)"
fi

if [ $((passed + failed)) -eq 0 ]; then
  echo "no test ran"
  failed=1
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
