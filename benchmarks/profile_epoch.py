"""Where a training epoch's time goes, per model, on this machine.

    python benchmarks/profile_epoch.py [--models=bpr_mf,deepfm] [--output=DIR]

For each model under its recipe (MF-BPR and NeuMF on MovieLens-100K `ncf`,
DeepFM and DCN-v2 on BARS' Frappe_x1 rows, the two-tower retriever under
`tfrs_retrieval`, SASRec on Amazon Games; NeuMF without its pre-training
runs, which are epochs of GMF and MLP; ConvNCF under the settings of its
RecBole comparison, `reczoo.benchmark.peers.RECBOLE_CF`), built exactly as
`reczoo train` builds it, it times:

- `epoch`: one data epoch of `fit` on the run's own stream, one step per
  call (Keras' default; after a warm-up call that traces the step; the
  faster of two);
- `epoch as trained`: the same with the steps per call `reczoo train` runs
  (`reczoo.training.loop.execution_steps` of the evaluation period's steps,
  in the table's second column), as one compiled loop for a model that
  compiles with XLA (`reczoo.training.fused`);
- `pipeline`: the same epoch's batches drawn alone, without training
  (negative sampling, shuffling, batching, tf.data);
- `step`: `fit` steps on one batch held in memory, the epoch's step count:
  forward, backward, the optimizer and Keras' per-step dispatch;
- `16 steps per call`: the same with `steps_per_execution=16`;
- `dispatch`: what a call of the compiled step costs around its work
  (Python, callbacks, entering TensorFlow), from the two above:
  `(step - 16 steps per call) * 16 / 15`;
- `optimizer`: the recipe's optimizer (Adam: moments of whole embedding
  tables) beyond plain SGD's update, 16 steps per call each;
- `forward/backward`: the rest of a step, the loss and its gradients (with
  SGD's update, which touches only the rows in the batch);
- `evaluation`: one scoring of the validation split (the test split where
  a protocol has none), what each evaluation period adds (a recipe's period
  is one epoch or more; without a validation split, none);
- `matmul floor`: the floating-point operations of the step's matrix
  products and convolutions (MatMul, BatchMatMul, Einsum and Conv2D with
  their gradients, counted from the traced training step's static shapes),
  times the epoch's steps, over this machine's best float32 matrix-product
  rate (`gemm_rate`, measured in the same run): the time those kernels need
  at the least, whichever library calls them. Where it is most of `epoch as
  trained`, the epoch is bound by kernels that any TensorFlow model of the
  same architecture runs.

The held batch is the stream's first: where batches are grouped by history
length (next-item models), its length is not the epoch's mean, and `step`
can exceed `epoch`.

It writes `profile.json` and `profile.md` (a table per model and the lever
each one needs) to `--output`. Run it alone: the numbers are comparable
only within one run, on a shared machine only roughly.
"""

import argparse
import json
import sys
import time
from pathlib import Path

# (model, dataset, protocol, overrides on its recipe)
CASES = {
    "bpr_mf": ("movielens-100k", "ncf", {}),
    "neumf": ("movielens-100k", "ncf", {"pretrain": False}),
    "deepfm": ("frappe-x1", "bars_x1", {}),
    "dcnv2": ("frappe-x1", "bars_x1", {}),
    "two_tower": ("movielens-100k", "tfrs_retrieval", {}),
    "sasrec": ("amazon-games", "sasrec", {}),
    # Under the RecBole comparison's settings (`RECBOLE_CF`), the row it explains.
    "convncf": ("movielens-100k", "ncf", "recbole"),
}
PARTS = ("epoch", "epoch as trained", "pipeline", "step", "16 steps per call", "dispatch",
         "optimizer", "forward/backward", "matmul floor", "evaluation")  # fmt: skip
# Operations whose work is a matrix product or a convolution.
PRODUCTS = ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3", "Einsum", "Conv2D",
            "Conv2DBackpropInput", "Conv2DBackpropFilter")  # fmt: skip


def load(dataset, protocol):
    from reczoo import datasets

    data = datasets.load(dataset)
    return data, datasets.split(data, protocol, seed=0)


def build(model, data, split, protocol, overrides):
    """The task and plan `reczoo train` would build, and its settings."""
    import keras

    from reczoo.training.runner import build_task
    from reczoo.training.settings import RunSettings

    overrides = dict(overrides)
    recipe = overrides.pop("recipe", None)
    settings = RunSettings.build(model, data.name, protocol, overrides, recipe=recipe)
    keras.utils.set_random_seed(0)
    settings = settings.complete(data, split)
    task, plan = build_task(settings, data, split)
    return task, plan, settings


def _fit_seconds(task, dataset, steps):
    start = time.perf_counter()
    task.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return time.perf_counter() - start


def held_step(task, plan, timed, warmup):
    """Seconds of one `fit` step on one batch held in memory."""
    import tensorflow as tf

    # tf.data's autotuning off, as in reczoo's own stream: with it on, `fit`
    # can return a second or more after its last step.
    options = tf.data.Options()
    options.autotune.enabled = False
    held = tf.data.Dataset.from_tensors(next(iter(plan.stream(4)))).repeat()
    held = held.with_options(options)
    _fit_seconds(task, held, warmup)
    return _fit_seconds(task, held, timed) / timed


def _dims(tensor):
    return [int(d) for d in tensor.shape]


def _op_flops(op):
    """Multiply-adds x 2 of one matrix-product or convolution operation."""
    import math

    if op.type == "MatMul":
        a, b = (_dims(t) for t in op.inputs)
        m = a[1] if op.get_attr("transpose_a") else a[0]
        k = a[0] if op.get_attr("transpose_a") else a[1]
        n = b[0] if op.get_attr("transpose_b") else b[1]
        return 2 * m * k * n
    if op.type.startswith("BatchMatMul"):
        a, out = _dims(op.inputs[0]), _dims(op.outputs[0])
        k = a[-2] if op.get_attr("adj_x") else a[-1]
        return 2 * math.prod(out) * k
    if op.type == "Einsum":
        inputs, _ = op.get_attr("equation").decode().replace(" ", "").split("->")
        sizes = {}
        for letters, tensor in zip(inputs.split(","), op.inputs, strict=True):
            # Dimensions under an ellipsis are left out: a floor, not a count.
            letters, dims = letters.replace("...", ""), _dims(tensor)
            sizes.update(zip(letters, dims[len(dims) - len(letters) :], strict=True))
        return 2 * math.prod(sizes.values())
    # Conv2D and its two gradients: every output (or output gradient)
    # element is a dot product over the filter's window and input channels.
    if op.type == "Conv2D":
        window, grid = _dims(op.inputs[1]), _dims(op.outputs[0])
    elif op.type == "Conv2DBackpropInput":
        window, grid = _dims(op.inputs[1]), _dims(op.inputs[2])
    else:  # Conv2DBackpropFilter, whose output is the filter's gradient
        window, grid = _dims(op.outputs[0]), _dims(op.inputs[2])
    return 2 * math.prod(grid) * math.prod(window[:3])


def graph_flops(graph):
    """Floating-point operations of a graph's matrix products and
    convolutions; operations in branches and loops count once."""
    graphs, total = [graph], 0
    while graphs:
        current = graphs.pop()
        graphs += [f.graph for f in current._functions.values() if hasattr(f, "graph")]
        total += sum(_op_flops(op) for op in current.get_operations() if op.type in PRODUCTS)
    return total


def step_flops(task, plan):
    """`graph_flops` of one training step (forward, loss, backward), traced
    on the stream's first batch."""
    import tensorflow as tf

    batch = next(iter(plan.stream(4)))
    return graph_flops(tf.function(task.train_step).get_concrete_function(batch).graph)


def gemm_rate():
    """This machine's best float32 matrix-product rate, FLOP/s: the faster of
    a square 1024 product and the DNN-shaped 4096 x 400 x 400 one."""
    import tensorflow as tf

    best = 0.0
    for m, k, n in ((1024, 1024, 1024), (4096, 400, 400)):
        a, b = tf.random.normal([m, k]), tf.random.normal([k, n])
        product = tf.function(lambda a=a, b=b: tf.reduce_sum(tf.matmul(a, b)))
        for _ in range(5):
            product().numpy()
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(20):
                product().numpy()
            best = max(best, 20 * 2 * m * k * n / (time.perf_counter() - start))
    return best


def profile(model, dataset, protocol, overrides, rate):
    """Seconds per part of one data epoch of `model`, with its step count."""
    from reczoo.training.fused import fuse_steps
    from reczoo.training.loop import execution_steps

    data, split = load(dataset, protocol)
    task, plan, settings = build(model, data, split, protocol, overrides)
    steps = plan.steps_per_epoch
    # Warm-up: traces the train step, allocates the optimizer's slots.
    _fit_seconds(task, plan.stream(1), 3)
    out = {"steps": steps, "batch_size": settings.batch_size,
           "epoch": _fit_seconds(task, plan.stream(2), steps)}  # fmt: skip
    start = time.perf_counter()
    for _ in plan.stream(3).take(steps):
        pass
    out["pipeline"] = time.perf_counter() - start
    timed = max(64, min(steps, 400) // 16 * 16)
    out["step"] = held_step(task, plan, timed, 3) * steps
    stage = "valid" if plan.has_validation() else "test"
    start = time.perf_counter()
    plan.evaluate(task, stage)
    out["evaluation"] = time.perf_counter() - start
    out["evaluated"] = stage
    # Evaluations per data epoch: one per period, none without a validation split.
    out["evaluations_per_epoch"] = 1 / (settings.eval_every or 1) if plan.has_validation() else 0
    several = {**overrides, "steps_per_execution": 16}
    task16, plan16, _ = build(model, data, split, protocol, several)
    out["16 steps per call"] = held_step(task16, plan16, timed, 32) * steps
    # The epoch as `reczoo train` runs it now: several steps per call, as
    # many as divide its evaluation period, as one compiled loop where the
    # model compiles with XLA; then both epochs once more, keeping the
    # faster of each (a shared machine's noise is one-sided).
    per_call = execution_steps(settings.schedule(steps)[0])
    as_trained = {**overrides, "steps_per_execution": per_call}
    task_now, plan_now, _ = build(model, data, split, protocol, as_trained)
    fuse_steps(task_now, per_call)
    _fit_seconds(task_now, plan_now.stream(1), per_call)
    out["epoch as trained"] = _fit_seconds(task_now, plan_now.stream(2), steps)
    out["epoch"] = min(out["epoch"], _fit_seconds(task, plan.stream(3), steps))
    out["epoch as trained"] = min(
        out["epoch as trained"], _fit_seconds(task_now, plan_now.stream(3), steps)
    )
    out["steps per call"] = per_call
    sgd = {**several, "optimizer": {"class_name": "SGD", "config": {"learning_rate": 1e-3}}}
    task_sgd, plan_sgd, _ = build(model, data, split, protocol, sgd)
    sgd_seconds = held_step(task_sgd, plan_sgd, timed, 32) * steps
    out["dispatch"] = max(0.0, (out["step"] - out["16 steps per call"]) * 16 / 15)
    out["optimizer"] = max(0.0, out["16 steps per call"] - sgd_seconds)
    out["forward/backward"] = max(0.0, sgd_seconds - out["dispatch"] / 16)
    out["matmul GFLOP per step"] = step_flops(task, plan) / 1e9
    out["matmul floor"] = out["matmul GFLOP per step"] * 1e9 * steps / rate
    return out


def lever(p):
    """The lever the profile points to, in words: the largest part of an
    epoch outside the forward/backward kernels, if it is a tenth or more."""
    candidates = {
        "steps per call (per-step dispatch)": p["dispatch"],
        "the input pipeline (its time not hidden behind the steps)": max(
            0.0, p["epoch"] - p["step"]
        ),
        "the optimizer (sparse or lazy updates of the tables)": p["optimizer"],
        "evaluation (once per period)": p["evaluation"] * p["evaluations_per_epoch"],
    }
    name, seconds = max(candidates.items(), key=lambda kv: kv[1])
    kernels = f"forward/backward {p['forward/backward'] / p['epoch']:.0%} of the epoch"
    floor = p["matmul floor"] / p["epoch as trained"]
    if floor >= 0.5:
        return (f"the kernels: matrix products alone at this machine's best rate take "
                f"{floor:.0%} of the epoch as trained ({kernels})")  # fmt: skip
    if seconds < 0.1 * p["epoch"]:
        return f"none outside the kernels ({kernels}; nothing else a tenth of it)"
    text = f"{name}: {seconds:.1f} s, {seconds / p['epoch']:.0%} of the epoch ({kernels})"
    gain = p["epoch"] / p["epoch as trained"]
    if name.startswith("steps per call") and gain >= 1.5:
        # reczoo train already runs several steps per call: the lever is pulled.
        text += f"; pulled: the epoch as trained ({p['steps per call']} per call) is {gain:.2f}x"
    return text


def markdown(results, command):
    lines = [
        "# Where a training epoch's time goes",
        "",
        f"Made by `{command}` (benchmarks/profile_epoch.py says what each part is).",
        "Seconds per data epoch at each recipe's batch size (`dispatch`, `optimizer` and "
        "`forward/backward` split `step`); `evaluation` is one scoring of the split named;",
        "`matmul floor` is the step's matrix-product work (GFLOP per step) at "
        f"{results['gemm GFLOP/s']:.0f} GFLOP/s, this machine's best float32 rate in this run.",
        "",
        "| model | steps x batch (per call) | "
        + " | ".join(PARTS)
        + " | epoch / epoch as trained | lever |",
        "|" + "---|" * (len(PARTS) + 4),
    ]
    for model, p in results["models"].items():
        cells = [model, f"{p['steps']} x {p['batch_size']} ({p['steps per call']})"]
        cells += [f"{p[part]:.2f}" for part in PARTS[:-2]]
        cells.append(f"{p['matmul floor']:.2f} ({p['matmul GFLOP per step']:.2f})")
        every = p["evaluations_per_epoch"]
        when = f"every {1 / every:g} epochs" if every and every < 1 else (
            "each epoch" if every else "at the end")  # fmt: skip
        cells += [f"{p['evaluation']:.2f} ({p['evaluated']}, {when})",
                  f"{p['epoch'] / p['epoch as trained']:.2f}x", lever(p)]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    machine = results["machine"]
    lines += ["", f"Machine: {machine['cpu']} ({machine['cpu_cores']} cores); "
              f"ONEDNN_MAX_CPU_ISA={machine['onednn_max_cpu_isa'] or 'unset'}; "
              f"{machine['date']}."]  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv=None):
    import os

    from reczoo.benchmark import devices
    from reczoo.provenance import run_record

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(CASES))
    parser.add_argument("--output", default="benchmarks/results/profile")
    args = parser.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    unknown = sorted(set(models) - set(CASES))
    if unknown:
        parser.error(f"no profile case for {unknown}; known: {', '.join(CASES)}")
    rate = gemm_rate()
    print(f"float32 matrix products: {rate / 1e9:.0f} GFLOP/s", flush=True)
    results = {"gemm GFLOP/s": rate / 1e9, "models": {}}
    for model in models:
        dataset, protocol, overrides = CASES[model]
        if overrides == "recbole":
            from reczoo.benchmark.peers import recbole_cf_settings

            overrides = {**recbole_cf_settings(model), "recipe": "none"}
        print(f"{model} on {dataset} ({protocol})", flush=True)
        results["models"][model] = profile(model, dataset, protocol, overrides, rate)
        print("   " + json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                  for k, v in results["models"][model].items()}), flush=True)  # fmt: skip
    record = devices.record("cpu", "float32", False)
    results["machine"] = {
        "cpu": record.get("cpu"), "cpu_cores": record.get("cpu_cores"),
        "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "date": run_record()["date"][:10], "git_commit": run_record().get("git_commit"),
    }  # fmt: skip
    command = "python benchmarks/profile_epoch.py" + (
        f" --models={args.models}" if args.models != ",".join(CASES) else ""
    )
    if os.environ.get("ONEDNN_MAX_CPU_ISA"):
        command = f"ONEDNN_MAX_CPU_ISA={os.environ['ONEDNN_MAX_CPU_ISA']} {command}"
    results["command"] = command
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "profile.json").write_text(json.dumps(results, indent=1) + "\n")
    (output / "profile.md").write_text(markdown(results, command))
    print(markdown(results, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
