"""Interaction layers against numbers computed by hand."""

import keras
import numpy as np
import pytest
from testing import assert_config_round_trip

import reczoo
from reczoo.layers import (
    CIN,
    CausalSelfAttention,
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


def _identity_attention(num_heads, dim):
    layer = CausalSelfAttention(num_heads=num_heads)
    layer.build((None, None, dim))
    for dense in (layer.query, layer.key, layer.value):
        dense.kernel.assign(np.eye(dim, dtype="float32"))
        dense.bias.assign(np.zeros(dim, "float32"))
    return layer


def test_causal_attention_by_hand():
    layer = _identity_attention(1, 2)
    mask = np.array([[False, True, True]])
    out = to_numpy(layer(FIELDS, FIELDS, mask=mask))[0]
    e = FIELDS[0]
    # Position 1 sees only itself (0 is padding); position 2 sees 1 and 2.
    np.testing.assert_allclose(out[1], e[1], rtol=1e-6)
    logits = e[1:] @ e[2] / np.sqrt(2.0)
    weights = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(out[2], weights @ e[1:], rtol=1e-5)


def test_causal_attention_never_sees_the_future():
    layer = CausalSelfAttention(num_heads=2)
    x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype("float32")
    changed = x.copy()
    changed[:, 3:] += 10.0
    before, after = to_numpy(layer(x, x)), to_numpy(layer(changed, changed))
    np.testing.assert_allclose(before[:, :3], after[:, :3], rtol=1e-5)
    assert not np.allclose(before[:, 3:], after[:, 3:])
    with pytest.raises(ValueError, match="width=5, num_heads=2"):
        CausalSelfAttention(num_heads=2)(np.ones((1, 2, 5), "float32"), np.ones((1, 2, 5)))


def test_causal_attention_heads_attend_separately():
    layer = _identity_attention(2, 4)
    x = np.random.default_rng(1).normal(size=(1, 3, 4)).astype("float32")
    out = to_numpy(layer(x, x))[0]
    for head in (slice(0, 2), slice(2, 4)):
        e = x[0][:, head]
        logits = e @ e.T / np.sqrt(2.0) + np.triu(np.full((3, 3), -1e9), 1)
        weights = np.exp(logits - logits.max(1, keepdims=True))
        weights /= weights.sum(1, keepdims=True)
        np.testing.assert_allclose(out[:, head], weights @ e, rtol=1e-5, atol=1e-6)


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
        CausalSelfAttention(num_heads=2, dropout=0.5),
        FeatureLinear(reczoo.FeatureSpec([reczoo.Categorical("a", 3, 4)])),
    ],
)
def test_config_round_trip(layer):
    assert_config_round_trip(layer)
