"""A stack of dense layers, the DNN tower of many recommenders."""

import keras

from reczoo.layers.dropout import HashDropout


@keras.saving.register_keras_serializable(package="reczoo")
class MLP(keras.layers.Layer):
    """Dense layers with optional batch normalisation and dropout.

    Each block is `Dense -> [BatchNormalization] -> activation -> [Dropout]`.

    Args:
        hidden_units: widths of the dense layers, in order.
        activation: activation of every layer.
        dropout: dropout rate after every layer.
        batch_norm: whether to normalise each layer's pre-activation.
        kernel_regularizer: regularizer of every kernel.

    Raises:
        ValueError: `hidden_units` that are not positive integers, or a
            `dropout` outside [0, 1).

    Example:
        ```python
        tower = reczoo.layers.MLP([256, 128], dropout=0.2)
        tower(np.ones((4, 32))).shape  # (4, 128)
        ```
    """

    def __init__(
        self,
        hidden_units,
        activation="relu",
        dropout=0.0,
        batch_norm=False,
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        hidden_units = [int(u) for u in hidden_units]
        if any(u < 1 for u in hidden_units):
            raise ValueError(f"`hidden_units` must be positive integers. Received: {hidden_units}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")
        self.hidden_units = hidden_units
        self.activation = keras.activations.get(activation)
        self.dropout = float(dropout)
        self.batch_norm = bool(batch_norm)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.dense_layers = []
        self.norm_layers = []
        self.dropout_layers = []
        for i, units in enumerate(hidden_units):
            self.dense_layers.append(
                keras.layers.Dense(
                    units,
                    use_bias=not self.batch_norm,
                    kernel_regularizer=self.kernel_regularizer,
                    dtype=self.dtype_policy,
                    name=f"dense_{i}",
                )
            )
            if self.batch_norm:
                # Momentum 0.9 (PyTorch's default): CTR epochs are few large
                # batches, too few steps for Keras' 0.99 moving statistics.
                self.norm_layers.append(
                    keras.layers.BatchNormalization(
                        momentum=0.9, dtype=self.dtype_policy, name=f"norm_{i}"
                    )
                )
            if self.dropout > 0:
                self.dropout_layers.append(
                    HashDropout(self.dropout, dtype=self.dtype_policy, name=f"dropout_{i}")
                )

    def build(self, input_shape):
        shape = tuple(input_shape)
        for i, dense in enumerate(self.dense_layers):
            dense.build(shape)
            shape = (*shape[:-1], dense.units)
            if self.batch_norm:
                self.norm_layers[i].build(shape)
        self.built = True

    def call(self, inputs, training=None):
        x = inputs
        for i, dense in enumerate(self.dense_layers):
            x = dense(x)
            if self.batch_norm:
                x = self.norm_layers[i](x, training=training)
            x = self.activation(x)
            if self.dropout > 0:
                x = self.dropout_layers[i](x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        if not self.hidden_units:
            return tuple(input_shape)
        return (*tuple(input_shape)[:-1], self.hidden_units[-1])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "hidden_units": self.hidden_units,
                "activation": keras.activations.serialize(self.activation),
                "dropout": self.dropout,
                "batch_norm": self.batch_norm,
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer)
                if self.kernel_regularizer is not None
                else None,
            }
        )
        return config
