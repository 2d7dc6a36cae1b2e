"""Model inputs from datasets: padded sequences, shuffled batches, tf.data streams."""

import numpy as np


def left_pad(sequences, length):
    """Left-pads (and left-truncates) id sequences to `length` with 0."""
    out = np.zeros((len(sequences), length), dtype="int32")
    for row, seq in enumerate(sequences):
        seq = np.asarray(seq)[-length:]
        if len(seq):
            out[row, length - len(seq) :] = seq
    return out


def shuffled_batches(features, targets, batch_size, seed):
    """Whole batches of in-memory arrays, shuffled and cut in numpy.

    Yields `(features, targets)` per batch, targets as (batch, 1) float32.
    Slicing row by row and batching inside tf.data cost about 40% of DeepFM's
    epoch time on Frappe; cutting whole batches in numpy does not.
    """
    order = np.random.default_rng(seed).permutation(len(targets))
    columns = {name: np.asarray(value)[order] for name, value in features.items()}
    labels = np.asarray(targets, "float32")[order].reshape(-1, 1)
    for start in range(0, len(labels), batch_size):
        stop = start + batch_size
        yield {k: v[start:stop] for k, v in columns.items()}, labels[start:stop]


def stream(epoch_batches, signature, first_epoch=1, buffer_size=2):
    """An endless `tf.data.Dataset` of batches: `epoch_batches(1)`, then
    `epoch_batches(2)`, ... (each epoch its own negatives and order).

    Prefetches a few batches with tf.data's autotuning off: with it on, `fit`
    often returned seconds after its last batch (on Frappe, DeepFM epochs of
    6-7 s of steps took 10.24 s, the end of the autotuning thread's doubling
    wait). The batches are ready-made arrays, so a small fixed buffer is all
    the pipeline needs.
    """
    import tensorflow as tf

    def generate():
        epoch = first_epoch
        while True:
            yield from epoch_batches(epoch)
            epoch += 1

    options = tf.data.Options()
    options.autotune.enabled = False
    data = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return data.prefetch(buffer_size).with_options(options)


def signature_of(features, targets):
    """The `tf.TensorSpec`s of one batch, the batch dimension left open."""
    import tensorflow as tf

    def spec(a):
        a = np.asarray(a)
        return tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype))

    return {k: spec(v) for k, v in features.items()}, spec(targets)
