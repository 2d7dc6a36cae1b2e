"""SASRec (Kang & McAuley, 2018): causal self-attention over a user's history."""

import math

import keras
from keras import ops

from reczoo.features import FeatureEmbedding
from reczoo.layers import PositionEmbedding, TransformerBlock
from reczoo.models.backbone import SequentialBackbone, serialize_regularizer


@keras.saving.register_keras_serializable(package="reczoo")
class SASRecBackbone(SequentialBackbone):
    """Self-attentive sequential recommendation.

    Item embeddings (scaled by `sqrt(dim)`) plus learned position embeddings
    pass through `num_blocks` `TransformerBlock`s of causal multi-head
    self-attention and a point-wise feed-forward network, each with layer
    normalisation on its input, a residual connection from that normalised
    input (`norm="sasrec"`, as in the paper's code; `norm="pre"` adds the
    unnormalised input) and dropout; padding
    positions are zeroed after every block. Position t attends to positions up to t only, so
    `{"sequence_output": (batch, length, dim)}` holds, at each position, the
    state that predicts the next item. Scores are dot products with the same
    item table.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with the history `Sequence`.
        history_feature: the history's name.
        num_blocks: attention blocks.
        num_heads: attention heads (they split the embedding width).
        dropout: dropout on the embeddings, attention weights and FFN.
        norm: the blocks' layer normalisation (`TransformerBlock`):
            `"sasrec"` (the paper's code) or `"pre"` (both residuals add the
            block's unnormalised input).
        embeddings_regularizer: regularizer of the item table.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Raises:
        ValueError: an embedding width that `num_heads` does not divide.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Sequence("history", vocabulary_size=50, embedding_dim=16, max_length=10, table="item"),
        ])
        model = reczoo.get_model("sasrec", feature_spec=spec)
        histories = np.array([[0, 0, 0, 0, 0, 0, 0, 3, 8, 5]])  # left-padded with 0
        top = model.recommend({"history": histories}, k=5)
        ```

    Reference:
        Kang & McAuley. Self-Attentive Sequential Recommendation. ICDM 2018.
    """

    def __init__(
        self,
        feature_spec,
        history_feature="history",
        num_blocks=2,
        num_heads=1,
        dropout=0.5,
        norm="sasrec",
        embeddings_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        history = self.history_of(feature_spec, history_feature)
        dim, length = history.embedding_dim, history.max_length
        if dim % num_heads:
            raise ValueError(
                f"The embedding width must be a multiple of num_heads. Received: "
                f"embedding_dim={dim}, num_heads={num_heads}"
            )
        embedding = FeatureEmbedding(
            feature_spec.subset([history_feature]),
            embeddings_initializer=keras.initializers.GlorotUniform(),
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype,
            name="feature_embedding",
        )
        # A layer, not `x * scale`: Keras 3.15 infers KerasTensor * float as sparse.
        scale = keras.layers.Rescaling(math.sqrt(dim), dtype=dtype, name="embedding_scale")
        positions = PositionEmbedding(length, dtype=dtype, name="position_embedding")
        input_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="input_dropout")
        blocks = [
            TransformerBlock(
                dim,
                num_heads,
                dropout=dropout,
                causal=True,
                norm=norm,
                epsilon=1e-8,
                dtype=dtype,
                name=f"block_{i}",
            )
            for i in range(num_blocks)
        ]
        final_norm = keras.layers.LayerNormalization(epsilon=1e-8, dtype=dtype, name="final_norm")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        ids = inputs[history_feature]
        mask = ops.not_equal(ops.cast(ids, "int32"), 0)
        x = positions(scale(embedding({history_feature: ids})[history_feature]))
        keep = ops.expand_dims(ops.cast(mask, x.dtype), -1)
        x = input_dropout(x) * keep
        for block in blocks:
            x = block(x, mask=mask)
        super().__init__(
            inputs=inputs,
            outputs={"sequence_output": final_norm(x)},
            feature_spec=feature_spec,
            history_feature=history_feature,
            embedding=embedding,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.num_blocks = num_blocks
        self.num_heads = num_heads
        self.dropout = dropout
        self.norm = norm
        self.embeddings_regularizer = embedding.embeddings_regularizer

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_blocks": self.num_blocks,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "norm": self.norm,
                "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
            }
        )
        return config
