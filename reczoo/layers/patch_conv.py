"""A 2D convolution whose windows tile its input, as one matrix product."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="reczoo")
class PatchConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` for windows that tile the input: strides equal
    to the kernel size, `"valid"` padding, channels last.

    Each output position then reads a patch of its own, so the convolution
    is one matrix product: the input cut into its (kh, kw, channels) patches
    (a reshape and a transpose) times the kernel read as a
    (kh * kw * channels, filters) matrix. The weights, their shapes and the
    outputs are those of `Conv2D` (rows or columns past the last whole
    window are dropped, as `"valid"` does); on CPU the product runs faster
    than a convolution kernel for small windows such as ConvNCF's 2x2 with
    stride 2, whose backward pass is the product's two gradients. Inputs
    whose height, width or channels are unknown when traced use `Conv2D`'s
    convolution.

    Args:
        filters: output channels.
        kernel_size: the window, an int or `(kh, kw)`; the strides are the
            same.
        **kwargs: the other arguments of `Conv2D` (`activation`,
            `kernel_regularizer`, ...); `strides`, if given, must equal
            `kernel_size`.

    Raises:
        ValueError: strides other than the kernel size, padding other than
            `"valid"`, channels first, dilation or groups: windows that do
            not tile the input.

    Example:
        ```python
        conv = reczoo.layers.PatchConv2D(4, kernel_size=2, activation="relu")
        images = np.random.rand(3, 8, 8, 1).astype("float32")
        conv(images).shape  # (3, 4, 4, 4), as Conv2D(4, 2, strides=2) gives
        ```
    """

    def __init__(self, filters, kernel_size, **kwargs):
        kwargs.setdefault("strides", kernel_size)
        super().__init__(filters, kernel_size, **kwargs)
        tiles = (
            tuple(self.strides) == tuple(self.kernel_size)
            and self.padding == "valid"
            and self.data_format == "channels_last"
            and tuple(self.dilation_rate) == (1, 1)
            and self.groups == 1
        )
        if not tiles:
            raise ValueError(
                "PatchConv2D needs windows that tile the input: strides equal to "
                "kernel_size, padding='valid', channels_last, no dilation or groups. "
                f"Received: kernel_size={self.kernel_size}, strides={self.strides}, "
                f"padding={self.padding!r}, data_format={self.data_format!r}, "
                f"dilation_rate={self.dilation_rate}, groups={self.groups}"
            )

    def convolution_op(self, inputs, kernel):
        height, width, channels = inputs.shape[1:]
        if None in (height, width, channels):
            return super().convolution_op(inputs, kernel)
        kh, kw = self.kernel_size
        rows, cols = height // kh, width // kw
        if (rows * kh, cols * kw) != (height, width):
            inputs = inputs[:, : rows * kh, : cols * kw, :]
        patches = ops.reshape(inputs, (-1, rows, kh, cols, kw, channels))
        patches = ops.transpose(patches, (0, 1, 3, 2, 4, 5))
        patches = ops.reshape(patches, (-1, kh * kw * channels))
        outputs = ops.matmul(patches, ops.reshape(kernel, (kh * kw * channels, self.filters)))
        return ops.reshape(outputs, (-1, rows, cols, self.filters))
