#!/usr/bin/env bash
# The classify load test at full size (a separate run, not part of scripts/test.sh's bounded version):
# REQUESTS requests (default 10,000) spread over concurrency 1, 4, 16, 32 and 64 against one worker on loopback,
# sending IMAGES: photos (the four test photos as they are, default) or imagenet (500×375 JPEGs made from them).
# Then, on the same machine and in the same run, the baselines with the worker's settings (2 libtorch threads,
# batch 32, the training heap): raw batched inference (`sqnxt bench --mode infer`) and in-process classification of
# the same images with decoding (`sqnxt bench --mode classify`). Writes artifacts/performance/classify-load-IMAGES.json
# (throughput, p50/p99 latency, batch sizes, errors, live tensors, resident memory) and classify-baseline-IMAGES.json,
# and prints the end-to-end throughput as a fraction of each baseline, and per core the worker used (what it would
# serve with the machine to itself, the broker and the callers elsewhere).
#
# Requests go non-persistent, as the product's waiting callers send them; SQNXT_LOAD_PERSISTENT=1 sends them persistent
# (written to the broker's disk). SQNXT_LOAD_CONCURRENCY=64 runs one level (for profiling).
#
#   scripts/load-test.sh [REQUESTS] [IMAGES]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export SQNXT_LOAD_REQUESTS="${1:-10000}" SQNXT_LOAD_IMAGES="${2:-photos}"
case "$SQNXT_LOAD_IMAGES" in
  photos) reencode=() ;;
  imagenet) reencode=(--reencode --jpeg-size 500x375) ;;
  *) echo "load-test: IMAGES must be photos or imagenet, not '$SQNXT_LOAD_IMAGES'" >&2; exit 2 ;;
esac
scripts/test.sh --filter "FullyQualifiedName~ClassifyLoadTests"
out=artifacts/performance
load="$out/classify-load-$SQNXT_LOAD_IMAGES.json" baseline="$out/classify-baseline-$SQNXT_LOAD_IMAGES.json"
cat "$load"; echo

photos=(tests/Vision.Tests/Fixtures/{tabby_cat.jpg,coffee.png,rocket.jpg,chelsea.png})
sqnxt=(dotnet Cli/bin/Release/net10.0/sqnxt.dll)
set -a; . scripts/training-heap.env; set +a
infer="$("${sqnxt[@]}" bench --mode infer --batch 32 --threads 2 --steps 20 --warmup 3 --json)"
classify="$("${sqnxt[@]}" bench --mode classify --batch 32 --threads 2 --steps 10 --warmup 2 "${reencode[@]}" --json "${photos[@]}")"
printf '{"infer": %s, "classify": %s}\n' "$infer" "$classify" >"$baseline"
/usr/bin/python3 - "$load" "$baseline" <<'PY'
import json, os, sys
load, base = (json.load(open(p)) for p in sys.argv[1:3])
raw, decoded = base["infer"]["images_per_second"], base["classify"]["images_per_second"]
cores = os.cpu_count()
print(f"raw batched inference {raw:.1f} img/s; in-process classification with decoding {decoded:.1f} img/s")
for level in load["levels"]:
    rps = level["requestsPerSecond"]
    print(f"concurrency {level['concurrency']:>3}: {rps:6.1f} req/s = {100 * rps / raw:5.1f} % of raw inference, "
          f"{100 * rps / decoded:5.1f} % of in-process classification; p50 {level['p50Milliseconds']} ms, p99 {level['p99Milliseconds']} ms, "
          f"mean batch {level['meanBatchSize']}")
    print(f"                 forward passes {100 * level['forwardBusy']:.0f} % of the time at {level['forwardImagesPerSecond']} img/s, "
          f"decode {level['meanDecodeMilliseconds']} ms, worker {level['workerCores']} cores, machine idle {100 * level['machineIdle']:.0f} %")
    # The broker and the callers share these cores with the worker; per core the worker used, it serves this much.
    alone = rps * cores / level["workerCores"] if level["workerCores"] else 0
    print(f"                 per worker core: {alone:.1f} req/s with all {cores} cores = {100 * alone / raw:.1f} % of raw inference")
PY
