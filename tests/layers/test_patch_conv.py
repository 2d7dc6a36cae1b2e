import keras
import numpy as np
import pytest
from testing import assert_config_round_trip

from reczoo.layers import PatchConv2D

pytestmark = pytest.mark.jax


def _pair(filters, kernel, shape, seed=0):
    """A Conv2D with strides equal to its kernel and a PatchConv2D with the
    same weights."""
    conv = keras.layers.Conv2D(filters, kernel, strides=kernel, activation="relu")
    patch = PatchConv2D(filters, kernel, activation="relu")
    conv.build(shape)
    patch.build(shape)
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=w.shape).astype("float32") for w in conv.get_weights()]
    conv.set_weights(weights)
    patch.set_weights(weights)
    return conv, patch


def _gradients(layer, x):
    """d sum(layer(x)^2) / d (kernel, bias, x)."""
    if keras.backend.backend() == "jax":
        import jax

        def loss(trainable, x):
            out, _ = layer.stateless_call(trainable, [], x)
            return (out**2).sum()

        weights, inputs = jax.grad(loss, argnums=(0, 1))(
            [v.value for v in layer.trainable_variables], x
        )
        return [np.asarray(g) for g in (*weights, inputs)]
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x) ** 2)
    return [g.numpy() for g in tape.gradient(loss, [*layer.trainable_variables, x])]


@pytest.mark.parametrize(
    "kernel, shape",
    [
        (2, (4, 16, 16, 1)),  # ConvNCF's first layer: one channel
        (2, (4, 8, 8, 32)),
        ((2, 3), (3, 9, 7, 5)),  # a rectangular window; rows and a column past the last
    ],
)
def test_the_same_outputs_and_gradients_as_conv2d(kernel, shape):
    x = np.random.default_rng(1).normal(size=shape).astype("float32")
    conv, patch = _pair(6, kernel, shape)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(patch(x)), keras.ops.convert_to_numpy(conv(x)), atol=1e-4
    )
    assert patch.compute_output_shape(shape) == conv.compute_output_shape(shape)
    for ours, theirs in zip(_gradients(patch, x), _gradients(conv, x), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-3)


def test_unknown_spatial_dimensions_use_the_convolution():
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, PatchConv2D(4, 2)(inputs))
    x = np.ones((2, 6, 4, 3), "float32")
    assert keras.ops.convert_to_numpy(model(x)).shape == (2, 3, 2, 4)


def test_windows_that_do_not_tile_are_refused():
    with pytest.raises(ValueError, match="strides equal to kernel_size"):
        PatchConv2D(4, 2, strides=1)
    with pytest.raises(ValueError, match="padding='same'"):
        PatchConv2D(4, 2, padding="same")
    with pytest.raises(ValueError, match="dilation_rate"):
        PatchConv2D(4, 3, dilation_rate=2, strides=3)


def test_config_round_trip():
    assert_config_round_trip(PatchConv2D(4, 2, activation="relu"))
