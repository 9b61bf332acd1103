#!/usr/bin/env bash
# The classify load test at full size (a separate run, not part of scripts/test.sh's bounded version):
# REQUESTS requests (default 10,000) spread over concurrency 1, 4, 16, 32 and 64 against one worker on loopback,
# sending IMAGES: photos (the four test photos as they are, default) or imagenet (500×375 JPEGs made from them).
# Then, on the same machine and in the same run, the baselines with the worker's settings (2 libtorch threads,
# batch 32, the training heap): raw batched inference (`sqnxt bench --mode infer`) and in-process classification of
# the same images with decoding (`sqnxt bench --mode classify`). Writes artifacts/performance/classify-load-IMAGES[-ENGINE][-pinned].json
# (throughput, p50/p99 latency, batch sizes, errors, live tensors, resident memory) and classify-baseline-IMAGES[-ENGINE][-pinned].json,
# and prints the end-to-end throughput as a fraction of each baseline, and per core the worker used (what it would
# serve with the machine to itself, the broker and the callers elsewhere).
#
# SQNXT_LOAD_ENGINE=onnxruntime|torch serves with that engine (Worker:Classification:Engine; default: the shipped
# default), and the baselines run on it too. SQNXT_LOAD_PINNED=1 pins the worker to core 0 and everything else (the
# broker, PostgreSQL, the callers) to core 1 with taskset, and measures the baselines on core 0 with one thread at
# the worker's largest batch (16): end to end ÷ raw on the same core, without the broker's CPU in the ratio.
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
engine="${SQNXT_LOAD_ENGINE:-}"
engine_flag=(${engine:+--engine "$engine"})
run_name="$SQNXT_LOAD_IMAGES${engine:+-$engine}"
if [ "${SQNXT_LOAD_PINNED:-0}" = 1 ]; then
  [ "$(nproc --all)" -ge 2 ] || { echo "load-test: SQNXT_LOAD_PINNED needs 2 cores" >&2; exit 2; }
  export SQNXT_LOAD_WORKER_CPUS=0
  others=(taskset -c 1) worker_core=(taskset -c 0) baseline_threads=1 baseline_batch=16 run_name="$run_name-pinned"
else
  others=() worker_core=() baseline_threads=2 baseline_batch=32
fi
photos=(tests/Vision.Tests/Fixtures/{tabby_cat.jpg,coffee.png,rocket.jpg,chelsea.png})
sqnxt=(dotnet Cli/bin/Release/net10.0/sqnxt.dll)
raw_inference() {
  (set -a; . scripts/training-heap.env; set +a
   "${worker_core[@]}" "${sqnxt[@]}" bench --mode infer --batch "$baseline_batch" --threads "$baseline_threads" --steps 20 --warmup 3 "${engine_flag[@]}" --json)
}
# Raw inference before and after the load test: this machine's speed drifts over minutes, and the ratio is taken to both.
dotnet build Cli -c Release -nologo -v quiet >/dev/null
infer_before="$(raw_inference)"
# The services test.sh starts inherit its affinity; the worker the test starts is pinned by the test itself.
"${others[@]}" scripts/test.sh --filter "FullyQualifiedName~ClassifyLoadTests"
out=artifacts/performance
load="$out/classify-load-$run_name.json" baseline="$out/classify-baseline-$run_name.json"
cat "$load"; echo

infer="$(raw_inference)"
classify="$(set -a; . scripts/training-heap.env; set +a
  "${worker_core[@]}" "${sqnxt[@]}" bench --mode classify --batch "$baseline_batch" --threads "$baseline_threads" --steps 10 --warmup 2 "${engine_flag[@]}" "${reencode[@]}" --json "${photos[@]}")"
printf '{"infer_before": %s, "infer": %s, "classify": %s}\n' "$infer_before" "$infer" "$classify" >"$baseline"
/usr/bin/python3 - "$load" "$baseline" <<'PY'
import json, os, sys
load, base = (json.load(open(p)) for p in sys.argv[1:3])
before, after, decoded = base["infer_before"]["images_per_second"], base["infer"]["images_per_second"], base["classify"]["images_per_second"]
raw = (before + after) / 2
pinned = bool(os.environ.get("SQNXT_LOAD_WORKER_CPUS"))
cores = 1 if pinned else os.cpu_count()
print(f"engine {load['engine']}, worker on {'core 0 alone' if pinned else 'all cores'}")
print(f"raw batched inference {raw:.1f} img/s (mean of {before:.1f} before the load test and {after:.1f} after); in-process classification with decoding {decoded:.1f} img/s")
for level in load["levels"]:
    rps = level["requestsPerSecond"]
    print(f"concurrency {level['concurrency']:>3}: {rps:6.1f} req/s = {100 * rps / raw:5.1f} % of raw inference, "
          f"{100 * rps / decoded:5.1f} % of in-process classification; p50 {level['p50Milliseconds']} ms, p99 {level['p99Milliseconds']} ms, "
          f"mean batch {level['meanBatchSize']}")
    print(f"                 forward passes {100 * level['forwardBusy']:.0f} % of the time at {level['forwardImagesPerSecond']} img/s, "
          f"decode {level['meanDecodeMilliseconds']} ms, worker {level['workerCores']} cores, machine idle {100 * level['machineIdle']:.0f} %")
    if pinned: continue
    # The broker and the callers share these cores with the worker; per core the worker used, it serves this much.
    alone = rps * cores / level["workerCores"] if level["workerCores"] else 0
    print(f"                 per worker core: {alone:.1f} req/s with all {cores} cores = {100 * alone / raw:.1f} % of raw inference")
PY
