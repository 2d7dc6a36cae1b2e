"""Every loss of reczoo.losses against values computed by hand, and its
config round trip."""

import keras
import numpy as np
import pytest
from keras import ops

from reczoo import losses


def _value(x):
    return np.asarray(ops.convert_to_numpy(x), dtype="float64")


def test_bpr_matches_hand_computed_values():
    # Pairs (positive, negative) in either order: differences 2 - 1, 0.5 - 3.
    labels = np.array([1.0, 0.0, 0.0, 1.0])
    scores = np.array([[2.0], [1.0], [3.0], [0.5]])
    expected = np.mean([np.log1p(np.exp(-1.0)), np.log1p(np.exp(2.5))])
    assert float(losses.BPRLoss()(labels, scores)) == pytest.approx(expected, rel=1e-6)
    # Per pair: 1 where the positive scores higher (2 > 1), 0 where not (0.5 < 3).
    assert _value(losses.pair_accuracy(labels, scores)).tolist() == [1.0, 0.0]
    assert _value(losses.pair_difference(labels, scores)).tolist() == [1.0, -2.5]


def test_check_pairs_names_the_broken_pair():
    losses.check_pairs([1, 0, 0, 1])
    with pytest.raises(ValueError, match="an odd number"):
        losses.check_pairs([1, 0, 1])
    with pytest.raises(ValueError, match=r"pair 1 \(rows 2 and 3\) has labels \[1.0, 1.0\]"):
        losses.check_pairs([0.0, 1.0, 1.0, 1.0])


def test_info_nce_matches_hand_computed_values():
    a = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    b = np.array([[1.0, 1.0], [0.0, 2.0]], "float32")
    z = np.concatenate([a, b])
    logits = z @ z.T / 0.5
    np.fill_diagonal(logits, -np.inf)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -np.mean([log_p[0, 2], log_p[1, 3], log_p[2, 0], log_p[3, 1]])
    assert float(_value(losses.info_nce(a, b, 0.5))) == pytest.approx(expected, rel=1e-6)
    assert float(_value(losses.InfoNCE(0.5)(a, b))) == pytest.approx(expected, rel=1e-6)
    # Cosine similarity: b's rows normalised first.
    unit = z / np.linalg.norm(z, axis=1, keepdims=True)
    logits = unit @ unit.T
    np.fill_diagonal(logits, -np.inf)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -np.mean([log_p[0, 2], log_p[1, 3], log_p[2, 0], log_p[3, 1]])
    got = losses.InfoNCE(similarity="cos")(a, b)
    assert float(_value(got)) == pytest.approx(expected, rel=1e-6)


def test_sampled_softmax_matches_hand_computed_values():
    logits = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    # Row 0: the positive is column 0; row 1: column 2.
    expected = [-np.log(np.e**2 / (np.e**2 + 2)), -np.log(np.e**3 / (1 + np.e + np.e**3))]
    got = losses.SampledSoftmax(reduction=None)(np.array([0, 2]), logits)
    np.testing.assert_allclose(_value(got), expected, rtol=1e-6)
    mean = losses.SampledSoftmax()(np.array([0, 2]), logits)
    assert float(_value(mean)) == pytest.approx(np.mean(expected), rel=1e-6)


def test_sampled_binary_crossentropy_matches_hand_computed_values():
    logits = np.array([[0.0, 0.0], [2.0, -1.0]])
    labels = np.array([[1.0, 0.0], [1.0, 0.0]])

    def softplus(x):
        return np.log1p(np.exp(x))

    # -log sigmoid(s) = softplus(-s); -log sigmoid(-s) = softplus(s).
    expected = [2 * np.log(2), softplus(-2.0) + softplus(-1.0)]
    got = losses.SampledBinaryCrossentropy(reduction=None)(labels, logits)
    np.testing.assert_allclose(_value(got), expected, rtol=1e-6)


def test_generalized_binary_crossentropy_matches_hand_computed_values():
    logits = np.array([[0.0, 0.0], [2.0, -1.0]])
    labels = np.array([[1.0, 0.0], [1.0, 0.0]])

    def softplus(x):
        return np.log1p(np.exp(x))

    expected = [0.25 * np.log(2) + np.log(2), 0.25 * softplus(-2.0) + softplus(-1.0)]
    got = losses.GeneralizedBinaryCrossentropy(beta=0.25, reduction=None)(labels, logits)
    np.testing.assert_allclose(_value(got), expected, rtol=1e-6)
    plain = losses.GeneralizedBinaryCrossentropy(beta=1.0, reduction=None)(labels, logits)
    bce = losses.SampledBinaryCrossentropy(reduction=None)(labels, logits)
    np.testing.assert_allclose(_value(plain), _value(bce), rtol=1e-6)


def test_gbce_beta_follows_the_paper():
    # gSASRec: alpha = k / (|I| - 1); t = 0 is BCE, t = 1 gives beta = alpha.
    assert losses.gbce_beta(256, 1001, 0.0) == pytest.approx(1.0)
    assert losses.gbce_beta(256, 1001, 1.0) == pytest.approx(0.256)
    assert losses.gbce_beta(256, 1001, 0.75) == pytest.approx(1 - 0.75 * (1 - 0.256))
    with pytest.raises(ValueError, match="calibration=2"):
        losses.gbce_beta(256, 1001, 2)
    with pytest.raises(ValueError, match="beta=0"):
        losses.GeneralizedBinaryCrossentropy(beta=0)


@pytest.mark.parametrize(
    "loss",
    [
        losses.BPRLoss(),
        losses.GeneralizedBinaryCrossentropy(beta=0.5),
        losses.InfoNCE(temperature=0.2, similarity="cos"),
        losses.SampledSoftmax(),
        losses.SampledBinaryCrossentropy(),
    ],
    ids=lambda loss: type(loss).__name__,
)
def test_every_loss_round_trips_through_its_config(loss):
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert type(again) is type(loss)
    assert again.get_config() == loss.get_config()


def test_info_nce_refuses_bad_settings():
    with pytest.raises(ValueError, match="`similarity` must be 'dot' or 'cos'"):
        losses.InfoNCE(similarity="l2")
    with pytest.raises(ValueError, match="`temperature` must be positive"):
        losses.InfoNCE(temperature=0)


def test_dot_softmax_cross_entropy_matches_numpy_and_the_dense_form():
    rng = np.random.default_rng(0)
    q, c = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))  # two extra negatives
    bias = rng.normal(size=5)
    logits = 0.5 * q @ c.T + bias
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(3), np.arange(3)]
    got = losses.dot_softmax_cross_entropy(q, c, column_bias=bias, scale=0.5)
    np.testing.assert_allclose(_value(got), expected, rtol=1e-5)
    np.testing.assert_allclose(
        _value(losses.dot_softmax_cross_entropy(q, c[:3])), -np.diag(
            (q @ c[:3].T) - np.log(np.exp(q @ c[:3].T).sum(axis=1, keepdims=True))
        ), rtol=1e-5,
    )  # fmt: skip
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    # Gradients equal those of a dense cross-entropy against an identity matrix.
    qv, cv = tf.Variable(q, dtype="float32"), tf.Variable(c, dtype="float32")
    labels = np.concatenate([np.eye(3), np.zeros((3, 2))], axis=1)
    with tf.GradientTape(persistent=True) as tape:
        sparse = tf.reduce_sum(losses.dot_softmax_cross_entropy(qv, cv, bias, 0.5))
        dense_logits = 0.5 * tf.matmul(qv, cv, transpose_b=True) + bias.astype("float32")
        dense = tf.reduce_sum(
            keras.losses.categorical_crossentropy(labels, dense_logits, from_logits=True)
        )
    pairs = zip(tape.gradient(sparse, [qv, cv]), tape.gradient(dense, [qv, cv]), strict=True)
    for a, b in pairs:
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("differ", [False, True])
def test_distinct_items_give_the_same_loss_and_gradients(differ):
    # Rows 0, 2 and 4 hold item 7 and rows 1 and 3 item 5 (same vectors, so
    # the distinct-item path runs), then two sampled columns. With `differ`
    # one repeated vector is changed: the whole matrix is scored instead.
    rng = np.random.default_rng(1)
    vectors = {7: rng.normal(size=4), 5: rng.normal(size=4), 9: rng.normal(size=4)}
    ids = np.array([7, 5, 7, 5, 7, 9])
    c = np.stack([vectors[i] for i in ids] + [rng.normal(size=4), rng.normal(size=4)])
    if differ:
        c[2] += 0.5
    q = rng.normal(size=(6, 4))
    bias = np.concatenate([-np.log(np.array([3, 2, 3, 2, 3, 1]) / 6), [0.1, -0.2]])
    logits = 0.7 * q @ c.T + bias
    shifted = logits - logits.max(axis=1, keepdims=True)
    expected = -(shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)))[
        np.arange(6), np.arange(6)
    ]
    got = losses.dot_softmax_cross_entropy(q, c, bias, 0.7, column_ids=ids)
    np.testing.assert_allclose(_value(got), expected, rtol=1e-5)
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    qv, cv = tf.Variable(q, dtype="float32"), tf.Variable(c, dtype="float32")
    with tf.GradientTape(persistent=True) as tape:
        distinct = tf.reduce_sum(losses.dot_softmax_cross_entropy(qv, cv, bias, 0.7, ids))
        every = tf.reduce_sum(losses.dot_softmax_cross_entropy(qv, cv, bias, 0.7))
    # Each row's gradient is the same, not only each item's sum: optimizers
    # that treat repeated rows apart (Keras' Adam on IndexedSlices) see the same.
    a, b = (tape.gradient(x, [qv, cv]) for x in (distinct, every))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-5, atol=1e-6)
