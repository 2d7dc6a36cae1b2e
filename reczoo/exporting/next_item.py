"""The SavedModel of a next-item model: a raw history in, the `k` best
unseen items' raw ids and scores out."""

import json

import numpy as np

from reczoo import provenance
from reczoo.exporting.common import check_vocabularies, known_window, lookup_table, raw_ids


def next_item_archive(task, vocabularies, k):
    """`(ExportArchive, description)` of a `NextItem` task.

    One signature, `recommend(history[, user_id])` (also `serving_default`):
    `history` is a (batch, any length) string tensor of raw item ids, oldest
    first, padded on the right with `""`; unknown ids are left out. The
    model reads each row's last `max_length` known items, as
    `NextItem.recommend` does, and never recommends an item of the row.
    Models that also read a user id (Caser) take `user_id` (raw, [batch]).
    """
    import keras
    import tensorflow as tf

    backbone = task.backbone
    user = backbone.user_feature
    check_vocabularies(vocabularies, ["item", *(["user"] if user else [])], task)
    scored = task.num_scored
    k = min(int(k), scored - 1)
    history = backbone.history_feature
    length = task.feature_spec[history].max_length
    items = tf.constant(raw_ids(vocabularies["item"], scored))
    item_table = lookup_table(vocabularies["item"][:scored])
    user_table = lookup_table(vocabularies["user"]) if user else None

    def recommend(history_ids, user_ids=None):
        window, known = known_window(item_table, history_ids, length)
        if backbone.predicts_masked:
            # The item after the history, at a mask token appended after it.
            token = tf.fill([tf.shape(window)[0], 1], backbone.mask_token)
            window = tf.concat([window[:, 1:], token], axis=1)
        features = {history: window}
        if user:
            features[user] = tf.cast(user_table.lookup(user_ids), tf.int32)
        states = tf.cast(task(features, training=False), tf.float32)
        if backbone.per_position:
            states = states[:, -1]
        table = tf.cast(task.item_embedding.embeddings[:scored], tf.float32)
        scores = tf.matmul(states, table, transpose_b=True)
        # Never the padding row, nor an item of the history.
        rows = tf.cast(known.value_rowids(), tf.int32)
        seen = tf.stack([rows, known.flat_values], axis=1)
        scores = tf.tensor_scatter_nd_update(scores, seen, tf.fill(tf.shape(rows), -np.inf))
        scores = tf.concat([tf.fill([tf.shape(scores)[0], 1], -np.inf), scores[:, 1:]], axis=1)
        top = tf.math.top_k(scores, k=k)
        return {"items": tf.gather(items, top.indices), "scores": top.values}

    specs = [tf.TensorSpec([None, None], tf.string, name="history")]
    if user:
        specs.append(tf.TensorSpec([None], tf.string, name="user_id"))

        def endpoint(history, user_id):
            return recommend(history, user_id)
    else:

        def endpoint(history):
            return recommend(history)

    archive = keras.export.ExportArchive()
    archive.track(task)
    for table in (item_table, user_table):
        if table is not None:
            archive.track(table)
    archive.add_endpoint("recommend", tf.function(endpoint, input_signature=specs),
                         input_signature=None)  # fmt: skip
    inputs = {"history": "string [batch, any length], oldest first, '' pads"}
    if user:
        inputs["user_id"] = "string [batch]"
    return archive, _describe(task, k, inputs)


def _describe(task, k, inputs):
    meta = getattr(task, "preset_metadata", None) or {}
    return json.dumps(
        {
            "kind": "next_item",
            "signatures": {
                "recommend": {
                    "inputs": inputs,
                    "outputs": {"items": f"string [batch, {k}]", "scores": f"float32 [batch, {k}]"},
                },
            },
            "serving_default": "recommend",
            "max_length": task.feature_spec[task.backbone.history_feature].max_length,
            "k": k,
            "model": meta.get("model"),
            "dataset": meta.get("dataset"),
            "versions": provenance.versions(),
        },
        indent=2,
    )
