#!/usr/bin/env bash
# The classify load test at full size (a separate run, not part of scripts/test.sh's bounded version):
# REQUESTS requests (default 10,000) spread over concurrency 1, 4, 16 and 32 against one worker on loopback.
# Prints artifacts/performance/classify-load.json (throughput, p50/p99 latency, errors, live tensors before and after).
#
#   scripts/load-test.sh [REQUESTS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export SQNXT_LOAD_REQUESTS="${1:-10000}"
scripts/test.sh --filter "FullyQualifiedName~ClassifyLoadTests"
cat artifacts/performance/classify-load.json
