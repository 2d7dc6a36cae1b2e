import keras
import numpy as np
import pytest
from testing import assert_config_round_trip

from reczoo.layers import MLP, HashDropout
from reczoo.layers.dropout import hashed_keep_mask

pytestmark = pytest.mark.jax


def _fmix32(h):
    h = h.astype(np.uint64)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    return h ^ (h >> 16)


def _numpy_mask(shape, rate, seed):
    golden = 0x9E3779B9
    key = _fmix32((_fmix32(np.uint64(seed[0])) + np.uint64(seed[1]) * golden) & 0xFFFFFFFF)
    positions = (np.arange(np.prod(shape), dtype=np.uint64) * golden) & 0xFFFFFFFF
    return (_fmix32(positions ^ key) >= round(rate * 2**32)).reshape(shape)


def test_the_mask_is_the_documented_hash_on_every_backend():
    # The same bits under TensorFlow and JAX: a run's masks do not depend on
    # the backend, and the hash is the one the docstring states.
    for seed in ([0, 0], [7, 3], [123456, 2**20]):
        mask = keras.ops.convert_to_numpy(hashed_keep_mask((64, 33), 0.25, np.array(seed)))
        np.testing.assert_array_equal(mask, _numpy_mask((64, 33), 0.25, seed))
    # The layer's masks (under TensorFlow, a kernel compiled with XLA): its
    # seed state starts at [seed, 0] and counts calls.
    drop = HashDropout(0.25, seed=7)
    for calls in range(2):
        out = keras.ops.convert_to_numpy(drop(np.ones((64, 33), "float32"), training=True))
        np.testing.assert_array_equal(out != 0, _numpy_mask((64, 33), 0.25, [7, calls]))


def test_each_call_drops_about_rate_and_scales_what_it_keeps():
    drop = HashDropout(0.2, seed=5)
    x = np.full((512, 256), 3.0, "float32")
    first = keras.ops.convert_to_numpy(drop(x, training=True))
    second = keras.ops.convert_to_numpy(drop(x, training=True))
    for out in (first, second):
        kept = out != 0
        # 131,072 draws: the kept fraction is within 5 sd of 0.8.
        assert abs(kept.mean() - 0.8) < 5 * (0.16 / kept.size) ** 0.5
        np.testing.assert_allclose(out[kept], 3.0 / 0.8, rtol=1e-6)
        # No row or column is dropped as a block.
        assert kept.mean(axis=0).min() > 0.6 and kept.mean(axis=0).max() < 0.95
        assert kept.mean(axis=1).min() > 0.6 and kept.mean(axis=1).max() < 0.95
    # A new mask every call, about as different as two independent ones.
    agree = ((first != 0) == (second != 0)).mean()
    assert abs(agree - (0.8**2 + 0.2**2)) < 0.01
    # Outside training, and at rate 0, the layer is the identity.
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(drop(x)), x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(HashDropout(0.0)(x, training=True)), x)


def test_a_seed_gives_the_same_masks_and_the_config_round_trips():
    x = np.ones((16, 8), "float32")

    def masks(seed):
        drop = HashDropout(0.5, seed=seed)
        return [keras.ops.convert_to_numpy(drop(x, training=True)) for _ in range(3)]

    for a, b in zip(masks(11), masks(11), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(masks(11)[0], masks(12)[0])
    assert_config_round_trip(HashDropout(0.3, seed=4))


def test_a_bad_rate_is_refused_by_name():
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\), got 1.0"):
        HashDropout(1.0)


def test_a_model_compiled_with_xla_trains_with_dropout():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((32,))
    outputs = keras.layers.Dense(1)(MLP([64], dropout=0.5)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", jit_compile=True)
    x = np.random.default_rng(0).normal(size=(256, 32)).astype("float32")
    y = x[:, :1] * 2.0
    history = model.fit(x, y, batch_size=64, epochs=3, verbose=0).history["loss"]
    assert history[-1] < history[0]
    # Dropout is on in training: two training passes differ, inference does not.
    first = keras.ops.convert_to_numpy(model(x, training=True))
    assert not np.allclose(first, keras.ops.convert_to_numpy(model(x, training=True)))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model(x)), keras.ops.convert_to_numpy(model(x))
    )
