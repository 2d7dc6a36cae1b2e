"""Batched evaluators: run a model over a protocol's held-out data."""

import time

import numpy as np

from reczoo.datasets.pipelines import left_pad
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
    features, labels = split.evaluation_inputs(stage, spec)
    start = time.perf_counter()
    scores = _predict(model, features, batch_size).reshape(labels.shape)
    seconds = time.perf_counter() - start
    return ranking_metrics(scores, labels, ks), labels.size, seconds


def evaluate_full(model, split, stage, spec, ks=(10,), batch_size=8192):
    """Ranks each held-out item against every item, earlier items masked.

    Returns `(metrics, scored_pairs, seconds)`.
    """
    users, targets, _ = split.held_out(stage)
    seen = split.seen_before(stage)
    num_items = split.dataset.num_items
    all_items = np.arange(1, num_items + 1, dtype="int32")
    rows_per_chunk = max(1, 2_000_000 // num_items)
    chunks, pairs, seconds = [], 0, 0.0
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
        # Per chunk: all users' scores at once would not fit in memory.
        chunks.append(ranking_metrics(scores, labels, ks))
    return _merge(chunks), pairs, seconds


def _merge(chunks):
    """Averages per-chunk `ranking_metrics`, each weighted by its users."""
    counted = [c for c in chunks if c["users"]]
    if not counted:
        return dict(chunks[0])  # nobody to average: NaN metrics, as ranking_metrics gives
    weights = [c["users"] for c in counted]
    merged = {"users": int(sum(weights))}
    for key in counted[0]:
        if key != "users":
            merged[key] = float(np.average([c[key] for c in counted], weights=weights))
    return merged


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


def evaluate_next_item(task, split, stage, max_length, ks=(10,), batch_size=1024):
    """Ranks each held-out next item after the user's earlier items.

    Under a sampled protocol the candidates are the saved negatives; under
    `loo_full` every item, with the history masked. Histories are the items
    before the held-out one (for validation, the training items; for test,
    those and the validation item), the last `max_length` of them.

    Returns `(metrics, scored_pairs, seconds)`.
    """
    users, targets, negatives = split.held_out(stage)
    seen = split.seen_before(stage)
    # Similar lengths together: each chunk is padded only to its longest.
    order = np.argsort([min(len(s), max_length) for s in seen], kind="stable")
    user_feature = task.backbone.user_feature
    chunks, pairs, seconds = [], 0, 0.0
    for begin in range(0, len(order), batch_size):
        rows = order[begin : begin + batch_size]
        width = max(1, max(min(len(seen[r]), max_length) for r in rows))
        features = {task.backbone.history_feature: left_pad([seen[r] for r in rows], width)}
        if user_feature:
            features[user_feature] = users[rows].astype("int32")
        start = time.perf_counter()
        if negatives is not None:
            candidates = np.concatenate([targets[rows, None], negatives[rows]], axis=1)
            scores = task.score_items(features, candidates, batch_size=batch_size)
            labels = np.zeros_like(scores)
            labels[:, 0] = 1.0
        else:
            scores = task.score_items(features, batch_size=batch_size)[:, 1:]
            labels = np.zeros_like(scores)
            for i, r in enumerate(rows):
                history = seen[r][seen[r] != targets[r]]
                scores[i, history - 1] = -np.inf
                labels[i, targets[r] - 1] = 1.0
        seconds += time.perf_counter() - start
        pairs += scores.size
        # Ranking metrics per chunk keep memory bounded under loo_full.
        chunks.append(ranking_metrics(scores, labels, ks))
    return _merge(chunks), pairs, seconds
