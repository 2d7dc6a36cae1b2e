"""Sharded against replicated embedding tables on 8 virtual CPU devices.

    python benchmarks/model_parallel.py --output=benchmarks/results/model_parallel

A DeepFM trains one epoch on a synthetic click log in Criteo's layout
(`--rows` rows, each categorical column hashed into `--hash_buckets` ids, so
that the tables dominate the model), three ways, each in a process of its own
with the host split into 8 JAX devices
(`XLA_FLAGS=--xla_force_host_platform_device_count=8`):

- `one device`: no strategy;
- `replicated`: `keras.distribution.DataParallel` over the 8 devices, every
  device holding every table (what `mirrored` does on TensorFlow);
- `model_parallel`: `--strategy=model_parallel`, each table's rows split 8
  ways.

Each records training examples/s, test AUC, the bytes of tables and Adam
slots one device holds (read from the arrays' shards), and the process's
peak memory. The 8 devices share this machine's cores: the figures measure
what splitting the tables costs or saves in one program, not a speedup from
more hardware. Writes `results.json` and `report.md` into `--output`.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WAYS = ("one device", "replicated", "model_parallel")

RUN = """
import json, os, re, sys
os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
import contextlib, keras, reczoo
from reczoo import datasets
from reczoo.features.embedding import model_tables
way, folder, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = datasets.open_shards(folder)
scope = contextlib.nullcontext()
if way == "replicated":
    scope = keras.distribution.DataParallel(devices=keras.distribution.list_devices()).scope()
with scope:
    result = reczoo.run("deepfm", data, "shards", epochs=1, verbose=0, batch_size=batch,
                        strategy="model_parallel" if way == "model_parallel" else None)
task = result.model
tables = model_tables(task)
flat = [p.replace("/", "_") for p in tables]
held = [v for v in task.weights if v.path in tables]
held += [v for v in task.optimizer.variables if any(v.path.endswith((f + "_momentum", f + "_velocity")) for f in flat)]
device0 = sum(next(s.data.nbytes for s in v.value.addressable_shards if s.device.id == 0) for v in held)
whole = sum(v.value.nbytes for v in held)
hwm = int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
print(json.dumps({"way": way, "auc": result.row["metrics"]["auc"],
                  "train_samples_per_sec": result.row["train_samples_per_sec"],
                  "train_seconds": result.row["train_seconds"], "embedding": result.row["embedding"],
                  "table_state_mb_per_device": device0 / 2**20, "table_state_mb": whole / 2**20,
                  "peak_mb": hwm / 1024}))
"""


def _log(work, rows, hash_buckets):
    from reczoo import datasets

    log = datasets.synthetic_criteo(work / "train.txt", rows, seed=0)
    return datasets.convert_criteo(log, work / "shards", hash_buckets=hash_buckets, seed=0)


def _run(way, folder, batch):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", RUN, way, str(folder), str(batch)],
                          capture_output=True, text=True, env=env, cwd=ROOT)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results):
    lines = [
        "# Sharded against replicated embedding tables (8 virtual CPU devices)",
        "",
        f"`{results['command']}`",
        "",
        f"Machine: {results['machine']}. Commit: {results['commit']}. DeepFM, one epoch, "
        f"{results['rows']:,} rows of a synthetic Criteo-layout log, each of the 26 "
        f"categorical columns hashed into {results['hash_buckets']:,} ids, batch "
        f"{results['batch_size']:,}.",
        "",
        "| run | train examples/s | vs replicated | test AUC | tables + Adam slots per device (MB) "
        "| of the whole (MB) | process peak MB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    replicated = next(r for r in results["runs"] if r["way"] == "replicated")
    for r in results["runs"]:
        lines.append(
            f"| {r['way']} | {r['train_samples_per_sec']:,.0f} | "
            f"{r['train_samples_per_sec'] / replicated['train_samples_per_sec']:.2f}x | "
            f"{r['auc']:.4f} | {r['table_state_mb_per_device']:,.1f} | "
            f"{r['table_state_mb']:,.1f} | {r['peak_mb']:,.0f} |"
        )
    lines += [
        "",
        "The eight devices share the machine's cores (and its memory: every device's copy is "
        "in the one process), so examples/s compares the programs, not hardware.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--hash_buckets", type=int, default=1 << 16)
    parser.add_argument("--batch_size", type=int, default=2048)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="reczoo-model-parallel-") as tmp:
        data = _log(Path(tmp), args.rows, args.hash_buckets)
        runs = []
        for way in WAYS:
            runs.append(_run(way, data.folder, args.batch_size))
            print(json.dumps(runs[-1]), flush=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    results = {
        "command": f"python benchmarks/model_parallel.py --rows={args.rows} "
        f"--hash_buckets={args.hash_buckets} --batch_size={args.batch_size} "
        f"--output={args.output}",
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "commit": commit,
        "rows": args.rows,
        "hash_buckets": args.hash_buckets,
        "batch_size": args.batch_size,
        "runs": runs,
    }
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (output / "report.md").write_text(report(results))
    print(report(results))


if __name__ == "__main__":
    main()
