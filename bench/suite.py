#!/usr/bin/python3
"""The benchmark suite: this engine (`sqnxt bench`) and PyTorch (bench/pytorch_squeezenext.py) side by side.

Every cell runs ours and then PyTorch's, one after the other in separate processes with the same allocator
environment, several times interleaved; the median of each counts, so both see the same drifting machine state. Writes artifacts/performance/bench.json and bench.md (the tables
docs/performance.md quotes). Run it through scripts/bench.sh, which builds the CLI and installs the peer.
"""
import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PEER = [sys.executable, str(ROOT / "bench" / "pytorch_squeezenext.py")]
PHOTOS = sorted(str(p) for p in (ROOT.parent / "shared" / "data" / "images").glob("*") if p.suffix in (".jpg", ".png"))


HEAP = dict(line.split("=", 1) for line in (ROOT / "scripts" / "training-heap.env").read_text().splitlines()
            if line.strip() and not line.startswith("#"))


def environment(heap):
    """The process environment for a heap variant: glibc's defaults, or the worker's training settings."""
    env = {k: v for k, v in os.environ.items() if k not in HEAP}
    if heap == "training-heap":
        env.update(HEAP)
    elif heap != "default-heap":
        raise SystemExit(f"unknown heap variant '{heap}' (training-heap or default-heap)")
    return env


def run_json(command, env=None):
    completed = subprocess.run(command, capture_output=True, text=True, env=env)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(completed.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqnxt", required=True, help="how to run the CLI, e.g. 'dotnet Cli/bin/Release/net10.0/sqnxt.dll'")
    parser.add_argument("--configs", default="v_1_0_SqNxt_23,v_1_0_SqNxt_23_v5,v_2_0_SqNxt_23")
    parser.add_argument("--batches", default="1,8,32,64")
    parser.add_argument("--threads", default=f"1,{os.cpu_count()}")
    parser.add_argument("--modes", default="train,infer")
    parser.add_argument("--ours", default="channels-last/training-heap,onnxruntime/training-heap",
                        help="layout/heap[/unfolded] variants of this engine: layout channels-last or nchw (TorchSharp) or onnxruntime "
                             "(the ONNX Runtime engine, infer mode only), heap training-heap (scripts/training-heap.env, as the worker is "
                             "shipped) or default-heap (glibc's defaults), unfolded: TorchSharp inference with BatchNorm as its own pass "
                             "(infer mode only); the first is ours")
    parser.add_argument("--peers", default="contiguous/default-heap,channels_last/default-heap,channels_last/training-heap,channels_last/training-heap/fused",
                        help="PyTorch variants: as people run it, with its documented channels_last speed-up, with our heap settings, "
                             "and (infer mode) with BatchNorm fused into the convolutions as ours is")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each process per cell, interleaved ours/peer; the median counts (shared machines drift)")
    parser.add_argument("--images", type=int, default=0,
                        help="images per timed run (default 64 training, 128 inference); more evens out the machine's noise")
    parser.add_argument("--out", default=str(ROOT / "artifacts" / "performance"))
    args = parser.parse_args()
    ours = args.sqnxt.split()
    threads = [int(t) for t in args.threads.split(",")]
    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "allocator": os.environ.get("LD_PRELOAD") or "glibc",
        "training_heap": HEAP,
        "matmul": [], "models": [], "data": [], "classify": [],
    }

    for t in threads:
        mine = run_json(ours + ["bench", "--mode", "matmul", "--threads", str(t), "--json"], environment("training-heap"))
        peer = run_json(PEER + ["--mode", "matmul", "--threads", str(t)])
        report["matmul"].append({"threads": t, "torchsharp": mine["gflops_per_second"], "pytorch": peer["gflops_per_second"]})
        print(f"matmul {t} threads: {mine['gflops_per_second']:.1f} vs {peer['gflops_per_second']:.1f} GFLOP/s", flush=True)
    peak = {m["threads"]: m["torchsharp"] for m in report["matmul"]}

    for config in args.configs.split(","):
        macs = run_json(ours + ["summary", "--config", config, "--json"])["macs"]
        for mode in args.modes.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                for t in threads:
                    steps = max(3, (args.images or (64 if mode == "train" else 128)) // batch)
                    common = ["--config", config, "--mode", mode, "--batch", str(batch), "--threads", str(t), "--steps", str(steps), "--warmup", "2"]
                    flops_per_image = 2 * macs * (3 if mode == "train" else 1)
                    row = {"config": config, "mode": mode, "batch": batch, "threads": t, "steps": steps}
                    runs = {}
                    for _ in range(args.repeats):
                        for variant in args.ours.split(","):
                            layout, heap, *batchnorm = variant.split("/")
                            onnx = layout == "onnxruntime"
                            if (batchnorm or onnx) and mode != "infer": continue
                            flags = ["--engine", "onnxruntime"] if onnx else ["--engine", "torch", "--layout", layout]
                            flags += ["--unfolded"] if batchnorm == ["unfolded"] else []
                            runs.setdefault(("" if onnx else "torchsharp_") + variant.replace("/", "_"), []).append(
                                run_json(ours + ["bench", "--json"] + flags + common, environment(heap)))
                        for variant in args.peers.split(","):
                            layout, heap, *batchnorm = variant.split("/")
                            if batchnorm and mode != "infer": continue
                            flags = ["--fuse-batchnorm"] if batchnorm == ["fused"] else []
                            runs.setdefault("pytorch_" + variant.replace("/", "_"), []).append(
                                run_json(PEER + common + ["--memory-format", layout] + flags, environment(heap)))
                    for name, results in runs.items():
                        row[name] = statistics.median(r["images_per_second"] for r in results)
                        row[f"{name}_peak_mb"] = max(r["peak_working_set_mb"] for r in results)
                        row[f"{name}_runs"] = [round(r["images_per_second"], 1) for r in results]
                    ours_best = row["torchsharp_" + args.ours.split(",")[0].replace("/", "_")]
                    onnx = next((k for k in runs if k.startswith("onnxruntime_")), None)
                    if onnx: row["ratio_onnxruntime_to_torchsharp"] = row[onnx] / ours_best
                    peers = {k: v for k, v in row.items() if k.startswith("pytorch_") and not k.endswith(("_peak_mb", "_runs"))}
                    row["ratio_to_best_pytorch"] = ours_best / max(peers.values())
                    row["best_pytorch"] = max(peers, key=peers.get)
                    row["achieved_gflops"] = flops_per_image * ours_best / 1e9
                    row["fraction_of_matmul_peak"] = row["achieved_gflops"] / peak[t]
                    report["models"].append(row)
                    print(f"{config} {mode} batch {batch} threads {t}: "
                          + ", ".join(f"{k} {row[k]:.1f}" for k in runs)
                          + f" img/s; ×{row['ratio_to_best_pytorch']:.2f} the best PyTorch"
                          + (f", ONNX Runtime ×{row['ratio_onnxruntime_to_torchsharp']:.2f} TorchSharp" if onnx else "")
                          + f"; {row['achieved_gflops']:.1f} GFLOP/s "
                          f"= {row['fraction_of_matmul_peak']:.0%} of matmul", flush=True)

    if PHOTOS:
        for t in threads:
            data = run_json(ours + ["bench", "--mode", "data", "--threads", str(t), "--images", "2048", "--json"] + PHOTOS, environment("training-heap"))
            report["data"].append({"threads": t, "images_per_second": data["images_per_second"], "per_thread": data["images_per_second"] / t,
                                   "jpeg_size": data["jpeg_size"], "peak_mb": data["peak_working_set_mb"]})
            print(f"data pipeline {t} threads: {data['images_per_second']:.1f} img/s", flush=True)

    if PHOTOS:
        for t in threads:
            for batch in (1, 8, 32):
                run = run_json(ours + ["bench", "--mode", "classify", "--threads", str(t), "--batch", str(batch), "--steps", str(max(2, 64 // batch)),
                                       "--warmup", "1", "--json"] + PHOTOS, environment("training-heap"))
                report["classify"].append({"engine": run["framework"], "threads": t, "batch": batch, "images_per_second": run["images_per_second"],
                                           "forward_images_per_second": run["forward_images_per_second"],
                                           "decode_ms_per_image": run["decode_ms_per_image"], "peak_mb": run["peak_working_set_mb"]})
                print(f"classify in process, batch {batch}, {t} threads: {run['images_per_second']:.1f} img/s with decoding, "
                      f"{run['forward_images_per_second']:.1f} forward only", flush=True)

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2))
    (out / "bench.md").write_text(markdown(report))
    print(markdown(report))


def markdown(report):
    lines = [f"Measured {report['date']} on {report['machine']}, allocator {report['allocator']}.", "",
             "| matmul 2048² threads | TorchSharp (libtorch) GFLOP/s | PyTorch GFLOP/s |", "|---:|---:|---:|"]
    lines += [f"| {m['threads']} | {m['torchsharp']:.1f} | {m['pytorch']:.1f} |" for m in report["matmul"]]
    if report["models"]:
        measured = list(dict.fromkeys(k for r in report["models"] for k in r
                                      if k.startswith(("torchsharp_", "onnxruntime_", "pytorch_")) and not k.endswith(("_peak_mb", "_runs"))))
        lines += ["", "| configuration | mode | batch | threads | " + " | ".join(f"{k.replace('_', ' ')} img/s" for k in measured)
                  + " | ours ÷ best PyTorch | ONNX Runtime ÷ TorchSharp | GFLOP/s | of matmul peak | peak MB (" + " / ".join(k.replace('_', ' ') for k in measured) + ") |",
                  "|---|---|---:|---:|" + "---:|" * (len(measured) + 5)]
        lines += [f"| {r['config']} | {r['mode']} | {r['batch']} | {r['threads']} | " + " | ".join(f"{r[k]:.1f}" if k in r else "–" for k in measured)
                  + f" | {r['ratio_to_best_pytorch']:.2f} | " + (f"{r['ratio_onnxruntime_to_torchsharp']:.2f}" if "ratio_onnxruntime_to_torchsharp" in r else "–")
                  + f" | {r['achieved_gflops']:.1f} | {r['fraction_of_matmul_peak']:.0%} | "
                  + " / ".join(f"{r[k + '_peak_mb']:.0f}" if k in r else "–" for k in measured) + " |" for r in report["models"]]
    if report["data"]:
        lines += ["", "| data pipeline threads | img/s | per thread | JPEG size | peak MB |", "|---:|---:|---:|---|---:|"]
        lines += [f"| {d['threads']} | {d['images_per_second']:.1f} | {d['per_thread']:.1f} | {d['jpeg_size']} | {d['peak_mb']:.0f} |" for d in report["data"]]
    if report.get("classify"):
        lines += ["", "| classify in process: engine | threads | batch | img/s with decoding | img/s forward only | decode ms per image | peak MB |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        lines += [f"| {c.get('engine', 'torchsharp')} | {c['threads']} | {c['batch']} | {c['images_per_second']:.1f} | {c['forward_images_per_second']:.1f} | "
                  f"{c['decode_ms_per_image']:.1f} | {c['peak_mb']:.0f} |" for c in report["classify"]]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
