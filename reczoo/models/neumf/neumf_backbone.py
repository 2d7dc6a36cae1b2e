"""NeuMF: GMF and an MLP over their own user and item embeddings, side by side."""

import dataclasses

import keras

from reczoo.features import FeatureEmbedding
from reczoo.layers import MLP
from reczoo.models.backbone import RankingBackbone, serialize_regularizer
from reczoo.models.gmf.gmf_backbone import pair_spec


@keras.saving.register_keras_serializable(package="reczoo")
class NeuMFBackbone(RankingBackbone):
    """The NeuMF of Neural Collaborative Filtering.

    Two pairs of embedding tables: GMF's (`gmf_embedding`), multiplied
    element-wise, and the MLP's (`mlp_embedding`), concatenated and run
    through a dense tower. Returns `{"features": [p_u * q_i, tower(...)]}`
    (batch, embedding_dim + hidden_units[-1]); `Ranker`'s output unit on it is
    the paper's fused prediction layer `h`. The MLP tables are
    `mlp_embedding_dim` wide, the GMF tables take the spec's width.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with categorical user and item
            features of one embedding width.
        user_feature: the name of the user id feature.
        item_feature: the name of the item id feature.
        hidden_units: widths of the MLP tower (the paper halves each layer).
        mlp_embedding_dim: width of the MLP's embeddings; default: the
            spec's width.
        activation: activation of the tower.
        dropout: dropout after each tower layer.
        embeddings_initializer: initializer of the four embedding tables
            (default: uniform in [-0.05, 0.05]; the NCF paper's is
            `RandomNormal(stddev=0.01)`).
        embeddings_regularizer: regularizer of the four embedding tables.
        kernel_regularizer: regularizer of the tower's kernels.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=16),
        ])
        model = reczoo.get_model("neumf", feature_spec=spec, hidden_units=[32, 16])
        pairs = {"user_id": np.array([[1], [7]]), "item_id": np.array([[3], [4]])}
        scores = model.predict(pairs, verbose=0)  # (2, 1)
        ```

    Reference:
        He et al. Neural Collaborative Filtering. WWW 2017 (Section 3.4).
    """

    def __init__(
        self,
        feature_spec,
        user_feature="user_id",
        item_feature="item_id",
        hidden_units=(64, 32, 16),
        mlp_embedding_dim=None,
        activation="relu",
        dropout=0.0,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        kernel_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        pair = pair_spec(feature_spec, user_feature, item_feature, "NeuMF")
        width = mlp_embedding_dim or pair[user_feature].embedding_dim
        mlp_pair = type(pair)([dataclasses.replace(f, embedding_dim=width) for f in pair])
        gmf_embedding = FeatureEmbedding(
            pair, output_mode="dict", embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype, name="gmf_embedding",
        )  # fmt: skip
        mlp_embedding = FeatureEmbedding(
            mlp_pair, output_mode="concat", embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype, name="mlp_embedding",
        )  # fmt: skip
        product = keras.layers.Multiply(dtype=dtype, name="gmf_product")
        tower = MLP(
            hidden_units,
            activation=activation,
            dropout=dropout,
            kernel_regularizer=kernel_regularizer,
            dtype=dtype,
            name="tower",
        )
        fuse = keras.layers.Concatenate(dtype=dtype, name="fuse")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        ids = {n: inputs[n] for n in (user_feature, item_feature)}
        gmf = gmf_embedding(ids)
        features = fuse(
            [product([gmf[user_feature], gmf[item_feature]]), tower(mlp_embedding(ids))]
        )
        super().__init__(
            inputs=inputs,
            outputs={"features": features},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.keep_tower_config(gmf_embedding, tower, activation)
        self.user_feature = user_feature
        self.item_feature = item_feature
        self.mlp_embedding_dim = mlp_embedding_dim
        self.embeddings_initializer = gmf_embedding.embeddings_initializer

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                **self.tower_config(),
                "user_feature": self.user_feature,
                "item_feature": self.item_feature,
                "mlp_embedding_dim": self.mlp_embedding_dim,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
            }
        )
        config.pop("batch_norm")
        config["embeddings_regularizer"] = serialize_regularizer(self.embeddings_regularizer)
        return config
