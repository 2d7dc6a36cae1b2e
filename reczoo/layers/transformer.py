"""A transformer encoder block over left-padded sequences."""

import keras
from keras import ops

from reczoo.layers.attention import CausalSelfAttention

_NORMS = ("pre", "post", "sasrec")


@keras.saving.register_keras_serializable(package="reczoo")
class TransformerBlock(keras.layers.Layer):
    """Self-attention and a point-wise feed-forward network, each with a
    residual connection and layer normalisation; padding positions are
    zeroed at the output.

    With `norm="pre"` each sub-layer reads a normalised input: `x = x +
    Attention(LN(x))`, then `x = x + FFN(LN(x))`. `norm="sasrec"` is the
    pre-norm block of the SASRec paper's code: queries normalised, keys and
    values not, and both residuals add the normalised input: `h = LN(x);
    x = h + Attention(queries=h, keys=x)`, then `h = LN(x); x = h + FFN(h)`.
    With `norm="post"` (BERT4Rec) the sums are normalised: `x = LN(x +
    Attention(x))`, then `x = LN(x + FFN(x))`.

    Attention is `CausalSelfAttention`: causal (position t sees positions up
    to t) or bidirectional, never attending to padding, its dropout on the
    attention weights. `attention_projection` adds an output projection and
    dropout after it (BERT); `hidden_dropout` drops the FFN's hidden units
    (SASRec) and `output_dropout` the FFN's output.

    Args:
        dim: the input (and output) width.
        num_heads: attention heads (they split the input width).
        ffn_dim: width of the FFN's hidden layer; None: the input width.
        dropout: the rate of every dropout.
        causal: whether position t attends only to positions up to t.
        norm: `"pre"`, `"post"` or `"sasrec"`.
        activation: the FFN's hidden activation.
        epsilon: the layer normalisations' epsilon.
        attention_projection: a dense projection (with dropout) of the
            attention output.
        hidden_dropout: dropout after the FFN's hidden layer.
        output_dropout: dropout after the FFN's output layer.

    Call args:
        inputs: (batch, length, dim).
        mask: (batch, length) bool, true at real positions.

    Raises:
        ValueError: a `dim` that `num_heads` does not divide, or an unknown
            `norm`.

    Example:
        ```python
        block = reczoo.layers.TransformerBlock(dim=8, num_heads=2, dropout=0.1)
        x = np.random.rand(2, 5, 8).astype("float32")
        mask = np.array([[False, False, True, True, True], [True] * 5])  # left padding
        block(x, mask=mask).shape  # (2, 5, 8)
        ```

    Reference:
        Vaswani et al. Attention Is All You Need. NeurIPS 2017. Kang &
        McAuley. Self-Attentive Sequential Recommendation. ICDM 2018.
    """

    def __init__(
        self,
        dim,
        num_heads=1,
        ffn_dim=None,
        dropout=0.0,
        causal=True,
        norm="pre",
        activation="relu",
        epsilon=1e-6,
        attention_projection=False,
        hidden_dropout=True,
        output_dropout=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if norm not in _NORMS:
            raise ValueError(f"`norm` must be one of {_NORMS}. Received: norm={norm!r}")
        if dim % num_heads:
            raise ValueError(
                f"The width must be a multiple of num_heads. Received: dim={dim}, "
                f"num_heads={num_heads}"
            )
        self.dim = int(dim)
        self.num_heads = int(num_heads)
        self.ffn_dim = self.dim if ffn_dim is None else int(ffn_dim)
        self.dropout = float(dropout)
        self.causal = bool(causal)
        self.norm = norm
        self.activation = keras.activations.serialize(keras.activations.get(activation))
        self.epsilon = float(epsilon)
        self.attention_projection = bool(attention_projection)
        self.hidden_dropout = bool(hidden_dropout)
        self.output_dropout = bool(output_dropout)
        self.supports_masking = True
        # Layers draw their random seeds when made: they are made in the order
        # of the models this block was written from (SASRec's pre-norm block,
        # BERT4Rec's post-norm one), so those models train as they did.
        make = {
            "attention_norm": lambda: self._layer_norm("attention_norm"),
            "attention": lambda: CausalSelfAttention(
                self.num_heads,
                dropout=self.dropout,
                causal=self.causal,
                dtype=self.dtype_policy,
                name="attention",
            ),
            "attention_output": lambda: self._dense(self.dim, None, "attention_output"),
            "attention_dropout": lambda: self._dropout("attention_dropout"),
            "ffn_norm": lambda: self._layer_norm("ffn_norm"),
            "ffn_in": lambda: self._dense(self.ffn_dim, activation, "ffn_in"),
            "ffn_out": lambda: self._dense(self.dim, None, "ffn_out"),
            "ffn_hidden_dropout": lambda: self._dropout("ffn_hidden_dropout"),
            "ffn_dropout": lambda: self._dropout("ffn_dropout"),
        }
        order = _POST_ORDER if norm == "post" else _PRE_ORDER
        for name in order:
            used = {
                "attention_output": self.attention_projection,
                "attention_dropout": self.attention_projection,
                "ffn_hidden_dropout": self.hidden_dropout,
                "ffn_dropout": self.output_dropout,
            }.get(name, True)
            setattr(self, name, make[name]() if used else None)

    def _layer_norm(self, name):
        return keras.layers.LayerNormalization(
            epsilon=self.epsilon, dtype=self.dtype_policy, name=name
        )

    def _dense(self, units, activation, name):
        return keras.layers.Dense(units, activation=activation, dtype=self.dtype_policy, name=name)

    def _dropout(self, name):
        return keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name=name)

    def build(self, inputs_shape, mask_shape=None):
        if inputs_shape[-1] != self.dim:
            raise ValueError(
                f"TransformerBlock of width {self.dim} received inputs of width {inputs_shape[-1]}."
            )
        inputs_shape = tuple(inputs_shape)
        self.attention_norm.build(inputs_shape)
        self.attention.build(inputs_shape, inputs_shape)
        if self.attention_projection:
            self.attention_output.build(inputs_shape)
        self.ffn_norm.build(inputs_shape)
        self.ffn_in.build(inputs_shape)
        self.ffn_out.build((*inputs_shape[:-1], self.ffn_dim))
        self.built = True

    def _attend(self, queries, keys, mask, training):
        attended = self.attention(queries, keys, mask=mask, training=training)
        if self.attention_projection:
            attended = self.attention_dropout(self.attention_output(attended), training=training)
        return attended

    def _feed_forward(self, x, training):
        hidden = self.ffn_in(x)
        if self.hidden_dropout:
            hidden = self.ffn_hidden_dropout(hidden, training=training)
        out = self.ffn_out(hidden)
        if self.output_dropout:
            out = self.ffn_dropout(out, training=training)
        return out

    def call(self, inputs, mask=None, training=None):
        x = inputs
        if self.norm == "sasrec":
            h = self.attention_norm(x)
            x = h + self._attend(h, x, mask, training)
            h = self.ffn_norm(x)
            x = h + self._feed_forward(h, training)
        elif self.norm == "pre":
            h = self.attention_norm(x)
            x = x + self._attend(h, h, mask, training)
            x = x + self._feed_forward(self.ffn_norm(x), training)
        else:
            x = self.attention_norm(x + self._attend(x, x, mask, training))
            x = self.ffn_norm(x + self._feed_forward(x, training))
        if mask is not None:
            x = x * ops.expand_dims(ops.cast(mask, x.dtype), -1)
        return x

    def compute_output_shape(self, inputs_shape, mask_shape=None):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "dim": self.dim,
                "num_heads": self.num_heads,
                "ffn_dim": self.ffn_dim,
                "dropout": self.dropout,
                "causal": self.causal,
                "norm": self.norm,
                "activation": self.activation,
                "epsilon": self.epsilon,
                "attention_projection": self.attention_projection,
                "hidden_dropout": self.hidden_dropout,
                "output_dropout": self.output_dropout,
            }
        )
        return config


# The order sub-layers are made in (see `__init__`).
_PRE_ORDER = (
    "attention_norm", "attention", "attention_output", "attention_dropout", "ffn_norm",
    "ffn_in", "ffn_out", "ffn_hidden_dropout", "ffn_dropout",
)  # fmt: skip
_POST_ORDER = (
    "attention", "attention_output", "attention_dropout", "attention_norm", "ffn_in", "ffn_out",
    "ffn_dropout", "ffn_norm", "ffn_hidden_dropout",
)  # fmt: skip
