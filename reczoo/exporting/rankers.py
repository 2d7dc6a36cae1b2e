"""The SavedModel of a ranker trained on a dataset's ids and features (not
a click log under a schema: see `click_logs`): raw feature values in, the
model's score out."""

import inspect
import json

from reczoo import provenance
from reczoo.exporting.common import known_window, lookup_table


def feature_ranker_archive(task, vocabularies):
    """`(ExportArchive, description)` of a `Ranker` whose features are a
    dataset's columns.

    One signature, `score` (also `serving_default`), with one named input
    per feature the model reads: an id as its raw value (string [batch]), a
    bag or a history as raw values padded with "" (string [batch, any]), a
    number as float32 [batch, dim]. Unknown values go to the
    out-of-vocabulary row 0, as `FeatureSpec.check_inputs` would report.
    """
    import keras
    import tensorflow as tf

    spec = task.feature_spec
    keys = _vocabulary_keys(task, vocabularies or {})
    tables = {name: lookup_table(vocabularies[key]) for name, key in keys.items()}
    names = list(spec.names)

    def column(feature, raw):
        if feature.kind == "numerical":
            return tf.reshape(tf.cast(raw, tf.float32), [-1, feature.dim])
        if feature.kind == "categorical" and feature.hash_bins is not None:
            # The model hashes these itself.
            return raw if feature.dtype == "string" else tf.strings.to_number(raw, tf.int64)
        if feature.kind == "categorical":
            return tf.cast(tables[feature.name].lookup(raw), tf.int32)
        if feature.kind == "multi_hot":
            ids = tf.cast(tables[feature.name].lookup(raw), tf.int32)
            bag = tf.ragged.boolean_mask(ids, ids > 0)[:, : feature.max_length]
            return bag.to_tensor(0, shape=[None, feature.max_length])
        return known_window(tables[feature.name], raw, feature.max_length)[0]

    def score(*values):
        raw = dict(zip(names, values, strict=True))
        features = {f.name: column(f, raw[f.name]) for f in spec}
        return {"score": tf.reshape(tf.cast(task(features, training=False), tf.float32), [-1])}

    # Named parameters, so that the loaded function takes them by keyword.
    score.__signature__ = inspect.Signature(
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    )
    specs = [_input_spec(f) for f in spec]
    archive = keras.export.ExportArchive()
    archive.track(task)
    for table in tables.values():
        archive.track(table)
    archive.add_endpoint("score", tf.function(score, input_signature=specs), input_signature=None)
    return archive, _describe(task, specs, keys)


def _vocabulary_keys(task, vocabularies):
    """`{feature: vocabulary key}` of every id feature not hashed by the
    model: its own name, "user"/"item" for the id pair (and histories of
    items), "user.<name>"/"item.<name>" for side features."""
    try:
        user, item = task.pair_features
    except ValueError:
        user = item = None
    owners = {name: owner for name, (owner, _) in (getattr(task, "side_features", None)
                                                   or {}).items()}  # fmt: skip
    spec = task.feature_spec
    # A history made from interactions (DIN) shares the item's table.
    item_table = spec[item].table_name if item is not None and item in spec else None
    keys, missing = {}, []
    for feature in spec:
        if feature.kind == "numerical" or getattr(feature, "hash_bins", None) is not None:
            continue
        candidates = [feature.name]
        if feature.name == user:
            candidates.append("user")
        shared = item_table is not None and getattr(feature, "table_name", None) == item_table
        if feature.name == item or getattr(feature, "table", None) == "item" or shared:
            candidates.append("item")
        candidates += [f"{owners[feature.name]}.{feature.name}"] if feature.name in owners else []
        candidates += [f"user.{feature.name}", f"item.{feature.name}"]
        found = next((c for c in candidates if c in vocabularies), None)
        if found is None:
            missing.append(feature.name)
        keys[feature.name] = found
    if missing:
        raise ValueError(
            f"The export maps raw values, and has no vocabulary of {missing}: export a preset "
            f"saved by `reczoo train --output`, or pass `vocabularies=` (this model's: "
            f"{sorted(vocabularies) or 'none'})."
        )
    return keys


def _input_spec(feature):
    import tensorflow as tf

    if feature.kind == "numerical":
        shape = [None] if feature.dim == 1 else [None, feature.dim]
        return tf.TensorSpec(shape, tf.float32, name=feature.name)
    if feature.kind in ("multi_hot", "sequence"):
        return tf.TensorSpec([None, None], tf.string, name=feature.name)
    return tf.TensorSpec([None], tf.string, name=feature.name)


def _describe(task, specs, keys):
    meta = getattr(task, "preset_metadata", None) or {}
    inputs = {}
    for s in specs:
        kind = "float32" if s.dtype.name == "float32" else "string"
        shape = ", ".join("batch" if i == 0 else ("any" if d is None else str(d))
                          for i, d in enumerate(s.shape.as_list()))  # fmt: skip
        inputs[s.name] = f"{kind} [{shape}]"
    return json.dumps(
        {
            "kind": "ranker",
            "signatures": {"score": {"inputs": inputs, "outputs": {"score": "float32 [batch]"}}},
            "serving_default": "score",
            "vocabularies": keys,
            "model": meta.get("model"),
            "dataset": meta.get("dataset"),
            "versions": provenance.versions(),
        },
        indent=2,
    )
