"""The first-order (linear) term of factorization models."""

import dataclasses

import keras
from keras import ops

from reczoo.features import FeatureEmbedding, FeatureSpec, Numerical


@keras.saving.register_keras_serializable(package="reczoo")
class FeatureLinear(keras.layers.Layer):
    """`w0 + sum_i w_i x_i` over all features: a logistic-regression logit.

    Id features get one weight per id (width-1 embeddings of the same tables,
    shared where the spec shares tables); numerical features one weight per
    value. Returns (batch, 1).

    Args:
        feature_spec: a `reczoo.FeatureSpec`.
        regularizer: regularizer of the weights.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=8),
            reczoo.Numerical("price"),
        ])
        linear = reczoo.layers.FeatureLinear(spec)
        linear({"item": np.array([[3], [4]]), "price": np.array([[1.0], [2.5]])}).shape  # (2, 1)
        ```
    """

    def __init__(self, feature_spec, regularizer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(feature_spec, FeatureSpec):
            feature_spec = FeatureSpec.from_config(feature_spec)
        self.feature_spec = feature_spec
        self.regularizer = keras.regularizers.get(regularizer)
        width_one = FeatureSpec(
            [
                f if isinstance(f, Numerical) else dataclasses.replace(f, embedding_dim=1)
                for f in feature_spec
            ]
        )
        self.weights_embedding = FeatureEmbedding(
            width_one,
            output_mode="stack",
            embeddings_initializer="zeros",
            embeddings_regularizer=self.regularizer,
            dtype=self.dtype_policy,
            name="weights",
        )

    def build(self, input_shape=None):
        self.weights_embedding.build()
        self.bias = self.add_weight(shape=(1,), initializer="zeros", name="bias")
        self.built = True

    def call(self, inputs):
        return ops.sum(self.weights_embedding(inputs), axis=1) + self.bias

    def compute_output_shape(self, input_shape):
        return (None, 1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "feature_spec": self.feature_spec.get_config(),
                "regularizer": keras.regularizers.serialize(self.regularizer)
                if self.regularizer is not None
                else None,
            }
        )
        return config
