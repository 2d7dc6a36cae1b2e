"""Interaction layers against numbers computed by hand."""

import keras
import numpy as np
import pytest
from testing import assert_config_round_trip

import reczoo
from reczoo.layers import (
    CIN,
    FeatureLinear,
    InnerProduct,
    InteractingLayer,
    OuterProduct,
    TargetAttention,
)

FIELDS = np.array([[[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]]], dtype="float32")


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def test_inner_product_pairs():
    # <f0,f1> = 2, <f0,f2> = 0, <f1,f2> = 3.
    np.testing.assert_allclose(to_numpy(InnerProduct()(FIELDS)), [[2.0, 0.0, 3.0]])


def test_outer_product_of_summed_fields():
    # Sum of fields is (3, 4): outer product [[9, 12], [12, 16]].
    np.testing.assert_allclose(to_numpy(OuterProduct()(FIELDS)), [[9.0, 12.0, 12.0, 16.0]])


def test_interacting_layer_with_identity_weights():
    layer = InteractingLayer(attention_dim=2, num_heads=1, use_residual=True)
    layer.build((None, 3, 2))
    eye = np.eye(2, dtype="float32")
    for dense in (layer.query, layer.key, layer.value, layer.residual):
        dense.kernel.assign(eye)
    out = to_numpy(layer(FIELDS))[0]
    e = FIELDS[0]
    logits = e @ e.T
    weights = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = np.maximum(weights @ e + e, 0.0)
    np.testing.assert_allclose(out, expected, rtol=1e-5)


def test_interacting_layer_heads_split_the_width():
    layer = InteractingLayer(attention_dim=4, num_heads=2, use_scale=True, layer_norm=True)
    assert tuple(layer(np.ones((2, 3, 5), "float32")).shape) == (2, 3, 4)
    with pytest.raises(ValueError, match="attention_dim=5, num_heads=2"):
        InteractingLayer(attention_dim=5, num_heads=2)


def test_target_attention_weights_and_mask():
    layer = TargetAttention(hidden_units=[], softmax=False)
    query = np.array([[1.0, 2.0]], dtype="float32")
    keys = np.array([[[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]]], dtype="float32")
    mask = np.array([[True, True, False]])
    layer.build(query.shape, keys.shape, mask.shape)
    # Score = sum of the [k, q, k - q, k * q] features (all weights 1, no bias).
    layer.score.kernel.assign(np.ones((8, 1), "float32"))
    layer.score.bias.assign([0.0])
    w = [1 + 3 + (0 - 2) + 1, 1 + 3 + (-1 + (-1)) + 2]  # = 3, 4
    out = to_numpy(layer(query, keys, mask))
    np.testing.assert_allclose(out, [[w[0] * 1.0, w[1] * 1.0]])
    soft = TargetAttention(hidden_units=[], softmax=True)
    soft.build(query.shape, keys.shape, mask.shape)
    soft.score.kernel.assign(np.ones((8, 1), "float32"))
    soft.score.bias.assign([0.0])
    p = np.exp([3.0, 4.0]) / np.exp([3.0, 4.0]).sum()
    np.testing.assert_allclose(to_numpy(soft(query, keys, mask)), [[p[0], p[1]]], rtol=1e-5)


def test_cin_one_layer_by_hand():
    layer = CIN(layer_sizes=[1])
    layer.build((None, 2, 2))
    x = np.array([[[1.0, 2.0], [3.0, 4.0]]], dtype="float32")
    # One map with weight 1 on pair (0, 1) only: x0 * x1 = (3, 8), pooled to 11.
    kernel = np.zeros((4, 1), "float32")
    kernel[1, 0] = 1.0
    layer.kernels[0].assign(kernel)
    np.testing.assert_allclose(to_numpy(layer(x)), [[11.0]])


def test_feature_linear_sums_weights():
    spec = reczoo.FeatureSpec([reczoo.Categorical("a", 3, 4), reczoo.Numerical("x")])
    layer = FeatureLinear(spec)
    layer.build()
    layer.weights_embedding.embedding_table("a").embeddings.assign([[0.0], [0.5], [2.0]])
    layer.weights_embedding.projections["x"].kernel.assign([[3.0]])
    layer.bias.assign([1.0])
    out = to_numpy(layer({"a": np.array([2]), "x": np.array([[2.0]])}))
    np.testing.assert_allclose(out, [[1.0 + 2.0 + 6.0]])


@pytest.mark.parametrize(
    "layer",
    [
        InnerProduct(),
        OuterProduct(),
        InteractingLayer(8, 2, use_scale=True),
        TargetAttention([4], softmax=True),
        CIN([3, 2]),
        FeatureLinear(reczoo.FeatureSpec([reczoo.Categorical("a", 3, 4)])),
    ],
)
def test_config_round_trip(layer):
    assert_config_round_trip(layer)
