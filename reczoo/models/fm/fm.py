"""Factorization machine (Rendle, 2010)."""

import dataclasses

import keras
from keras import ops

from reczoo.features import FeatureEmbedding, Numerical
from reczoo.layers import FMInteraction
from reczoo.models.backbone import Backbone


@keras.saving.register_keras_serializable(package="reczoo")
class FMBackbone(Backbone):
    """Factorization machine: bias, linear term and pairwise interactions.

    `y = w0 + sum_i w_i x_i + sum_{i<j} <v_i, v_j> x_i x_j`, with one field per
    feature: id features contribute their embedding `v_i` (and weight `w_i`),
    numerical features their value times a learned vector. The output is the
    logit, shape (batch, 1).

    Args:
        feature_spec: a `reczoo.FeatureSpec`; all id features share one
            embedding width (the factor dimension).
        embeddings_regularizer: regularizer of the factor tables.
        linear_regularizer: regularizer of the first-order weights.

    Example:

    ```python
    backbone = reczoo.models.FMBackbone(spec)
    ranker = reczoo.models.Ranker(backbone)
    ```

    Reference:
        Rendle. Factorization Machines. ICDM 2010.
    """

    def __init__(
        self,
        feature_spec,
        embeddings_regularizer=None,
        linear_regularizer=None,
        **kwargs,
    ):
        # === Layers ===
        embedding = FeatureEmbedding(
            feature_spec,
            output_mode="stack",
            embeddings_regularizer=embeddings_regularizer,
            name="feature_embedding",
        )
        # First-order weights are width-1 embeddings of the same tables.
        linear_spec = type(feature_spec)(
            [
                f if isinstance(f, Numerical) else dataclasses.replace(f, embedding_dim=1)
                for f in feature_spec
            ]
        )
        linear = FeatureEmbedding(
            linear_spec,
            output_mode="stack",
            embeddings_initializer="zeros",
            embeddings_regularizer=linear_regularizer,
            name="linear_embedding",
        )
        interaction = FMInteraction(name="fm_interaction")
        bias = keras.layers.Dense(1, name="bias", kernel_initializer="zeros")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        first_order = ops.sum(linear(inputs), axis=1)
        second_order = interaction(embedding(inputs))
        # A dense layer on a constant holds the global bias w0 as a weight.
        logit = bias(ops.ones_like(first_order)) + first_order + second_order
        super().__init__(inputs=inputs, outputs=logit, feature_spec=feature_spec, **kwargs)

        # === Config ===
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)
        self.linear_regularizer = keras.regularizers.get(linear_regularizer)
        self.embedding = embedding

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embeddings_regularizer": _serialize(self.embeddings_regularizer),
                "linear_regularizer": _serialize(self.linear_regularizer),
            }
        )
        return config


def _serialize(regularizer):
    return None if regularizer is None else keras.regularizers.serialize(regularizer)
