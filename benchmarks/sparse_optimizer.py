"""Training examples/s with Adam against `reczoo.optimizers.LazyAdam`, by table size.

    ONEDNN_MAX_CPU_ISA=AVX2 python benchmarks/sparse_optimizer.py \
        --output=benchmarks/results/optimizer --models=deepfm,dcnv2

A model on a throughput shape (`reczoo.benchmark.throughput.SHAPES`: real
feature shapes, synthetic values), trained with each optimizer in turn, the
same way the throughput suite times a training step (median examples/s over
timed windows of one `fit` call, after a warm-up). SGD, whose update of an
embedding table is already a scatter of the batch's rows, is the floor that
a row-wise Adam can reach. Writes `report.md` and `results.json`.
"""

import argparse
import json
import os
import platform
import sys
from pathlib import Path

OPTIMIZERS = {
    "Adam": {"class_name": "Adam", "config": {"learning_rate": 1e-3}},
    "LazyAdam": {"class_name": "LazyAdam", "config": {"learning_rate": 1e-3}},
    "SGD": {"class_name": "SGD", "config": {"learning_rate": 1e-3}},
}


def measure(model, shape_name, batch_sizes, repeats, min_seconds):
    import keras
    import numpy as np

    from reczoo import registry
    from reczoo.benchmark import throughput

    shape = throughput.SHAPES[shape_name]
    spec = shape.spec()
    rows = []
    for name, optimizer in OPTIMIZERS.items():
        keras.utils.set_random_seed(0)
        task = registry.get_model(model, feature_spec=spec, optimizer=optimizer)
        rng = np.random.default_rng(0)
        for batch in batch_sizes:
            features = spec.dummy_inputs(batch, seed=1)
            targets = throughput._targets(task, shape, features, batch, rng)
            rate = throughput._train_speed(task, features, targets, batch, repeats, min_seconds)
            rows.append({"model": model, "shape": shape_name, "optimizer": name,
                         "batch_size": batch, "train_samples_per_sec": rate,
                         "params": task.count_params()})  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return rows


def report(rows, command, machine):
    lines = [
        "# Adam against LazyAdam on large embedding tables",
        "",
        f"Made by `{command}`. {machine}",
        "",
        "Training examples/s (median of timed windows in one `fit` call after a warm-up; "
        "synthetic values on the shape's real vocabularies). *vs Adam*: the rate over "
        "Adam's at the same batch, in this run.",
        "",
        "| model | shape | params | batch | optimizer | train ex/s | vs Adam |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    adam = {(r["model"], r["batch_size"]): r["train_samples_per_sec"]
            for r in rows if r["optimizer"] == "Adam"}  # fmt: skip
    for r in sorted(rows, key=lambda r: (r["model"], r["batch_size"])):
        base = adam[(r["model"], r["batch_size"])]
        lines.append(
            f"| {r['model']} | {r['shape']} | {r['params']:,} | {r['batch_size']:,} | "
            f"{r['optimizer']} | {r['train_samples_per_sec']:,.0f} | "
            f"{r['train_samples_per_sec'] / base:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--models", default="deepfm")
    parser.add_argument("--shape", default="criteo")
    parser.add_argument("--batch_sizes", default="256,4096")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min_seconds", type=float, default=2.0)
    args = parser.parse_args()

    from reczoo import provenance

    batches = [int(b) for b in args.batch_sizes.split(",")]
    rows = []
    for model in args.models.split(","):
        rows += measure(model, args.shape, batches, args.repeats, args.min_seconds)
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    record = provenance.run_record()
    isa = os.environ.get("ONEDNN_MAX_CPU_ISA")
    command = " ".join(
        [*([f"ONEDNN_MAX_CPU_ISA={isa}"] if isa else []), "python benchmarks/sparse_optimizer.py",
         *sys.argv[1:]]
    )  # fmt: skip
    machine = (
        f"Machine: {record.get('device') or platform.processor()}; {record['date'][:10]}; "
        f"TensorFlow {record['versions'].get('tensorflow')}."
    )
    (out / "results.json").write_text(
        json.dumps({"rows": rows, "command": command, **record}, indent=1) + "\n"
    )
    (out / "report.md").write_text(report(rows, command, machine))


if __name__ == "__main__":
    main()
