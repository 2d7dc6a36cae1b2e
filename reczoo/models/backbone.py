"""`Backbone`: the base of every reczoo architecture."""

import keras

from reczoo.features import FeatureSpec


@keras.saving.register_keras_serializable(package="reczoo")
class Backbone(keras.Model):
    """A functional `keras.Model` from a feature dict to a representation.

    Subclasses build their layers, wire them into a functional graph over
    `feature_spec.keras_inputs()`, call `super().__init__(inputs=...,
    outputs=...)`, then keep their constructor arguments for `get_config`.
    The base class serializes the feature spec, so `from_config` rebuilds
    the backbone exactly. A backbone knows nothing of losses: a task
    (`Ranker`, ...) wraps it.
    """

    def __init__(self, *args, feature_spec=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.feature_spec = feature_spec

    def keep_tower_config(self, embedding, tower, activation):
        """Keeps the settings of a DNN tower and its embedding for get_config."""
        self.hidden_units = tower.hidden_units
        self.activation = activation
        self.dropout = tower.dropout
        self.batch_norm = tower.batch_norm
        self.embeddings_regularizer = embedding.embeddings_regularizer
        self.kernel_regularizer = tower.kernel_regularizer

    def tower_config(self):
        """The config entries kept by `keep_tower_config`."""
        return {
            "hidden_units": self.hidden_units,
            "activation": self.activation,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
            "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
        }

    def get_config(self):
        # Functional's own config describes the graph; a backbone rebuilds
        # from its constructor arguments instead, like keras-hub models.
        return {
            "name": self.name,
            "trainable": self.trainable,
            "feature_spec": self.feature_spec.get_config(),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["feature_spec"] = FeatureSpec.from_config(config["feature_spec"])
        return cls(**config)


def serialize_regularizer(regularizer):
    """A regularizer's config, or None; for backbones' `get_config`."""
    return None if regularizer is None else keras.regularizers.serialize(regularizer)
