"""xDeepFM (Lian et al., 2018): linear term, CIN and DNN."""

import keras
from keras import ops

from reczoo.features import FeatureEmbedding
from reczoo.layers import CIN, MLP, FeatureLinear
from reczoo.models.backbone import RankingBackbone


@keras.saving.register_keras_serializable(package="reczoo")
class XDeepFMBackbone(RankingBackbone):
    """A linear term, a compressed interaction network and a DNN, summed.

    The CIN models bounded-degree interactions explicitly at the vector
    level; the DNN implicitly. Returns `{"logit": (batch, 1), "features": (batch,
    hidden_units[-1])}`, the features being the DNN's last hidden layer.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with one embedding width.
        cin_layer_sizes: feature maps per CIN layer.
        hidden_units: widths of the DNN.
        activation: the DNN's activation.
        dropout: dropout after each DNN layer.
        batch_norm: batch normalisation in each DNN layer.
        embeddings_regularizer: regularizer of the embeddings and linear weights.
        kernel_regularizer: regularizer of the DNN's kernels.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=16),
            reczoo.Categorical("daytime", vocabulary_size=8, embedding_dim=16),
        ])
        model = reczoo.get_model("xdeepfm", feature_spec=spec, cin_layer_sizes=[8, 8], hidden_units=[64])
        rows = {"user": np.array([[1], [7]]), "item": np.array([[3], [4]]),
                "daytime": np.array([[2], [5]])}
        model.fit(rows, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
        probabilities = model.predict(rows, verbose=0)  # (2, 1)
        ```

    Reference:
        Lian et al. xDeepFM: Combining Explicit and Implicit Feature
        Interactions for Recommender Systems. KDD 2018.
    """

    computes_logit = True

    def __init__(
        self,
        feature_spec,
        cin_layer_sizes=(100, 100),
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
        cin = CIN(cin_layer_sizes, dtype=dtype, name="cin")
        cin_logit = keras.layers.Dense(1, dtype=dtype, name="cin_logit")
        tower = MLP(
            hidden_units,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            kernel_regularizer=kernel_regularizer,
            dtype=dtype,
            name="dnn",
        )
        dnn_logit = keras.layers.Dense(1, dtype=dtype, name="dnn_logit")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        fields = embedding(inputs)
        flat = ops.reshape(fields, (-1, fields.shape[1] * fields.shape[2]))
        hidden = tower(flat)
        logit = linear(inputs) + cin_logit(cin(fields)) + dnn_logit(hidden)
        super().__init__(
            inputs=inputs,
            outputs={"features": hidden, "logit": logit},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.cin_layer_sizes = cin.layer_sizes
        self.keep_tower_config(embedding, tower, activation)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "cin_layer_sizes": self.cin_layer_sizes,
                **self.tower_config(),
            }
        )
        return config
