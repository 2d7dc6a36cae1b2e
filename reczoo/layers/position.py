"""Learned position embeddings for sequence models."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="reczoo")
class PositionEmbedding(keras.layers.Layer):
    """Adds a learned vector per position to (batch, length, dim) inputs.

    Positions count from the right: the last slot always gets the table's
    last row, so a left-padded batch shorter than `max_length` gets exactly
    the vectors it would get padded to `max_length`.

    Args:
        max_length: the longest sequence.
        initializer: initializer of the position table.

    Example:
        ```python
        positions = reczoo.layers.PositionEmbedding(max_length=10)
        positions(np.zeros((2, 6, 8))).shape  # (2, 6, 8): the last 6 of 10 position vectors added
        ```
    """

    def __init__(self, max_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.max_length = int(max_length)
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.max_length, input_shape[-1]),
            initializer=self.initializer,
            name="embeddings",
        )
        self.built = True

    def call(self, inputs):
        length = ops.shape(inputs)[1]
        table = self.embeddings[self.max_length - length :]
        return inputs + ops.cast(table, inputs.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_length": self.max_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
