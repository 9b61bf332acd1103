#!/usr/bin/env bash
# A dataset upload and import measured end to end on this machine, in one run:
#   1. an archive of ImageNet-sized JPEGs (about 500×375, about 100 kB each, every one different) made from the four
#      test photos by seeded random crops, scales, flips, colour shifts and sensor-like noise, in 100 class folders,
#      zipped without compression; kept in artifacts/import-bench/ and reused when it is there;
#   2. the system as scripts/run-local.sh starts it (scripts/services.sh for PostgreSQL and RabbitMQ on ports of its
#      own, a published Release worker and dashboard sharing one data root, the worker with the training heap settings);
#   3. the archive uploaded to /api/v1/uploads with the tus protocol in 16 MiB PATCHes while the dashboard's resident
#      memory (VmRSS) is sampled every 0.5 s; then the stored .part file's SHA-256 against the archive's;
#   4. the import (POST /api/v1/datasets/bench/versions) until the version is ready, sampling the worker's and the
#      dashboard's memory, the worker's threads (per-thread CPU from /proc, and `top -H` every 5 s) and the staging
#      folder (to split the import into extraction, validation, moving and thumbnails);
#   5. `sqnxt bench --mode data` (decode + the training transform on 2 loader threads) on a sample of the imported
#      images, after the apps and services have stopped, to put the import's images/s next to the input pipeline's.
# Prints a markdown summary, writes artifacts/performance/import-bench.{json,md}, stops everything it started and
# deletes the run's data root (SQNXT_IMPORT_BENCH_KEEP=1 keeps it). The targets it reports against: the dashboard and
# the worker each under 500 MB resident, and the import validating at least 300 images per second per core.
#
#   scripts/import-bench.sh [GiB]        (default 2; a fraction such as 0.05 makes a quick trial)
#
# Settings (environment):
#   SQNXT_IMPORT_BENCH_CHUNK_MIB      tus PATCH size (16)
#   SQNXT_IMPORT_BENCH_SAMPLE         imported images handed to `sqnxt bench --mode data` (200; it re-encodes 4 crops of each)
#   SQNXT_IMPORT_BENCH_DATA_IMAGES    images each data-mode run times (4096)   SQNXT_IMPORT_BENCH_DATA_REPEATS  runs (3, median)
#   SQNXT_IMPORT_BENCH_PG_PORT, _RABBIT_PORT, _RABBIT_MANAGEMENT_PORT, _RABBIT_DIST_PORT, _DASHBOARD_PORT, _WORKER_PORT
#                                     (57432, 57672, 57673, 57674, 57080, 57081)
#   SQNXT_IMPORT_BENCH_KEEP=1         leave the data root (the imported version) in artifacts/import-bench/run/data
set -euo pipefail
script_started=$(date +%s)
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
gib="${1:-2}"
[[ "$gib" =~ ^[0-9]+(\.[0-9]+)?$ ]] && [ "$(awk -v g="$gib" 'BEGIN { print (g > 0 && g <= 64) }')" = 1 ] \
  || { echo "import-bench: the size must be a number of GiB above 0 and up to 64, not '$gib'" >&2; exit 2; }
bench="$root/artifacts/import-bench"
state="$bench/run"
data="$state/data"
logs="$state/logs"
archive="$bench/archive-${gib}GiB.zip"
archive_info="$bench/archive-${gib}GiB.json"
python=/usr/bin/python3   # Debian's, for python3-pil (a pyenv or venv python earlier on PATH does not see it)
chunk_mib="${SQNXT_IMPORT_BENCH_CHUNK_MIB:-16}"
sample="${SQNXT_IMPORT_BENCH_SAMPLE:-200}"
data_images="${SQNXT_IMPORT_BENCH_DATA_IMAGES:-4096}"
data_repeats="${SQNXT_IMPORT_BENCH_DATA_REPEATS:-3}"
dashboard_port="${SQNXT_IMPORT_BENCH_DASHBOARD_PORT:-57080}"
worker_port="${SQNXT_IMPORT_BENCH_WORKER_PORT:-57081}"
export SQNXT_SERVICES_DIR="$state/services"
export SQNXT_PG_PORT="${SQNXT_IMPORT_BENCH_PG_PORT:-57432}"
export SQNXT_RABBIT_PORT="${SQNXT_IMPORT_BENCH_RABBIT_PORT:-57672}"
export SQNXT_RABBIT_MANAGEMENT_PORT="${SQNXT_IMPORT_BENCH_RABBIT_MANAGEMENT_PORT:-57673}"
export SQNXT_RABBIT_DIST_PORT="${SQNXT_IMPORT_BENCH_RABBIT_DIST_PORT:-57674}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
out=artifacts/performance

say() { echo "import-bench: $*"; }
fail() { echo "import-bench: error: $*" >&2; exit 1; }

apt_install() { # packages...
  if [ "$(id -u)" = 0 ]; then apt_get=(apt-get); elif command -v sudo >/dev/null; then apt_get=(sudo apt-get); else fail "$* is needed: install it with apt"; fi
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -E '^(lock|partial|auxfiles)$')" ]; then "${apt_get[@]}" update -qq >/dev/null; fi
  DEBIAN_FRONTEND=noninteractive "${apt_get[@]}" install -y -qq --no-install-recommends "$@" >/dev/null
}
$python -c 'import PIL' 2>/dev/null || { say "installing python3-pil (makes the archive)"; apt_install python3-pil; }
# The import validates JPEGs with libjpeg-turbo, as shipped (run-local.sh installs it the same way).
ldconfig -p | grep -q 'libturbojpeg\.so\.0' || { say "installing libturbojpeg0"; apt_install libturbojpeg0; }
command -v top >/dev/null || apt_install procps

mkdir -p "$bench" "$out"

# ---- 1. The archive ---------------------------------------------------------------------------------------------
if [ -s "$archive" ] && [ -s "$archive_info" ]; then
  say "reusing $archive ($(du -h "$archive" | cut -f1))"
else
  say "making $archive: ImageNet-sized JPEGs from tests/Vision.Tests/Fixtures (seeded; a few minutes for 2 GiB)"
  rm -f "$archive" "$archive_info"
  $python - "$gib" "$archive" "$archive_info" <<'PY'
import hashlib, io, json, multiprocessing, os, random, sys, time, zipfile
from PIL import Image, ImageChops, ImageOps

gib, archive, info_path = float(sys.argv[1]), sys.argv[2], sys.argv[3]
target = int(gib * 2**30)
SEED, CLASSES, BATCH = 2026, 100, 512
fixtures = "tests/Vision.Tests/Fixtures"
SOURCES = [Image.open(os.path.join(fixtures, name)).convert("RGB") for name in ("tabby_cat.jpg", "rocket.jpg", "chelsea.png", "coffee.png")]
for s in SOURCES: s.load()

def make(i):
    """Image i: a random crop of a random photo at a random scale, resized to 500×375 (a fifth portrait 375×500),
    flipped half the time, each channel's gain and offset shifted a little, luminance noise of ±8 to 14 levels (what
    a camera sensor adds, and what brings the files to ImageNet's size), JPEG quality 93 to 96. Seeded per index."""
    r = random.Random(SEED * 1_000_003 + i)
    src = SOURCES[r.randrange(len(SOURCES))]
    w, h = (375, 500) if r.random() < 0.2 else (500, 375)
    W, H = src.size
    largest = min(W, H * w / h)
    cw = max(32, int(largest * r.uniform(0.35, 1.0)))
    ch = int(cw * h / w)
    x, y = r.randint(0, W - cw), r.randint(0, H - ch)
    image = src.crop((x, y, x + cw, y + ch)).resize((w, h), Image.BICUBIC)
    if r.random() < 0.5:
        image = ImageOps.mirror(image)
    lut = []
    for _ in range(3):
        gain, offset = r.uniform(0.9, 1.1), r.uniform(-12, 12)
        lut += [max(0, min(255, int(v * gain + offset))) for v in range(256)]
    image = image.point(lut)
    k = r.randint(8, 14)
    noise = Image.frombytes("L", (w, h), r.randbytes(w * h)).point([v * 2 * k // 256 for v in range(256)]).convert("RGB")
    image = ImageChops.add(image, noise, 1.0, -k)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=r.choice((93, 94, 95, 96)))
    return i, (w, h), buffer.getvalue()

started = time.time()
tmp = archive + ".tmp"
digests, images, image_bytes, shapes, duplicates = set(), 0, 0, {}, 0
with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as zf, multiprocessing.Pool(os.cpu_count()) as pool:
    start = 0
    while zf.fp.tell() < target:
        for i, shape, jpeg in pool.imap(make, range(start, start + BATCH), chunksize=8):
            if zf.fp.tell() >= target:
                break
            digest = hashlib.sha256(jpeg).digest()
            if digest in digests:   # never seen, but the import would drop it: keep every image different
                duplicates += 1
                continue
            digests.add(digest)
            zf.writestr(zipfile.ZipInfo(f"class_{i % CLASSES:03d}/img_{i:06d}.jpg", date_time=(2026, 1, 1, 0, 0, 0)), jpeg)
            images += 1
            image_bytes += len(jpeg)
            shapes[f"{shape[0]}x{shape[1]}"] = shapes.get(f"{shape[0]}x{shape[1]}", 0) + 1
        start += BATCH
        print(f"  {images:,} images, {zf.fp.tell() / 2**30:.2f} GiB", end="\r", flush=True, file=sys.stderr)
print(file=sys.stderr)
sha = hashlib.sha256()
with open(tmp, "rb") as f:
    while chunk := f.read(1 << 24):
        sha.update(chunk)
os.replace(tmp, archive)
info = {"archive": os.path.basename(archive), "bytes": os.path.getsize(archive), "sha256": sha.hexdigest(), "images": images,
        "classes": min(CLASSES, images), "image_bytes": image_bytes, "mean_image_bytes": image_bytes / max(1, images), "shapes": shapes,
        "duplicates_dropped": duplicates, "seed": SEED, "format": "zip, stored (no compression)", "seconds": round(time.time() - started, 1)}
json.dump(info, open(info_path, "w"), indent=2)
print(f"  {images:,} JPEGs, mean {info['mean_image_bytes'] / 1000:.1f} kB, {info['bytes']:,} bytes, made in {info['seconds']} s", file=sys.stderr)
PY
fi

# ---- 2. The system ----------------------------------------------------------------------------------------------
# A fresh state each run: an earlier run's services stopped (if a crashed run left them) and its data deleted.
scripts/services.sh stop >/dev/null 2>&1 || true
rm -rf "$state"
mkdir -p "$data" "$logs" "$state/worker-artifacts" "$state/message-data"

say "building (dotnet publish WorkerHost and Dashboard, dotnet build Cli; Release)"
for app in WorkerHost Dashboard; do
  dotnet publish "$app/$app.csproj" -c Release -nologo -v quiet -o "$bench/app/$app" >"$logs/publish-$app.log" 2>&1 \
    || { tail -30 "$logs/publish-$app.log"; fail "dotnet publish $app failed (log: $logs/publish-$app.log)"; }
done
dotnet build Cli -c Release -nologo -v quiet >"$logs/build-Cli.log" 2>&1 || { tail -30 "$logs/build-Cli.log"; fail "dotnet build Cli failed"; }
sqnxt=(dotnet "$root/Cli/bin/Release/net10.0/sqnxt.dll")

worker_pid="" dashboard_pid="" stopped=0
stop_apps() {
  for pid in $dashboard_pid $worker_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $dashboard_pid $worker_pid; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  dashboard_pid="" worker_pid=""
}
stop_all() {
  [ "$stopped" = 1 ] && return
  stopped=1
  stop_apps
  scripts/services.sh stop >/dev/null 2>&1 || true
  if [ "${SQNXT_IMPORT_BENCH_KEEP:-0}" != 1 ]; then rm -rf "$data"; fi
}
trap 'stop_all' EXIT
trap 'exit 130' INT TERM

scripts/services.sh start | sed 's/^/import-bench: /'
eval "$(scripts/services.sh env)"
export MessageData__Directory="$state/message-data"

http_ok() { # port path: succeeds on HTTP 200 (bash alone, as run-local.sh)
  ( exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    read -r -t 10 _ status _ <&3 && [ "$status" = 200 ] ) 2>/dev/null
}
wait_ready() { # name port pid log
  for _ in $(seq 1 240); do
    http_ok "$2" /health/ready && return 0
    kill -0 "$3" 2>/dev/null || { tail -30 "$4"; fail "$1 exited during start (log: $4)"; }
    sleep 0.5
  done
  tail -30 "$4"; fail "$1 was not ready after 2 minutes (log: $4)"
}

# As run-local.sh: each app from its publish folder; the worker (which migrates the database) first, with the
# training heap settings it ships with; Datasets:DataRoot of the dashboard = Worker:DataRoot of the worker.
(
  set -a; . "$root/scripts/training-heap.env"; set +a
  cd "$bench/app/WorkerHost"
  Urls="http://127.0.0.1:$worker_port" Worker__DataRoot="$data" Worker__ArtifactRoot="$state/worker-artifacts" \
    exec dotnet SqueezeNext.WorkerHost.dll
) >>"$logs/worker.log" 2>&1 &
worker_pid=$!
wait_ready worker "$worker_port" "$worker_pid" "$logs/worker.log"
admin_password="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
(
  cd "$bench/app/Dashboard"
  Urls="http://127.0.0.1:$dashboard_port" Datasets__DataRoot="$data" DataProtection__KeysDirectory="$state/dashboard-keys" \
    DASHBOARD_ADMIN_PASSWORD="$admin_password" exec dotnet SqueezeNext.Dashboard.dll
) >>"$logs/dashboard.log" 2>&1 &
dashboard_pid=$!
wait_ready dashboard "$dashboard_port" "$dashboard_pid" "$logs/dashboard.log"
say "worker (pid $worker_pid) and dashboard (pid $dashboard_pid) ready; data root $data"

# An API token for admin, made as the dashboard's token page makes one (ApiTokens.CreateAsync): a random secret with
# the sqnxt_ prefix, stored as its SHA-256 (the API tests make theirs with that class on the database too).
pg_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
token="sqnxt_$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
token_hash="$(printf %s "$token" | sha256sum | cut -d' ' -f1)"
"$pg_bin/psql" -q -h 127.0.0.1 -p "$SQNXT_PG_PORT" -U postgres -d "${SQNXT_DB_NAME:-sqnxt}" -v ON_ERROR_STOP=1 -c \
  "insert into api_tokens (id, account_name, name, prefix, secret_hash, created_at, expires_at)
   values (gen_random_uuid(), 'admin', 'import-bench', '${token:0:12}', '$token_hash', now(), now() + interval '1 day')" \
  || fail "could not make an API token"

# ---- 3 and 4. Upload and import ---------------------------------------------------------------------------------
measured="$state/upload-import.json"
$python - "http://127.0.0.1:$dashboard_port" "$token" "$archive" "$archive_info" "$data" "$dashboard_pid" "$worker_pid" \
  "$chunk_mib" "$measured" "$logs/worker-top.log" <<'PY' || fail "the upload or the import failed (logs: $logs)"
import base64, glob, hashlib, http.client, json, os, re, subprocess, sys, threading, time, urllib.parse
from datetime import datetime

url, token, archive, info_path, data_root = sys.argv[1:6]
dashboard_pid, worker_pid, chunk_mib, result_path, top_log = int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]), sys.argv[9], sys.argv[10]
info = json.load(open(info_path))
host = urllib.parse.urlparse(url)
conn = http.client.HTTPConnection(host.hostname, host.port, timeout=600)
auth = {"Authorization": f"Bearer {token}"}
procs = {"dashboard": dashboard_pid, "worker": worker_pid}
MiB = 2**20

def say(message): print(f"import-bench: {message}", flush=True)

def request(method, path, body=None, headers=None):
    conn.request(method, path, body=body, headers={**auth, **(headers or {})})
    response = conn.getresponse()
    return response, response.read()

def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0

def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def machine_cpu():   # (busy, total) jiffies of all cores
    values = [int(v) for v in open("/proc/stat").readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)

def io_bytes(pid):
    result = {}
    for line in open(f"/proc/{pid}/io"):
        key, value = line.split(":")
        result[key] = int(value)
    return {"read_bytes": result["read_bytes"], "write_bytes": result["write_bytes"]}

def threads(pid):   # thread name -> [threads, CPU seconds]
    by_tid = {}
    for stat in glob.glob(f"/proc/{pid}/task/*/stat"):
        try:
            text = open(stat).read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        by_tid[stat.split("/")[4]] = (name, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    return by_tid

class Sampler(threading.Thread):
    """VmRSS of both apps every 0.5 s, the peak of each per phase; during the import also the staging folder's stage."""
    def __init__(self):
        super().__init__(daemon=True)
        self.phase, self.peaks, self.samples, self.stop = "idle", {}, [], threading.Event()
        self.watch_run, self.stages, self.last_threads = None, {}, {}
    def run(self):
        next_rss = 0.0
        while not self.stop.is_set():
            now = time.monotonic()
            if now >= next_rss:
                next_rss = now + 0.5
                row = {"t": round(time.time(), 2), "phase": self.phase}
                for name, pid in procs.items():
                    kb = status_kb(pid, "VmRSS")
                    row[name] = kb
                    key = (name, self.phase)
                    self.peaks[key] = max(self.peaks.get(key, 0), kb)
                self.samples.append(row)
                if self.watch_run:
                    # The last CPU time seen of every worker thread, so that threads that end (the import's own) still count.
                    self.last_threads.update(threads(worker_pid))
            if self.watch_run:
                self.watch_stage()
            time.sleep(0.1)
    def watch_stage(self):
        # DatasetImportJob stages into .staging/<run>-a<attempt>/: extract/ while extracting, then dataset/ (validation),
        # then dataset/train|val (validated images moved in), then dataset/.thumbnails, then the folder is renamed away.
        found = glob.glob(os.path.join(data_root, ".staging", self.watch_run + "-a*"))
        if not found:
            if "extract" in self.stages:
                self.stages.setdefault("renamed", time.time())
            return
        staging = found[0]
        self.stages.setdefault("staging", time.time())
        for stage, path in (("extract", "extract"), ("validate", "dataset"), ("move", "dataset/train"), ("move", "dataset/val"),
                            ("thumbnails", "dataset/.thumbnails"), ("manifest", "dataset/manifest.tsv")):
            if stage not in self.stages and os.path.exists(os.path.join(staging, path)):
                self.stages[stage] = time.time()

def parse_time(text):
    if text is None:
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    return datetime.fromisoformat(text).timestamp()

sampler = Sampler()
sampler.start()
# This machine is shared: how busy it was just before (anything else running counts against the figures below).
machine0 = machine_cpu()
time.sleep(5)
machine1 = machine_cpu()
result = {"archive": info, "chunk_mib": chunk_mib, "cores": os.cpu_count(),
          "machine_busy_before": round((machine1[0] - machine0[0]) / max(1, machine1[1] - machine0[1]), 3),
          "idle_rss_kb": {name: status_kb(pid, "VmRSS") for name, pid in procs.items()}}
if result["machine_busy_before"] > 0.1:
    say(f"warning: the machine was {result['machine_busy_before']:.0%} busy before the upload, with the apps idle: something else is running")

# ---- upload (tus 1.0: creation, then PATCHes at the offset) ----
size = os.path.getsize(archive)
say(f"uploading {size / 2**30:.2f} GiB in {chunk_mib} MiB PATCHes")
sampler.phase = "upload"
dashboard_cpu0, dashboard_io0, machine0 = cpu_seconds(dashboard_pid), io_bytes(dashboard_pid), machine_cpu()
started = time.time()
metadata = "filename " + base64.b64encode(os.path.basename(archive).encode()).decode() + ",filetype " + base64.b64encode(b"application/zip").decode()
response, body = request("POST", "/api/v1/uploads", headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(size), "Upload-Metadata": metadata})
if response.status != 201:
    sys.exit(f"POST /api/v1/uploads answered {response.status}: {body[:500]!r}")
location = urllib.parse.urlparse(response.getheader("Location")).path
upload_id = location.rstrip("/").rsplit("/", 1)[1]
offset, patches = 0, 0
with open(archive, "rb") as f:
    while offset < size:
        chunk = f.read(chunk_mib * MiB)
        response, body = request("PATCH", location, body=chunk, headers={
            "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"})
        if response.status != 204:
            sys.exit(f"PATCH at {offset} answered {response.status}: {body[:500]!r}")
        new_offset = int(response.getheader("Upload-Offset"))
        if new_offset != offset + len(chunk):
            sys.exit(f"PATCH at {offset} of {len(chunk)} bytes: the server has {new_offset}")
        offset, patches = new_offset, patches + 1
        if patches % 16 == 0:
            print(f"  {offset / size:6.1%}  {offset / MiB / (time.time() - started):6.1f} MiB/s", end="\r", flush=True)
upload_seconds = time.time() - started
print()
machine1 = machine_cpu()
sampler.phase = "after-upload"
response, _ = request("HEAD", location, headers={"Tus-Resumable": "1.0.0"})
assert response.status == 200 and int(response.getheader("Upload-Offset")) == size, f"HEAD: {response.status} {response.getheader('Upload-Offset')}"
result["upload"] = {
    "id": upload_id, "bytes": size, "patches": patches, "seconds": round(upload_seconds, 2),
    "mb_per_second": round(size / 1e6 / upload_seconds, 1), "mib_per_second": round(size / MiB / upload_seconds, 1),
    "dashboard_peak_rss_kb": sampler.peaks.get(("dashboard", "upload"), 0), "dashboard_hwm_kb": status_kb(dashboard_pid, "VmHWM"),
    "worker_peak_rss_kb": sampler.peaks.get(("worker", "upload"), 0),
    "dashboard_cpu_seconds": round(cpu_seconds(dashboard_pid) - dashboard_cpu0, 1),
    "dashboard_write_bytes": io_bytes(dashboard_pid)["write_bytes"] - dashboard_io0["write_bytes"],
    "machine_busy": round((machine1[0] - machine0[0]) / max(1, machine1[1] - machine0[1]), 3),
}
say(f"uploaded in {upload_seconds:.1f} s ({result['upload']['mb_per_second']} MB/s); dashboard peak {result['upload']['dashboard_peak_rss_kb'] / 1024:.0f} MiB resident")

# ---- the stored bytes against the archive's ----
part = os.path.join(data_root, ".uploads", upload_id + ".part")
sha, hashed = hashlib.sha256(), time.time()
with open(part, "rb") as f:
    while chunk := f.read(1 << 24):
        sha.update(chunk)
result["upload"]["part_sha256"] = sha.hexdigest()
result["upload"]["sha256_equal"] = sha.hexdigest() == info["sha256"]
say(f"stored .part SHA-256 {'equals' if result['upload']['sha256_equal'] else 'DIFFERS FROM'} the archive's ({time.time() - hashed:.1f} s to hash)")
if not result["upload"]["sha256_equal"]:
    json.dump(result, open(result_path, "w"), indent=2)
    sys.exit("the stored upload is not the archive")
time.sleep(2)

# ---- import ----
sampler.phase = "import"
worker_cpu0, worker_io0, threads0, machine0 = cpu_seconds(worker_pid), io_bytes(worker_pid), threads(worker_pid), machine_cpu()
dashboard_cpu0 = cpu_seconds(dashboard_pid)
top = subprocess.Popen(["top", "-H", "-b", "-d", "5", "-w", "200", "-p", str(worker_pid)], stdout=open(top_log, "w"), stderr=subprocess.DEVNULL)
started = time.time()
response, body = request("POST", "/api/v1/datasets/bench/versions", body=json.dumps({"upload": upload_id}), headers={"Content-Type": "application/json"})
if response.status != 202:
    sys.exit(f"POST /api/v1/datasets/bench/versions answered {response.status}: {body[:1000]!r}")
accepted = json.loads(body)
run_id, version = accepted["runId"], accepted["version"]
sampler.last_threads = dict(threads0)
sampler.watch_run = run_id.replace("-", "")
say(f"importing as version {version} (run {run_id})")
while True:
    response, body = request("GET", f"/api/v1/datasets/bench/versions/{version}")
    details = json.loads(body) if response.status == 200 else {}
    if details.get("status") in ("ready", "failed"):
        break
    if time.time() - started > 3 * 3600:
        sys.exit("the import did not finish in 3 hours")
    time.sleep(0.5)
wall = time.time() - started
machine1 = machine_cpu()
top.terminate()
worker_cpu = cpu_seconds(worker_pid) - worker_cpu0
threads_now = threads(worker_pid)
sampler.watch_run = None
sampler.phase = "after-import"
time.sleep(1)   # the sampler's last pass over the threads is over
threads1 = {**sampler.last_threads, **threads_now}
response, body = request("GET", f"/api/v1/runs/{run_id}")
run = json.loads(body)["run"]
if details["status"] != "ready":
    result["import"] = {"status": details["status"], "error": details.get("error"), "run": run}
    json.dump(result, open(result_path, "w"), indent=2)
    sys.exit(f"the import failed: {details.get('error')}")
run_seconds = parse_time(run["finishedAt"]) - parse_time(run["startedAt"])
images = details["trainImages"] + details["validationImages"]
# Per-thread CPU of the import, by thread name.
by_name = {}
for tid, (name, seconds) in threads1.items():
    delta = seconds - threads0.get(tid, (name, 0.0))[1]
    entry = by_name.setdefault(name, [0, 0.0])
    entry[0] += 1
    entry[1] += delta
busiest = sorted(({"thread": n, "threads": c, "cpu_seconds": round(s, 1)} for n, (c, s) in by_name.items() if s >= 0.05), key=lambda t: -t["cpu_seconds"])
stages = sampler.stages
order = [s for s in ("extract", "validate", "move", "thumbnails", "manifest", "renamed") if s in stages]
phases = {}
for a, b in zip(order, order[1:]):
    phases[f"{a}"] = round(stages[b] - stages[a], 1)
if "extract" in stages:
    phases["queued_and_started"] = round(stages.get("staging", stages["extract"]) - started, 1)
if "renamed" in stages:
    phases["after_rename"] = round(started + wall - stages["renamed"], 1)
report = details.get("report") or {}
result["import"] = {
    "run_id": run_id, "version": version, "status": details["status"], "train_images": details["trainImages"],
    "validation_images": details["validationImages"], "images": images, "classes": len(details.get("classes") or []),
    "size_bytes": details.get("sizeBytes"), "report": report,
    "wall_seconds": round(wall, 1), "run_seconds": round(run_seconds, 1),
    "images_per_second": round(images / run_seconds, 1), "images_per_second_per_core": round(images / run_seconds / os.cpu_count(), 1),
    "worker_cpu_seconds": round(worker_cpu, 1), "images_per_cpu_second": round(images / max(worker_cpu, 1e-9), 1),
    "worker_cores_used": round(worker_cpu / run_seconds, 2),
    "dashboard_cpu_seconds": round(cpu_seconds(dashboard_pid) - dashboard_cpu0, 1),
    "machine_busy": round((machine1[0] - machine0[0]) / max(1, machine1[1] - machine0[1]), 3),
    # Cores busy with anything but the worker and the dashboard: PostgreSQL, RabbitMQ, this client, and whatever else runs.
    "other_cores": round((machine1[0] - machine0[0]) / os.sysconf("SC_CLK_TCK") / wall - (worker_cpu + cpu_seconds(dashboard_pid) - dashboard_cpu0) / wall, 2),
    "worker_io": {k: io_bytes(worker_pid)[k] - worker_io0[k] for k in worker_io0},
    "worker_peak_rss_kb": sampler.peaks.get(("worker", "import"), 0), "worker_hwm_kb": status_kb(worker_pid, "VmHWM"),
    "dashboard_peak_rss_kb": sampler.peaks.get(("dashboard", "import"), 0), "dashboard_hwm_kb": status_kb(dashboard_pid, "VmHWM"),
    "stages_seconds": phases, "worker_threads": busiest[:10],
}
if "validate" in phases:
    result["import"]["validation_images_per_second"] = round(images / phases["validate"], 1)
result["rss_after_kb"] = {name: status_kb(pid, "VmRSS") for name, pid in procs.items()}
result["rss_samples"] = sampler.samples
sampler.stop.set()
json.dump(result, open(result_path, "w"), indent=2)
i = result["import"]
if i["other_cores"] > 0.3:
    say(f"warning: other processes kept {i['other_cores']} cores busy during the import: its figures are not the worker's alone")
say(f"imported {images:,} images in {run_seconds:.1f} s (run) / {wall:.1f} s (wall): {i['images_per_second']} img/s, "
    f"{i['images_per_second_per_core']} per core; worker peak {i['worker_peak_rss_kb'] / 1024:.0f} MiB resident; stages {phases}")
PY

# ---- 5. The input pipeline on the same images ------------------------------------------------------------------
version_dir="$(ls -d "$data/.datasets/bench"/*/ | head -1)"
say "stopping the apps and services; then sqnxt bench --mode data on $sample images of $version_dir"
stop_apps
scripts/services.sh stop | sed 's/^/import-bench: /'
mapfile -t photos < <($python - "$version_dir" "$sample" <<'PY'
import os, sys
folder, n = sys.argv[1], int(sys.argv[2])
files = sorted(os.path.join(d, f) for d, _, fs in os.walk(folder) if "/.thumbnails" not in d for f in fs if f.endswith(".jpg"))
step = max(1, len(files) // n)
print("\n".join(files[::step][:n]))
PY
)
data_runs="$state/bench-data.jsonl"
: >"$data_runs"
busy_jiffies() { awk '/^cpu /{idle = $5 + $6; total = 0; for (i = 2; i <= NF; i++) total += $i; print total - idle, total}' /proc/stat; }
for i in $(seq 1 "$data_repeats"); do
  read -r busy0 total0 < <(busy_jiffies)
  (set -a; . scripts/training-heap.env; set +a
   "${sqnxt[@]}" bench --mode data --threads "$(nproc)" --batch 32 --images "$data_images" --jpeg-size 500x375 --json "${photos[@]}") \
    >"$state/bench-data.out" 2>"$logs/bench-data.err" || { cat "$logs/bench-data.err"; fail "sqnxt bench --mode data failed"; }
  read -r busy1 total1 < <(busy_jiffies)
  # With the machine's busy share while it ran (2 threads on 2 cores: about 100 % when nothing else runs).
  $python -c 'import json, sys; r = json.load(open(sys.argv[1])); r["machine_busy"] = round(int(sys.argv[2]) / max(1, int(sys.argv[3])), 3); print(json.dumps(r))' \
    "$state/bench-data.out" "$((busy1 - busy0))" "$((total1 - total0))" >>"$data_runs"
  say "sqnxt bench --mode data run $i: $(tail -1 "$data_runs")"
done
stop_all

# ---- Summary ---------------------------------------------------------------------------------------------------
$python - "$measured" "$data_runs" "$out/import-bench.json" "$out/import-bench.md" "$(( $(date +%s) - script_started ))" "$gib" <<'PY'
import json, statistics, subprocess, sys
measured, runs_path, json_out, md_out, script_seconds, gib = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
r = json.load(open(measured))
runs = [json.loads(line) for line in open(runs_path) if line.strip()]
data_rate = statistics.median(run["images_per_second"] for run in runs)
cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines() if l.startswith("Model name")), "?")
a, u, i = r["archive"], r["upload"], r["import"]
cores = r["cores"]
mib = lambda kb: kb / 1024
under_target = lambda kb: kb * 1024 < 500e6   # the claim: under 500 MB resident
r["bench_data"] = {"runs": runs, "median_images_per_second": data_rate, "per_thread": data_rate / runs[0]["threads"]}
r["ratio_import_to_data"] = i["images_per_second"] / data_rate
r["script_seconds"] = script_seconds
r["cpu"] = cpu
r.pop("rss_samples", None)
json.dump(r, open(json_out, "w"), indent=2)
ok = lambda good: "yes" if good else "**no**"
skipped = i["report"].get("skippedByReason") or {}
stages = i["stages_seconds"]
rows = [
    ("archive", f"{a['images']:,} JPEGs in {a['classes']} class folders, mean {a['mean_image_bytes'] / 1000:.1f} kB, {a['bytes'] / 2**30:.2f} GiB zip (stored)", ""),
    ("upload (tus, %d MiB PATCHes)" % r["chunk_mib"], f"{u['seconds']:.1f} s, {u['mb_per_second']} MB/s ({u['mib_per_second']} MiB/s); stored SHA-256 {'equal' if u['sha256_equal'] else 'DIFFERENT'}", ""),
    ("dashboard resident, upload", f"peak {mib(u['dashboard_peak_rss_kb']):.0f} MiB (idle before: {mib(r['idle_rss_kb']['dashboard']):.0f}; VmHWM {mib(u['dashboard_hwm_kb']):.0f})", ok(under_target(max(u['dashboard_peak_rss_kb'], u['dashboard_hwm_kb'])))),
    ("import wall (POST to ready)", f"{i['wall_seconds']:.1f} s", ""),
    ("import run (startedAt to finishedAt)", f"{i['run_seconds']:.1f} s for {i['images']:,} images ({i['train_images']:,} train + {i['validation_images']:,} val, {i['classes']} classes); skipped {sum(skipped.values())}", ""),
    ("import stages", ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()), ""),
    ("images validated per second", f"{i['images_per_second']:.1f} (validation stage alone: {i.get('validation_images_per_second', float('nan')):.1f})", ""),
    ("per core (÷ %d)" % cores, f"{i['images_per_second_per_core']:.1f}; per CPU-second the worker used: {i['images_per_cpu_second']:.1f} ({i['worker_cores_used']} cores busy)", ok(i['images_per_second_per_core'] >= 300)),
    ("worker resident, import", f"peak {mib(i['worker_peak_rss_kb']):.0f} MiB (idle before: {mib(r['idle_rss_kb']['worker']):.0f}; VmHWM {mib(i['worker_hwm_kb']):.0f})", ok(under_target(max(i['worker_peak_rss_kb'], i['worker_hwm_kb'])))),
    ("dashboard resident, import", f"peak {mib(i['dashboard_peak_rss_kb']):.0f} MiB (VmHWM {mib(i['dashboard_hwm_kb']):.0f})", ok(under_target(max(i['dashboard_peak_rss_kb'], i['dashboard_hwm_kb'])))),
    ("`sqnxt bench --mode data`, %d threads" % runs[0]["threads"], f"{data_rate:.1f} img/s (median of {', '.join('%.1f' % x['images_per_second'] for x in runs)}), {data_rate / runs[0]['threads']:.1f} per thread", ""),
    ("import ÷ data pipeline", f"{r['ratio_import_to_data']:.2f}", ""),
]
lines = [f"Dataset upload and import, {gib} GiB, {cpu}, {cores} cores; script {script_seconds // 60} min {script_seconds % 60} s", "",
         "| measured | figure | within target |", "|---|---|---|"]
lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
lines += ["", "Worker threads during the import (CPU seconds): " + ", ".join(f"{t['thread']} ×{t['threads']} {t['cpu_seconds']}" for t in i["worker_threads"][:6]),
          f"Worker I/O during the import: read {i['worker_io']['read_bytes'] / 2**30:.2f} GiB, wrote {i['worker_io']['write_bytes'] / 2**30:.2f} GiB from/to disk. "
          f"Machine busy (all cores): {100 * r['machine_busy_before']:.0f} % in the 5 s before the upload, {100 * u['machine_busy']:.0f} % during it, {100 * i['machine_busy']:.0f} % during the import "
          f"(the worker {i['worker_cores_used']} cores, everything else but the dashboard {i['other_cores']}), "
          + ", ".join("%.0f %%" % (100 * x.get("machine_busy", 0)) for x in runs) + " during the data-mode runs"]
text = "\n".join(lines)
open(md_out, "w").write(text + "\n")
print("\n" + text)
PY
say "results in $out/import-bench.json and $out/import-bench.md (logs: $logs)"
