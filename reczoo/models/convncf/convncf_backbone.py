"""ConvNCF: convolutions over the outer product of the user and item embeddings."""

import math

import keras

from reczoo.layers import OuterProductMap, PatchConv2D
from reczoo.models.backbone import RankingBackbone, serialize_regularizer
from reczoo.models.gmf.gmf_backbone import pair_config, pair_embedding


@keras.saving.register_keras_serializable(package="reczoo")
class ConvNCFBackbone(RankingBackbone):
    """The ConvNCF of Outer Product-based Neural Collaborative Filtering.

    The outer product of the user's and the item's embeddings, a (d, d) map
    (`OuterProductMap`), goes through `log2(d)` convolutions of 2x2 kernels
    with stride 2 and `channels` filters each, ReLU, which halve the map
    down to 1x1: each of the last layer's units sees every pair of embedding
    dimensions. The windows tile the map, so each convolution runs as one
    matrix product of its patches (`PatchConv2D`, the weights of `Conv2D`). Returns `{"features": (batch, channels)}`; `Ranker`'s output
    unit on it is the paper's prediction layer. Registered as `convncf`, whose
    task trains on the BPR loss, as the paper does.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with categorical user and item
            features of one embedding width, a power of two (the paper: 64).
        user_feature: the name of the user id feature.
        item_feature: the name of the item id feature.
        channels: filters of every convolution (the paper: 32).
        embeddings_initializer: initializer of the embedding tables (default:
            uniform in [-0.05, 0.05]).
        embeddings_regularizer: regularizer of the embedding tables.
        kernel_regularizer: regularizer of the convolution kernels.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Raises:
        ValueError: an embedding width that is not a power of two (the
            interaction map is halved down to 1x1).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=16),
        ])
        model = reczoo.get_model("convncf", feature_spec=spec, channels=8)
        pairs = {"user_id": np.array([[1], [7]]), "item_id": np.array([[3], [4]])}
        scores = model.predict(pairs, verbose=0)  # (2, 1)
        ```

    Reference:
        He et al. Outer Product-based Neural Collaborative Filtering. IJCAI
        2018 (Section 3).
    """

    def __init__(
        self,
        feature_spec,
        user_feature="user_id",
        item_feature="item_id",
        channels=32,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        kernel_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        embedding = pair_embedding(
            feature_spec,
            user_feature,
            item_feature,
            "ConvNCF",
            embeddings_regularizer,
            dtype,
            embeddings_initializer,
        )
        dim = feature_spec[user_feature].embedding_dim
        depth = round(math.log2(dim)) if dim > 1 else 0
        if dim < 2 or 2**depth != dim:
            raise ValueError(
                "ConvNCF halves the (dim, dim) interaction map down to 1x1, so the "
                f"embedding width must be a power of two of at least 2. Received: {dim}"
            )
        outer = OuterProductMap(dtype=dtype, name="interaction_map")
        # Each 2x2, stride-2 window is a patch of its own: `PatchConv2D` runs
        # the convolution as one matrix product (the same weights as Conv2D).
        convolutions = [
            PatchConv2D(
                channels,
                kernel_size=2,
                strides=2,
                activation="relu",
                kernel_regularizer=kernel_regularizer,
                dtype=dtype,
                name=f"conv_{i}",
            )
            for i in range(depth)
        ]
        flatten = keras.layers.Flatten(dtype=dtype, name="flatten")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        vectors = embedding({n: inputs[n] for n in (user_feature, item_feature)})
        x = outer([vectors[user_feature], vectors[item_feature]])
        for conv in convolutions:
            x = conv(x)
        super().__init__(
            inputs=inputs,
            outputs={"features": flatten(x)},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.user_feature = user_feature
        self.item_feature = item_feature
        self.channels = channels
        self.embeddings_initializer = embedding.embeddings_initializer
        self.embeddings_regularizer = embedding.embeddings_regularizer
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.embedding = embedding

    def get_config(self):
        return {
            **super().get_config(),
            **pair_config(self),
            "channels": self.channels,
            "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
        }
