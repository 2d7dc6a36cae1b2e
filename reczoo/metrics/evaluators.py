"""Batched evaluators: run a model over a protocol's held-out data."""

import time

import numpy as np

from reczoo.datasets.pipelines import left_pad
from reczoo.metrics.pointwise import auc, logloss, mae, rmse
from reczoo.metrics.ranking import ranking_metrics


def _predict(model, features, batch_size):
    # `predict_on_batch` per slice avoids building a tf.data pipeline per call.
    from reczoo.distribute import forward, replicated

    # Under a strategy `predict_on_batch` runs the batch on every replica.
    predict = forward(model) if replicated(model) else model.predict_on_batch
    n = len(next(iter(features.values())))
    out = np.empty(n, dtype="float32")
    for start in range(0, n, batch_size):
        chunk = {k: v[start : start + batch_size] for k, v in features.items()}
        rows = min(batch_size, n - start)
        if rows < batch_size and n > batch_size:
            # The last, short chunk as a whole batch (its last row repeated):
            # one shape, so the step is traced (and compiled) once, not twice.
            chunk = {k: np.concatenate([v, np.repeat(v[-1:], batch_size - rows, axis=0)])
                     for k, v in chunk.items()}  # fmt: skip
        out[start : start + rows] = np.asarray(predict(chunk)).reshape(-1)[:rows]
    return out


def evaluate_sampled(model, split, stage, spec, ks=(10,), batch_size=8192, history=None):
    """Ranks each held-out item against its saved negatives.

    `history`, for a ranker that reads the user's behaviour with each
    example (DIN), names that input: each candidate is scored with the
    user's items before the held-out one (`split.histories_before`), the
    last `spec[history].max_length`; `spec` is then read without it.

    Returns `(metrics, scored_pairs, seconds)`.
    """
    spec, past = _without_history(split, stage, spec, history)
    features, labels = split.evaluation_inputs(stage, spec)
    if history:
        features[history] = np.repeat(past, labels.shape[1], axis=0)
    start = time.perf_counter()
    scores = _predict(model, features, batch_size).reshape(labels.shape)
    seconds = time.perf_counter() - start
    return ranking_metrics(scores, labels, ks), labels.size, seconds


def evaluate_full(model, split, stage, spec, ks=(10,), batch_size=8192, history=None):
    """Ranks each held-out item against every item, earlier items masked.

    `history` as in `evaluate_sampled`.

    Returns `(metrics, scored_pairs, seconds)`.
    """
    users, targets, _ = split.held_out(stage)
    seen = split.seen_before(stage)
    spec, past = _without_history(split, stage, spec, history)
    num_items = split.dataset.num_items
    all_items = np.arange(1, num_items + 1, dtype="int32")
    # About 2 million ids a chunk, a history's counted in.
    width = 1 + (past.shape[1] if history else 0)
    rows_per_chunk = max(1, 2_000_000 // (num_items * width))
    chunks, pairs, seconds = [], 0, 0.0
    for begin in range(0, len(users), rows_per_chunk):
        chunk = users[begin : begin + rows_per_chunk]
        features = split.dataset.features_for(
            np.repeat(chunk, num_items), np.tile(all_items, len(chunk)), spec
        )
        if history:
            features[history] = np.repeat(past[begin : begin + len(chunk)], num_items, axis=0)
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


def _without_history(split, stage, spec, history):
    """`(spec less the history input, each evaluated user's history or None)`."""
    if not history:
        return spec, None
    past = split.histories_before(stage, spec[history].max_length)
    return spec.subset([n for n in spec.names if n != history]), past


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


RETRIEVAL_KS = (1, 5, 10, 50, 100)


def evaluate_retrieval(
    task, queries, positives, candidates, seen=None, ks=RETRIEVAL_KS, batch_size=1024
):
    """Top-K accuracy and Recall@K of a retriever against the whole corpus.

    Every candidate's vector is computed once; each batch of queries is
    scored against all of them in one matrix product.

    - `top_k_accuracy`: the share of (query, positive) pairs whose positive
      is among the K best-scoring candidates of the whole corpus (nothing
      excluded; ties count for the positive), as TF Recommenders'
      `FactorizedTopK` metric;
    - `recall@K`: per user, the share of their held-out items among their K
      best candidates, items they trained on (`seen`) excluded, averaged
      over users.

    Args:
        task: a `Retriever`.
        queries: query features, one row per (query, positive) pair.
        positives: (n,) the positive item ids, ids of `candidates` rows.
        candidates: candidate features, row = item id (row 0 never retrieved).
        seen: an `Interactions` of training items by user id, for Recall@K
            (needs `queries` to hold the candidate's user id feature
            `"user_id"`); None to skip Recall@K.

    Returns `(metrics, scored_pairs, seconds)`.
    """
    start = time.perf_counter()
    vectors = task.candidate_embeddings(candidates)
    query_vectors = task.query_embeddings(queries)
    users = queries.get("user_id") if seen is not None else None
    metrics = retrieval_metrics(query_vectors, vectors, positives, ks, users, seen, batch_size)
    seconds = time.perf_counter() - start
    return metrics, len(positives) * len(vectors), seconds


def evaluate_retrieval_held_out(task, split, stage, queries, ks=(10,), batch_size=1024):
    """A retriever under a leave-last-out protocol: each user's held-out
    item ranked, by the dot product of the towers' vectors, against its
    saved negatives (`ncf`, ...) or against every item with the user's
    earlier items masked (`loo_full`), as a ranker is.

    `queries` are the query tower's inputs, one row per held-out user
    (`split.held_out(stage)`). Returns `(metrics, scored_pairs, seconds)`.
    """
    start = time.perf_counter()
    vectors = task.candidate_embeddings()
    query_vectors = task.query_embeddings(queries)
    users, targets, negatives = split.held_out(stage)
    if negatives is not None:
        candidates = np.concatenate([targets[:, None], negatives], axis=1)
        scores = np.einsum("nd,nkd->nk", query_vectors, vectors[candidates])
        labels = np.zeros(candidates.shape, dtype="float32")
        labels[:, 0] = 1.0
        metrics = ranking_metrics(scores, labels, ks)
        return metrics, labels.size, time.perf_counter() - start
    seen = split.seen_before(stage)
    # At most about 2 million scores a chunk, as `evaluate_full`.
    rows_per_chunk = max(1, min(batch_size, 2_000_000 // max(1, len(vectors) - 1)))
    chunks = []
    for begin in range(0, len(users), rows_per_chunk):
        # Items 1..n: row 0 of the catalogue is padding.
        scores = query_vectors[begin : begin + rows_per_chunk] @ vectors[1:].T
        labels = np.zeros_like(scores)
        for row in range(len(scores)):
            u = begin + row
            # A repeat of the target stays scoreable; the rest of the history is masked.
            scores[row, seen[u][seen[u] != targets[u]] - 1] = -np.inf
            labels[row, targets[u] - 1] = 1.0
        chunks.append(ranking_metrics(scores, labels, ks))
    pairs = len(users) * (len(vectors) - 1)
    return _merge(chunks), pairs, time.perf_counter() - start


def retrieval_metrics(
    query_vectors, vectors, positives, ks=RETRIEVAL_KS, users=None, seen=None, batch_size=1024
):
    """`top_K_accuracy` (and, given `users` and `seen`, `recall@K`) of query
    vectors (n, dim) against candidate vectors (items, dim), row = item id
    (row 0 never retrieved); see `evaluate_retrieval`."""
    positives = np.asarray(positives, dtype="int64")
    ranks = np.empty(len(positives), dtype="int64")
    for begin in range(0, len(positives), batch_size):
        scores = query_vectors[begin : begin + batch_size] @ vectors.T
        scores[:, 0] = -np.inf
        rows = np.arange(len(scores))
        positive = scores[rows, positives[begin : begin + batch_size]]
        ranks[begin : begin + batch_size] = (scores > positive[:, None]).sum(axis=1)
    metrics = {f"top_{k}_accuracy": float(np.mean(ranks < k)) for k in ks}
    if seen is not None and users is not None:
        metrics.update(_recall(query_vectors, vectors, users, positives, seen, ks))
    return metrics


def _recall(query_vectors, vectors, users, positives, seen, ks, batch_size=1024):
    users = np.asarray(users, dtype="int64")
    distinct, first = np.unique(users, return_index=True)
    held = {int(u): set() for u in distinct}
    for user, item in zip(users.tolist(), positives.tolist(), strict=True):
        held[user].add(item)
    recalls = {k: [] for k in ks}
    top = max(ks)
    for begin in range(0, len(distinct), batch_size):
        chunk = distinct[begin : begin + batch_size]
        scores = (query_vectors[first[begin : begin + batch_size]] @ vectors.T).astype("float64")
        scores[:, 0] = -np.inf
        for row, user in enumerate(chunk):
            scores[row, seen.of(int(user))] = -np.inf
        k = min(top, scores.shape[1])
        best = np.argpartition(-scores, kth=k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, best, axis=1), axis=1, kind="stable")
        best = np.take_along_axis(best, order, axis=1)
        for row, user in enumerate(chunk):
            wanted = held[int(user)]
            for cut in ks:
                found = len(wanted.intersection(best[row, :cut].tolist()))
                recalls[cut].append(found / len(wanted))
    return {f"recall@{k}": float(np.mean(v)) for k, v in recalls.items()}
