"""Attention blocks over field embeddings and behaviour sequences."""

import keras
from keras import ops

from reczoo.dtypes import lowest
from reczoo.layers.mlp import MLP


@keras.saving.register_keras_serializable(package="reczoo")
class InteractingLayer(keras.layers.Layer):
    """AutoInt's multi-head self-attention across fields, with a residual.

    For fields `e_1..e_n` and each head h:
    `a_ij = softmax_j(<W_Q e_i, W_K e_j> / s)`, `e~_i = sum_j a_ij W_V e_j`;
    the heads are concatenated and, with `use_residual`, added to `W_R e_i`,
    then passed through ReLU. `s` is `sqrt(attention_dim / num_heads)` with
    `use_scale`, else 1 as in the paper.

    Args:
        attention_dim: total width of all heads (a multiple of `num_heads`).
        num_heads: attention heads.
        use_residual: add the projected input (`W_R e_i`).
        use_scale: scale the logits by the square root of the head width.
        layer_norm: normalise each field's output.

    Raises:
        ValueError: an `attention_dim` that `num_heads` does not divide.

    Example:
        ```python
        layer = reczoo.layers.InteractingLayer(attention_dim=8, num_heads=2)
        layer(np.ones((2, 3, 4))).shape  # (2, 3, 8): 3 fields of width 4 in, 8 out
        ```

    Reference:
        Song et al. AutoInt: Automatic Feature Interaction Learning via
        Self-Attentive Neural Networks. CIKM 2019.
    """

    def __init__(
        self,
        attention_dim=64,
        num_heads=2,
        use_residual=True,
        use_scale=False,
        layer_norm=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if attention_dim % num_heads:
            raise ValueError(
                "`attention_dim` must be a multiple of `num_heads`. "
                f"Received: attention_dim={attention_dim}, num_heads={num_heads}"
            )
        self.attention_dim = int(attention_dim)
        self.num_heads = int(num_heads)
        self.use_residual = bool(use_residual)
        self.use_scale = bool(use_scale)
        self.layer_norm = bool(layer_norm)
        policy = self.dtype_policy
        self.query = keras.layers.Dense(attention_dim, use_bias=False, dtype=policy, name="query")
        self.key = keras.layers.Dense(attention_dim, use_bias=False, dtype=policy, name="key")
        self.value = keras.layers.Dense(attention_dim, use_bias=False, dtype=policy, name="value")
        self.residual = (
            keras.layers.Dense(attention_dim, use_bias=False, dtype=policy, name="residual")
            if use_residual
            else None
        )
        self.norm = (
            keras.layers.LayerNormalization(dtype=policy, name="norm") if layer_norm else None
        )

    def build(self, input_shape):
        for dense in (self.query, self.key, self.value, self.residual):
            if dense is not None:
                dense.build(input_shape)
        if self.norm is not None:
            self.norm.build((*input_shape[:-1], self.attention_dim))
        self.built = True

    def _split(self, x):
        n = x.shape[1]
        head = self.attention_dim // self.num_heads
        x = ops.reshape(x, (-1, n, self.num_heads, head))
        return ops.transpose(x, (0, 2, 1, 3))

    def call(self, inputs):
        n = inputs.shape[1]
        q, k, v = (self._split(f(inputs)) for f in (self.query, self.key, self.value))
        logits = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2)))
        if self.use_scale:
            logits = logits / ops.sqrt(ops.cast(self.attention_dim // self.num_heads, logits.dtype))
        weights = ops.softmax(logits, axis=-1)
        out = ops.matmul(weights, v)
        out = ops.reshape(ops.transpose(out, (0, 2, 1, 3)), (-1, n, self.attention_dim))
        if self.residual is not None:
            out = out + self.residual(inputs)
        out = ops.relu(out)
        if self.norm is not None:
            out = self.norm(out)
        return out

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.attention_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "attention_dim": self.attention_dim,
                "num_heads": self.num_heads,
                "use_residual": self.use_residual,
                "use_scale": self.use_scale,
                "layer_norm": self.layer_norm,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="reczoo")
class TargetAttention(keras.layers.Layer):
    """DIN's local activation unit: a target-aware pooling of a history.

    Each history position `h_t` gets the weight `w_t = MLP([h_t, q, h_t - q,
    h_t * q])` for the target item `q`; padding positions get 0; the output is
    `sum_t w_t h_t`. As in the paper the weights are not softmax-normalised
    (so the output's scale carries the strength of interest), unless
    `softmax=True`.

    Args:
        hidden_units: widths of the scoring MLP.
        activation: its activation (the paper used PReLU or Dice; sigmoid is
            the reference code's default).
        softmax: normalise the weights over the valid positions.

    Call arguments:
        query: (batch, dim), the target item.
        keys: (batch, length, dim), the history.
        mask: (batch, length) booleans, True at real positions.

    Example:
        ```python
        attention = reczoo.layers.TargetAttention(hidden_units=[16])
        query = np.random.rand(2, 8).astype("float32")  # the target items
        keys = np.random.rand(2, 5, 8).astype("float32")  # the histories
        mask = np.array([[False, False, True, True, True], [True] * 5])
        attention(query, keys, mask=mask).shape  # (2, 8)
        ```

    Reference:
        Zhou et al. Deep Interest Network for Click-Through Rate Prediction.
        KDD 2018.
    """

    def __init__(self, hidden_units=(80, 40), activation="sigmoid", softmax=False, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = [int(u) for u in hidden_units]
        self.activation = activation
        self.softmax = bool(softmax)
        self.scorer = MLP(
            self.hidden_units, activation=activation, dtype=self.dtype_policy, name="scorer"
        )
        self.score = keras.layers.Dense(1, dtype=self.dtype_policy, name="score")

    def build(self, query_shape, keys_shape=None, mask_shape=None):
        dim = query_shape[-1]
        self.scorer.build((None, None, 4 * dim))
        self.score.build((None, None, self.hidden_units[-1] if self.hidden_units else 4 * dim))
        self.built = True

    def attention_weights(self, query, keys, mask):
        q = ops.expand_dims(query, 1) * ops.ones_like(keys[..., :1])
        features = ops.concatenate([keys, q, keys - q, keys * q], axis=-1)
        logits = ops.squeeze(self.score(self.scorer(features)), -1)
        valid = ops.cast(mask, "bool")
        mask = ops.cast(mask, logits.dtype)
        if self.softmax:
            logits = ops.where(valid, logits, ops.cast(lowest(logits.dtype), logits.dtype))
            return ops.softmax(logits, axis=-1) * mask
        return logits * mask

    def call(self, query, keys, mask):
        weights = self.attention_weights(query, keys, mask)
        return ops.sum(ops.expand_dims(weights, -1) * keys, axis=1)

    def compute_output_shape(self, query_shape, keys_shape=None, mask_shape=None):
        return query_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_units": self.hidden_units,
                "activation": self.activation,
                "softmax": self.softmax,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="reczoo")
class CausalSelfAttention(keras.layers.Layer):
    """Multi-head causal self-attention over a left-padded sequence (SASRec's).

    `softmax(Q K^T / sqrt(d_head) + mask) V` with `Q = x_q W_Q`, `K = x W_K`,
    `V = x W_V` and biases, as in the SASRec paper's code: no output
    projection. Position t attends to positions up to and including t, and
    never to padding (`mask` false). Dropout acts on the attention weights.

    Written with batched matmuls: on a 2-core CPU, Keras' general
    `MultiHeadAttention` (einsum projections, an output projection and mask
    bookkeeping) took twice as long for SASRec's shapes.

    Args:
        num_heads: heads (they split the input width).
        dropout: dropout on the attention weights.
        causal: False lets every position attend to every real position,
            before and after it (BERT4Rec's bidirectional attention).

    Call args:
        queries: (batch, length, dim).
        keys: (batch, length, dim); keys and values.
        mask: (batch, length) bool, true at real positions.
        training: Keras' training flag (dropout).

    Example:
        ```python
        attention = reczoo.layers.CausalSelfAttention(num_heads=2)
        x = np.random.rand(2, 4, 8).astype("float32")
        mask = np.array([[False, True, True, True], [True] * 4])
        attention(x, x, mask=mask).shape  # (2, 4, 8)
        ```
    """

    def __init__(self, num_heads=1, dropout=0.0, causal=True, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.causal = bool(causal)
        self.weight_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="weight_dropout"
        )
        self.supports_masking = True

    def build(self, queries_shape, keys_shape=None, mask_shape=None):
        dim = queries_shape[-1]
        if dim % self.num_heads:
            raise ValueError(
                f"The input width must be a multiple of num_heads. Received: width={dim}, "
                f"num_heads={self.num_heads}"
            )
        self.query = keras.layers.Dense(dim, dtype=self.dtype_policy, name="query")
        self.key = keras.layers.Dense(dim, dtype=self.dtype_policy, name="key")
        self.value = keras.layers.Dense(dim, dtype=self.dtype_policy, name="value")
        for dense in (self.query, self.key, self.value):
            dense.build(queries_shape)
        self.built = True

    def _split(self, x):
        if self.num_heads == 1:
            return x
        head = x.shape[-1] // self.num_heads
        x = ops.reshape(x, (ops.shape(x)[0], ops.shape(x)[1], self.num_heads, head))
        return ops.transpose(x, (0, 2, 1, 3))

    def call(self, queries, keys, mask=None, training=None):
        dim = queries.shape[-1]
        length = ops.shape(keys)[1]
        q = self._split(self.query(queries))
        k = self._split(self.key(keys))
        v = self._split(self.value(keys))
        logits = ops.matmul(q, ops.swapaxes(k, -1, -2))
        logits = logits / ops.sqrt(ops.cast(dim // self.num_heads, logits.dtype))
        allowed = ops.ones((length, length), dtype="bool")
        if self.causal:
            allowed = ops.tril(allowed)
        if mask is not None:
            allowed = ops.logical_and(allowed[None], ops.cast(mask, "bool")[:, None, :])
            if self.num_heads > 1:
                allowed = allowed[:, None]
        # Fully masked rows (padding queries) give uniform weights, zeroed by the caller.
        logits = ops.where(allowed, logits, ops.cast(lowest(logits.dtype), logits.dtype))
        weights = self.weight_dropout(ops.softmax(logits, axis=-1), training=training)
        out = ops.matmul(weights, v)
        if self.num_heads > 1:
            out = ops.transpose(out, (0, 2, 1, 3))
            out = ops.reshape(out, (ops.shape(out)[0], ops.shape(out)[1], dim))
        return out

    def compute_output_shape(self, queries_shape, keys_shape=None, mask_shape=None):
        return queries_shape

    def get_config(self):
        config = super().get_config()
        config.update({"num_heads": self.num_heads, "dropout": self.dropout, "causal": self.causal})
        return config
