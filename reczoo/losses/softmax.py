"""Softmax cross-entropy of dot-product scores whose positive is on the diagonal."""

import keras
from keras import ops


def dot_softmax_cross_entropy(queries, candidates, column_bias=None, scale=1.0,
                              column_ids=None):  # fmt: skip
    """Per-row softmax cross-entropy of `scale * queries @ candidates.T +
    column_bias`, the positive of row i being column i (an in-batch softmax).

    The positive is given by its column index, so the backend's sparse
    softmax cross-entropy runs (TensorFlow's is one fused kernel for the
    loss and its gradient) and no (rows, columns) label matrix is built, as
    a dense cross-entropy against an identity matrix (TF Recommenders'
    retrieval task) does.

    With `column_ids` (the item id of each of the first `rows` columns) and
    TensorFlow, a batch whose repeated items have the same vector is scored
    against each distinct item once, its logit raised by the log of its
    count: `log sum_j exp(l_ij)` over the batch is `log sum_u n_u exp(l_iu)`
    over its distinct items, so the loss and each row's gradient are the
    same, from a (rows, distinct items) matrix. A batch of 8,192 MovieLens ratings
    holds about 1,200 distinct movies. Where any repeated item's vectors or
    biases differ (dropout in the candidate tower, features that vary by
    row), the whole matrix is scored instead.

    Args:
        queries: (rows, dim).
        candidates: (columns, dim), `columns >= rows`: the first `rows` are
            the rows' positives; any further ones are extra negatives
            (sampled items), each scored on its own.
        column_bias: (columns,) added to every row's logit of each column
            (a logQ correction), or None.
        scale: multiplies every dot product (1 / temperature).
        column_ids: (rows,) integer item ids of the in-batch columns, or
            None to score every column.

    Returns:
        (rows,) float32 losses, `logsumexp_j(logits_ij) - logits_ii`.

    Example:
        ```python
        q = np.random.rand(6, 4).astype("float32")
        c = np.random.rand(6, 4).astype("float32")
        losses = reczoo.losses.dot_softmax_cross_entropy(q, c, scale=2.0)  # (6,)
        ```
    """
    queries = ops.cast(queries, "float32")
    candidates = ops.cast(candidates, "float32")
    columns = ops.shape(candidates)[0]
    bias = (
        ops.zeros((columns,), "float32")
        if column_bias is None
        else ops.cast(column_bias, "float32")
    )
    scale = float(scale)
    if column_ids is not None and keras.backend.backend() == "tensorflow":
        return _distinct_items_tf(queries, candidates, bias, scale, column_ids)
    return _every_column(queries, candidates, bias, scale)


def _every_column(queries, candidates, bias, scale):
    logits = ops.matmul(queries, ops.transpose(candidates)) * scale + bias[None, :]
    targets = ops.arange(ops.shape(queries)[0])
    return keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)


def _distinct_items_tf(queries, candidates, bias, scale, column_ids):
    import tensorflow as tf

    rows = tf.shape(queries)[0]
    ids = tf.reshape(tf.cast(column_ids, tf.int64), [-1])
    distinct, slot = tf.unique(ids)
    count = tf.shape(distinct)[0]
    first = tf.math.unsorted_segment_min(tf.range(rows), slot, count)
    in_batch = candidates[:rows]
    in_bias = bias[:rows]
    same = tf.logical_and(
        tf.reduce_all(tf.equal(tf.gather(tf.gather(in_batch, first), slot), in_batch)),
        tf.reduce_all(tf.equal(tf.gather(tf.gather(in_bias, first), slot), in_bias)),
    )

    def distinct_columns():
        multiplicity = tf.math.unsorted_segment_sum(tf.ones([rows]), slot, count)
        # The mean of an item's (equal) vectors, so that each of its rows gets
        # an equal share of the item's gradient, as when every column is
        # scored: optimizers see the same per-row gradients either way.
        kept = tf.math.unsorted_segment_mean(in_batch, slot, count)
        columns = tf.concat([kept, candidates[rows:]], axis=0)
        column_bias = tf.concat(
            [tf.gather(in_bias, first) + tf.math.log(multiplicity), bias[rows:]], axis=0
        )
        logits = tf.matmul(queries, columns, transpose_b=True) * scale + column_bias
        positive = tf.reduce_sum(queries * in_batch, axis=1) * scale + in_bias
        return tf.reduce_logsumexp(logits, axis=1) - positive

    return tf.cond(same, distinct_columns, lambda: _every_column(queries, candidates, bias, scale))
