"""Top-K ranking metrics over (users, candidates) score matrices."""

import numpy as np


def ranking_metrics(scores, labels, ks=(10,)):
    """HR, NDCG, MRR, recall and precision at each K, averaged over users.

    Args:
        scores: (users, candidates) model scores, higher is better.
        labels: (users, candidates), 1 (or True) where a candidate is relevant.
        ks: cut-offs.

    Ties count against relevant items: among equal scores, irrelevant
    candidates rank first, so a model that scores everything equally ranks
    its relevant items last. Users with no relevant candidate are left out of
    the averages.

    Returns:
        `{"hr@K", "ndcg@K", "mrr@K", "recall@K", "precision@K"}` for each K,
        as floats, plus `"users"`, the number of users averaged.

    Raises:
        ValueError: scores and labels not (users, candidates) arrays of one
            shape, or scores holding NaN.

    Example:
        ```python
        metrics = reczoo.metrics.ranking_metrics([[0.9, 0.1, 0.5]], [[0, 0, 1]], ks=(1, 2))
        # hr@1 = 0, hr@2 = 1, ndcg@2 = 1 / log2(3), mrr@2 = 0.5
        ```
    """
    scores = np.asarray(scores, dtype="float64")
    labels = np.asarray(labels).astype(bool)
    if scores.shape != labels.shape or scores.ndim != 2:
        raise ValueError(
            "scores and labels must be (users, candidates) arrays of one shape. "
            f"Received: scores.shape={scores.shape}, labels.shape={labels.shape}"
        )
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN; the model diverged or a score was not computed.")
    keep = labels.any(axis=1)
    scores, labels = scores[keep], labels[keep]
    n_users, n_candidates = scores.shape
    # Sort by score descending, then irrelevant before relevant among ties.
    order = np.lexsort((labels, -scores), axis=1)
    ranked = np.take_along_axis(labels, order, axis=1)
    num_relevant = labels.sum(axis=1)
    discounts = 1.0 / np.log2(np.arange(2, n_candidates + 2))
    first_hit = ranked.argmax(axis=1)
    out = {"users": int(n_users)}
    for k in ks:
        top = ranked[:, :k]
        hits = top.sum(axis=1)
        dcg = (top * discounts[: top.shape[1]]).sum(axis=1)
        ideal = np.array([discounts[: min(r, k)].sum() for r in num_relevant])
        reciprocal = np.where(first_hit < k, 1.0 / (first_hit + 1), 0.0)
        if n_users == 0:
            values = dict.fromkeys(("hr", "ndcg", "mrr", "recall", "precision"), float("nan"))
        else:
            values = {
                "hr": float((hits > 0).mean()),
                "ndcg": float((dcg / ideal).mean()),
                "mrr": float(reciprocal.mean()),
                "recall": float((hits / num_relevant).mean()),
                "precision": float((hits / k).mean()),
            }
        out.update({f"{name}@{k}": value for name, value in values.items()})
    return out
