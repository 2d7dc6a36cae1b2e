"""Sequential models: causality, padding, and the NextItem losses by hand."""

import keras
import numpy as np
import pytest

import reczoo


def seq_spec(vocab=11, dim=4, length=5):
    return reczoo.FeatureSpec(
        [reczoo.Sequence("history", vocab, dim, max_length=length, table="item")]
    )


@pytest.mark.parametrize("name", ["sasrec", "gru4rec"])
def test_position_t_never_sees_t_plus_one(name):
    model = reczoo.get_model(name, feature_spec=seq_spec(), dropout=0.0)
    a = np.array([[0, 3, 4, 5, 6]])
    b = a.copy()
    b[0, 3:] = [9, 10]  # change positions 3 and 4
    out_a = model.predict({"history": a}, verbose=0)
    out_b = model.predict({"history": b}, verbose=0)
    np.testing.assert_allclose(out_a[0, :3], out_b[0, :3], rtol=1e-5, atol=1e-6)
    assert not np.allclose(out_a[0, 3:], out_b[0, 3:])


@pytest.mark.parametrize("name", ["sasrec", "gru4rec"])
def test_padding_is_never_read(name):
    model = reczoo.get_model(name, feature_spec=seq_spec(), dropout=0.0)
    histories = {"history": np.array([[0, 0, 3, 4, 5]])}
    before = model.predict(histories, verbose=0)
    table = model.item_embedding.embeddings
    table.assign(np.concatenate([np.full((1, 4), 7.0), table.numpy()[1:]]).astype("float32"))
    after = model.predict(histories, verbose=0)
    np.testing.assert_allclose(before[0, 2:], after[0, 2:], rtol=1e-5, atol=1e-6)


def loss_model(loss, table, **kwargs):
    model = reczoo.get_model(
        "sasrec", feature_spec=seq_spec(vocab=len(table), dim=2), loss=loss, **kwargs
    )
    model.item_embedding.embeddings.assign(np.asarray(table, dtype="float32"))
    return model


def compute(model, states, targets):
    return float(
        keras.ops.convert_to_numpy(
            model.compute_loss(y=np.asarray(targets), y_pred=np.asarray(states, dtype="float32"))
        )
    )


def test_full_softmax_loss_by_hand():
    table = [[100.0, 100.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    model = loss_model("ce", table)
    states = [[[2.0, 1.0], [0.0, 0.0]]]
    # Position 0 targets item 2; position 1 has no next item (0) and is ignored.
    logits = np.array([2.0, 1.0, 3.0])  # items 1..3; the padding row never competes
    expected = -(logits[1] - np.log(np.exp(logits).sum()))
    assert compute(model, states, [[2, 0]]) == pytest.approx(expected, rel=1e-5)


def test_masked_full_softmax_scores_only_the_masked_positions_by_hand():
    # BERT4Rec's full softmax op by op gathers the positions with a target
    # before scoring the catalogue: the same loss as every position scored
    # and the others masked, which XLA (and JAX) compute.
    spec = reczoo.FeatureSpec([reczoo.Sequence("history", 5, 2, max_length=3, table="item")])
    model = reczoo.get_model("bert4rec", feature_spec=spec, seed=0)
    model.compile(jit_compile=False)  # Keras' "auto" compiles on a GPU
    # Items 1..3; row 0 is padding and row 4 the mask token, never a prediction.
    table = [[100.0, 100.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [50.0, 50.0]]
    model.item_embedding.embeddings.assign(np.asarray(table, dtype="float32"))
    states = [[[2.0, 1.0], [0.0, 0.0], [1.0, 3.0]], [[5.0, 5.0], [0.5, -1.0], [0.0, 2.0]]]
    targets = [[2, 0, 1], [0, 3, 0]]
    expected = []
    for state, target in [((2.0, 1.0), 2), ((1.0, 3.0), 1), ((0.5, -1.0), 3)]:
        logits = np.asarray(table[1:4]) @ np.asarray(state)
        expected.append(np.log(np.exp(logits).sum()) - logits[target - 1])
    assert model._gathers_targets() == (keras.backend.backend() == "tensorflow")
    gathered = compute(model, states, targets)
    model.jit_compile = True
    assert not model._gathers_targets()
    assert gathered == pytest.approx(np.mean(expected), rel=1e-5)
    assert compute(model, states, targets) == pytest.approx(gathered, rel=1e-6)


def test_bce_loss_by_hand():
    # All items share one embedding, so whichever negative is drawn its logit
    # equals the positive's: each position costs -log s(z) - log(1 - s(z)).
    table = [[0.0, 0.0]] + [[1.0, 0.5]] * 4
    model = loss_model("bce", table, seed=3)
    states = [[[2.0, 0.0], [1.0, 2.0], [5.0, 5.0]]]
    z = np.array([2.0, 2.0])
    sig = 1 / (1 + np.exp(-z))
    expected = np.mean(-np.log(sig) - np.log(1 - sig))
    # The third position has no next item and does not count.
    assert compute(model, states, [[1, 3, 0]]) == pytest.approx(expected, rel=1e-5)


def test_sampled_softmax_loss_by_hand():
    # With equal logits the positive competes with num_negatives equals:
    # the loss is log(1 + num_negatives) whatever is drawn.
    table = [[0.0, 0.0]] + [[1.0, 0.0]] * 4
    model = loss_model("sampled_softmax", table, num_negatives=3, seed=0)
    assert compute(model, [[[0.7, 0.2]]], [[2]]) == pytest.approx(np.log(4.0), rel=1e-5)


def test_gbce_loss_by_hand():
    # 4 items, 2 negatives: alpha = 2/3, beta = alpha * (t (1 - 1/alpha) + 1/alpha)
    # = 1 - t (1 - alpha) = 0.75 at t = 0.75. With equal logits z every
    # column costs softplus(-z) (the positive, weighted) or softplus(z).
    table = [[0.0, 0.0]] + [[1.0, 0.5]] * 4
    model = loss_model("gbce", table, num_negatives=2, gbce_calibration=0.75, seed=1)
    z = 2.0 * 1.0 + 0.0 * 0.5
    expected = 0.75 * np.log1p(np.exp(-z)) + 2 * np.log1p(np.exp(z))
    assert compute(model, [[[2.0, 0.0]]], [[3]]) == pytest.approx(expected, rel=1e-5)


def test_gbce_refuses_bad_settings():
    with pytest.raises(ValueError, match=r"gbce_calibration=1\.5"):
        reczoo.get_model("sasrec", feature_spec=seq_spec(), loss="gbce", gbce_calibration=1.5)
    model = loss_model("gbce", [[0.0, 0.0]] + [[1.0, 0.0]] * 4, num_negatives=9)
    with pytest.raises(ValueError, match="between 1 and num_items - 1 = 3 negatives"):
        compute(model, [[[0.7, 0.2]]], [[2]])


def test_unknown_loss_and_missing_history():
    with pytest.raises(ValueError, match="loss='bpr'"):
        reczoo.get_model("sasrec", feature_spec=seq_spec(), loss="bpr")
    spec = reczoo.FeatureSpec([reczoo.Categorical("item_id", 5, 4)])
    with pytest.raises(ValueError, match="needs a Sequence feature named 'history'"):
        reczoo.get_model("sasrec", feature_spec=spec)


def test_recommend_excludes_seen_and_padding():
    model = reczoo.get_model("sasrec", feature_spec=seq_spec(), dropout=0.0)
    histories = np.array([[0, 0, 1, 2, 3], [0, 0, 0, 0, 5]])
    top, scores = model.recommend(histories, k=4)
    assert top.shape == scores.shape == (2, 4)
    assert not set(top[0]) & {0, 1, 2, 3}
    assert 0 not in top[1] and 5 not in top[1]
    scores = model.score_items(histories)
    for row, ids in zip(scores, top, strict=True):
        assert row[ids[0]] >= row[ids[1]] >= row[ids[2]]


@pytest.mark.parametrize("name", ["sasrec", "gru4rec"])
def test_shorter_padding_gives_the_same_states(name):
    model = reczoo.get_model(name, feature_spec=seq_spec(length=6), dropout=0.0)
    full = np.array([[0, 0, 0, 3, 4, 5], [0, 0, 7, 8, 9, 1]])
    trimmed = full[:, 2:]
    a = model.predict({"history": full}, verbose=0)[:, -1]
    b = model.predict({"history": trimmed}, verbose=0)[:, -1]
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
