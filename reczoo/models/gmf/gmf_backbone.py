"""Generalized matrix factorization: the element-wise product of a user's and
an item's embeddings."""

import keras

from reczoo.features import FeatureEmbedding, FeatureSpec
from reczoo.models.backbone import RankingBackbone, serialize_regularizer


def pair_spec(feature_spec, user_feature, item_feature, model):
    """The user and item features of `feature_spec`, as a spec of their own;
    an error naming what is missing."""
    missing = [n for n in (user_feature, item_feature) if n not in feature_spec]
    if missing:
        raise ValueError(
            f"{model} scores (user, item) pairs and needs the features {missing}. "
            f"Received features: {feature_spec.names}; set `user_feature` and "
            "`item_feature` to the names your spec uses."
        )
    pair = FeatureSpec([feature_spec[user_feature], feature_spec[item_feature]])
    if any(f.kind != "categorical" for f in pair):
        raise ValueError(
            f"{model} needs categorical user and item ids. Received: "
            f"{[(f.name, f.kind) for f in pair]}"
        )
    if len({f.embedding_dim for f in pair}) != 1:
        raise ValueError(
            f"{model} multiplies the user and item embeddings element-wise, so they need "
            f"one width. Received: {[(f.name, f.embedding_dim) for f in pair]}"
        )
    return pair


def pair_embedding(feature_spec, user_feature, item_feature, model, embeddings_regularizer=None,
                   dtype=None, embeddings_initializer="uniform"):  # fmt: skip
    """One `FeatureEmbedding` (dict output, named `feature_embedding`) of the
    user and item features of `feature_spec`, checked by `pair_spec`."""
    return FeatureEmbedding(
        pair_spec(feature_spec, user_feature, item_feature, model),
        output_mode="dict",
        embeddings_initializer=embeddings_initializer,
        embeddings_regularizer=embeddings_regularizer,
        dtype=dtype,
        name="feature_embedding",
    )


def pair_config(backbone):
    """The config entries of a backbone built on `pair_embedding`."""
    return {
        "user_feature": backbone.user_feature,
        "item_feature": backbone.item_feature,
        "embeddings_initializer": keras.initializers.serialize(backbone.embeddings_initializer),
        "embeddings_regularizer": serialize_regularizer(backbone.embeddings_regularizer),
    }


@keras.saving.register_keras_serializable(package="reczoo")
class GMFBackbone(RankingBackbone):
    """The GMF of Neural Collaborative Filtering.

    Embeds the user and the item and returns their element-wise product,
    `{"features": p_u * q_i}` (batch, embedding_dim); `Ranker` puts the
    output unit `h` on it, so the score is `sigmoid(h^T (p_u * q_i))`. With
    `h` fixed to ones this is plain matrix factorization. Other features of
    the spec are accepted as inputs and not used.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with categorical user and item
            features of one embedding width.
        user_feature: the name of the user id feature.
        item_feature: the name of the item id feature.
        embeddings_initializer: initializer of the embedding tables (default:
            uniform in [-0.05, 0.05]; the NCF paper's is
            `RandomNormal(stddev=0.01)`).
        embeddings_regularizer: regularizer of the two embedding tables.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=16),
        ])
        model = reczoo.get_model("gmf", feature_spec=spec)
        pairs = {"user_id": np.array([[1], [7]]), "item_id": np.array([[3], [4]])}
        scores = model.predict(pairs, verbose=0)  # (2, 1)
        ```

    Reference:
        He et al. Neural Collaborative Filtering. WWW 2017 (Section 3.2).
    """

    def __init__(
        self,
        feature_spec,
        user_feature="user_id",
        item_feature="item_id",
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        embedding = pair_embedding(
            feature_spec,
            user_feature,
            item_feature,
            "GMF",
            embeddings_regularizer,
            dtype,
            embeddings_initializer,
        )
        product = keras.layers.Multiply(dtype=dtype, name="gmf_product")

        # === Functional model ===
        # Every feature stays an input so the model takes the same dict as others.
        inputs = feature_spec.keras_inputs()
        vectors = embedding({n: inputs[n] for n in (user_feature, item_feature)})
        super().__init__(
            inputs=inputs,
            outputs={"features": product([vectors[user_feature], vectors[item_feature]])},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.user_feature = user_feature
        self.item_feature = item_feature
        self.embeddings_initializer = embedding.embeddings_initializer
        self.embeddings_regularizer = embedding.embeddings_regularizer
        self.embedding = embedding

    def get_config(self):
        return {**super().get_config(), **pair_config(self)}
