"""BERT4Rec (Sun et al., 2019): bidirectional self-attention over a masked history."""

import keras
from keras import ops

from reczoo.features import FeatureEmbedding
from reczoo.layers import PositionEmbedding, TransformerBlock
from reczoo.models.backbone import SequentialBackbone, serialize_regularizer


@keras.saving.register_keras_serializable(package="reczoo")
class BERT4RecBackbone(SequentialBackbone):
    """Bidirectional transformer over a history, trained to fill masked items.

    Item embeddings plus learned position embeddings, layer-normalised and
    dropped out, pass through `num_blocks` post-norm transformer blocks
    (multi-head self-attention over every real position, before and after,
    then a GELU feed-forward network of width `4 * dim`, each with dropout,
    a residual and layer normalisation), then BERT's output transform (a
    dense GELU layer and layer normalisation). `{"sequence_output": (batch,
    length, dim)}`: the state of each position, scored against the item
    table (tied embeddings).

    Training hides a share (`mask_probability`) of each history's items
    behind the mask token (the item table's last row) and predicts them
    (the cloze task; `NextItemPlan` draws the masks each epoch); the next
    item is the prediction at a mask token appended after the history
    (`predicts_masked`).

    Args:
        feature_spec: a `reczoo.FeatureSpec` with the history `Sequence`,
            its vocabulary counting the mask token (items `1..n`, token
            `n + 1`).
        history_feature: the history's name.
        num_blocks: transformer blocks.
        num_heads: attention heads.
        dropout: dropout on embeddings, attention weights and sublayers.
        mask_probability: share of items masked in training.
        embeddings_regularizer: regularizer of the item table.
        dtype: the dtype policy of every layer.

    Raises:
        ValueError: `mask_probability` outside (0, 1), or an embedding width
            that `num_heads` does not divide.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            # items 1..49 and the mask token, 50
            reczoo.Sequence("history", vocabulary_size=51, embedding_dim=16, max_length=10, table="item"),
        ])
        model = reczoo.get_model("bert4rec", feature_spec=spec)
        histories = np.array([[0, 0, 0, 0, 0, 0, 0, 3, 8, 5]])  # left-padded with 0
        top = model.recommend({"history": histories}, k=5)
        ```

    Reference:
        Sun et al. BERT4Rec: Sequential Recommendation with Bidirectional
        Encoder Representations from Transformer. CIKM 2019.
    """

    uses_mask_token = True
    predicts_masked = True

    def __init__(
        self,
        feature_spec,
        history_feature="history",
        num_blocks=2,
        num_heads=2,
        dropout=0.2,
        mask_probability=0.2,
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
        if not 0.0 < mask_probability < 1.0:
            raise ValueError(f"`mask_probability` must be in (0, 1). Received: {mask_probability}")
        embedding = FeatureEmbedding(
            feature_spec.subset([history_feature]),
            embeddings_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype,
            name="feature_embedding",
        )
        positions = PositionEmbedding(length, dtype=dtype, name="position_embedding")
        input_norm = keras.layers.LayerNormalization(epsilon=1e-12, dtype=dtype, name="input_norm")
        input_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="input_dropout")

        blocks = [
            TransformerBlock(
                dim,
                num_heads,
                ffn_dim=4 * dim,
                dropout=dropout,
                causal=False,
                norm="post",
                activation="gelu",
                epsilon=1e-12,
                attention_projection=True,
                hidden_dropout=False,
                dtype=dtype,
                name=f"block_{i}",
            )
            for i in range(num_blocks)
        ]
        transform = keras.layers.Dense(dim, activation="gelu", dtype=dtype, name="output_transform")
        output_norm = keras.layers.LayerNormalization(
            epsilon=1e-12, dtype=dtype, name="output_norm"
        )

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        ids = inputs[history_feature]
        mask = ops.not_equal(ops.cast(ids, "int32"), 0)
        x = input_dropout(input_norm(positions(embedding({history_feature: ids})[history_feature])))
        for block in blocks:
            x = block(x, mask=mask)
        super().__init__(
            inputs=inputs,
            outputs={"sequence_output": output_norm(transform(x))},
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
        self.mask_probability = float(mask_probability)
        self.embeddings_regularizer = embedding.embeddings_regularizer

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_blocks": self.num_blocks,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "mask_probability": self.mask_probability,
                "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
            }
        )
        return config
