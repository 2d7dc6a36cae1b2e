import keras
import numpy as np
from testing import assert_config_round_trip

from reczoo.layers import MLP, FMInteraction


def test_fm_interaction_matches_pairwise_sum():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(3, 4, 5)).astype("float32")
    expected = np.zeros((3, 1))
    for i in range(4):
        for j in range(i + 1, 4):
            expected[:, 0] += (v[:, i] * v[:, j]).sum(-1)
    out = keras.ops.convert_to_numpy(FMInteraction()(v))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_fm_interaction_hand_computed():
    # Fields (1, 2), (3, 4), (5, 6): pairs 1*3+2*4 + 1*5+2*6 + 3*5+4*6 = 11+17+39.
    v = np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    assert keras.ops.convert_to_numpy(FMInteraction()(v))[0, 0] == 67.0
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(FMInteraction(reduce_sum=False)(v)), [[23.0, 44.0]]
    )


def test_mlp_shapes_and_config():
    tower = MLP([8, 4], dropout=0.1, batch_norm=True, kernel_regularizer="l2")
    out = tower(np.ones((2, 6), dtype="float32"))
    assert tuple(out.shape) == (2, 4)
    assert_config_round_trip(tower)
    assert_config_round_trip(FMInteraction(reduce_sum=False))


def test_mlp_validation():
    import pytest

    with pytest.raises(ValueError, match=r"Received: \[8, 0\]"):
        MLP([8, 0])
    with pytest.raises(ValueError, match=r"dropout=1\.5"):
        MLP([8], dropout=1.5)
