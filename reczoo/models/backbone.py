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
