"""Helpers shared by the test modules."""

import keras
import numpy as np

import reczoo


def assert_config_round_trip(instance):
    """`get_config` -> `from_config` -> `get_config` gives the same config, and
    the Keras serializer rebuilds the same class."""
    config = instance.get_config()
    rebuilt = type(instance).from_config(config)
    assert rebuilt.get_config() == config
    if isinstance(instance, keras.layers.Layer):
        again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(instance))
        assert type(again) is type(instance)
        assert again.get_config() == config
    return rebuilt


def tiny_spec(dim=4):
    """A spec with one feature of every kind and a shared table."""
    return reczoo.FeatureSpec(
        [
            reczoo.Categorical("user_id", 11, dim),
            reczoo.Categorical("item_id", 21, dim, table="item"),
            reczoo.Sequence("history", 21, dim, max_length=5, table="item"),
            reczoo.MultiHot("genres", 7, dim, max_length=3),
            reczoo.Numerical("age"),
        ]
    )


def tiny_batch(spec, n=16, seed=0):
    features = spec.dummy_inputs(n, seed=seed)
    labels = np.random.default_rng(seed).integers(0, 2, size=(n, 1)).astype("float32")
    return features, labels


def tiny_labels(model, features, seed=0):
    """Labels a registered model's task trains on, for a tiny batch."""
    rng = np.random.default_rng(seed)
    if isinstance(model, reczoo.NextItem):
        history = features[model.backbone.history_feature]
        # Items, never a mask token (the table's last row where there is one).
        top = model.num_scored
        if len(model.output.shape) == 2:
            return rng.integers(1, top, size=(len(history),))
        # The next item of each position: the history shifted left by one.
        shifted = np.where(history[:, 1:] < top, history[:, 1:], 1)
        return np.concatenate([shifted, rng.integers(1, top, size=(len(history), 1))], 1)
    if isinstance(model, reczoo.Retriever):
        # The positives' item ids.
        return np.asarray(features[model.backbone.candidate_id_feature]).reshape(-1)
    n = len(next(iter(features.values())))
    if getattr(model, "objective", None) == "bpr":
        # Pairs of rows: a positive, then a negative.
        return np.tile([1.0, 0.0], n // 2).reshape(-1, 1).astype("float32")
    return rng.integers(0, 2, size=(n, 1)).astype("float32")
