"""Where the time of a DeepFM training step goes, on this machine.

    python benchmarks/profile_step.py [--dataset=frappe-x1] [--output_dir=DIR]

Trains the `frappe-x1` suite's DeepFM (embedding 10, DNN 400x3, batch norm,
dropout 0.2, batch 4096) with `train_on_batch` on one epoch's batches, then the same model
without dropout, without batch normalisation, without both, and compiled with
XLA, and reports examples per second for each (best of three passes). It
times whole `fit` epochs with tf.data autotuning off (reczoo's pipeline) and
on. It also measures the machine's single-precision matrix-multiply rate at
the DNN's shape, and the examples per second that the dense layers'
multiplies alone would allow at that rate, a bound on any implementation of
this model. Run it alone: the numbers are only comparable within one run.
"""

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import reczoo

RECIPE = reczoo.get_recipe("deepfm/frappe-x1")
SUITE = RECIPE.model_settings
BATCH = RECIPE.training["batch_size"]
EMBEDDING = RECIPE.training["embedding_dim"]
WIDTH, DEPTH = SUITE["hidden_units"][0], len(SUITE["hidden_units"])
# name: (changes to the suite's settings, jit_compile)
VARIANTS = {
    "deepfm (suite settings)": ({}, False),
    "without dropout": ({"dropout": 0.0}, False),
    "without batch norm": ({"batch_norm": False}, False),
    "without either": ({"dropout": 0.0, "batch_norm": False}, False),
    "suite settings, XLA (jit_compile=True)": ({}, True),
}


def matmul_gflops(repeats=10):
    """The best rate of a chain of (4096 x 400) @ (400 x 400) products."""
    import tensorflow as tf

    a = tf.random.normal((BATCH, WIDTH))
    w = tf.random.normal((WIDTH, WIDTH))

    @tf.function
    def chain(x, w):
        for _ in range(20):
            x = tf.matmul(x, w) * 0.05
        return x

    chain(a, w)
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        chain(a, w).numpy()
        best = max(best, 20 * 2 * BATCH * WIDTH * WIDTH / (time.perf_counter() - start))
    return best / 1e9


def dense_flops_per_example(fields):
    """Multiply-adds of the DNN forward, times 3 (forward, input and weight
    gradients), times 2 flops each."""
    widths = [fields * EMBEDDING] + [WIDTH] * DEPTH + [1]
    macs = sum(a * b for a, b in itertools.pairwise(widths))
    return 2 * 3 * macs


def step_rates(dataset, passes=3):
    import keras

    from reczoo import datasets, registry
    from reczoo.training import RankingPlan, RunSettings

    data = datasets.load(dataset)
    protocol = datasets.dataset_info(dataset).default_protocol
    spec = data.feature_spec(EMBEDDING)
    split = datasets.split(data, protocol, seed=0)
    settings = RunSettings.build("deepfm", dataset, protocol, recipe=RECIPE.name)
    plan = RankingPlan(data, split, spec, "binary", settings, 0)
    batches = [b for b in plan.epoch_batches(1) if len(b[1]) == BATCH]

    def deepfm(changes, jit):
        keras.utils.set_random_seed(0)
        settings = {**SUITE, **changes}
        task = registry.get_model("deepfm", feature_spec=spec, objective="binary", **settings)
        task.compile(jit_compile=jit)
        return task

    rates = {}
    for name, (changes, jit) in VARIANTS.items():
        task = deepfm(changes, jit)
        for x, y in batches[:5]:  # trace and warm up
            task.train_on_batch(x, y)
        best = 0.0
        for _ in range(passes):
            start = time.perf_counter()
            for x, y in batches:
                task.train_on_batch(x, y)
            best = max(best, len(batches) * BATCH / (time.perf_counter() - start))
        rates[name] = round(best, 1)
        print(f"{name}: {best:,.0f} examples/s", flush=True)
    return rates, len(spec.features), fit_epochs(plan, deepfm({}, False))


def fit_epochs(plan, task, epochs=6):
    """Seconds of each `fit` epoch after the first, with tf.data autotuning
    off and then on, alternating."""
    import tensorflow as tf

    tuned = tf.data.Options()
    tuned.autotune.enabled = True
    seconds = {"autotune off": [], "autotune on": []}
    task.fit(plan.epoch_dataset(0), epochs=1, verbose=0, shuffle=False)  # trace
    for epoch in range(1, epochs + 1):
        for name in seconds:
            data = plan.epoch_dataset(epoch)
            if name == "autotune on":
                data = data.with_options(tuned)
                assert data.options().autotune.enabled
            start = time.perf_counter()
            task.fit(data, epochs=1, verbose=0, shuffle=False)
            seconds[name].append(round(time.perf_counter() - start, 2))
    for name, values in seconds.items():
        print(f"fit epochs, {name}: {values} s", flush=True)
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="frappe-x1")
    parser.add_argument("--output_dir", default=None)
    args = parser.parse_args()
    from reczoo.provenance import device_name, script_command

    command = script_command("benchmarks/profile_step.py", sys.argv[1:])

    load_before = os.getloadavg()
    rates, fields, epochs = step_rates(args.dataset)
    gflops = matmul_gflops()
    flops = dense_flops_per_example(fields)
    row = {
        "dataset": args.dataset,
        "batch_size": BATCH,
        "train_examples_per_sec": rates,
        "fit_epoch_seconds": epochs,
        "matmul_gflops_4096x400x400": round(gflops, 1),
        "dense_flops_per_example": flops,
        "examples_per_sec_bound_by_dense_matmuls": round(gflops * 1e9 / flops, 1),
        "device": device_name(),
        "load_average": {"before": list(load_before), "after": list(os.getloadavg())},
        "command": command,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
    }
    print(json.dumps(row))
    if args.output_dir:
        out = Path(args.output_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / f"{row['date'][:10]}-{args.dataset}-deepfm-step-profile.json"
        path.write_text(json.dumps(row, indent=1) + "\n")


if __name__ == "__main__":
    main()
