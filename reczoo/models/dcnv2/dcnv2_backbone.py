"""DCN-v2 (Wang et al., 2021): a cross network beside or before a DNN."""

import keras
import keras_rs

from reczoo.features import FeatureEmbedding
from reczoo.layers import MLP
from reczoo.models.backbone import RankingBackbone

_STRUCTURES = ("parallel", "stacked")


@keras.saving.register_keras_serializable(package="reczoo")
class DCNv2Backbone(RankingBackbone):
    """Cross layers `x_{l+1} = x_0 * (W x_l + b) + x_l` and a DNN.

    The cross layers are keras-rs `FeatureCross` (full-rank `W`, or the
    low-rank `U V` with `projection_dim`). With `structure="parallel"` the
    cross network and the DNN both read the concatenated embeddings and
    their outputs are concatenated; with `"stacked"` the DNN reads the
    cross network's output. Returns `{"features": ...}`, that last
    representation; `Ranker` adds the output unit.

    Args:
        feature_spec: a `reczoo.FeatureSpec`.
        num_cross_layers: cross layers.
        projection_dim: rank of the low-rank cross kernels; None for full rank.
        structure: `"parallel"` or `"stacked"`.
        hidden_units: widths of the DNN.
        activation: the DNN's activation.
        dropout: dropout after each DNN layer.
        batch_norm: batch normalisation in each DNN layer.
        embeddings_regularizer: regularizer of the embedding tables.
        kernel_regularizer: regularizer of the DNN's kernels.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Raises:
        ValueError: an unknown `structure`.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=16),
            reczoo.Categorical("daytime", vocabulary_size=8, embedding_dim=16),
        ])
        model = reczoo.get_model("dcnv2", feature_spec=spec, hidden_units=[64, 64])
        rows = {"user": np.array([[1], [7]]), "item": np.array([[3], [4]]),
                "daytime": np.array([[2], [5]])}
        model.fit(rows, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
        probabilities = model.predict(rows, verbose=0)  # (2, 1)
        ```

    Reference:
        Wang et al. DCN V2: Improved Deep & Cross Network and Practical
        Lessons for Web-scale Learning to Rank Systems. WWW 2021.
    """

    def __init__(
        self,
        feature_spec,
        num_cross_layers=3,
        projection_dim=None,
        structure="parallel",
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
        if structure not in _STRUCTURES:
            raise ValueError(
                f"`structure` must be one of {_STRUCTURES}. Received: structure={structure!r}"
            )
        embedding = FeatureEmbedding(
            feature_spec,
            output_mode="concat",
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype,
            name="feature_embedding",
        )
        crosses = [
            keras_rs.layers.FeatureCross(
                projection_dim=projection_dim, dtype=dtype, name=f"cross_{i}"
            )
            for i in range(num_cross_layers)
        ]
        tower = MLP(
            hidden_units,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            kernel_regularizer=kernel_regularizer,
            dtype=dtype,
            name="dnn",
        )

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        x0 = embedding(inputs)
        x = x0
        for cross in crosses:
            x = cross(x0, x)
        if structure == "parallel":
            outputs = keras.layers.Concatenate(dtype=dtype, name="cross_and_deep")([x, tower(x0)])
        else:
            outputs = tower(x)
        super().__init__(
            inputs=inputs,
            outputs={"features": outputs},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.num_cross_layers = num_cross_layers
        self.projection_dim = projection_dim
        self.structure = structure
        self.keep_tower_config(embedding, tower, activation)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_cross_layers": self.num_cross_layers,
                "projection_dim": self.projection_dim,
                "structure": self.structure,
                **self.tower_config(),
            }
        )
        return config
