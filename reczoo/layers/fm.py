"""The factorization machine's pairwise interaction term."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="reczoo")
class FMInteraction(keras.layers.Layer):
    """Sum of pairwise dot products between field embeddings (Rendle, 2010).

    For field embeddings `v_1..v_n` this computes
    `sum_{i<j} <v_i, v_j> = 0.5 * sum_d ((sum_i v_id)^2 - sum_i v_id^2)`,
    in O(n d) rather than O(n^2 d).

    Args:
        reduce_sum: sum over the embedding dimension to one value per
            example, (batch, 1); if False keep (batch, dim), the "bi-interaction"
            vector of NFM.

    Example:
        ```python
        layer = reczoo.layers.FMInteraction()
        layer(np.ones((2, 3, 4))).shape  # (2, 1); each value is 3 pairs * 4 = 12
        ```
    """

    def __init__(self, reduce_sum=True, **kwargs):
        super().__init__(**kwargs)
        self.reduce_sum = bool(reduce_sum)

    def call(self, inputs):
        if len(inputs.shape) != 3:
            raise ValueError(
                f"FMInteraction expects (batch, fields, dim) inputs. Received: shape={inputs.shape}"
            )
        square_of_sum = ops.square(ops.sum(inputs, axis=1))
        sum_of_square = ops.sum(ops.square(inputs), axis=1)
        pairwise = 0.5 * (square_of_sum - sum_of_square)
        if self.reduce_sum:
            return ops.sum(pairwise, axis=-1, keepdims=True)
        return pairwise

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1 if self.reduce_sum else input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({"reduce_sum": self.reduce_sum})
        return config
