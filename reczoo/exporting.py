"""Export a trained model as a TensorFlow SavedModel (`reczoo.export`): a
retriever answering raw ids, or a ranker trained on a click log scoring raw
column values. (The module is `exporting`: a module named `export` would be
shadowed by, and would shadow, the function `reczoo.export`.)

A retriever's SavedModel holds the query tower, every catalogue item's vector and the
vocabularies, and needs TensorFlow alone (not reczoo, not Keras) to serve:

- `recommend(user_id)`: raw user ids (strings) in; the `k` best items'
  raw ids and scores out. A known user's features are the ones recorded at
  training; an unknown user is answered from the out-of-vocabulary row.
- `recommend_features(user_id, <query features>...)`: the same for users
  described by their raw features (strings), new users included.

A ranker's SavedModel (trained on a click log under a schema) has one
signature, `score(<each column it reads>)`: raw values in (strings; bags
joined by their separator; numbers as float32), a probability per row out.

Example:

```python
reczoo.export("two_tower_preset", "two_tower_savedmodel", k=10)
```

and, in any TensorFlow process:

```python
served = tf.saved_model.load("two_tower_savedmodel")
out = served.recommend(tf.constant(["1", "42"]))
out["items"], out["scores"]
```
"""

import inspect
from pathlib import Path

import numpy as np

from reczoo import provenance
from reczoo.presets import check_output


def export(model, output, k=100, overwrite=False, vocabularies=None):
    """Writes `model` (a `Retriever`, or a preset folder or name holding one)
    as a SavedModel in `output`.

    Args:
        model: a trained `Retriever` with its catalogue and users recorded
            (`reczoo.run` records them; presets keep them), or a preset.
        output: a new (or empty) folder; with `overwrite`, an existing one
            is replaced only once the export is complete.
        k: how many items each query gets.
        overwrite: replace a non-empty `output`.
        vocabularies: raw values of ids (`{"user": [...], "item": [...],
            "user.<feature>": [...]}`); default: the model's (a preset's).

    Returns:
        The output path.
    """

    import keras

    from reczoo.models.ranker import Ranker
    from reczoo.presets import from_preset

    check_output(output, overwrite=overwrite)
    if keras.backend.backend() != "tensorflow":
        return _export_on_tensorflow(model, output, k, overwrite, vocabularies)
    task = model if isinstance(model, keras.Model) else from_preset(model)
    schema = (getattr(task, "preset_metadata", None) or {}).get("schema")
    if isinstance(task, Ranker) and schema and schema["columns"] and _is_click_log(schema):
        archive, description = _ranker_archive(task, vocabularies or task.vocabularies, schema)
    else:
        vocabularies = _check_exportable(task, vocabularies)
        vectors = task.candidate_embeddings()[1:]
        k = min(int(k), len(vectors))
        archive, query_names, feature_tables = _archive(task, vocabularies, vectors, k)
        description = _describe(task, k, query_names, feature_tables)
    output = Path(output)
    from absl import logging as absl_logging

    verbosity = absl_logging.get_verbosity()
    # TensorFlow logs every renamed input and shard at INFO while writing.
    absl_logging.set_verbosity(absl_logging.WARNING)
    try:
        with provenance.staged_folder(output, overwrite=overwrite) as staging:
            archive.write_out(str(staging), verbose=False)
            (staging / "reczoo_export.json").write_text(description)
    finally:
        absl_logging.set_verbosity(verbosity)
    return output


def _export_on_tensorflow(model, output, k, overwrite, vocabularies):
    """The export of a model trained under another backend (JAX): a SavedModel
    is a TensorFlow graph, so a TensorFlow-backend process rebuilds the model
    from its preset (weights are backend-free) and writes it. A model in
    memory is first saved as a preset in a temporary folder."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    import keras

    from reczoo.presets import save_to_preset

    with tempfile.TemporaryDirectory(prefix="reczoo-export-") as tmp:
        preset = model
        if isinstance(model, keras.Model):
            preset = save_to_preset(
                model, Path(tmp) / "preset", metadata=getattr(model, "preset_metadata", None),
                vocabularies=vocabularies or model.vocabularies,
            )  # fmt: skip
        request = Path(tmp) / "request.json"
        request.write_text(json.dumps({
            "model": str(preset), "output": str(output), "k": int(k),
            "overwrite": bool(overwrite), "vocabularies": vocabularies,
        }))  # fmt: skip
        env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
        done = subprocess.run(
            [sys.executable, "-m", "reczoo.exporting", str(request)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        # The child's error, as the same type where it is a usage error.
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        kind, _, message = (lines[-1] if lines else "").partition(": ")
        known = {e.__name__: e for e in (ValueError, FileNotFoundError, FileExistsError)}
        if kind in known:
            raise known[kind](message)
        raise RuntimeError(
            "The export (in a TensorFlow-backend process, as a SavedModel needs) failed: "
            + (lines[-1] if lines else f"exit status {done.returncode}")
        )
    return Path(output)


def _check_exportable(task, vocabularies):
    """The vocabularies to export `task` with; a task that cannot be
    exported is refused, naming what it lacks."""
    from reczoo.models.retrieval import Retriever

    if not isinstance(task, Retriever):
        raise ValueError(
            f"reczoo export writes retrievers (two_tower, youtube_dnn) and rankers trained on "
            f"a click log; this model is a {type(task).__name__} "
            f"({type(task.backbone).__name__}) trained on interactions."
        )
    vocabularies = vocabularies or task.vocabularies or {}
    missing = [n for n in ("user", "item") if n not in vocabularies]
    if missing:
        raise ValueError(
            f"The export maps raw ids, and needs the {missing} vocabularies: export a preset "
            "saved by `reczoo train --output`, or pass `vocabularies=`."
        )
    if "history" in task.backbone.query_features:
        raise ValueError(
            "This retriever's query tower reads a watch history, which the SavedModel "
            "would need as input: export two_tower models."
        )
    if task.candidates is None or task.queries is None:
        raise ValueError(
            "The export needs the catalogue and the users' features that `reczoo.run` "
            "records (`set_candidates`, `set_queries`)."
        )
    return vocabularies


def _archive(task, vocabularies, vectors, k):
    """The `ExportArchive` of the query tower, the lookups of raw ids and the
    catalogue: `(archive, query feature names, feature lookup tables)`."""
    import keras
    import tensorflow as tf

    backbone = task.backbone
    items = np.asarray(vocabularies["item"][1 : len(vectors) + 1], dtype=object).astype(str)
    tower = backbone.query_tower
    query_names = list(backbone.query_features)
    queries = {n: np.asarray(v) for n, v in task.queries.items()}

    def lookup(values):
        keys = np.asarray(values[1:], dtype=object).astype(str)
        ids = np.arange(1, len(values), dtype="int64")
        return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, ids), 0)

    user_table = lookup(vocabularies["user"])
    feature_tables = {}
    for name in query_names:
        if name == "user_id":
            continue
        key = f"user.{name}"
        if key not in vocabularies:
            raise ValueError(f"No vocabulary {key!r} to map the raw {name!r} values.")
        feature_tables[name] = lookup(vocabularies[key])

    candidate_vectors = tf.constant(vectors, dtype=tf.float32)
    item_ids = tf.constant(items)
    known_rows = len(next(iter(queries.values())))

    def top(features):
        query = tf.cast(tower(features, training=False), tf.float32)
        scores, rows = tf.math.top_k(tf.matmul(query, candidate_vectors, transpose_b=True), k=k)
        return {"items": tf.gather(item_ids, rows), "scores": scores}

    def recommend(user_id):
        ids = tf.cast(user_table.lookup(user_id), tf.int32)
        ids = tf.where(ids < known_rows, ids, tf.zeros_like(ids))
        features = {n: tf.gather(tf.constant(queries[n]), ids) for n in query_names}
        return top(features)

    def recommend_features(**raw):
        features = {"user_id": tf.cast(user_table.lookup(raw["user_id"]), tf.int32)}
        for name, table in feature_tables.items():
            features[name] = tf.cast(table.lookup(raw[name]), tf.int32)
        return top({n: features[n] for n in query_names})

    archive = keras.export.ExportArchive()
    archive.track(tower)
    for table in (user_table, *feature_tables.values()):
        archive.track(table)
    string = tf.TensorSpec([None], tf.string)
    archive.add_endpoint(
        "recommend", tf.function(recommend, input_signature=[string]), input_signature=None
    )
    names = ["user_id", *feature_tables]

    def by_features(*values):
        return recommend_features(**dict(zip(names, values, strict=True)))

    # Named parameters, so that the loaded function takes them by keyword.
    by_features.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    )

    archive.add_endpoint(
        "recommend_features",
        tf.function(
            by_features, input_signature=[tf.TensorSpec([None], tf.string, name=n) for n in names]
        ),
        input_signature=None,
    )
    return archive, query_names, feature_tables


def _describe(task, k, query_names, feature_tables):
    import json

    meta = getattr(task, "preset_metadata", None) or {}
    return json.dumps(
        {
            "signatures": {
                "recommend": {"inputs": {"user_id": "string [batch]"}},
                "recommend_features": {
                    "inputs": dict.fromkeys(["user_id", *feature_tables], "string [batch]")
                },
                "outputs": {"items": f"string [batch, {k}]", "scores": f"float32 [batch, {k}]"},
            },
            "query_features": query_names,
            "k": k,
            "model": meta.get("model"),
            "dataset": meta.get("dataset"),
            "versions": provenance.versions(),
        },
        indent=2,
    )


def _is_click_log(schema):
    return any(c.get("role") == "label" if isinstance(c, dict) else c == "label"
               for c in schema["columns"].values())  # fmt: skip


def _ranker_archive(task, vocabularies, schema_config):
    """A ranker trained on a click log as a SavedModel endpoint `score`:
    each column the model reads as raw values in (categorical and bag
    columns as strings, bags joined by their separator; numerical columns as
    float32), the probability out. Values are mapped as `reczoo predict`
    maps them: the preset's vocabularies (unknown: id 0), its hashing, its
    fitted transforms."""
    import keras
    import tensorflow as tf

    raw = _RawColumns(task, vocabularies, schema_config)
    names = [f.name for f in task.feature_spec]

    def score(*values):
        features = raw.features(dict(zip(names, values, strict=True)))
        return {"score": tf.reshape(task(features, training=False), [-1])}

    # Named parameters, so that the loaded function takes them by keyword.
    score.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    )
    archive = keras.export.ExportArchive()
    archive.track(task)
    for lookup in raw.tables.values():
        archive.track(lookup)
    specs = [tf.TensorSpec([None], raw.dtype(n), name=n) for n in names]
    archive.add_endpoint("score", tf.function(score, input_signature=specs), input_signature=None)
    return archive, _ranker_description(task, raw, names)


class _RawColumns:
    """Raw column values to a ranker's inputs, in TensorFlow ops: ids through
    the preset's vocabularies or its hashing, numbers through its transforms."""

    def __init__(self, task, vocabularies, schema_config):
        import tensorflow as tf

        from reczoo.datasets.schema import Schema

        self.spec = task.feature_spec
        self.fitted = (task.preset_metadata or {}).get("schema_fitted") or {}
        self.columns = {c.name: c for c in Schema.from_dict(schema_config).table.columns}
        unsupported = [f.name for f in self.spec if self.columns.get(f.name) is None
                       or self.columns[f.name].role == "sequence"]  # fmt: skip
        if unsupported:
            raise ValueError(f"The SavedModel takes the click log's own columns; {unsupported} "
                             "are not (side-table or sequence columns): score with `reczoo "
                             "predict`.")  # fmt: skip
        self.tables = {}
        for feature in self.spec:
            column = self.columns[feature.name]
            if column.role != "numerical" and not column.hash_buckets:
                values = vocabularies[feature.name]
                keys = np.asarray(values[1:], dtype=object).astype(str)
                ids = np.arange(1, len(values), dtype="int64")
                initializer = tf.lookup.KeyValueTensorInitializer(keys, ids)
                self.tables[feature.name] = tf.lookup.StaticHashTable(initializer, 0)

    def dtype(self, name):
        import tensorflow as tf

        # Numerical columns take raw numbers, bucketized or not.
        return tf.float32 if self.columns[name].role == "numerical" else tf.string

    def ids(self, name, values):
        import tensorflow as tf

        buckets = self.columns[name].hash_buckets
        if buckets:
            hashed = tf.strings.to_hash_bucket_fast(values, buckets) + 1
            return tf.cast(tf.where(values == "", tf.zeros_like(hashed), hashed), tf.int32)
        return tf.cast(self.tables[name].lookup(values), tf.int32)

    def number(self, name, value):
        import tensorflow as tf

        state = self.fitted.get(name, {})
        if self.columns[name].transform == "log1p":
            value = tf.math.log1p(tf.maximum(value, 0.0))
        elif state.get("transform") == "standardize":
            value = (value - state["mean"]) / state["std"]
        elif state.get("transform") == "bucketize":
            edges = tf.constant(state["edges"], tf.float64)
            bins = tf.searchsorted(edges, tf.cast(value, tf.float64), side="right")
            return tf.cast(bins + 1, tf.int32)
        return tf.reshape(tf.cast(value, tf.float32), [-1, 1])

    def features(self, raw):
        import tensorflow as tf

        out = {}
        for feature in self.spec:
            name, column = feature.name, self.columns[feature.name]
            if column.role == "numerical":
                out[name] = self.number(name, raw[name])
            elif feature.kind == "multi_hot":
                tokens = tf.strings.split(raw[name], column.separator)
                tokens = tf.ragged.boolean_mask(tokens, tokens != "")
                bag = tf.ragged.map_flat_values(lambda t, name=name: self.ids(name, t), tokens)
                width = feature.max_length
                out[name] = bag[:, :width].to_tensor(0, shape=[None, width])
            else:
                out[name] = self.ids(name, raw[name])
        return out


def _ranker_description(task, raw, names):
    import json

    import tensorflow as tf

    meta = getattr(task, "preset_metadata", None) or {}
    inputs = {n: ("float32" if raw.dtype(n) == tf.float32 else "string") + " [batch]"
              for n in names}  # fmt: skip
    return json.dumps(
        {
            "signatures": {"score": {"inputs": inputs, "outputs": {"score": "float32 [batch]"}}},
            "bags": {n: raw.columns[n].separator for n in names if raw.columns[n].role == "multi"},
            "model": meta.get("model"),
            "dataset": meta.get("dataset"),
            "schema_sha256": meta.get("schema_sha256"),
            "versions": provenance.versions(),
        },
        indent=2,
    )


if __name__ == "__main__":
    # `python -m reczoo.exporting REQUEST.json`: the export of a preset, in the
    # TensorFlow-backend process `_export_on_tensorflow` starts.
    import json
    import sys

    from reczoo.terminal import import_tensorflow

    import_tensorflow()
    _request = json.loads(Path(sys.argv[1]).read_text())
    try:
        export(**_request)
    except Exception as _error:
        print(f"{type(_error).__name__}: {' '.join(str(_error).split())}", file=sys.stderr)
        sys.exit(1)
