"""xDeepFM's compressed interaction network."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="reczoo")
class CIN(keras.layers.Layer):
    """Compressed interaction network: explicit vector-wise interactions.

    With `X^0` the (fields, dim) embeddings, layer k computes
    `X^k_h = sum_{i,j} W^{k,h}_{ij} (X^{k-1}_i * X^0_j)` (elementwise products,
    one feature map h per unit), and every layer's maps are sum-pooled over
    `dim` and concatenated: the output is (batch, sum(layer_sizes)).

    Args:
        layer_sizes: feature maps per layer.
        activation: applied to each layer's maps (the paper: identity).

    Example:
        ```python
        cin = reczoo.layers.CIN(layer_sizes=[6, 4])
        cin(np.ones((2, 3, 8))).shape  # (2, 10): 3 fields of width 8
        ```

    Reference:
        Lian et al. xDeepFM: Combining Explicit and Implicit Feature
        Interactions for Recommender Systems. KDD 2018.
    """

    def __init__(self, layer_sizes=(100, 100), activation="linear", **kwargs):
        super().__init__(**kwargs)
        self.layer_sizes = [int(s) for s in layer_sizes]
        self.activation = keras.activations.get(activation)
        self.kernels = []

    def build(self, input_shape):
        fields = input_shape[1]
        previous = fields
        for k, size in enumerate(self.layer_sizes):
            self.kernels.append(
                self.add_weight(
                    shape=(previous * fields, size),
                    initializer="glorot_uniform",
                    name=f"kernel_{k}",
                )
            )
            previous = size
        self.built = True

    def call(self, inputs):
        x0 = inputs
        fields, dim = inputs.shape[1], inputs.shape[2]
        x = x0
        pooled = []
        for kernel in self.kernels:
            # (batch, h, 1, dim) * (batch, 1, m, dim) -> (batch, h * m, dim)
            z = ops.expand_dims(x, 2) * ops.expand_dims(x0, 1)
            z = ops.reshape(z, (-1, x.shape[1] * fields, dim))
            x = self.activation(ops.einsum("bpd,ph->bhd", z, kernel))
            pooled.append(ops.sum(x, axis=-1))
        return ops.concatenate(pooled, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], sum(self.layer_sizes))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "layer_sizes": self.layer_sizes,
                "activation": keras.activations.serialize(self.activation),
            }
        )
        return config
