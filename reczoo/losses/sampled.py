"""Losses over a positive and sampled negatives, per position.

`y_pred` holds logits over a few columns: the positive item's and sampled
negatives' (`ops.concatenate([positive[..., None], negatives], -1)`). Both
return one loss per row, reduced as Keras losses are; `reczoo.NextItem`
takes them with `reduction=None` and averages over the positions that have a
next item.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="reczoo")
class SampledSoftmax(keras.losses.Loss):
    """Softmax cross-entropy of the positive column against the sampled
    negatives: `-log(exp(s_p) / sum_j exp(s_j))` over the last axis of
    `y_pred`, where `y_true` holds the positive's column `p` per row.

    Example:
        ```python
        loss = reczoo.losses.SampledSoftmax(reduction=None)
        loss(np.array([0]), np.array([[2.0, 0.0, 0.0]]))  # -log(e^2 / (e^2 + 2))
        ```

    Reference:
        Jean et al. On Using Very Large Target Vocabulary for Neural
        Machine Translation. ACL 2015.
    """

    def __init__(self, name="sampled_softmax", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        column = ops.cast(y_true, "int32")
        if len(column.shape) == len(y_pred.shape) - 1:
            column = ops.expand_dims(column, -1)
        log_probabilities = ops.log_softmax(y_pred, axis=-1)
        return -ops.take_along_axis(log_probabilities, column, axis=-1)[..., 0]


@keras.saving.register_keras_serializable(package="reczoo")
class SampledBinaryCrossentropy(keras.losses.Loss):
    """Binary cross-entropy of every column, summed over the last axis:
    `-sum_j [y_j log sigmoid(s_j) + (1 - y_j) log sigmoid(-s_j)]`, where
    `y_true` is 1 for the positive column and 0 for the sampled negatives
    (SASRec's loss, with one negative per position).

    Example:
        ```python
        loss = reczoo.losses.SampledBinaryCrossentropy(reduction=None)
        loss(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0]]))  # 2 log 2
        ```

    Reference:
        Kang & McAuley. Self-Attentive Sequential Recommendation. ICDM 2018.
    """

    def __init__(self, name="sampled_binary_crossentropy", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, y_pred.dtype)
        losses = labels * ops.log_sigmoid(y_pred) + (1.0 - labels) * ops.log_sigmoid(-y_pred)
        return -ops.sum(losses, axis=-1)
