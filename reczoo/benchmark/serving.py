"""Latency and throughput of an exported SavedModel, beside the Keras model
answering the same question.

The model is built on a throughput shape (`reczoo.benchmark.throughput.SHAPES`:
real feature shapes, synthetic values and ids), exported with `reczoo.export`
(raw ids are the ids' decimal strings), loaded with `tf.saved_model.load` and
called through its `serving_default` signature on raw values, as TensorFlow
Serving calls it (without the server's network and batching). The Keras side
answers the same question from integer ids: a ranker's `predict_on_batch`, a
next-item model's `recommend(histories, k)` with seen items left out, a
retriever's `recommend(users, k)`.
"""

import tempfile
import time

import numpy as np

from reczoo import registry

SERVED_BATCHES = (1, 64, 1024)
K = 10


def measure_served(model, shape_name, batch_sizes=SERVED_BATCHES, seed=0, k=K, min_seconds=3.0):
    """Rows of `(runtime, batch)`: `runtime` is `"keras"` or `"savedmodel"`,
    each with `latency_ms_p50`, `latency_ms_p99` (over at least 100 calls
    after warm-up, more while under `min_seconds` of calls) and
    `infer_samples_per_sec` (the batch over the median call). Returns
    `(rows, task, shape)`."""
    import keras
    import tensorflow as tf

    from reczoo.benchmark.throughput import SHAPES
    from reczoo.exporting import export

    if shape_name not in SHAPES:
        raise ValueError(f"Unknown shape {shape_name!r}. Known shapes: {', '.join(SHAPES)}.")
    shape = SHAPES[shape_name]
    entry = registry.model_info(model)
    spec = shape.spec(uses_user=entry.kind == "next_item" and entry.backbone.uses_user)
    keras.utils.set_random_seed(seed)
    task = registry.get_model(model, feature_spec=spec)
    _describe_catalogue(task, entry.kind, spec)
    rows = []
    with tempfile.TemporaryDirectory(prefix="reczoo-served-") as folder:
        served = tf.saved_model.load(str(export(task, f"{folder}/export", k=k)))
        signature = served.signatures["serving_default"]
        rng = np.random.default_rng(seed)
        for batch in batch_sizes:
            features = spec.dummy_inputs(batch, seed=int(rng.integers(2**31)))
            raw = _raw_request(entry.kind, spec, features, signature)
            calls = {
                "keras": _keras_call(task, entry.kind, features, k),
                "savedmodel": lambda raw=raw: signature(**raw),
            }
            for runtime, call in calls.items():
                seconds = timed_calls(call, seconds=min_seconds)
                rows.append({
                    "runtime": runtime, "batch_size": batch,
                    "latency_ms_p50": round(1000 * float(np.percentile(seconds, 50)), 3),
                    "latency_ms_p99": round(1000 * float(np.percentile(seconds, 99)), 3),
                    "infer_samples_per_sec": round(batch / float(np.median(seconds)), 1),
                    "latency_calls": len(seconds),
                    "call": _CALLS[entry.kind][runtime].format(k=k),
                })  # fmt: skip
    return rows, task, shape


_CALLS = {
    "ranking": {"keras": "predict_on_batch", "savedmodel": "score"},
    "next_item": {"keras": "recommend(histories, k={k})", "savedmodel": "recommend (k={k})"},
    "retrieval": {"keras": "recommend(users, k={k})", "savedmodel": "recommend (k={k})"},
}


def timed_calls(call, least=100, most=2000, seconds=3.0):
    """Seconds of single calls after three warm-up calls: at least `least`
    (so that p99 is a measured call), more while under `seconds` in all."""
    for _ in range(3):
        call()
    out = []
    while len(out) < least or (sum(out) < seconds and len(out) < most):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def _vocabulary(size):
    return ["[PAD]", *(str(i) for i in range(1, size))]


def _describe_catalogue(task, kind, spec):
    """Raw ids for every id (its decimal string) and, for a retriever, the
    catalogue and the users that the export reads."""
    if kind == "ranking":
        task.vocabularies = {f.name: _vocabulary(f.vocabulary_size) for f in spec
                             if f.kind != "numerical"}  # fmt: skip
        return
    if kind == "next_item":
        users = spec["user_id"].vocabulary_size if "user_id" in spec else 2
        task.vocabularies = {"item": _vocabulary(task.num_scored), "user": _vocabulary(users)}
        return
    users, items = spec["user_id"].vocabulary_size, spec["item_id"].vocabulary_size
    task.vocabularies = {"user": _vocabulary(users), "item": _vocabulary(items)}
    task.set_candidates({"item_id": np.arange(items)})
    task.set_queries({"user_id": np.arange(users)})


def _raw_request(kind, spec, features, signature):
    """The signature's inputs for `features` (integer ids) as raw values."""
    import tensorflow as tf

    def strings(ids, padding):
        text = np.asarray(ids).astype(str).astype(object)
        if padding:
            text[np.asarray(ids) == 0] = ""
        return tf.constant(text.astype(str))

    if kind == "retrieval":
        return {"user_id": strings(np.maximum(features["user_id"], 1), False)}
    specs = signature.structured_input_signature[1]
    out = {}
    for name in specs:
        value = features[name]
        if specs[name].dtype == tf.string:
            out[name] = strings(value, spec[name].kind in ("sequence", "multi_hot"))
        else:
            shape = (len(value), *specs[name].shape[1:])
            out[name] = tf.constant(np.asarray(value, "float32").reshape(shape))
    return out


def _keras_call(task, kind, features, k):
    if kind == "ranking":
        return lambda: task.predict_on_batch(features)
    if kind == "next_item":
        return lambda: task.recommend(features if len(features) > 1 else features["history"], k=k)
    users = np.maximum(features["user_id"], 1)
    return lambda: task.recommend(users, k=k, exclude_seen=False)
