"""Factorization machine (Rendle, 2010)."""

import keras
from keras import ops

from reczoo.features import FeatureEmbedding
from reczoo.layers import FeatureLinear, FMInteraction
from reczoo.models.backbone import RankingBackbone, serialize_regularizer


@keras.saving.register_keras_serializable(package="reczoo")
class FMBackbone(RankingBackbone):
    """Factorization machine: bias, linear term and pairwise interactions.

    `y = w0 + sum_i w_i x_i + sum_{i<j} <v_i, v_j> x_i x_j`, with one field per
    feature: id features contribute their embedding `v_i` (and weight `w_i`),
    numerical features their value times a learned vector. Returns
    `{"logit": (batch, 1), "features": (batch, fields * dim)}`, the features
    being the flattened field embeddings.

    Args:
        feature_spec: a `reczoo.FeatureSpec`; all id features share one
            embedding width (the factor dimension).
        embeddings_regularizer: regularizer of the factor tables.
        linear_regularizer: regularizer of the first-order weights.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=16),
            reczoo.Categorical("daytime", vocabulary_size=8, embedding_dim=16),
        ])
        model = reczoo.get_model("fm", feature_spec=spec)
        rows = {"user": np.array([[1], [7]]), "item": np.array([[3], [4]]),
                "daytime": np.array([[2], [5]])}
        model.fit(rows, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
        probabilities = model.predict(rows, verbose=0)  # (2, 1)
        ```

    Reference:
        Rendle. Factorization Machines. ICDM 2010.
    """

    computes_logit = True

    def __init__(
        self,
        feature_spec,
        embeddings_regularizer=None,
        linear_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        embedding = FeatureEmbedding(
            feature_spec,
            output_mode="stack",
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype,
            name="feature_embedding",
        )
        linear = FeatureLinear(
            feature_spec, regularizer=linear_regularizer, dtype=dtype, name="linear"
        )
        interaction = FMInteraction(dtype=dtype, name="fm_interaction")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        fields = embedding(inputs)
        logit = linear(inputs) + interaction(fields)
        features = ops.reshape(fields, (-1, fields.shape[1] * fields.shape[2]))
        super().__init__(
            inputs=inputs,
            outputs={"features": features, "logit": logit},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.embeddings_regularizer = embedding.embeddings_regularizer
        self.linear_regularizer = linear.regularizer

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
                "linear_regularizer": serialize_regularizer(self.linear_regularizer),
            }
        )
        return config
