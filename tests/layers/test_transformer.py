"""TransformerBlock: each normalisation placement against a NumPy forward
pass written from its formula, causality, padding, dtypes and config."""

import keras
import numpy as np
import pytest
from testing import assert_config_round_trip

from reczoo.layers import TransformerBlock

to_numpy = keras.ops.convert_to_numpy
RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 4, 8)).astype("float32")
MASK = np.array([[False, True, True, True], [True, True, True, True]])


def _layer_norm(x, layer):
    gamma, beta = (to_numpy(w) for w in (layer.gamma, layer.beta))
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + layer.epsilon) * gamma + beta


def _dense(x, layer, activation=None):
    y = x @ to_numpy(layer.kernel) + to_numpy(layer.bias)
    if activation == "relu":
        return np.maximum(y, 0.0)
    if activation == "gelu":
        return to_numpy(keras.activations.gelu(y))
    return y


def _attention(queries, keys, layer, mask, causal, heads):
    q, k, v = (_dense(x, d) for x, d in ((queries, layer.query), (keys, layer.key),
                                         (keys, layer.value)))  # fmt: skip
    batch, length, dim = q.shape
    width = dim // heads
    out = np.zeros_like(q)
    allowed = np.tril(np.ones((length, length), bool)) if causal else np.ones((length,) * 2, bool)
    for b in range(batch):
        ok = allowed & mask[b][None, :]
        for h in range(heads):
            part = slice(h * width, (h + 1) * width)
            logits = q[b][:, part] @ k[b][:, part].T / np.sqrt(width)
            logits = np.where(ok, logits, -1e30)
            weights = np.exp(logits - logits.max(1, keepdims=True))
            weights /= weights.sum(1, keepdims=True)
            out[b][:, part] = weights @ v[b][:, part]
    return out


def _reference(block, x, mask):
    heads, act, causal = block.num_heads, block.activation, block.causal

    def attend(queries, keys):
        out = _attention(queries, keys, block.attention, mask, causal, heads)
        return _dense(out, block.attention_output) if block.attention_projection else out

    def feed_forward(h):
        return _dense(_dense(h, block.ffn_in, act), block.ffn_out)

    if block.norm == "sasrec":
        h = _layer_norm(x, block.attention_norm)
        x = h + attend(h, x)
        h = _layer_norm(x, block.ffn_norm)
        x = h + feed_forward(h)
    elif block.norm == "pre":
        h = _layer_norm(x, block.attention_norm)
        x = x + attend(h, h)
        x = x + feed_forward(_layer_norm(x, block.ffn_norm))
    else:
        x = _layer_norm(x + attend(x, x), block.attention_norm)
        x = _layer_norm(x + feed_forward(x), block.ffn_norm)
    return x * mask[..., None]


@pytest.mark.parametrize(
    "settings",
    [
        {"norm": "sasrec", "causal": True, "activation": "relu"},
        {"norm": "pre", "causal": True, "activation": "relu", "ffn_dim": 16},
        {"norm": "post", "causal": False, "activation": "gelu", "ffn_dim": 32,
         "attention_projection": True},
    ],
    ids=["sasrec", "pre", "post"],
)  # fmt: skip
def test_each_placement_matches_its_formula(settings):
    block = TransformerBlock(8, num_heads=2, **settings)
    out = to_numpy(block(X, mask=MASK))
    # Random, non-trivial normalisation weights, so a swapped one shows.
    for norm in (block.attention_norm, block.ffn_norm):
        norm.gamma.assign(RNG.normal(size=8).astype("float32"))
        norm.beta.assign(RNG.normal(size=8).astype("float32"))
    out = to_numpy(block(X, mask=MASK))
    np.testing.assert_allclose(out, _reference(block, X, MASK), rtol=2e-4, atol=2e-5)
    # Padding positions are zero.
    assert (out[0, 0] == 0).all()


def test_causal_blocks_never_see_the_future_and_bidirectional_ones_do():
    changed = X.copy()
    changed[:, 3:] = RNG.normal(size=changed[:, 3:].shape)
    for causal in (True, False):
        block = TransformerBlock(8, num_heads=2, causal=causal, norm="pre")
        before, after = to_numpy(block(X, mask=MASK)), to_numpy(block(changed, mask=MASK))
        assert np.allclose(before[:, :3], after[:, :3], atol=1e-5) == causal


def test_half_precision_keeps_masks_finite():
    block = TransformerBlock(8, num_heads=2, norm="post", causal=False, dtype="mixed_float16")
    padded = np.zeros((1, 4), bool)  # a row of padding only
    out = to_numpy(block(X[:1], mask=padded))
    assert block.compute_dtype == "float16" and np.isfinite(out).all() and (out == 0).all()


def test_dropout_only_in_training():
    block = TransformerBlock(8, num_heads=1, dropout=0.5)
    np.testing.assert_array_equal(
        to_numpy(block(X, mask=MASK, training=False)), to_numpy(block(X, mask=MASK))
    )
    assert not np.allclose(
        to_numpy(block(X, mask=MASK, training=True)), to_numpy(block(X, mask=MASK))
    )


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="`norm` must be one of"):
        TransformerBlock(8, norm="middle")
    with pytest.raises(ValueError, match="dim=10, num_heads=4"):
        TransformerBlock(10, num_heads=4)
    with pytest.raises(ValueError, match="width 8 received inputs of width 6"):
        TransformerBlock(8)(np.ones((1, 2, 6), "float32"))


@pytest.mark.parametrize(
    "block",
    [
        TransformerBlock(8, 2, dropout=0.2, norm="sasrec", epsilon=1e-8),
        TransformerBlock(
            8,
            2,
            ffn_dim=32,
            causal=False,
            norm="post",
            activation="gelu",
            attention_projection=True,
            hidden_dropout=False,
        ),
    ],
    ids=["sasrec", "bert4rec"],
)
def test_config_round_trip(block):
    assert_config_round_trip(block)
