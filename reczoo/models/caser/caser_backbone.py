"""Caser (Tang & Wang, 2018): convolutions over the last L items."""

import keras
from keras import ops

from reczoo.features import FeatureEmbedding
from reczoo.models.backbone import SequentialBackbone, serialize_regularizer


@keras.saving.register_keras_serializable(package="reczoo")
class CaserConvolutions(keras.layers.Layer):
    """Caser's horizontal and vertical convolutions over an (L, dim) "image".

    Horizontal filters of every height 1..L slide over time and are max-pooled
    (union-level and point-level sequential patterns); vertical filters take
    weighted sums over the L positions. Inputs shorter than `length` are
    left-padded with zeros. Returns (batch, length * num_horizontal +
    num_vertical * dim).
    """

    def __init__(self, length, num_horizontal=16, num_vertical=4, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.length = int(length)
        self.num_horizontal = int(num_horizontal)
        self.num_vertical = int(num_vertical)
        self.activation = activation
        self.horizontal = [
            keras.layers.Conv1D(
                num_horizontal,
                h,
                activation=activation,
                dtype=self.dtype_policy,
                name=f"horizontal_{h}",
            )
            for h in range(1, self.length + 1)
        ]

    def build(self, input_shape):
        dim = input_shape[-1]
        for conv in self.horizontal:
            conv.build((None, self.length, dim))
        self.vertical = self.add_weight(
            shape=(self.length, self.num_vertical), initializer="glorot_uniform", name="vertical"
        )
        self.built = True

    def call(self, inputs, mask=None):
        if mask is not None:
            # Padding slots are zeros, as if the window were zero-padded.
            inputs = inputs * ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
        missing = self.length - ops.shape(inputs)[1]
        x = ops.pad(inputs, [[0, 0], [missing, 0], [0, 0]])
        x = ops.reshape(x, (-1, self.length, inputs.shape[-1]))
        horizontal = [ops.max(conv(x), axis=1) for conv in self.horizontal]
        vertical = ops.einsum("bld,lv->bvd", x, self.vertical)
        vertical = ops.reshape(vertical, (-1, self.num_vertical * inputs.shape[-1]))
        return ops.concatenate([vertical, *horizontal], axis=-1)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (
            input_shape[0],
            self.length * self.num_horizontal + self.num_vertical * input_shape[-1],
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "length": self.length,
                "num_horizontal": self.num_horizontal,
                "num_vertical": self.num_vertical,
                "activation": self.activation,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="reczoo")
class CaserBackbone(SequentialBackbone):
    """Convolutional sequence embedding with a user embedding.

    The last L items (the history's `max_length`) are embedded as an (L, dim)
    image; `CaserConvolutions` extracts sequential patterns, a dense layer
    compresses them, and the result is joined with the user's embedding and
    projected to the item width. Returns `{"user_embedding": (batch, dim)}`,
    one state per example, scoring the next item by dot product with the item
    table.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with the history `Sequence` (its
            `max_length` is Caser's L) and the user id.
        history_feature: the history's name.
        user_feature: the user id's name.
        num_horizontal: horizontal filters per height.
        num_vertical: vertical filters.
        dropout: dropout before the dense layer.
        activation: activation of the convolutions and the dense layer.
        embeddings_regularizer: regularizer of the item and user tables.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Raises:
        ValueError: `feature_spec` lacks the user feature.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=20, embedding_dim=16),
            reczoo.Sequence("history", vocabulary_size=50, embedding_dim=16, max_length=5, table="item"),
        ])
        model = reczoo.get_model("caser", feature_spec=spec)
        top = model.recommend({"user_id": np.array([[3]]), "history": np.array([[0, 4, 9, 2, 7]])}, k=5)
        ```

    Reference:
        Tang & Wang. Personalized Top-N Sequential Recommendation via
        Convolutional Sequence Embedding. WSDM 2018.
    """

    output_key = "user_embedding"
    uses_user = True

    def __init__(
        self,
        feature_spec,
        history_feature="history",
        user_feature="user_id",
        num_horizontal=16,
        num_vertical=4,
        dropout=0.5,
        activation="relu",
        embeddings_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        history = self.history_of(feature_spec, history_feature)
        if user_feature not in feature_spec:
            raise ValueError(
                f"Caser needs the user feature {user_feature!r}. "
                f"Received features: {feature_spec.names}"
            )
        embedding = FeatureEmbedding(
            feature_spec.subset([history_feature, user_feature]),
            embeddings_initializer=keras.initializers.RandomNormal(
                stddev=1.0 / history.embedding_dim
            ),
            embeddings_regularizer=embeddings_regularizer,
            dtype=dtype,
            name="feature_embedding",
        )
        convolutions = CaserConvolutions(
            history.max_length,
            num_horizontal,
            num_vertical,
            activation,
            dtype=dtype,
            name="convolutions",
        )
        drop = keras.layers.Dropout(dropout, dtype=dtype, name="dropout")
        dense = keras.layers.Dense(
            history.embedding_dim, activation=activation, dtype=dtype, name="dense"
        )
        output = keras.layers.Dense(history.embedding_dim, dtype=dtype, name="state")

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        embedded = embedding(
            {history_feature: inputs[history_feature], user_feature: inputs[user_feature]}
        )
        z = dense(drop(convolutions(embedded[history_feature])))
        state = output(ops.concatenate([z, embedded[user_feature]], axis=-1))
        super().__init__(
            inputs=inputs,
            outputs={"user_embedding": state},
            feature_spec=feature_spec,
            history_feature=history_feature,
            user_feature=user_feature,
            embedding=embedding,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.num_horizontal = num_horizontal
        self.num_vertical = num_vertical
        self.dropout = dropout
        self.activation = activation
        self.embeddings_regularizer = embedding.embeddings_regularizer

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_horizontal": self.num_horizontal,
                "num_vertical": self.num_vertical,
                "dropout": self.dropout,
                "activation": self.activation,
                "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
            }
        )
        return config
