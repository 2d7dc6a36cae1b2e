import numpy as np
import pytest

from reczoo import metrics


def test_single_relevant_hand_computed():
    scores = [[0.9, 0.1, 0.5, 0.3], [0.2, 0.8, 0.4, 0.6]]
    labels = [[0, 0, 1, 0], [1, 0, 0, 0]]
    out = metrics.ranking_metrics(scores, labels, ks=(1, 2, 4))
    # User 1's item ranks 2nd, user 2's ranks 4th.
    assert out["hr@1"] == 0.0
    assert out["hr@2"] == 0.5
    assert out["ndcg@2"] == pytest.approx(0.5 / np.log2(3))
    assert out["mrr@4"] == pytest.approx((1 / 2 + 1 / 4) / 2)
    assert out["ndcg@4"] == pytest.approx((1 / np.log2(3) + 1 / np.log2(5)) / 2)
    assert out["precision@2"] == pytest.approx(0.25)
    assert out["users"] == 2


def test_ties_count_against_the_relevant_item():
    constant = metrics.ranking_metrics(np.zeros((3, 101)), np.eye(3, 101), ks=(10,))
    assert constant["hr@10"] == 0.0 and constant["ndcg@10"] == 0.0
    tie = metrics.ranking_metrics([[1.0, 1.0, 0.0]], [[1, 0, 0]], ks=(1, 2))
    assert tie["hr@1"] == 0.0 and tie["hr@2"] == 1.0
    assert tie["ndcg@2"] == pytest.approx(1 / np.log2(3))


def test_several_relevant_items():
    out = metrics.ranking_metrics([[0.9, 0.8, 0.7, 0.6]], [[1, 0, 1, 1]], ks=(2,))
    assert out["recall@2"] == pytest.approx(1 / 3)
    assert out["precision@2"] == pytest.approx(0.5)
    ideal = 1 + 1 / np.log2(3)
    assert out["ndcg@2"] == pytest.approx(1 / ideal)


def test_users_without_relevant_items_are_left_out():
    out = metrics.ranking_metrics([[0.1, 0.2], [0.3, 0.4]], [[0, 1], [0, 0]], ks=(1,))
    assert out["users"] == 1 and out["hr@1"] == 1.0


def test_bad_shapes_and_nan():
    with pytest.raises(ValueError, match="one shape"):
        metrics.ranking_metrics([[1, 2]], [[1, 0, 0]])
    with pytest.raises(ValueError, match="NaN"):
        metrics.ranking_metrics([[np.nan, 1]], [[1, 0]])


def test_auc_hand_computed_with_ties():
    # Positives 0.8 and 0.5, negatives 0.5 and 0.1: pairs won 1 + 1 + 0.5 + 1 of 4.
    assert metrics.auc([1, 1, 0, 0], [0.8, 0.5, 0.5, 0.1]) == pytest.approx(3.5 / 4)
    assert metrics.auc([1, 0], [0.3, 0.3]) == 0.5
    with pytest.raises(ValueError, match="both classes"):
        metrics.auc([1, 1], [0.2, 0.3])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_auc_and_logloss_agree_with_scikit_learn(seed):
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size=5000)
    # Rounded scores make many ties.
    scores = np.round(rng.uniform(size=5000) * 0.6 + labels * 0.3, 2)
    assert metrics.auc(labels, scores) == pytest.approx(
        sklearn_metrics.roc_auc_score(labels, scores), abs=1e-12
    )
    assert metrics.logloss(labels, scores) == pytest.approx(
        sklearn_metrics.log_loss(labels, np.clip(scores, 1e-7, 1 - 1e-7)), rel=1e-9
    )


def test_rmse_and_mae():
    assert metrics.rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    assert metrics.mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)


def test_chunked_ranking_metrics_equal_the_whole():
    from reczoo.metrics.evaluators import _merge
    from reczoo.metrics.ranking import ranking_metrics

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 30))
    labels = np.zeros((50, 30))
    labels[np.arange(50), rng.integers(0, 30, 50)] = 1
    labels[7] = 0  # a user with nothing relevant counts nowhere
    labels[40:] = 0  # a chunk with nobody to average
    whole = ranking_metrics(scores, labels, ks=(5, 10))
    chunks = [
        ranking_metrics(scores[i : i + 20], labels[i : i + 20], ks=(5, 10)) for i in (0, 20, 40)
    ]
    merged = _merge(chunks)
    assert merged["users"] == whole["users"] == 39
    for key, value in whole.items():
        np.testing.assert_allclose(merged[key], value, rtol=1e-12)
