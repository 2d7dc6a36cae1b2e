"""Training and inference speed on each dataset's real feature shapes.

Values are synthetic (`FeatureSpec.dummy_inputs`: uniform ids in each
vocabulary, normal numerical features), so the timing needs no data files;
shapes, vocabulary sizes and settings are the real ones. Training is timed
over windows of steps inside one `fit` call after a warm-up call; inference
as single
`predict_on_batch` calls after warm-up calls, giving examples/s and the
latency's p50 and p99.
"""

import dataclasses
import math
import time

import numpy as np

from reczoo import registry
from reczoo.features import Categorical, FeatureSpec, Numerical, Sequence

# Criteo (Kaggle display advertising): 13 counts and 26 categorical fields
# with the per-field vocabulary sizes counted on the full data (as the DLRM
# reference reports them), each hashed into at most 2**20 buckets, as
# production CTR models and DLRM's `--max-ind-range` do.
_CRITEO_VOCABULARIES = (
    1460, 583, 10131227, 2202608, 305, 24, 12517, 633, 3, 93145, 5683, 8351593, 3194,
    27, 14992, 5461306, 10, 5652, 2173, 4, 7046547, 18, 15, 286181, 105, 142572,
)  # fmt: skip
_HASH_BUCKETS = 2**20


@dataclasses.dataclass(frozen=True)
class Shape:
    """A dataset's feature shapes and the settings its recipes train with."""

    name: str
    kind: str  # "ranking" or "next_item"
    fields: tuple  # ranking: (name, vocabulary size or 0 for a numerical feature)
    embedding_dim: int
    batch_sizes: tuple
    num_items: int = 0
    max_length: int = 0
    source: str = ""

    def spec(self, uses_user=False):
        if self.kind == "next_item":
            features = [
                Sequence("history", self.num_items + 1, self.embedding_dim, self.max_length,
                         table="item")
            ]  # fmt: skip
            if uses_user:
                features.append(Categorical("user_id", 1 + 30_000, self.embedding_dim))
            return FeatureSpec(features)
        return FeatureSpec(
            [
                Numerical(name) if size == 0 else Categorical(name, size, self.embedding_dim)
                for name, size in self.fields
            ]
        )


SHAPES = {
    "frappe": Shape(
        "frappe", "ranking",
        (("user", 958), ("item", 4083), ("daytime", 8), ("weekday", 8), ("isweekend", 3),
         ("homework", 4), ("cost", 3), ("weather", 10), ("country", 81), ("city", 234)),
        embedding_dim=10, batch_sizes=(1, 256, 4096, 16384),
        source="frappe-x1's 10 fields and vocabularies; BARS' embedding 10",
    ),
    "criteo": Shape(
        "criteo", "ranking",
        tuple((f"I{i}", 0) for i in range(1, 14))
        + tuple((f"C{i}", min(v, _HASH_BUCKETS) + 1)
                for i, v in enumerate(_CRITEO_VOCABULARIES, 1)),
        embedding_dim=16, batch_sizes=(1, 256, 4096, 16384),
        source="Criteo's 13 numerical and 26 categorical fields, vocabularies hashed to 2**20",
    ),
    "amazon-games": Shape(
        "amazon-games", "next_item", (), embedding_dim=50, batch_sizes=(1, 128, 256, 1024),
        num_items=23715, max_length=50,
        source="Amazon Games' 23,715 items, SASRec's length 50 and width 50",
    ),
    "movielens-100k": Shape(
        "movielens-100k", "ranking", (("user_id", 944), ("item_id", 1683)),
        embedding_dim=16, batch_sizes=(1, 256, 4096, 16384),
        source="MovieLens-100K's users and items",
    ),
}  # fmt: skip


def _targets(task, shape, features, batch, rng):
    if shape.kind == "ranking":
        return rng.integers(0, 2, size=batch).astype("float32")
    history = features["history"]
    if task.backbone.per_position:
        # The next item at every position: the history shifted by one.
        return np.concatenate([history[:, 1:], rng.integers(1, shape.num_items, (batch, 1))], 1)
    return rng.integers(1, shape.num_items + 1, size=batch)


def _percentile(values, q):
    return float(np.percentile(np.asarray(values) * 1000.0, q))


def train_speed(model, shape_name, batch_size, steps=16, warmup=4, seed=0):
    """Training examples/s of `model` on the shape `shape_name` at
    `batch_size` (synthetic values): `batch_size` over the median time
    between the ends of `steps` training steps in one `fit` call, after
    `warmup` steps (tracing, optimizer slots). A quick measure of a
    machine's speed that the cost of starting `fit` does not blur."""
    import keras
    import tensorflow as tf

    shape = SHAPES[shape_name]
    spec = shape.spec()
    keras.utils.set_random_seed(seed)
    task = registry.get_model(model, feature_spec=spec)
    rng = np.random.default_rng(seed)
    features = spec.dummy_inputs(batch_size, seed=seed)
    targets = _targets(task, shape, features, batch_size, rng)
    data = tf.data.Dataset.from_tensors((features, targets)).repeat()
    ends = []
    clock = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: ends.append(_synced(logs))
    )
    task.fit(data, steps_per_epoch=warmup + steps, epochs=1, verbose=0, shuffle=False,
             callbacks=[clock])  # fmt: skip
    return round(batch_size / float(np.median(np.diff(ends[warmup - 1 :]))), 1)


def measure(model, shape_name, precision="float32", jit_compile=False, repeats=5,
            min_seconds=1.0, batch_sizes=None, seed=0, **model_settings):  # fmt: skip
    """Times `model` on the shape `shape_name`; returns one row per batch size.

    Each row holds `train_samples_per_sec` (median over `repeats` windows
    of steps in one `fit` call, each about `min_seconds` long; None at
    batch 1),
    `infer_samples_per_sec` (batch over the median call) and
    `latency_ms_p50` / `latency_ms_p99` of one `predict_on_batch` call.
    `batch_sizes` replaces the shape's own list.
    """
    import keras
    import tensorflow as tf

    if shape_name not in SHAPES:
        raise ValueError(f"Unknown shape {shape_name!r}. Known shapes: {', '.join(SHAPES)}.")
    shape = SHAPES[shape_name]
    entry = registry.model_info(model)
    spec = shape.spec(uses_user=entry.kind == "next_item" and entry.backbone.uses_user)
    settings = dict(model_settings)
    if precision != "float32":
        settings["dtype"] = precision
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() != "tensorflow":
        # JAX compiles every step with XLA; without it, ops would run one by one.
        jit_compile = True
    task = registry.get_model(model, feature_spec=spec, jit_compile=jit_compile, **settings)
    rng = np.random.default_rng(seed)
    rows = []
    for batch in batch_sizes or shape.batch_sizes:
        try:
            rows.append(_measure_batch(task, shape, spec, batch, rng, repeats, min_seconds))
        except tf.errors.ResourceExhaustedError:
            # Larger batches need more memory still: say so, and stop here.
            rows.append({"batch_size": batch, "error": "out of memory"})
            break
    return rows, task, shape


def _measure_batch(task, shape, spec, batch, rng, repeats, min_seconds):
    features = spec.dummy_inputs(batch, seed=int(rng.integers(2**31)))
    row = {"batch_size": batch, "train_samples_per_sec": None, "jit": bool(task.jit_compile)}
    if batch > 1:
        targets = _targets(task, shape, features, batch, rng)
        row["train_samples_per_sec"] = _train_speed(
            task, features, targets, batch, repeats, min_seconds
        )
    latencies = _latencies(task, features, repeats, min_seconds)
    row["infer_samples_per_sec"] = round(batch / float(np.median(latencies)), 1)
    row["latency_ms_p50"] = round(_percentile(latencies, 50), 3)
    row["latency_ms_p99"] = round(_percentile(latencies, 99), 3)
    row["latency_calls"] = len(latencies)
    return row


def _train_speed(task, features, targets, batch, repeats, min_seconds):
    """Median examples/s over `repeats` windows of steps, each about
    `min_seconds` long, inside one `fit` call after a warm-up call: the cost
    of starting and ending `fit` (a fraction of a second under JAX, which
    copies every variable into and out of its training state) is left out,
    as it is from a real epoch of thousands of steps."""
    import keras
    import tensorflow as tf

    data = tf.data.Dataset.from_tensors((features, targets)).repeat()
    ends = []
    clock = keras.callbacks.LambdaCallback(on_train_batch_end=lambda step, logs: ends.append(
        _synced(logs)))  # fmt: skip
    # Warm-up: traces the train step, allocates optimizer slots, and times
    # the steps that size the windows.
    task.fit(data, steps_per_epoch=4, epochs=1, verbose=0, shuffle=False, callbacks=[clock])
    per_step = float(np.median(np.diff(ends[1:])))
    steps = max(2, math.ceil(min_seconds / max(per_step, 1e-6)))
    ends.clear()
    task.fit(data, steps_per_epoch=1 + repeats * steps, epochs=1, verbose=0, shuffle=False,
             callbacks=[clock])  # fmt: skip
    speeds = [steps * batch / (ends[(i + 1) * steps] - ends[i * steps]) for i in range(repeats)]
    return round(float(np.median(speeds)), 1)


def _synced(logs):
    """The time a step ended, once its loss is computed: JAX dispatches
    steps ahead of the device, so the loss is read first."""
    loss = (logs or {}).get("loss")
    if loss is not None:
        float(loss)
    return time.perf_counter()


def latency(task, batch=1, seed=0):
    """p50 and p99 milliseconds of `predict_on_batch` on `batch` random
    examples of the task's own features, over 100 calls after warm-up."""
    features = task.backbone.feature_spec.dummy_inputs(batch, seed=seed)
    times = _latencies(task, features, repeats=0, min_seconds=0.0)
    return round(_percentile(times, 50), 3), round(_percentile(times, 99), 3)


def _latencies(task, features, repeats, min_seconds):
    """Seconds of single `predict_on_batch` calls after warm-up: at least 100
    (so that p99 is a measured call, not an interpolation past the slowest),
    more while under `repeats * min_seconds` in all, at most 2,000."""
    for _ in range(3):
        task.predict_on_batch(features)
    latencies, budget = [], repeats * min_seconds
    while len(latencies) < 100 or (sum(latencies) < budget and len(latencies) < 2000):
        start = time.perf_counter()
        task.predict_on_batch(features)
        latencies.append(time.perf_counter() - start)
    return latencies
