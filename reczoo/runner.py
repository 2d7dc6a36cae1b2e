"""Single runs: train a registered model on a dataset under a protocol.

`run` returns one result row (a dict) with the metrics, the throughput, the
settings and the `reczoo train` command that reproduces it.
"""

import datetime
import inspect
import json
import os
import platform
import shlex
import subprocess
import time
from pathlib import Path

import keras
import numpy as np

from reczoo import datasets, registry
from reczoo.datasets.protocols import get_protocol
from reczoo.features import Categorical, FeatureSpec, Sequence
from reczoo.metrics.evaluators import (
    evaluate_full,
    evaluate_next_item,
    evaluate_pointwise,
    evaluate_sampled,
    left_pad,
)
from reczoo.models.task import NextItem
from reczoo.version import __version__

# Settings of the run itself; every other override goes to the model.
TRAINING_DEFAULTS = {
    "batch_size": 256,
    "embedding_dim": 16,
    "train_negatives": 4,
    "patience": 3,
    "reduce_lr": None,
    "side_features": False,
    "eval_batch_size": 8192,
    "max_length": 50,
    "eval_every": 1,
    "bucket_by_length": True,
}
DEFAULT_EPOCHS = 20
# Benchmarks' own training procedures, applied under their protocols unless
# overridden: BARS trains with embedding size 10, batch 4096, up to 100 epochs,
# stopping after 2 epochs without validation AUC gain and dividing the
# learning rate by 10 at each such epoch (FuxiCTR's reduce-on-plateau).
_BARS_TRAINING = (
    100,
    {"batch_size": 4096, "embedding_dim": 10, "patience": 2, "reduce_lr": 0.1},
)
PROTOCOL_TRAINING = {"bars_ctr": _BARS_TRAINING, "bars_x1": _BARS_TRAINING}
KS = (5, 10, 20)
_SHOWN = ("hr@10", "ndcg@10", "auc", "logloss", "rmse", "mae")


def device_name():
    """The accelerator's name, else the CPU's model and core count."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"{details.get('device_name', 'GPU')} x{len(gpus)}"
    model = platform.processor() or "CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model} ({os.cpu_count()} cores)"


def _git_commit():
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _versions():
    import keras_rs
    import tensorflow as tf

    return {
        "reczoo": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "keras_rs": keras_rs.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def format_command(model, dataset, protocol, epochs, seed, overrides, data_file=None):
    """The `reczoo train` command line for these settings."""
    parts = ["reczoo", "train", f"--model={model}"]
    if data_file is None:
        parts.append(f"--dataset={dataset}")
    else:
        parts.append(f"--data_file={data_file['path']}")
        for flag in ("user_col", "item_col", "rating_col", "time_col"):
            if data_file.get(flag) is not None:
                parts.append(f"--{flag}={data_file[flag]}")
    parts += [f"--protocol={protocol}", f"--epochs={epochs}", f"--seed={seed}"]
    for key in sorted(overrides):
        value = overrides[key]
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"--set={key}={text}")
    return " ".join(shlex.quote(p) for p in parts)


def _sample_training_negatives(users, items, num_items, k, rng):
    """k uniform negatives per positive, none from the user's training items."""
    if k == 0:
        return np.zeros((0,), "int32"), np.zeros((0,), "int32")
    stride = num_items + 1
    known = np.unique(users.astype("int64") * stride + items)
    neg_users = np.repeat(users, k)
    neg_items = rng.integers(1, num_items + 1, size=len(neg_users)).astype("int32")
    bad = np.isin(neg_users.astype("int64") * stride + neg_items, known)
    while bad.any():
        neg_items[bad] = rng.integers(1, num_items + 1, size=int(bad.sum()))
        bad[bad] = np.isin(neg_users[bad].astype("int64") * stride + neg_items[bad], known)
    return neg_users, neg_items


def _prefetched(data, buffer_size=2):
    """`data` prefetched a few batches ahead, with tf.data's autotuning off.

    With autotuning on, `fit` often returned seconds after its last batch:
    on Frappe, DeepFM epochs of 6-7 s of steps took 10.24 s, the end of the
    autotuning thread's doubling wait (10 + 20 + ... + 5120 ms). The batches
    are ready-made arrays or a generator, so a small fixed buffer is all the
    pipeline needs.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return data.prefetch(buffer_size).with_options(options)


def _tf_dataset(features, targets, batch_size, seed):
    """Shuffled batches of in-memory arrays, shuffled and cut in numpy.

    Each dataset element is a whole batch: slicing row by row and batching
    inside tf.data cost about 40% of DeepFM's epoch time on Frappe.
    """
    import tensorflow as tf

    order = np.random.default_rng(seed).permutation(len(targets))
    columns = {name: np.asarray(value)[order] for name, value in features.items()}
    labels = np.asarray(targets, "float32")[order].reshape(-1, 1)
    full = len(labels) // batch_size * batch_size

    def batches(start, stop, size):
        def cut(a):
            return a[start:stop].reshape((-1, size, *a.shape[1:]))

        parts = ({k: cut(v) for k, v in columns.items()}, cut(labels))
        return tf.data.Dataset.from_tensor_slices(parts)

    data = batches(0, full, batch_size) if full else None
    if full < len(labels):
        rest = batches(full, len(labels), len(labels) - full)
        data = rest if data is None else data.concatenate(rest)
    return _prefetched(data)


class _Plan:
    """What to train on and how to evaluate, for one dataset and protocol."""

    def __init__(self, data, split, spec, objective, settings, seed):
        self.data, self.split, self.spec = data, split, spec
        self.objective, self.settings, self.seed = objective, settings, seed
        self.leave_one_out = split.protocol.leave_one_out

    def training_set(self, epoch):
        s = self.settings
        rng = np.random.default_rng([self.seed, epoch])
        if self.leave_one_out:
            train = self.split.train
            neg_u, neg_i = _sample_training_negatives(
                train.users, train.items, self.data.num_items, s["train_negatives"], rng
            )
            users = np.concatenate([train.users, neg_u])
            items = np.concatenate([train.items, neg_i])
            labels = np.concatenate([np.ones(len(train.users)), np.zeros(len(neg_u))])
            return self.data.features_for(users, items, self.spec), labels.astype("float32")
        return self.rows("train")

    def training_data(self, epoch):
        features, targets = self.training_set(epoch)
        batches = _tf_dataset(features, targets, self.settings["batch_size"], self.seed + epoch)
        return batches, len(targets)

    def rows(self, stage):
        rows = self.split.rows(stage)
        if self.data.kind == "ctr":
            return self.data.features(rows), self.data.labels[rows]
        features = self.data.features_for(self.data.users[rows], self.data.items[rows], self.spec)
        if self.objective == "regression":
            return features, self.data.ratings[rows]
        return features, np.ones(len(rows), dtype="float32")

    def evaluate(self, model, stage):
        if self.leave_one_out:
            if self.split.protocol.kind == "loo_full":
                return evaluate_full(model, self.split, stage, self.spec, KS)
            return evaluate_sampled(model, self.split, stage, self.spec, KS)
        features, targets = self.rows(stage)
        return evaluate_pointwise(model, features, targets, self.objective)

    @property
    def monitor(self):
        if self.leave_one_out:
            return "ndcg@10", 1.0
        return ("auc", 1.0) if self.objective == "binary" else ("rmse", -1.0)


class _SequencePlan:
    """Next-item training on each user's training history.

    Models with a state per position train on every position of a history
    at once; models with one state (Caser) on sliding windows. With
    `bucket_by_length`, histories of similar length share a batch padded only
    to its longest, and the loss is divided by a constant (the mean number of
    positions per batch) so every position weighs the same.
    """

    def __init__(self, data, split, task, settings, seed):
        if not split.protocol.leave_one_out:
            raise ValueError(
                f"Next-item models are evaluated leave-last-out; protocol "
                f"{split.protocol.name!r} is a {split.protocol.kind}. Use sasrec, loo_full, ..."
            )
        self.data, self.split, self.task = data, split, task
        self.settings, self.seed = settings, seed
        self.per_position = len(task.output.shape) == 3
        length = settings["max_length"]
        self.users, self.inputs, self.targets = [], [], []
        for user, seq in enumerate(split.train.histories()):
            if len(seq) < 2:
                continue
            if self.per_position:
                self.users.append(user)
                self.inputs.append(seq[:-1][-length:])
                self.targets.append(seq[1:][-length:])
            else:
                for t in range(1, len(seq)):
                    self.users.append(user)
                    self.inputs.append(seq[max(0, t - length) : t])
                    self.targets.append(seq[t])
        self.users = np.asarray(self.users, dtype="int32")
        self.positions = int(sum(np.size(t) for t in self.targets))

    def _batches(self, epoch):
        s = self.settings
        rng = np.random.default_rng([self.seed, epoch])
        n = len(self.inputs)
        order = rng.permutation(n)
        bucket = s["bucket_by_length"] and self.per_position
        if bucket:
            # Sorted stably by length after the shuffle: random within a length.
            lengths = np.array([len(x) for x in self.inputs])
            order = order[np.argsort(lengths[order], kind="stable")]
        chunks = [order[i : i + s["batch_size"]] for i in range(0, n, s["batch_size"])]
        if bucket:
            rng.shuffle(chunks)
        history = self.task.backbone.history_feature
        user = getattr(self.task.backbone, "user_feature", None)
        for rows in chunks:
            if self.per_position:
                width = max(len(self.inputs[r]) for r in rows) if bucket else s["max_length"]
                x = {history: left_pad([self.inputs[r] for r in rows], width)}
                y = left_pad([self.targets[r] for r in rows], width)
            else:
                x = {history: left_pad([self.inputs[r] for r in rows], s["max_length"])}
                y = np.asarray([self.targets[r] for r in rows], dtype="int32")
            if user:
                x[user] = self.users[rows]
            yield x, y

    def training_data(self, epoch):
        import tensorflow as tf

        history = self.task.backbone.history_feature
        user = getattr(self.task.backbone, "user_feature", None)
        x_spec = {history: tf.TensorSpec((None, None), tf.int32)}
        if user:
            x_spec[user] = tf.TensorSpec((None,), tf.int32)
        y_spec = tf.TensorSpec((None, None) if self.per_position else (None,), tf.int32)
        batches = -(-len(self.inputs) // self.settings["batch_size"])
        if self.per_position and self.settings["bucket_by_length"] and not self.task.normalize_by:
            self.task.normalize_by = self.positions / batches
        data = tf.data.Dataset.from_generator(
            lambda: self._batches(epoch), output_signature=(x_spec, y_spec)
        )
        data = data.apply(tf.data.experimental.assert_cardinality(batches))
        return _prefetched(data), self.positions

    def evaluate(self, task, stage):
        return evaluate_next_item(
            task, self.split, stage, self.settings["max_length"], KS,
            batch_size=min(1024, self.settings["eval_batch_size"]),
        )  # fmt: skip

    @property
    def monitor(self):
        return "ndcg@10", 1.0


def _resolve_dataset(dataset):
    if isinstance(dataset, str):
        return datasets.load(dataset), dataset
    if isinstance(dataset, datasets.InteractionDataset | datasets.CTRDataset):
        return dataset, dataset.name
    raise TypeError(
        f"dataset must be a dataset name or a dataset object. Received: {type(dataset).__name__}"
    )


def run(
    model,
    dataset,
    protocol=None,
    seed=0,
    epochs=None,
    output=None,
    verbose=1,
    data_file=None,
    **overrides,
):
    """Trains `model` on `dataset` under `protocol`, evaluates, returns a row.

    Args:
        model: a registered model name (`reczoo.list_models()`).
        dataset: a dataset name (`reczoo.datasets.list_datasets()`) or a
            dataset object (from `load_interactions`, say).
        protocol: a protocol name or `Protocol`; default: the dataset's own
            (`ncf` for MovieLens, `sasrec` for Amazon Games, `bars_ctr` for
            CTR data).
        seed: seeds the split, the sampling and the initialisation.
        epochs: the most epochs to train (early stopping on the validation
            metric with `patience`); default 20.
        output: save the best model as a preset in this directory.
        verbose: 0 for silence, 1 for a line per epoch.
        data_file: for the command line of a run on your own file:
            `{"path", "user_col", "item_col", "rating_col", "time_col"}`.
        **overrides: run settings (`batch_size`, `embedding_dim`,
            `train_negatives`, `patience`, `side_features`, `eval_batch_size`)
            and model settings (`hidden_units`, `learning_rate`, ...).

    Returns:
        A dict: model, dataset, protocol, hyperparameters, metrics (test),
        valid_metrics, train_samples_per_sec, infer_samples_per_sec, epochs,
        best_epoch, wall_seconds, params, device, precision, jit, seed,
        versions, git_commit, dataset_sha256, date and command.
    """
    wall_start = time.perf_counter()
    entry = registry.model_info(model)
    data, dataset_name = _resolve_dataset(dataset)
    if protocol is None:
        protocol = (
            datasets.dataset_info(dataset_name).default_protocol
            if dataset_name in datasets.DATASETS
            else ("bars_ctr" if data.kind == "ctr" else "ncf")
        )
    protocol = get_protocol(protocol)
    protocol_epochs, protocol_settings = PROTOCOL_TRAINING.get(protocol.name, (DEFAULT_EPOCHS, {}))
    model_settings = dict(entry.run_defaults)
    model_epochs = model_settings.pop("epochs", protocol_epochs)
    epochs = model_epochs if epochs is None else int(epochs)
    settings = {
        **TRAINING_DEFAULTS,
        **protocol_settings,
        **model_settings,
        **{k: v for k, v in overrides.items() if k in TRAINING_DEFAULTS},
    }
    model_overrides = {k: v for k, v in overrides.items() if k not in TRAINING_DEFAULTS}
    keras.utils.set_random_seed(seed)

    split = datasets.split(data, protocol, seed=seed)
    sequential = issubclass(entry.task, NextItem)
    if sequential:
        if data.kind != "interactions":
            raise ValueError(
                f"Next-item models need interactions; {dataset_name!r} is {data.kind}."
            )
        dim = settings["embedding_dim"]
        features = [
            Sequence("history", data.num_items + 1, dim, settings["max_length"], table="item")
        ]
        if "user_feature" in inspect.signature(entry.backbone).parameters:
            features.append(Categorical("user_id", data.num_users + 1, dim))
        spec = FeatureSpec(features)
        task = registry.get_model(model, feature_spec=spec, **model_overrides)
        plan = _SequencePlan(data, split, task, settings, seed)
    elif data.kind == "ctr":
        spec = data.feature_spec(settings["embedding_dim"])
        objective = "binary"
    else:
        spec = data.feature_spec(settings["embedding_dim"], side_features=settings["side_features"])
        rated = data.ratings is not None and not protocol.leave_one_out
        objective = "regression" if rated else "binary"
    if not sequential:
        model_overrides.setdefault("objective", objective)
        if entry.backbone.__name__ == "PopularityBackbone":
            model_overrides.setdefault(
                "item_feature", data.item_column if data.kind == "ctr" else "item_id"
            )
        task = registry.get_model(model, feature_spec=spec, **model_overrides)
        plan = _Plan(data, split, spec, model_overrides["objective"], settings, seed)

    trained_samples, train_seconds = 0, 0.0
    best, best_epoch, best_weights, history = None, 0, None, []
    monitor, sign = plan.monitor
    if hasattr(task.backbone, "adapt"):
        features, targets = plan.training_set(0)
        item_ids = features[task.backbone.item_feature]
        start = time.perf_counter()
        task.backbone.adapt(item_ids, weights=targets)
        train_seconds += time.perf_counter() - start
        trained_samples += len(targets)
        epochs_run = 0
    else:
        epochs_run = 0
        for epoch in range(1, epochs + 1):
            data_epoch, samples = plan.training_data(epoch)
            start = time.perf_counter()
            logs = task.fit(data_epoch, epochs=1, verbose=0, shuffle=False).history
            train_seconds += time.perf_counter() - start
            trained_samples += samples
            epochs_run = epoch
            if epoch % settings["eval_every"] and epoch != epochs:
                if verbose:
                    print(f"epoch {epoch}: loss={logs['loss'][-1]:.4f}", flush=True)
                continue
            if not _has_valid(split):
                # Nothing to stop on: train every epoch and keep the last weights.
                history.append({"epoch": epoch, "loss": float(logs["loss"][-1])})
                best_epoch = epoch
                continue
            metrics, _, _ = plan.evaluate(task, "valid")
            history.append({"epoch": epoch, "loss": float(logs["loss"][-1]), **metrics})
            if verbose:
                shown = ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if k in _SHOWN)
                print(f"epoch {epoch}: loss={logs['loss'][-1]:.4f} valid {shown}", flush=True)
            score = sign * metrics[monitor]
            if best is None or score > best:
                best, best_epoch, best_weights = score, epoch, task.get_weights()
            elif (epoch - best_epoch) // settings["eval_every"] >= settings["patience"]:
                break
            elif settings["reduce_lr"]:
                rate = task.optimizer.learning_rate
                rate.assign(max(float(rate.numpy()) * settings["reduce_lr"], 1e-6))
        if best_weights is not None:
            task.set_weights(best_weights)

    valid_metrics, _, _ = plan.evaluate(task, "valid") if _has_valid(split) else ({}, 0, 0.0)
    test_metrics, scored, infer_seconds = plan.evaluate(task, "test")
    row = {
        "model": model,
        "dataset": dataset_name,
        "protocol": protocol.name,
        "protocol_details": protocol.to_dict(),
        "hyperparameters": {**settings, **_jsonable(model_overrides)},
        "metrics": test_metrics,
        "valid_metrics": valid_metrics,
        "monitor": monitor,
        "train_samples_per_sec": round(trained_samples / train_seconds, 1)
        if train_seconds
        else None,
        "infer_samples_per_sec": round(scored / infer_seconds, 1) if infer_seconds else None,
        "epochs": epochs_run,
        "max_epochs": epochs,
        "best_epoch": best_epoch,
        "history": history,
        "wall_seconds": round(time.perf_counter() - wall_start, 2),
        "train_seconds": round(train_seconds, 2),
        "params": int(task.count_params()),
        "batch_size": settings["batch_size"],
        "device": device_name(),
        "precision": keras.config.dtype_policy().name,
        "jit": bool(getattr(task, "jit_compile", False)),
        "seed": seed,
        "versions": _versions(),
        "git_commit": _git_commit(),
        "dataset_sha256": data.sha256,
        "dataset_statistics": data.statistics(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }
    row["command"] = format_command(
        model, dataset_name, protocol.name, epochs, seed, overrides, data_file
    )
    if output is not None:
        task.save_to_preset(
            output,
            metadata={k: row[k] for k in row if k != "history"} | {"split": protocol.to_dict()},
            vocabularies=data.vocabulary_lists(),
        )
        row["preset"] = str(output)
    return row


def _has_valid(split):
    if split.protocol.leave_one_out:
        return True
    return len(split.valid_rows) > 0


def _jsonable(values):
    return json.loads(json.dumps(values, default=str))
