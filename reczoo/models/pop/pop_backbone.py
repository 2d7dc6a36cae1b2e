"""Most-popular baseline: every user gets the items seen most in training."""

import keras
import numpy as np
from keras import ops

from reczoo.models.backbone import RankingBackbone


@keras.saving.register_keras_serializable(package="reczoo")
class ItemPopularity(keras.layers.Layer):
    """Looks up `log(1 + count)` of item ids in a non-trainable table."""

    def __init__(self, vocabulary_size, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = int(vocabulary_size)
        self.scores = self.add_weight(
            shape=(self.vocabulary_size,),
            initializer="zeros",
            trainable=False,
            name="scores",
        )

    def call(self, ids):
        ids = ops.cast(ids, "int32")
        if len(ids.shape) == 2 and ids.shape[-1] == 1:
            ids = ops.squeeze(ids, -1)
        ids = ops.where((ids >= 0) & (ids < self.vocabulary_size), ids, ops.zeros_like(ids))
        return ops.expand_dims(ops.take(self.scores, ids), -1)

    def get_config(self):
        config = super().get_config()
        config.update({"vocabulary_size": self.vocabulary_size})
        return config


@keras.saving.register_keras_serializable(package="reczoo")
class PopularityBackbone(RankingBackbone):
    """Scores an item by how often it occurs in the training data.

    The score is `log(1 + count)` of the item, the same for every user: the
    floor every personalised model must beat. Counts are set by `adapt`
    (like Keras preprocessing layers), not learned by `fit` (`fit_by =
    "adapt"`). Returns `{"logit": (batch, 1), "features": (batch, 1)}`, both
    the score.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with the item feature.
        item_feature: the name of the item id feature.
        dtype: the dtype policy of the model.

    Raises:
        ValueError: `feature_spec` lacks the item feature.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=16),
        ])
        model = reczoo.get_model("pop", feature_spec=spec)
        model.backbone.adapt(np.array([3, 3, 3, 4, 9]))  # the training interactions' items
        pairs = {"user_id": np.array([[1], [7]]), "item_id": np.array([[3], [4]])}
        scores = model.predict(pairs, verbose=0)  # (2, 1)
        ```

    Reference:
        Cremonesi, Koren, Turrin. Performance of Recommender Algorithms on
        Top-N Recommendation Tasks. RecSys 2010 (the TopPop baseline).
    """

    computes_logit = True
    fit_by = "adapt"

    def __init__(self, feature_spec, item_feature="item_id", dtype=None, **kwargs):
        # === Layers ===
        if item_feature is None:
            raise ValueError(
                "PopularityBackbone ranks items by their count, and this data names no item "
                "column: give a click log's item column (item= in load_table, --item_col)."
            )
        if item_feature not in feature_spec:
            raise ValueError(
                f"PopularityBackbone needs the item feature {item_feature!r}. "
                f"Received features: {feature_spec.names}"
            )
        item = feature_spec[item_feature]
        popularity = ItemPopularity(item.vocabulary_size, dtype=dtype, name="popularity")

        # === Functional model ===
        # Every feature stays an input so the model takes the same dict as others.
        inputs = feature_spec.keras_inputs()
        score = popularity(inputs[item_feature])
        super().__init__(
            inputs=inputs,
            outputs={"features": score, "logit": score},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.item_feature = item_feature
        self.popularity = popularity

    def adapt(self, items, weights=None):
        """Counts item ids (optionally weighted, such as by click labels)."""
        items = np.asarray(items).reshape(-1)
        counts = np.bincount(
            items, weights=None if weights is None else np.asarray(weights).reshape(-1),
            minlength=self.popularity.vocabulary_size,
        )[: self.popularity.vocabulary_size]  # fmt: skip
        counts[0] = 0
        self.popularity.scores.assign(np.log1p(counts).astype("float32"))

    def get_config(self):
        config = super().get_config()
        config.update({"item_feature": self.item_feature})
        return config
