"""Contrastive losses between two views of one batch (SimCLR, CL4SRec)."""

import keras
from keras import ops

from reczoo.dtypes import lowest


def info_nce(a, b, temperature=1.0, similarity="dot"):
    """NT-Xent over two views (batch, dim) of the same batch (SimCLR, CL4SRec).

    The 2B views `z = [a; b]` score each other by `similarity` (`"dot"`
    product, or `"cos"`ine) over `temperature`; for view i the positive is
    its counterpart (row i of the other view), the negatives the other
    2B - 2 views, itself excluded. The loss is the mean softmax
    cross-entropy over the 2B views.

    Args:
        a: the first view, (batch, dim).
        b: the second view, (batch, dim); row i is row i of `a` seen another way.
        temperature: the softmax temperature.
        similarity: `"dot"` product or `"cos"`ine.

    Returns:
        The scalar loss.

    Example:
        ```python
        a = np.random.rand(4, 8).astype("float32")
        loss = reczoo.losses.info_nce(a, a + 0.01, temperature=0.5, similarity="cos")
        ```
    """
    z = ops.concatenate([ops.cast(a, "float32"), ops.cast(b, "float32")], axis=0)
    if similarity == "cos":
        z = z / ops.maximum(ops.norm(z, axis=-1, keepdims=True), 1e-12)
    batch = ops.shape(a)[0]
    logits = ops.matmul(z, ops.transpose(z)) / temperature
    own = ops.eye(2 * batch, dtype="bool")
    logits = ops.where(own, ops.cast(lowest("float32"), logits.dtype), logits)
    targets = ops.concatenate([ops.arange(batch) + batch, ops.arange(batch)], axis=0)
    losses = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    return ops.mean(losses)


@keras.saving.register_keras_serializable(package="reczoo")
class InfoNCE(keras.losses.Loss):
    """`info_nce` as a Keras loss: `InfoNCE()(view_a, view_b)`.

    The two arguments are the two views (batch, dim) of one batch, in
    place of Keras' `(y_true, y_pred)`; the loss is already a mean over the
    2B views, so the reduction has one value to reduce.

    Args:
        temperature: the softmax temperature.
        similarity: `"dot"` product or `"cos"`ine.

    Raises:
        ValueError: a `temperature` that is not positive, or an unknown
            `similarity`.

    Example:
        ```python
        loss = reczoo.losses.InfoNCE(temperature=0.5, similarity="cos")
        value = loss(np.eye(2, 4), np.eye(2, 4))
        ```

    Reference:
        Chen et al. A Simple Framework for Contrastive Learning of Visual
        Representations. ICML 2020. Xie et al. Contrastive Learning for
        Sequential Recommendation. ICDE 2022.
    """

    def __init__(self, temperature=1.0, similarity="dot", name="info_nce", **kwargs):
        if similarity not in ("dot", "cos"):
            raise ValueError(f"`similarity` must be 'dot' or 'cos'. Received: {similarity!r}")
        if temperature <= 0:
            raise ValueError(f"`temperature` must be positive. Received: {temperature}")
        super().__init__(name=name, **kwargs)
        self.temperature = float(temperature)
        self.similarity = similarity

    def call(self, y_true, y_pred):
        return ops.reshape(info_nce(y_true, y_pred, self.temperature, self.similarity), (1,))

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature,
                "similarity": self.similarity}  # fmt: skip
