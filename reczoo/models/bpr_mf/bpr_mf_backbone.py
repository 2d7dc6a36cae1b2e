"""Matrix factorization: the dot product of a user's and an item's embeddings."""

import keras
from keras import ops

from reczoo.models.backbone import RankingBackbone
from reczoo.models.gmf.gmf_backbone import pair_config, pair_embedding


@keras.saving.register_keras_serializable(package="reczoo")
class MFBackbone(RankingBackbone):
    """Matrix factorization, the model BPR was introduced with.

    The score of (u, i) is `<p_u, q_i> + b_i`: the dot product of the user's
    and the item's embeddings plus, with `item_bias`, a learned bias per item
    (a user bias would cancel in BPR's difference of two items of one user).
    Returns `{"features": p_u * q_i, "logit": (batch, 1)}`; registered as
    `bpr_mf`, whose task trains on the BPR loss, and trains as well on log
    loss (`objective="binary"`). Other features of the spec are accepted as
    inputs and not used.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with categorical user and item
            features of one embedding width.
        user_feature: the name of the user id feature.
        item_feature: the name of the item id feature.
        item_bias: add a learned bias per item.
        embeddings_initializer: initializer of the embedding tables (default:
            uniform in [-0.05, 0.05]).
        embeddings_regularizer: regularizer of the embedding tables (BPR's
            lambda), the item biases included.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=16),
        ])
        model = reczoo.get_model("bpr_mf", feature_spec=spec)
        pairs = {"user_id": np.array([[1], [7]]), "item_id": np.array([[3], [4]])}
        scores = model.predict(pairs, verbose=0)  # (2, 1)
        ```

    References:
        Rendle et al. BPR: Bayesian Personalized Ranking from Implicit
        Feedback. UAI 2009. Rendle et al. Neural Collaborative Filtering vs.
        Matrix Factorization Revisited. RecSys 2020.
    """

    computes_logit = True

    def __init__(
        self,
        feature_spec,
        user_feature="user_id",
        item_feature="item_id",
        item_bias=True,
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
            "MF",
            embeddings_regularizer,
            dtype,
            embeddings_initializer,
        )
        product = keras.layers.Multiply(dtype=dtype, name="mf_product")
        bias = None
        if item_bias:
            bias = keras.layers.Embedding(
                feature_spec[item_feature].vocabulary_size,
                1,
                embeddings_initializer="zeros",
                embeddings_regularizer=embedding.embeddings_regularizer,
                dtype=dtype,
                name="item_bias",
            )
        dot = keras.layers.Dot(axes=-1, dtype=dtype, name="dot")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        vectors = embedding({n: inputs[n] for n in (user_feature, item_feature)})
        features = product([vectors[user_feature], vectors[item_feature]])
        logit = dot([vectors[user_feature], vectors[item_feature]])
        if bias is not None:
            ids = ops.reshape(embedding.ids(inputs, item_feature), (-1,))
            logit = keras.layers.Add(dtype=dtype, name="add_bias")([logit, bias(ids)])
        super().__init__(
            inputs=inputs,
            outputs={"features": features, "logit": logit},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.user_feature = user_feature
        self.item_feature = item_feature
        self.item_bias = item_bias
        self.embeddings_initializer = embedding.embeddings_initializer
        self.embeddings_regularizer = embedding.embeddings_regularizer
        self.embedding = embedding

    def get_config(self):
        return {**super().get_config(), **pair_config(self), "item_bias": self.item_bias}
