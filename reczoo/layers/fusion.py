"""FinalMLP's blocks (Mao et al., AAAI 2023): a gate that selects features
for each of two MLP streams, and the multi-head bilinear fusion of the two."""

import keras
from keras import ops

from reczoo.layers.mlp import MLP


@keras.saving.register_keras_serializable(package="reczoo")
class FeatureSelection(keras.layers.Layer):
    """A gate that re-weights every input unit from a context:
    `x * 2 * sigmoid(MLP(context))`.

    The gate's MLP (ReLU hidden layers, then a sigmoid unit per input unit)
    reads the context: embeddings of chosen features (FinalMLP's user for one
    stream, item for the other), or, where none is given, a learned vector
    of `context_dim` zeros at start, the same for every example. A gate of 1
    keeps a unit as it is; the factor 2 lets a unit be amplified as well as
    suppressed.

    Args:
        hidden_units: widths of the gate's hidden layers.
        context_dim: width of the learned context used when `call` gets no
            context; None when a context is always given.

    Call arguments:
        inputs: (batch, width), the flattened feature embeddings.
        context: (batch, context width), or None for the learned context.

    Example:
        ```python
        gate = reczoo.layers.FeatureSelection([16], context_dim=4)
        gate(np.ones((2, 8))).shape  # (2, 8)
        ```
    """

    def __init__(self, hidden_units=(), context_dim=None, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = [int(u) for u in hidden_units]
        self.context_dim = None if context_dim is None else int(context_dim)
        self.hidden = MLP(self.hidden_units, dtype=self.dtype_policy, name="gate_mlp")
        self.gate = None

    def build(self, inputs_shape, context_shape=None):
        width = inputs_shape[-1]
        if context_shape is None:
            if self.context_dim is None:
                raise ValueError(
                    "FeatureSelection got no context and has no `context_dim` to learn one."
                )
            context_width = self.context_dim
            self.context_bias = self.add_weight(
                shape=(1, context_width), initializer="zeros", name="context_bias"
            )
        else:
            context_width = context_shape[-1]
        self.hidden.build((None, context_width))
        hidden_width = self.hidden_units[-1] if self.hidden_units else context_width
        self.gate = keras.layers.Dense(
            width, activation="sigmoid", dtype=self.dtype_policy, name="gate"
        )
        self.gate.build((None, hidden_width))
        self.built = True

    def call(self, inputs, context=None):
        if context is None:
            context = ops.broadcast_to(
                ops.cast(self.context_bias, inputs.dtype),
                (ops.shape(inputs)[0], self.context_dim),
            )
        return inputs * 2.0 * self.gate(self.hidden(context))

    def compute_output_shape(self, inputs_shape, context_shape=None):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_units": self.hidden_units, "context_dim": self.context_dim})
        return config


@keras.saving.register_keras_serializable(package="reczoo")
class BilinearFusion(keras.layers.Layer):
    """FinalMLP's fusion of two streams into one logit, head by head:
    `w_x . x + w_y . y + sum_h x_h^T W_h y_h`.

    `x` and `y` are each cut into `num_heads` equal chunks; head `h` adds the
    bilinear form of its chunks with its own matrix `W_h`. One head is a
    full bilinear interaction of the two streams; more heads cost fewer
    weights and interact only matching chunks.

    Args:
        num_heads: heads; it must divide both streams' widths.

    Call arguments:
        inputs: `[x, y]`, (batch, x width) and (batch, y width).

    Returns:
        (batch, 1) logits.

    Raises:
        ValueError: `num_heads` that is not positive.

    Example:
        ```python
        fusion = reczoo.layers.BilinearFusion(num_heads=2)
        fusion([np.ones((3, 8)), np.ones((3, 4))]).shape  # (3, 1)
        ```
    """

    def __init__(self, num_heads=1, **kwargs):
        super().__init__(**kwargs)
        if int(num_heads) < 1:
            raise ValueError(f"`num_heads` must be positive. Received: num_heads={num_heads}")
        self.num_heads = int(num_heads)

    def build(self, input_shape):
        x_shape, y_shape = input_shape
        x_dim, y_dim = int(x_shape[-1]), int(y_shape[-1])
        if x_dim % self.num_heads or y_dim % self.num_heads:
            raise ValueError(
                f"`num_heads` must divide both streams' widths. Received: num_heads="
                f"{self.num_heads} for widths {x_dim} and {y_dim}"
            )
        self.head_x, self.head_y = x_dim // self.num_heads, y_dim // self.num_heads
        self.w_x = keras.layers.Dense(1, dtype=self.dtype_policy, name="w_x")
        self.w_y = keras.layers.Dense(1, dtype=self.dtype_policy, name="w_y")
        self.w_x.build((None, x_dim))
        self.w_y.build((None, y_dim))
        # Glorot over all heads' entries to one output, as the paper's code.
        self.w_xy = self.add_weight(
            shape=(self.num_heads * self.head_x * self.head_y, 1),
            initializer="glorot_normal",
            name="w_xy",
        )
        self.built = True

    def call(self, inputs):
        x, y = inputs
        heads_x = ops.reshape(x, (-1, self.num_heads, self.head_x))
        heads_y = ops.reshape(y, (-1, self.num_heads, self.head_y))
        w_xy = ops.reshape(ops.cast(self.w_xy, x.dtype), (self.num_heads, self.head_x, self.head_y))
        projected = ops.einsum("bhi,hij->bhj", heads_x, w_xy)
        bilinear = ops.sum(projected * heads_y, axis=(1, 2))
        return self.w_x(x) + self.w_y(y) + ops.expand_dims(bilinear, -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], 1)

    def get_config(self):
        config = super().get_config()
        config.update({"num_heads": self.num_heads})
        return config
