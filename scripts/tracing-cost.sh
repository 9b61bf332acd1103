#!/usr/bin/env bash
# What tracing costs classify throughput: the classify load test at saturation (concurrency 64, ImageNet-sized JPEGs,
# one worker as shipped) in ROUNDS rounds (default 4), each running the worker three ways one after the other:
#   off       OTEL_TRACES_SAMPLER=always_off: no spans at all
#   recorded  the shipped default: spans made (trace context, log correlation) but sent nowhere
#   exported  spans sent over OTLP/HTTP to a local sink that answers as a Collector does
# The modes take turns so that this machine's drift over minutes falls on all three alike; the medians are compared.
# Writes artifacts/performance/tracing-cost.json and prints the throughput of each mode relative to "off".
#
#   scripts/tracing-cost.sh [ROUNDS] [REQUESTS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
rounds="${1:-4}"
export SQNXT_LOAD_REQUESTS="${2:-2000}" SQNXT_LOAD_IMAGES=imagenet SQNXT_LOAD_CONCURRENCY=64
out=artifacts/performance
mkdir -p "$out"
results="$out/tracing-cost-runs.jsonl"
: >"$results"

# An OTLP/HTTP endpoint that takes every export and counts it (written here: no Collector can be installed on these machines).
sink_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sink_log="$out/tracing-cost-sink.log"
python3 - "$sink_port" >"$sink_log" 2>&1 <<'PY' &
import http.server, sys
class Sink(http.server.BaseHTTPRequestHandler):
    exports = 0
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        Sink.exports += 1
        print(f"{self.path} {len(body)} bytes (export {Sink.exports})", flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Sink).serve_forever()
PY
sink=$!
trap 'kill $sink 2>/dev/null' EXIT

run() { # mode, environment...
  local mode=$1; shift
  local exports_before; exports_before=$(wc -l <"$sink_log")
  env "$@" scripts/test.sh --filter "FullyQualifiedName~ClassifyLoadTests" >"$out/tracing-cost-$mode.log" 2>&1 || { echo "tracing-cost: the $mode run failed; see $out/tracing-cost-$mode.log" >&2; exit 1; }
  local exports=$(( $(wc -l <"$sink_log") - exports_before ))
  python3 - "$mode" "$exports" "$out/classify-load-imagenet.json" >>"$results" <<'PY'
import json, sys
mode, exports, report = sys.argv[1], int(sys.argv[2]), json.load(open(sys.argv[3]))
level = report["levels"][-1]
print(json.dumps({"mode": mode, "requestsPerSecond": level["requestsPerSecond"], "p50Milliseconds": level["p50Milliseconds"],
                  "p99Milliseconds": level["p99Milliseconds"], "meanBatchSize": level["meanBatchSize"], "errors": level["errors"], "otlpExports": exports}))
PY
  tail -1 "$results"
}

for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds"
  run off OTEL_TRACES_SAMPLER=always_off
  run recorded OTEL_TRACES_SAMPLER=
  run exported OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$sink_port" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
done

python3 - "$results" "$out/tracing-cost.json" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
summary = {}
for mode in ("off", "recorded", "exported"):
    rps = [r["requestsPerSecond"] for r in runs if r["mode"] == mode]
    summary[mode] = {"runs": rps, "median": statistics.median(rps), "mean": statistics.mean(rps),
                     "p99Milliseconds": statistics.median(r["p99Milliseconds"] for r in runs if r["mode"] == mode),
                     "otlpExports": sum(r["otlpExports"] for r in runs if r["mode"] == mode)}
# Per round, each mode against the "off" run beside it.
rounds = [runs[i:i + 3] for i in range(0, len(runs), 3)]
for mode in ("recorded", "exported"):
    ratios = [next(r for r in rnd if r["mode"] == mode)["requestsPerSecond"] / next(r for r in rnd if r["mode"] == "off")["requestsPerSecond"] for rnd in rounds]
    summary[mode]["pairedRatios"] = ratios
    summary[mode]["medianPairedRatio"] = statistics.median(ratios)
json.dump(summary, open(sys.argv[2], "w"), indent=2)
off = summary["off"]["median"]
for mode, s in summary.items():
    extra = f", paired ratios {', '.join(f'{r:.3f}' for r in s['pairedRatios'])} (median {s['medianPairedRatio']:.3f})" if "pairedRatios" in s else ""
    print(f"{mode:9} median {s['median']:6.1f} req/s = {100 * s['median'] / off:5.1f} % of off; p99 {s['p99Milliseconds']} ms; OTLP exports {s['otlpExports']}{extra}")
PY
