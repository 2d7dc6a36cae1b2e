"""Bayesian personalised ranking on pairs of rows (Rendle et al., UAI 2009)."""

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="reczoo")
class BPRLoss(keras.losses.Loss):
    """Bayesian personalised ranking: `-log sigmoid(s_pos - s_neg)` per pair.

    The batch holds pairs of rows, row `2k` and row `2k + 1`: a user's
    positive item and a sampled negative item, in either order, told apart by
    the labels (1 and 0). `y_pred` are scores (logits). The loss is the mean
    over pairs.

    Example:
        ```python
        loss = reczoo.losses.BPRLoss()
        labels = np.array([[1.0], [0.0], [0.0], [1.0]])  # two pairs, in either order
        scores = np.array([[2.0], [0.0], [0.0], [1.0]])
        loss(labels, scores)  # mean of -log sigmoid(2) and -log sigmoid(1)
        ```

    Reference:
        Rendle et al. BPR: Bayesian Personalized Ranking from Implicit
        Feedback. UAI 2009.
    """

    def __init__(self, name="bpr", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return -ops.log_sigmoid(pair_difference(y_true, y_pred))


def pair_difference(y_true, y_pred):
    """`s_pos - s_neg` of each pair of rows (2k, 2k + 1), whatever their order.

    Args:
        y_true: the 0/1 labels, pairs of rows (2k, 2k + 1).
        y_pred: the scores.

    Returns:
        (pairs,) score differences, positive minus negative.

    Example:
        ```python
        labels = np.array([[0.0], [1.0]])
        scores = np.array([[0.5], [2.0]])
        reczoo.losses.pair_difference(labels, scores)  # [1.5]
        ```
    """
    labels = ops.reshape(ops.cast(y_true, "float32"), (-1, 2))
    scores = ops.reshape(ops.cast(y_pred, "float32"), (-1, 2))
    # (2y - 1) signs the positive +1 and the negative -1.
    return ops.sum((2.0 * labels - 1.0) * scores, axis=1)


@keras.saving.register_keras_serializable(package="reczoo")
def pair_accuracy(y_true, y_pred):
    """Per pair of rows (see `BPRLoss`), 1 where the positive scores higher.

    Args:
        y_true: the 0/1 labels, pairs of rows (2k, 2k + 1).
        y_pred: the scores.

    Returns:
        (pairs,) floats: 1.0 where the pair's positive outscores its negative.

    Example:
        ```python
        labels = np.array([[1.0], [0.0], [0.0], [1.0]])
        scores = np.array([[2.0], [0.0], [3.0], [1.0]])
        reczoo.losses.pair_accuracy(labels, scores)  # [1.0, 0.0]
        ```
    """
    return ops.cast(pair_difference(y_true, y_pred) > 0, "float32")


def check_pairs(labels):
    """Refuses labels that are not pairs of one positive and one negative
    (rows 2k, 2k + 1), the layout `BPRLoss` reads.

    Args:
        labels: the 0/1 labels of the batch, (rows,) or (rows, 1).

    Raises:
        ValueError: an odd number of rows, or a pair that is not one positive
            and one negative (the error names the pair).

    Example:
        ```python
        reczoo.losses.check_pairs(np.array([1, 0, 0, 1]))  # fine
        try:
            reczoo.losses.check_pairs(np.array([1, 1]))
        except ValueError as error:
            print(error)
        ```
    """
    labels = np.asarray(labels).reshape(-1)
    if len(labels) % 2:
        raise ValueError(
            f"A BPR ranker trains on pairs of rows (a positive and a negative of one "
            f"user); received {len(labels)} rows, an odd number."
        )
    pairs = labels.reshape(-1, 2)
    bad = np.flatnonzero(~((np.sort(pairs, axis=1) == [0.0, 1.0]).all(axis=1)))
    if len(bad):
        raise ValueError(
            f"A BPR ranker trains on pairs of rows, each one positive (label 1) and one "
            f"negative (label 0); pair {int(bad[0])} (rows {2 * int(bad[0])} and "
            f"{2 * int(bad[0]) + 1}) has labels {pairs[bad[0]].tolist()}. "
            "`InteractionDataset.training_pairs(pairwise=True)` makes them."
        )
