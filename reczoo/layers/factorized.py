"""FINAL's blocks (Zhu et al., SIGIR 2023): factorized interaction layers in
place of an MLP's dense layers, a field gate, and the distillation of two
blocks' ensemble into each block."""

import keras
from keras import ops

from reczoo.layers.dropout import HashDropout

_RESIDUALS = ("concat", "sum")


@keras.saving.register_keras_serializable(package="reczoo")
class FactorizedInteraction(keras.layers.Layer):
    """A dense layer that also multiplies: `h = W x + b` split in halves
    `(h2, h1)`, then `[h2, h1 * h2]` (`residual="concat"`) or
    `h2 + h1 * h2` (`"sum"`).

    Each layer raises the order of the feature interactions it can express,
    as a product of two linear maps of its input, while keeping a linear path
    (`h2`). `"concat"` has a plain `Dense(units)`'s weights; `"sum"` twice
    as many.

    Args:
        units: output width (even under `"concat"`).
        residual: `"concat"` or `"sum"`.

    Raises:
        ValueError: `units` that is not positive (or odd under `"concat"`),
            or an unknown `residual`.

    Example:
        ```python
        layer = reczoo.layers.FactorizedInteraction(8)
        layer(np.ones((2, 5))).shape  # (2, 8)
        ```
    """

    def __init__(self, units, residual="concat", **kwargs):
        super().__init__(**kwargs)
        units = int(units)
        if residual not in _RESIDUALS:
            raise ValueError(f"`residual` must be one of {_RESIDUALS}. Received: {residual!r}")
        if units < 1 or (residual == "concat" and units % 2):
            raise ValueError(
                f"`units` must be positive, and even with residual='concat'. Received: "
                f"units={units}, residual={residual!r}"
            )
        self.units = units
        self.residual = residual
        width = units * 2 if residual == "sum" else units
        self.dense = keras.layers.Dense(width, dtype=self.dtype_policy, name="dense")

    def build(self, input_shape):
        self.dense.build(input_shape)
        self.built = True

    def call(self, inputs):
        h2, h1 = ops.split(self.dense(inputs), 2, axis=-1)
        if self.residual == "concat":
            return ops.concatenate([h2, h1 * h2], axis=-1)
        return h2 + h1 * h2

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "residual": self.residual})
        return config


@keras.saving.register_keras_serializable(package="reczoo")
class FinalBlock(keras.layers.Layer):
    """FINAL's block: an MLP whose dense layers are `FactorizedInteraction`.

    Each layer is `FactorizedInteraction -> [BatchNormalization] ->
    [activation] -> [Dropout]`.

    Args:
        hidden_units: widths of the layers, in order.
        activation: activation after each layer, or None.
        dropout: dropout rate after each layer.
        batch_norm: whether to normalise each layer's output.
        residual: `"concat"` or `"sum"` (`FactorizedInteraction`).

    Raises:
        ValueError: a `dropout` outside [0, 1).

    Example:
        ```python
        block = reczoo.layers.FinalBlock([8, 4], activation="relu")
        block(np.ones((2, 6))).shape  # (2, 4)
        ```
    """

    def __init__(
        self,
        hidden_units,
        activation="relu",
        dropout=0.0,
        batch_norm=True,
        residual="concat",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")
        self.hidden_units = [int(u) for u in hidden_units]
        self.activation = keras.activations.get(activation) if activation else None
        self.activation_name = activation
        self.dropout = float(dropout)
        self.batch_norm = bool(batch_norm)
        self.residual = residual
        self.blocks = []
        for i, units in enumerate(self.hidden_units):
            layers = [
                FactorizedInteraction(units, residual, dtype=self.dtype_policy, name=f"fi_{i}")
            ]
            if self.batch_norm:
                # Momentum 0.9: PyTorch's default, as in `MLP`.
                layers.append(
                    keras.layers.BatchNormalization(
                        momentum=0.9, dtype=self.dtype_policy, name=f"norm_{i}"
                    )
                )
            if self.activation is not None:
                layers.append(
                    keras.layers.Activation(
                        self.activation, dtype=self.dtype_policy, name=f"activation_{i}"
                    )
                )
            if self.dropout > 0:
                layers.append(
                    HashDropout(self.dropout, dtype=self.dtype_policy, name=f"dropout_{i}")
                )
            self.blocks.append(layers)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for layers in self.blocks:
            for layer in layers:
                layer.build(shape)
                shape = layer.compute_output_shape(shape)
        self.built = True

    def call(self, inputs, training=None):
        x = inputs
        for layers in self.blocks:
            for layer in layers:
                x = layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.hidden_units[-1] if self.hidden_units else input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_units": self.hidden_units,
                "activation": self.activation_name,
                "dropout": self.dropout,
                "batch_norm": self.batch_norm,
                "residual": self.residual,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="reczoo")
class FieldGate(keras.layers.Layer):
    """Gates each field by a linear map over the fields, `g = W e + b` per
    embedding unit, and appends the gated fields: (batch, 2 * fields, dim).

    Starts as the identity gate (`W = 0`, `b = 1`): the output is the fields
    twice, and training learns how fields re-weight one another.

    Example:
        ```python
        gate = reczoo.layers.FieldGate()
        gate(np.ones((2, 3, 4))).shape  # (2, 6, 4)
        ```
    """

    def build(self, input_shape):
        fields = int(input_shape[1])
        self.mixing = keras.layers.Dense(
            fields,
            kernel_initializer="zeros",
            bias_initializer="ones",
            dtype=self.dtype_policy,
            name="mixing",
        )
        self.mixing.build((None, fields))
        self.built = True

    def call(self, inputs):
        # (batch, dim, fields) -> a mixture of fields per embedding unit.
        gates = ops.transpose(self.mixing(ops.transpose(inputs, (0, 2, 1))), (0, 2, 1))
        return ops.concatenate([inputs, inputs * gates], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 2 * input_shape[1], input_shape[2])


@keras.saving.register_keras_serializable(package="reczoo")
class EnsembleDistillation(keras.layers.Layer):
    """The mean of several heads' logits, each head taught by it in training.

    Returns the mean logit. While training, adds for every head the binary
    cross-entropy between its probability and the ensemble's, the ensemble
    held fixed (`stop_gradient`): FINAL's self-distillation of its two
    blocks, which pulls each head toward the agreed score whatever the
    task's own loss.

    Args:
        weight: the weight of each head's distillation loss.

    Call arguments:
        inputs: a list of (batch, 1) logits.

    Example:
        ```python
        heads = [np.array([[0.5], [-1.0]]), np.array([[1.5], [0.0]])]
        reczoo.layers.EnsembleDistillation()(heads)  # [[1.0], [-0.5]]: their mean
        ```
    """

    def __init__(self, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.weight = float(weight)

    def call(self, inputs, training=None):
        logit = ops.mean(ops.stack(inputs, axis=0), axis=0)
        if training and self.weight:
            teacher = ops.stop_gradient(ops.sigmoid(ops.cast(logit, "float32")))
            for head in inputs:
                loss = keras.losses.binary_crossentropy(
                    teacher, ops.cast(head, "float32"), from_logits=True
                )
                self.add_loss(self.weight * ops.mean(loss))
        return logit

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"weight": self.weight})
        return config
