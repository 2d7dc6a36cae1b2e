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


def test_position_embedding_round_trips_and_counts_from_the_right():
    from reczoo.layers import PositionEmbedding

    layer = PositionEmbedding(4, initializer="ones", name="positions")
    rebuilt = assert_config_round_trip(layer)
    assert rebuilt.max_length == 4
    layer.build((None, 4, 2))
    layer.embeddings.assign(np.arange(8, dtype="float32").reshape(4, 2))
    # A length-2 input gets the table's last two rows.
    out = layer(np.zeros((1, 2, 2), dtype="float32"))
    np.testing.assert_allclose(out, [[[4, 5], [6, 7]]])


def test_caser_convolutions_round_trip_and_shape():
    from reczoo.models.caser.caser_backbone import CaserConvolutions

    layer = CaserConvolutions(3, num_horizontal=2, num_vertical=1, activation="relu")
    rebuilt = assert_config_round_trip(layer)
    assert (rebuilt.length, rebuilt.num_horizontal, rebuilt.num_vertical) == (3, 2, 1)
    out = layer(np.ones((5, 3, 4), dtype="float32"))
    assert tuple(out.shape) == (5, 3 * 2 + 1 * 4)


def test_item_popularity_round_trips_and_looks_up_counts():
    from reczoo.models.pop.pop_backbone import ItemPopularity

    layer = ItemPopularity(4)
    rebuilt = assert_config_round_trip(layer)
    assert rebuilt.vocabulary_size == 4
    layer.scores.assign([0.0, 1.0, 2.0, 3.0])
    # Out-of-range ids read the padding row.
    np.testing.assert_allclose(layer(np.array([3, 1, 9, -1])), [[3.0], [1.0], [0.0], [0.0]])
