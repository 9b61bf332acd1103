#!/usr/bin/env bash
# Chaos tests, a separate run (not part of scripts/test.sh): PostgreSQL and RabbitMQ stopped and restarted under a
# running worker, each on a private pair of services. Prints "N passed, N failed" like the test command.
#
#   scripts/chaos-test.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export SQNXT_CHAOS=1
exec scripts/test.sh --filter "FullyQualifiedName~DependencyFaultTests"
