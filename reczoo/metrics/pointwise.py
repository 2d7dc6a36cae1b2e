"""Exact pointwise metrics: AUC, logloss, RMSE, MAE."""

import numpy as np


def _flat(labels, predictions):
    labels = np.asarray(labels, dtype="float64").reshape(-1)
    predictions = np.asarray(predictions, dtype="float64").reshape(-1)
    if labels.shape != predictions.shape:
        raise ValueError(
            f"labels and predictions differ in size: {labels.size} and {predictions.size}."
        )
    if labels.size == 0:
        raise ValueError("labels and predictions are empty.")
    return labels, predictions


def auc(labels, scores):
    """Exact ROC AUC: the probability that a random positive outscores a
    random negative, ties counting one half (Mann-Whitney U).

    Keras' `AUC` metric buckets scores into thresholds; this is exact, which
    matters when benchmarks differ in the fourth decimal.

    Args:
        labels: 0/1 labels, any shape.
        scores: scores or probabilities, as many as `labels`.

    Returns:
        The AUC as a float.

    Raises:
        ValueError: labels of one class only; labels and scores of different
            sizes, or empty ones.

    Example:
        ```python
        reczoo.metrics.auc([1, 0, 1, 0], [0.9, 0.3, 0.4, 0.4])  # 0.875
        ```
    """
    labels, scores = _flat(labels, scores)
    positive = labels > 0.5
    n_pos = int(positive.sum())
    n_neg = labels.size - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"AUC needs both classes. Received {n_pos} positives, {n_neg} negatives.")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(labels.size, dtype="float64")
    # Average 1-based ranks within each run of tied scores.
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [labels.size]])
    average = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(average, ends - starts)
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def logloss(labels, probabilities, eps=1e-7):
    """Mean binary cross-entropy, probabilities clipped to [eps, 1 - eps].

    Args:
        labels: 0/1 labels, any shape.
        probabilities: predicted probabilities, as many as `labels`.
        eps: the clipping margin.

    Returns:
        The mean log loss as a float.

    Raises:
        ValueError: labels and predictions of different sizes, or empty ones.

    Example:
        ```python
        reczoo.metrics.logloss([1, 0], [0.8, 0.1])  # (-log 0.8 - log 0.9) / 2
        ```
    """
    labels, p = _flat(labels, probabilities)
    p = np.clip(p, eps, 1.0 - eps)
    return float(-(labels * np.log(p) + (1.0 - labels) * np.log(1.0 - p)).mean())


def rmse(targets, predictions):
    """Root mean squared error of rating predictions.

    Args:
        targets: the true ratings, any shape.
        predictions: the predicted ratings, as many as `targets`.

    Returns:
        The RMSE as a float.

    Raises:
        ValueError: labels and predictions of different sizes, or empty ones.

    Example:
        ```python
        reczoo.metrics.rmse([4.0, 2.0], [3.0, 2.0])  # sqrt(0.5)
        ```
    """
    targets, predictions = _flat(targets, predictions)
    return float(np.sqrt(np.mean((targets - predictions) ** 2)))


def mae(targets, predictions):
    """Mean absolute error of rating predictions.

    Args:
        targets: the true ratings, any shape.
        predictions: the predicted ratings, as many as `targets`.

    Returns:
        The MAE as a float.

    Raises:
        ValueError: labels and predictions of different sizes, or empty ones.

    Example:
        ```python
        reczoo.metrics.mae([4.0, 2.0], [3.0, 2.5])  # 0.75
        ```
    """
    targets, predictions = _flat(targets, predictions)
    return float(np.mean(np.abs(targets - predictions)))
