import keras
import numpy as np
import pytest
from testing import assert_config_round_trip, tiny_spec

import reczoo


def test_output_modes_shapes():
    spec = tiny_spec(dim=4)
    batch = spec.dummy_inputs(3)
    out = reczoo.FeatureEmbedding(spec, output_mode="dict")(batch)
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "user_id": (3, 4),
        "item_id": (3, 4),
        "history": (3, 5, 4),
        "genres": (3, 4),
        "age": (3, 1),
    }
    assert tuple(reczoo.FeatureEmbedding(spec, output_mode="stack")(batch).shape) == (3, 5, 4)
    # 4 id features of width 4 plus the raw numerical value.
    assert tuple(reczoo.FeatureEmbedding(spec, output_mode="concat")(batch).shape) == (3, 17)


def _set_table(layer, name, values):
    layer.embedding_table(name).embeddings.assign(np.asarray(values, dtype="float32"))


def test_shared_table_is_one_variable():
    spec = tiny_spec()
    layer = reczoo.FeatureEmbedding(spec)
    layer(spec.dummy_inputs(2))
    # user_id, item (shared by item_id and history), genres.
    assert len(layer.trainable_weights) == 3


@pytest.mark.parametrize(
    "combiner, expected",
    [
        ("mean", [[2.0, 20.0], [0.0, 0.0]]),
        ("sum", [[4.0, 40.0], [0.0, 0.0]]),
        ("sqrtn", [[4.0 / np.sqrt(2), 40.0 / np.sqrt(2)], [0.0, 0.0]]),
        ("max", [[3.0, 30.0], [0.0, 0.0]]),
    ],
)
def test_multi_hot_pooling_ignores_padding(combiner, expected):
    spec = reczoo.FeatureSpec([reczoo.MultiHot("tags", 4, 2, max_length=3, combiner=combiner)])
    layer = reczoo.FeatureEmbedding(spec)
    layer.build()
    _set_table(layer, "tags", [[100, 100], [1, 10], [3, 30], [5, 50]])
    # Row 0 holds ids 1 and 2 plus padding; row 1 is an empty bag.
    out = layer({"tags": np.array([[1, 2, 0], [0, 0, 0]])})["tags"]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), expected, rtol=1e-6)


def test_sequence_mask_and_pooled_field():
    spec = reczoo.FeatureSpec([reczoo.Sequence("h", 4, 1, max_length=3)])
    layer = reczoo.FeatureEmbedding(spec)
    layer.build()
    _set_table(layer, "h", [[100], [1], [2], [3]])
    ids = np.array([[0, 1, 3]])
    mask = layer.compute_mask({"h": ids})["h"]
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(mask), [[False, True, True]])
    stacked = reczoo.FeatureEmbedding(spec, output_mode="stack")
    stacked.build()
    _set_table(stacked, "h", [[100], [1], [2], [3]])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(stacked({"h": ids})), [[[2.0]]])


def test_out_of_range_ids_read_the_oov_row():
    spec = reczoo.FeatureSpec([reczoo.Categorical("u", 3, 1)])
    layer = reczoo.FeatureEmbedding(spec)
    layer.build()
    _set_table(layer, "u", [[-7], [1], [2]])
    out = layer({"u": np.array([1, 2, 3, -1, 99])})["u"]
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out)[:, 0], [1, 2, -7, -7, -7])


def test_numerical_projection_in_stack_mode():
    spec = reczoo.FeatureSpec([reczoo.Categorical("u", 3, 2), reczoo.Numerical("x")])
    layer = reczoo.FeatureEmbedding(spec, output_mode="stack")
    layer.build()
    layer.projections["x"].kernel.assign(np.array([[2.0, -1.0]], dtype="float32"))
    out = keras.ops.convert_to_numpy(layer({"u": np.array([1]), "x": np.array([[3.0]])}))
    np.testing.assert_allclose(out[0, 1], [6.0, -3.0])


def test_numerical_dim_projects_numbers_in_every_mode():
    spec = reczoo.FeatureSpec([reczoo.Categorical("u", 3, 2), reczoo.Numerical("x")])
    layer = reczoo.FeatureEmbedding(spec, output_mode="concat", numerical_dim=2)
    layer.build()
    layer.projections["x"].kernel.assign(np.array([[2.0, -1.0]], dtype="float32"))
    _set_table(layer, "u", [[0.0, 0.0], [5.0, 7.0], [0.0, 0.0]])
    out = keras.ops.convert_to_numpy(layer({"u": np.array([1]), "x": np.array([[3.0]])}))
    np.testing.assert_allclose(out[0], [5.0, 7.0, 6.0, -3.0])
    assert layer.compute_output_shape(None) == (None, 4)
    # Numbers alone stack at the width given; a width other than the ids' is refused.
    only = reczoo.FeatureSpec([reczoo.Numerical("x"), reczoo.Numerical("y")])
    stacked = reczoo.FeatureEmbedding(only, output_mode="stack", numerical_dim=3)
    assert stacked({"x": np.ones((2, 1)), "y": np.ones((2, 1))}).shape == (2, 2, 3)
    with pytest.raises(ValueError, match="numerical_dim equal to the id features' embedding_dim 2"):
        reczoo.FeatureEmbedding(spec, output_mode="stack", numerical_dim=3)
    with pytest.raises(ValueError, match="`numerical_dim` must be a positive integer"):
        reczoo.FeatureEmbedding(spec, numerical_dim=0)


def test_hashed_feature_reserves_bucket_zero():
    spec = reczoo.FeatureSpec(
        [reczoo.Categorical("city", embedding_dim=2, hash_bins=10, dtype="string")]
    )
    layer = reczoo.FeatureEmbedding(spec)
    ids = keras.ops.convert_to_numpy(layer.ids({"city": np.array(["paris", "", "oslo"])}, "city"))
    assert ids[1] == 0
    assert ((ids[[0, 2]] >= 1) & (ids[[0, 2]] <= 10)).all()


def test_stack_mode_rejects_mixed_widths():
    spec = reczoo.FeatureSpec([reczoo.Categorical("a", 3, 4), reczoo.Categorical("b", 3, 8)])
    with pytest.raises(ValueError, match="'a' with embedding_dim=4, 'b' with embedding_dim=8"):
        reczoo.FeatureEmbedding(spec, output_mode="stack")


def test_unknown_output_mode():
    with pytest.raises(ValueError, match="output_mode='flat'"):
        reczoo.FeatureEmbedding(tiny_spec(), output_mode="flat")


@pytest.mark.parametrize("mode", ["dict", "stack", "concat"])
def test_config_round_trip(mode):
    layer = reczoo.FeatureEmbedding(
        tiny_spec(), output_mode=mode, embeddings_regularizer=keras.regularizers.L2(1e-4)
    )
    assert_config_round_trip(layer)
