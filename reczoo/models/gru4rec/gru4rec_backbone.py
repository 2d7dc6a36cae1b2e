"""GRU4Rec (Hidasi et al., 2016): a GRU over the session or history."""

import keras
from keras import ops

from reczoo.features import FeatureEmbedding
from reczoo.models.backbone import SequentialBackbone, serialize_regularizer


@keras.saving.register_keras_serializable(package="reczoo")
class GRU4RecBackbone(SequentialBackbone):
    """A GRU reads the item embeddings position by position.

    Padding (id 0) is masked, so the GRU state carries over it. Each
    position's hidden state is projected back to the embedding width, giving
    `{"sequence_output": (batch, length, dim)}`, states whose dot product with
    the item table scores the next item.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with the history `Sequence`.
        history_feature: the history's name.
        hidden_units: GRU width.
        num_layers: stacked GRU layers.
        dropout: dropout on the embeddings and between layers.
        embeddings_regularizer: regularizer of the item table.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Sequence("history", vocabulary_size=50, embedding_dim=16, max_length=10, table="item"),
        ])
        model = reczoo.get_model("gru4rec", feature_spec=spec, hidden_units=16)
        histories = np.array([[0, 0, 0, 0, 0, 0, 0, 3, 8, 5]])  # left-padded with 0
        top = model.recommend({"history": histories}, k=5)
        ```

    Reference:
        Hidasi et al. Session-based Recommendations with Recurrent Neural
        Networks. ICLR 2016; Hidasi & Karatzoglou. Recurrent Neural Networks
        with Top-k Gains for Session-based Recommendations. CIKM 2018
        (GRU4Rec+).
    """

    def __init__(
        self,
        feature_spec,
        history_feature="history",
        hidden_units=100,
        num_layers=1,
        dropout=0.2,
        embeddings_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        history = self.history_of(feature_spec, history_feature)
        embedding = FeatureEmbedding(
            feature_spec.subset([history_feature]),
            embeddings_initializer=keras.initializers.GlorotUniform(),
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype,
            name="feature_embedding",
        )
        input_dropout = keras.layers.Dropout(dropout, dtype=dtype, name="input_dropout")
        grus = [
            keras.layers.GRU(hidden_units, return_sequences=True, dtype=dtype, name=f"gru_{i}")
            for i in range(num_layers)
        ]
        between = [
            keras.layers.Dropout(dropout, dtype=dtype, name=f"dropout_{i}")
            for i in range(num_layers)
        ]
        projection = keras.layers.Dense(history.embedding_dim, dtype=dtype, name="projection")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        ids = inputs[history_feature]
        mask = ops.not_equal(ops.cast(ids, "int32"), 0)
        x = input_dropout(embedding({history_feature: ids})[history_feature])
        for gru, drop in zip(grus, between, strict=True):
            x = drop(gru(x, mask=mask))
        super().__init__(
            inputs=inputs,
            outputs={"sequence_output": projection(x)},
            feature_spec=feature_spec,
            history_feature=history_feature,
            embedding=embedding,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.hidden_units = hidden_units
        self.num_layers = num_layers
        self.dropout = dropout
        self.embeddings_regularizer = embedding.embeddings_regularizer

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_units": self.hidden_units,
                "num_layers": self.num_layers,
                "dropout": self.dropout,
                "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
            }
        )
        return config
