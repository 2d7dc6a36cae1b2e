"""One model trained on one device, then with its tables sharded over 8
virtual CPU devices (`--strategy=model_parallel`), in a process of its own:
JAX fixes its device count when it starts. Prints one JSON object.

    python tests/sharded_tables_run.py deepfm SHARD_FOLDER
    python tests/sharded_tables_run.py two_tower movielens-100k

With `--cap=BYTES`, also tries the single-device run again under
`RECZOO_DEVICE_MEMORY=BYTES` and records its refusal, then trains the sharded
run under that cap.
"""

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"

import reczoo
from reczoo import datasets
from reczoo.features.embedding import model_tables

METRIC = {"deepfm": "auc", "two_tower": "top_100_accuracy"}


def _data(model, source):
    if model == "deepfm":
        return datasets.open_shards(source), "shards"
    return source, "tfrs_retrieval"


def _shards(result):
    """For each table and each of its Adam slots: [rows, shard rows, shards]."""
    task = result.model
    tables = model_tables(task)
    out = {}
    for table in (w for w in task.weights if w.path in tables):
        flat = table.path.replace("/", "_")
        slots = [v for v in task.optimizer.variables if v.path.endswith(
            (f"{flat}_momentum", f"{flat}_velocity"))]  # fmt: skip
        assert len(slots) == 2, (table.path, [v.path for v in task.optimizer.variables][:6])
        for variable in (table, *slots):
            value = variable.value
            out[variable.path] = [
                value.shape[0],
                sorted({s.data.shape[0] for s in value.addressable_shards}),
                len(value.addressable_shards),
            ]
    return out


def main(model, source, cap=None):
    data, protocol = _data(model, source)
    epochs = 1 if model == "deepfm" else 2
    one = reczoo.run(model, data, protocol, epochs=epochs, verbose=0)
    out = {"single": one.row["metrics"][METRIC[model]]}
    if cap is not None:
        os.environ["RECZOO_DEVICE_MEMORY"] = str(cap)
        try:
            reczoo.run(model, data, protocol, epochs=epochs, verbose=0)
            out["refused"] = None
        except ValueError as e:
            out["refused"] = str(e)
    sharded = reczoo.run(model, data, protocol, epochs=epochs, verbose=0,
                         strategy="model_parallel")  # fmt: skip
    out["sharded"] = sharded.row["metrics"][METRIC[model]]
    out["row"] = {k: sharded.row[k] for k in ("strategy", "replicas", "mesh", "embedding")}
    out["shards"] = _shards(sharded)
    if model == "deepfm":
        try:
            reczoo.run("pop", "movielens-100k", "ncf", verbose=0, strategy="model_parallel")
        except ValueError as e:
            out["pop"] = str(e)
    print(json.dumps(out))


if __name__ == "__main__":
    cap = next((a.split("=", 1)[1] for a in sys.argv[3:] if a.startswith("--cap=")), None)
    main(sys.argv[1], sys.argv[2], cap)
