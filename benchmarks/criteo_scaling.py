"""Training examples/s at Criteo's shape on 1..N devices under `mirrored`.

    python benchmarks/criteo_scaling.py --output=OUT/criteo_scaling.jsonl

DeepFM and DCN-v2 on Criteo's 13 numerical and 26 categorical fields, each
table hashed to 2**20 rows (`reczoo.benchmark.throughput.SHAPES["criteo"]`),
synthetic values already on the device: the figure is the model's training
step, as NVIDIA's published DCN-v2 number (about 1.37 million examples/s in
TF2 on one A100) is. For each replica count (1, 2, 4, ... up to the visible
GPUs) a `MirroredStrategy` over that many GPUs trains at `--per_replica`
rows per replica; the row records the global batch and the speed-up over one
replica. `--cpu_devices=N` runs the same on N logical CPU devices (a check
of the script, not a measurement).
"""

import argparse
import json
import sys
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--models", default="deepfm,dcnv2")
    parser.add_argument("--per_replica", type=int, default=65_536)
    parser.add_argument("--precision", default="mixed_float16")
    parser.add_argument("--jit", choices=("on", "off"), default="on")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cpu_devices", type=int, default=None)
    args = parser.parse_args()

    from reczoo import distribute, provenance

    if args.cpu_devices:
        distribute.configure_cpu_devices(args.cpu_devices)
    import tensorflow as tf

    from reczoo.benchmark.throughput import measure

    kind = "CPU" if args.cpu_devices else "GPU"
    devices = [d.name for d in tf.config.list_logical_devices(kind)]
    if not devices:
        sys.exit("No GPU is visible (give --cpu_devices=N to check the script on CPUs).")
    counts = [n for n in (1, 2, 4, 8, 16) if n <= len(devices)]
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    base = {}
    with open(out, "a") as f:
        for model in args.models.split(","):
            for n in counts:
                strategy = tf.distribute.MirroredStrategy(devices[:n])
                batch = args.per_replica * n
                with strategy.scope():
                    rows, task, _ = measure(
                        model, "criteo", precision=args.precision,
                        jit_compile=args.jit == "on", repeats=args.repeats,
                        batch_sizes=[batch],
                    )  # fmt: skip
                speed = rows[0].get("train_samples_per_sec")
                base.setdefault(model, speed)
                row = {
                    "model": model, "shape": "criteo", "strategy": "mirrored",
                    "replicas": n, "device_kind": kind, "global_batch": batch,
                    "precision": args.precision, "jit": args.jit == "on",
                    "train_samples_per_sec": speed,
                    "speedup_vs_one": round(speed / base[model], 2) if speed and base[model]
                    else None,
                    "error": rows[0].get("error"), "params": int(task.count_params()),
                    "reference": "NVIDIA DCN-v2 TF2, one A100: ~1.37M examples/s",
                    **provenance.run_record(),
                }  # fmt: skip
                print(json.dumps(row), flush=True)
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
