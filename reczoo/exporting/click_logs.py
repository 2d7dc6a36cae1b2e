"""The SavedModel of a ranker trained on a click log under a schema: the
log's raw column values in, as the schema reads them, the probability out."""

import inspect
import json

from reczoo import provenance
from reczoo.exporting.common import lookup_table


def is_click_log(schema):
    return any(c.get("role") == "label" if isinstance(c, dict) else c == "label"
               for c in schema["columns"].values())  # fmt: skip


def ranker_archive(task, vocabularies, schema_config):
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
                self.tables[feature.name] = lookup_table(vocabularies[feature.name])

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
    import tensorflow as tf

    meta = getattr(task, "preset_metadata", None) or {}
    inputs = {n: ("float32" if raw.dtype(n) == tf.float32 else "string") + " [batch]"
              for n in names}  # fmt: skip
    return json.dumps(
        {
            "kind": "ranker",
            "signatures": {"score": {"inputs": inputs, "outputs": {"score": "float32 [batch]"}}},
            "serving_default": "score",
            "bags": {n: raw.columns[n].separator for n in names if raw.columns[n].role == "multi"},
            "model": meta.get("model"),
            "dataset": meta.get("dataset"),
            "schema_sha256": meta.get("schema_sha256"),
            "versions": provenance.versions(),
        },
        indent=2,
    )
