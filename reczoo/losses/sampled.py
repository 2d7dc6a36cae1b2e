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


def gbce_beta(num_negatives, num_items, calibration):
    """gSASRec's power on the positive's probability: `beta = alpha * (t *
    (1 - 1/alpha) + 1/alpha)`, where `alpha = num_negatives / (num_items -
    1)` is the share of the other items sampled and `t` the calibration
    (0: plain binary cross-entropy, `beta = 1`; 1: `beta = alpha`).

    Args:
        num_negatives: negatives sampled per positive.
        num_items: items in the catalogue.
        calibration: gSASRec's t, in [0, 1].

    Returns:
        beta, a float in [alpha, 1].

    Raises:
        ValueError: a calibration outside [0, 1], or more negatives than
            other items.

    Example:
        ```python
        reczoo.losses.gbce_beta(256, 1001, 0.75)  # 1 - 0.75 * (1 - 0.256) = 0.442
        ```
    """
    if not 0.0 <= calibration <= 1.0:
        raise ValueError(f"`calibration` must be in [0, 1]. Received: calibration={calibration}")
    if not 0 < num_negatives <= num_items - 1:
        raise ValueError(
            f"gBCE samples between 1 and num_items - 1 = {num_items - 1} negatives. "
            f"Received: num_negatives={num_negatives}"
        )
    alpha = num_negatives / (num_items - 1)
    return alpha * (calibration * (1.0 - 1.0 / alpha) + 1.0 / alpha)


@keras.saving.register_keras_serializable(package="reczoo")
class GeneralizedBinaryCrossentropy(keras.losses.Loss):
    """gSASRec's generalised binary cross-entropy: `SampledBinaryCrossentropy`
    with the positive's probability raised to the power `beta`,
    `-sum_j [beta * y_j log sigmoid(s_j) + (1 - y_j) log sigmoid(-s_j)]`.
    With many sampled negatives plain BCE overrates every item's
    probability; `beta` < 1 (`gbce_beta`) calibrates it back.

    Args:
        beta: the power, in (0, 1] (1: `SampledBinaryCrossentropy`).

    Raises:
        ValueError: a `beta` outside (0, 1].

    Example:
        ```python
        loss = reczoo.losses.GeneralizedBinaryCrossentropy(beta=0.5, reduction=None)
        loss(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0]]))  # 1.5 log 2
        ```

    Reference:
        Petrov & Macdonald. gSASRec: Reducing Overconfidence in Sequential
        Recommendation Trained with Negative Sampling. RecSys 2023.
    """

    def __init__(self, beta=1.0, name="generalized_binary_crossentropy", **kwargs):
        if not 0.0 < beta <= 1.0:
            raise ValueError(f"`beta` must be in (0, 1]. Received: beta={beta}")
        super().__init__(name=name, **kwargs)
        self.beta = float(beta)

    def call(self, y_true, y_pred):
        labels = ops.cast(y_true, y_pred.dtype)
        positives = self.beta * labels * ops.log_sigmoid(y_pred)
        losses = positives + (1.0 - labels) * ops.log_sigmoid(-y_pred)
        return -ops.sum(losses, axis=-1)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}
