"""Deep Interest Network (Zhou et al., 2018): target attention over behaviour."""

import keras
from keras import ops

from reczoo.features import FeatureEmbedding, Sequence
from reczoo.features.embedding import masked_pool
from reczoo.layers import MLP, TargetAttention
from reczoo.models.backbone import RankingBackbone


@keras.saving.register_keras_serializable(package="reczoo")
class DINBackbone(RankingBackbone):
    """Pools a user's history by its relevance to the target item.

    The history (a `Sequence` sharing the target's table) is summed with
    weights from `TargetAttention`, so the user's interest representation
    changes with the candidate. It is concatenated with every other
    feature's embedding (other sequences mean-pooled) and read by a DNN.
    Returns `{"features": ...}`, the DNN's last hidden layer; `Ranker` adds
    the output unit.

    On interactions (`reczoo train --model=din --data_file=ratings.csv
    ...`, or `reczoo.run`) the history comes from the data, under a
    leave-last-out protocol: each training pair reads its user's items
    before the positive, each evaluated candidate the user's items before
    the held-out one, the last `max_length` (default 50). A click log
    brings its own (a column with the role `sequence`).

    Args:
        feature_spec: a `reczoo.FeatureSpec` with the target and history.
        target_feature: the candidate item's id feature.
        history_feature: the behaviour sequence, sharing the target's table.
        attention_units: widths of the attention scoring MLP.
        attention_activation: its activation.
        attention_softmax: softmax-normalise the attention weights.
        hidden_units: widths of the DNN.
        activation: the DNN's activation.
        dropout: dropout after each DNN layer.
        batch_norm: batch normalisation in each DNN layer.
        embeddings_regularizer: regularizer of the embedding tables.
        kernel_regularizer: regularizer of the DNN's kernels.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=20, embedding_dim=8),
            reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=8, table="item"),
            reczoo.Sequence("history", vocabulary_size=50, embedding_dim=8, max_length=4, table="item"),
        ])
        model = reczoo.get_model("din", feature_spec=spec, hidden_units=[32])
        rows = {"user_id": np.array([[3]]), "item_id": np.array([[7]]),
                "history": np.array([[0, 4, 9, 2]])}
        probability = model.predict(rows, verbose=0)
        ```

    Reference:
        Zhou et al. Deep Interest Network for Click-Through Rate Prediction.
        KDD 2018.
    """

    # Each example carries the user's behaviour history (a column of the data).
    reads_history = True

    def __init__(
        self,
        feature_spec,
        target_feature="item_id",
        history_feature="history",
        attention_units=(80, 40),
        attention_activation="sigmoid",
        attention_softmax=False,
        hidden_units=(200, 80),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        embeddings_regularizer=None,
        kernel_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        self._check_features(feature_spec, target_feature, history_feature)
        embedding = FeatureEmbedding(
            feature_spec,
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype,
            name="feature_embedding",
        )
        attention = TargetAttention(
            attention_units,
            activation=attention_activation,
            softmax=attention_softmax,
            dtype=dtype,
            name="target_attention",
        )
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
        embedded = embedding(inputs)
        interest = attention(
            embedded[target_feature],
            embedded[history_feature],
            embedding.padding_mask(inputs, history_feature),
        )
        parts = []
        for f in feature_spec:
            value = embedded[f.name]
            if f.name == history_feature:
                continue
            if isinstance(f, Sequence):
                value = masked_pool(value, embedding.padding_mask(inputs, f.name), "mean")
            parts.append(value)
        outputs = tower(ops.concatenate([*parts, interest], axis=-1))
        super().__init__(
            inputs=inputs,
            outputs={"features": outputs},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.target_feature = target_feature
        self.history_feature = history_feature
        self.attention_units = attention.hidden_units
        self.attention_activation = attention_activation
        self.attention_softmax = attention_softmax
        self.keep_tower_config(embedding, tower, activation)

    @staticmethod
    def _check_features(feature_spec, target_feature, history_feature):
        for name in (target_feature, history_feature):
            if name not in feature_spec:
                raise ValueError(
                    f"DIN needs the feature {name!r}. Received features: {feature_spec.names}"
                )
        target, history = feature_spec[target_feature], feature_spec[history_feature]
        if not isinstance(history, Sequence) or history.table_name != target.table_name:
            raise ValueError(
                f"DIN's history must be a Sequence sharing the target's table. Received: "
                f"history table {history.table_name!r}, target table {target.table_name!r}"
            )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "target_feature": self.target_feature,
                "history_feature": self.history_feature,
                "attention_units": self.attention_units,
                "attention_activation": self.attention_activation,
                "attention_softmax": self.attention_softmax,
                **self.tower_config(),
            }
        )
        return config
