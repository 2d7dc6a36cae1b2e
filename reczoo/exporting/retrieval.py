"""The SavedModel of a retriever: raw user ids (or raw user features) in,
the `k` best items' raw ids and scores out."""

import inspect
import json

import numpy as np

from reczoo import provenance
from reczoo.exporting.common import check_vocabularies, lookup_table


def retriever_archive(task, vocabularies, k):
    """`(ExportArchive, description)` of a `Retriever` whose catalogue and
    users are recorded: `recommend(user_id)` (also `serving_default`) and
    `recommend_features(user_id, <query features>...)`."""
    vocabularies = _check_exportable(task, vocabularies)
    vectors = task.candidate_embeddings()[1:]
    k = min(int(k), len(vectors))
    archive, query_names, feature_tables = _archive(task, vocabularies, vectors, k)
    return archive, _describe(task, k, query_names, feature_tables)


def _check_exportable(task, vocabularies):
    """The vocabularies to export `task` with; a task that cannot be
    exported is refused, naming what it lacks."""
    vocabularies = vocabularies or task.vocabularies or {}
    check_vocabularies(vocabularies, ["user", "item"], task)
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

    user_table = lookup_table(vocabularies["user"])
    feature_tables = {}
    for name in query_names:
        if name == "user_id":
            continue
        key = f"user.{name}"
        if key not in vocabularies:
            raise ValueError(f"No vocabulary {key!r} to map the raw {name!r} values.")
        feature_tables[name] = lookup_table(vocabularies[key])

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
    meta = getattr(task, "preset_metadata", None) or {}
    return json.dumps(
        {
            "kind": "retriever",
            "signatures": {
                "recommend": {"inputs": {"user_id": "string [batch]"}},
                "recommend_features": {
                    "inputs": dict.fromkeys(["user_id", *feature_tables], "string [batch]")
                },
                "outputs": {"items": f"string [batch, {k}]", "scores": f"float32 [batch, {k}]"},
            },
            "serving_default": "recommend",
            "query_features": query_names,
            "k": k,
            "model": meta.get("model"),
            "dataset": meta.get("dataset"),
            "versions": provenance.versions(),
        },
        indent=2,
    )
