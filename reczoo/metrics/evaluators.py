"""Batched evaluators: run a model over a protocol's held-out data."""

import time

import numpy as np

from reczoo.metrics.pointwise import auc, logloss, mae, rmse
from reczoo.metrics.ranking import ranking_metrics


def _predict(model, features, batch_size):
    # `predict_on_batch` per slice avoids building a tf.data pipeline per call.
    n = len(next(iter(features.values())))
    out = np.empty(n, dtype="float32")
    for start in range(0, n, batch_size):
        chunk = {k: v[start : start + batch_size] for k, v in features.items()}
        out[start : start + batch_size] = np.asarray(model.predict_on_batch(chunk)).reshape(-1)
    return out


def evaluate_sampled(model, split, stage, spec, ks=(10,), batch_size=8192):
    """Ranks each held-out item against its saved negatives.

    Returns `(metrics, scored_pairs, seconds)`.
    """
    users, candidates, labels = split.candidates(stage)
    flat_users = np.repeat(users, candidates.shape[1])
    features = split.dataset.features_for(flat_users, candidates.reshape(-1), spec)
    start = time.perf_counter()
    scores = _predict(model, features, batch_size).reshape(candidates.shape)
    seconds = time.perf_counter() - start
    return ranking_metrics(scores, labels, ks), candidates.size, seconds


def evaluate_full(model, split, stage, spec, ks=(10,), batch_size=8192):
    """Ranks each held-out item against every item, earlier items masked.

    Returns `(metrics, scored_pairs, seconds)`.
    """
    users, targets, _ = split.held_out(stage)
    seen = split.seen_before(stage)
    num_items = split.dataset.num_items
    all_items = np.arange(1, num_items + 1, dtype="int32")
    rows_per_chunk = max(1, 2_000_000 // num_items)
    results, pairs, seconds = [], 0, 0.0
    for begin in range(0, len(users), rows_per_chunk):
        chunk = users[begin : begin + rows_per_chunk]
        features = split.dataset.features_for(
            np.repeat(chunk, num_items), np.tile(all_items, len(chunk)), spec
        )
        start = time.perf_counter()
        scores = _predict(model, features, batch_size).reshape(len(chunk), num_items)
        seconds += time.perf_counter() - start
        pairs += scores.size
        labels = np.zeros_like(scores)
        for row, u in enumerate(range(begin, begin + len(chunk))):
            # A repeat of the target stays scoreable; the rest of the history is masked.
            history = seen[u][seen[u] != targets[u]]
            scores[row, history - 1] = -np.inf
            labels[row, targets[u] - 1] = 1.0
        results.append((scores, labels))
    scores = np.concatenate([r[0] for r in results])
    labels = np.concatenate([r[1] for r in results])
    return ranking_metrics(scores, labels, ks), pairs, seconds


def evaluate_pointwise(model, features, targets, objective, batch_size=8192):
    """AUC and logloss (binary) or RMSE and MAE (regression).

    Returns `(metrics, rows, seconds)`.
    """
    start = time.perf_counter()
    predictions = _predict(model, features, batch_size)
    seconds = time.perf_counter() - start
    if objective == "binary":
        metrics = {"auc": auc(targets, predictions), "logloss": logloss(targets, predictions)}
    else:
        metrics = {"rmse": rmse(targets, predictions), "mae": mae(targets, predictions)}
    return metrics, len(predictions), seconds
