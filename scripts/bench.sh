#!/usr/bin/env bash
# The benchmark suite, a separate run (not part of scripts/test.sh): training and inference img/s of this engine and
# of PyTorch on the same machine, the matrix-multiply peak, the data pipeline. Writes artifacts/performance/bench.{json,md}.
#
#   scripts/bench.sh                       # the whole matrix: 3 configurations × batch 1, 8, 32, 64 × 1 and all threads
#   scripts/bench.sh --configs v_1_0_SqNxt_23 --batches 32     # any subset (bench/suite.py --help)
#   SQNXT_BENCH_ALLOCATOR=tcmalloc scripts/bench.sh ...       # both frameworks with TCMalloc preloaded instead of glibc's malloc
#   scripts/bench.sh micro [--filter '*Decode*'] [--job short]  # the BenchmarkDotNet micro-benchmarks (bench/Micro)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ "${1:-}" = micro ]; then
  shift
  dotnet build bench/Micro -c Release -nologo -v quiet >/dev/null
  # BenchmarkDotNet writes its reports (Markdown, CSV, HTML) under artifacts/performance/micro/results.
  exec dotnet bench/Micro/bin/Release/net10.0/SqueezeNext.Benchmarks.dll --artifacts artifacts/performance/micro "$@"
fi
# The peer: Debian's PyTorch, with OpenBLAS (without it Debian's torch multiplies matrices with the reference BLAS).
if ! /usr/bin/python3 -c "import torch" >/dev/null 2>&1 || ! ls /usr/lib/*-linux-gnu/openblas-pthread/libblas.so.3 >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends python3-torch libopenblas0-pthread libtcmalloc-minimal4 >/dev/null
fi
dotnet build Cli -c Release -nologo -v quiet >/dev/null
if [ "${SQNXT_BENCH_ALLOCATOR:-glibc}" = tcmalloc ]; then
  LD_PRELOAD="$(ls /usr/lib/*-linux-gnu/libtcmalloc_minimal.so.4 | head -1)"
  export LD_PRELOAD
fi
exec /usr/bin/python3 bench/suite.py --sqnxt "dotnet Cli/bin/Release/net10.0/sqnxt.dll" "$@"
