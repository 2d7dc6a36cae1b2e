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
