"""A deep neural network over concatenated feature embeddings."""

import keras

from reczoo.features import FeatureEmbedding
from reczoo.layers import MLP
from reczoo.models.backbone import RankingBackbone


@keras.saving.register_keras_serializable(package="reczoo")
class MLPBackbone(RankingBackbone):
    """Embeds every feature, concatenates, and runs a dense tower.

    Returns `{"features": (batch, hidden_units[-1])}`, the last hidden layer;
    `Ranker` adds the output unit. With user and item ids alone this is the MLP of
    Neural Collaborative Filtering; with context features, the plain DNN
    baseline of CTR benchmarks.

    Args:
        feature_spec: a `reczoo.FeatureSpec`.
        hidden_units: widths of the tower's layers.
        activation: activation of the tower.
        dropout: dropout after each tower layer.
        batch_norm: batch normalisation in each tower layer.
        embeddings_regularizer: regularizer of the embedding tables.
        kernel_regularizer: regularizer of the tower's kernels.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=16),
            reczoo.Categorical("daytime", vocabulary_size=8, embedding_dim=16),
        ])
        model = reczoo.get_model("mlp", feature_spec=spec, hidden_units=[64, 32])
        rows = {"user": np.array([[1], [7]]), "item": np.array([[3], [4]]),
                "daytime": np.array([[2], [5]])}
        model.fit(rows, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
        probabilities = model.predict(rows, verbose=0)  # (2, 1)
        ```

    Reference:
        He et al. Neural Collaborative Filtering. WWW 2017 (the MLP model);
        Covington et al. Deep Neural Networks for YouTube Recommendations.
        RecSys 2016.
    """

    def __init__(
        self,
        feature_spec,
        hidden_units=(256, 128, 64),
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
            output_mode="concat",
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype,
            name="feature_embedding",
        )
        tower = MLP(
            hidden_units,
            activation=activation,
            dropout=dropout,
            batch_norm=batch_norm,
            kernel_regularizer=kernel_regularizer,
            dtype=dtype,
            name="tower",
        )

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        super().__init__(
            inputs=inputs,
            outputs={"features": tower(embedding(inputs))},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.keep_tower_config(embedding, tower, activation)
        self.embedding = embedding

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                **self.tower_config(),
            }
        )
        return config
