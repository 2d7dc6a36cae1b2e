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

    Reference:
        Rendle et al. BPR: Bayesian Personalized Ranking from Implicit
        Feedback. UAI 2009.
    """

    def __init__(self, name="bpr", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return -ops.log_sigmoid(pair_difference(y_true, y_pred))


def pair_difference(y_true, y_pred):
    """`s_pos - s_neg` of each pair of rows (2k, 2k + 1), whatever their order."""
    labels = ops.reshape(ops.cast(y_true, "float32"), (-1, 2))
    scores = ops.reshape(ops.cast(y_pred, "float32"), (-1, 2))
    # (2y - 1) signs the positive +1 and the negative -1.
    return ops.sum((2.0 * labels - 1.0) * scores, axis=1)


@keras.saving.register_keras_serializable(package="reczoo")
def pair_accuracy(y_true, y_pred):
    """Per pair of rows (see `BPRLoss`), 1 where the positive scores higher."""
    return ops.cast(pair_difference(y_true, y_pred) > 0, "float32")


def check_pairs(labels):
    """Refuses labels that are not pairs of one positive and one negative
    (rows 2k, 2k + 1), the layout `BPRLoss` reads."""
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
