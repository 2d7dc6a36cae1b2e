"""DeepFM (Guo et al., 2017): a factorization machine and a DNN on shared embeddings."""

import keras
from keras import ops

from reczoo.features import FeatureEmbedding
from reczoo.layers import MLP, FeatureLinear, FMInteraction
from reczoo.models.backbone import RankingBackbone


@keras.saving.register_keras_serializable(package="reczoo")
class DeepFMBackbone(RankingBackbone):
    """FM and a deep tower reading the same field embeddings.

    `logit = w0 + sum_i w_i x_i + sum_{i<j} <v_i, v_j> + DNN([v_1, ..., v_n])`:
    the FM part models low-order interactions explicitly, the DNN high-order
    ones implicitly, with no feature engineering and one embedding table per
    feature. Returns `{"logit": (batch, 1), "features": (batch,
    hidden_units[-1])}`, the features being the DNN's last hidden layer.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with one embedding width.
        hidden_units: widths of the DNN.
        activation: the DNN's activation.
        dropout: dropout after each DNN layer.
        batch_norm: batch normalisation in each DNN layer.
        embeddings_regularizer: regularizer of the embedding tables and the
            first-order weights.
        kernel_regularizer: regularizer of the DNN's kernels.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=16),
            reczoo.Categorical("daytime", vocabulary_size=8, embedding_dim=16),
        ])
        model = reczoo.get_model("deepfm", feature_spec=spec, hidden_units=[64, 64])
        rows = {"user": np.array([[1], [7]]), "item": np.array([[3], [4]]),
                "daytime": np.array([[2], [5]])}
        model.fit(rows, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
        probabilities = model.predict(rows, verbose=0)  # (2, 1)
        ```

    Reference:
        Guo et al. DeepFM: A Factorization-Machine based Neural Network for CTR
        Prediction. IJCAI 2017.
    """

    computes_logit = True

    def __init__(
        self,
        feature_spec,
        hidden_units=(400, 400, 400),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        embeddings_regularizer=None,
        kernel_regularizer=None,
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
            feature_spec, regularizer=embeddings_regularizer, dtype=dtype, name="linear"
        )
        interaction = FMInteraction(dtype=dtype, name="fm_interaction")
        tower = MLP(
            hidden_units,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            kernel_regularizer=kernel_regularizer,
            dtype=dtype,
            name="dnn",
        )
        dnn_logit = keras.layers.Dense(
            1, kernel_regularizer=kernel_regularizer, dtype=dtype, name="dnn_logit"
        )

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        fields = embedding(inputs)
        flat = ops.reshape(fields, (-1, fields.shape[1] * fields.shape[2]))
        hidden = tower(flat)
        logit = linear(inputs) + interaction(fields) + dnn_logit(hidden)
        super().__init__(
            inputs=inputs,
            outputs={"features": hidden, "logit": logit},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.keep_tower_config(embedding, tower, activation)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                **self.tower_config(),
            }
        )
        return config
