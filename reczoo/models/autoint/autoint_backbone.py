"""AutoInt (Song et al., 2019): self-attention across feature fields."""

import keras
from keras import ops

from reczoo.features import FeatureEmbedding
from reczoo.layers import MLP, FeatureLinear, InteractingLayer
from reczoo.models.backbone import RankingBackbone, serialize_regularizer


@keras.saving.register_keras_serializable(package="reczoo")
class AutoIntBackbone(RankingBackbone):
    """Stacked multi-head self-attention over the field embeddings.

    Each interacting layer lets every field attend to every other, with a
    residual connection, so stacked layers model higher-order interactions.
    The last layer's fields are flattened to a logit. AutoInt+ adds a DNN
    over the embeddings (`dnn_hidden_units`), whose logit is summed in;
    `use_wide` adds a linear term. Returns `{"logit": (batch, 1), "features":
    (batch, fields * attention_dim)}`, the features being the last
    interacting layer's fields, flattened.

    Args:
        feature_spec: a `reczoo.FeatureSpec` with one embedding width.
        attention_dim: width of each interacting layer (all heads).
        num_heads: attention heads.
        num_layers: interacting layers.
        use_residual: residual connections in the interacting layers
            (`InteractingLayer`).
        use_scale: scale the attention logits by the key width.
        layer_norm: layer normalisation after each interacting layer.
        dnn_hidden_units: the AutoInt+ DNN; empty for plain AutoInt.
        activation: the DNN's activation.
        dropout: dropout after each DNN layer.
        batch_norm: batch normalisation in each DNN layer.
        use_wide: add a first-order (logistic regression) term.
        embeddings_regularizer: regularizer of the embedding tables.
        kernel_regularizer: regularizer of the DNN's kernels.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=16),
            reczoo.Categorical("daytime", vocabulary_size=8, embedding_dim=16),
        ])
        model = reczoo.get_model("autoint_plus", feature_spec=spec, attention_dim=16)
        rows = {"user": np.array([[1], [7]]), "item": np.array([[3], [4]]),
                "daytime": np.array([[2], [5]])}
        model.fit(rows, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
        probabilities = model.predict(rows, verbose=0)  # (2, 1)
        ```

    Reference:
        Song et al. AutoInt: Automatic Feature Interaction Learning via
        Self-Attentive Neural Networks. CIKM 2019.
    """

    computes_logit = True

    def __init__(
        self,
        feature_spec,
        attention_dim=64,
        num_heads=2,
        num_layers=3,
        use_residual=True,
        use_scale=False,
        layer_norm=False,
        dnn_hidden_units=(),
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        use_wide=False,
        embeddings_regularizer=None,
        kernel_regularizer=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        embedding = FeatureEmbedding(
            feature_spec, output_mode="stack", embeddings_regularizer=embeddings_regularizer,
            dtype=dtype, name="feature_embedding",
        )  # fmt: skip
        attention = [
            InteractingLayer(attention_dim, num_heads, use_residual=use_residual,
                             use_scale=use_scale, layer_norm=layer_norm, dtype=dtype,
                             name=f"interacting_{i}")
            for i in range(num_layers)
        ]  # fmt: skip
        attention_logit = keras.layers.Dense(1, dtype=dtype, name="attention_logit")
        tower = dnn_logit = linear = None
        if dnn_hidden_units:
            tower = MLP(
                dnn_hidden_units, activation=activation, dropout=dropout, batch_norm=batch_norm,
                kernel_regularizer=kernel_regularizer, dtype=dtype, name="dnn",
            )  # fmt: skip
            dnn_logit = keras.layers.Dense(1, dtype=dtype, name="dnn_logit")
        if use_wide:
            linear = FeatureLinear(
                feature_spec, regularizer=embeddings_regularizer, dtype=dtype, name="linear"
            )

        # === Functional model ===
        inputs = feature_spec.keras_inputs()
        fields = embedding(inputs)
        x = fields
        for layer in attention:
            x = layer(x)
        features = ops.reshape(x, (-1, x.shape[1] * x.shape[2]))
        logit = attention_logit(features)
        if tower is not None:
            flat = ops.reshape(fields, (-1, fields.shape[1] * fields.shape[2]))
            logit = logit + dnn_logit(tower(flat))
        if linear is not None:
            logit = logit + linear(inputs)
        super().__init__(
            inputs=inputs,
            outputs={"features": features, "logit": logit},
            feature_spec=feature_spec,
            dtype=dtype,
            **kwargs,
        )

        # === Config ===
        self.attention_dim = attention_dim
        self.num_heads = num_heads
        self.num_layers = num_layers
        self.use_residual = use_residual
        self.use_scale = use_scale
        self.layer_norm = layer_norm
        self.dnn_hidden_units = [int(u) for u in dnn_hidden_units]
        self.activation = activation
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.use_wide = use_wide
        self.embeddings_regularizer = embedding.embeddings_regularizer
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "attention_dim": self.attention_dim,
                "num_heads": self.num_heads,
                "num_layers": self.num_layers,
                "use_residual": self.use_residual,
                "use_scale": self.use_scale,
                "layer_norm": self.layer_norm,
                "dnn_hidden_units": self.dnn_hidden_units,
                "activation": self.activation,
                "dropout": self.dropout,
                "batch_norm": self.batch_norm,
                "use_wide": self.use_wide,
                "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
                "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
            }
        )
        return config
