"""Model inputs from datasets: padded sequences, shuffled batches, tf.data streams."""

import atexit
import functools
import gc
import sys

import numpy as np


def left_pad(sequences, length):
    """Left-pads (and left-truncates) id sequences to `length` with 0."""
    out = np.zeros((len(sequences), length), dtype="int32")
    for row, seq in enumerate(sequences):
        seq = np.asarray(seq)[-length:]
        if len(seq):
            out[row, length - len(seq) :] = seq
    return out


def shuffled_batches(features, targets, batch_size, seed, group=1):
    """Whole batches of in-memory arrays, shuffled and cut in numpy.

    Yields `(features, targets)` per batch, targets as (batch, 1) float32, in
    the order `shuffled_stacks` gives them.
    """
    for x, y in shuffled_stacks(features, targets, batch_size, seed, group):
        for i in range(len(y)):
            yield {k: v[i] for k, v in x.items()}, y[i]


def shuffled_stacks(features, targets, batch_size, seed, group=1, chunk_batches=64):
    """One epoch of shuffled batches as stacks of equal batches: the full
    batches in stacks of at most `chunk_batches`, (batches, batch_size, ...),
    then the last partial one, (1, rest, ...).

    With `group`, runs of `group` consecutive rows (BPR's positive and
    negative) are shuffled whole and never split: `batch_size` counts groups
    and a batch holds `batch_size * group` rows.

    Cutting whole batches in numpy and slicing the stacks inside tf.data
    costs a fraction of slicing row by row (about 40% of DeepFM's epoch on
    Frappe) or of one Python call per batch (a 1.7x slower MLP on
    MovieLens-100K). Each stack's rows are gathered only when it is asked
    for, so an epoch never holds a second, shuffled copy of the training
    rows. The batches, and their order, do not depend on `chunk_batches`.
    """
    order = np.random.default_rng(seed).permutation(len(targets) // group)
    order = (order[:, None] * group + np.arange(group)).reshape(-1)
    batch_size *= group
    columns = {name: np.asarray(value) for name, value in features.items()}
    labels = np.asarray(targets, "float32").reshape(-1)
    full = len(order) // batch_size * batch_size
    step = batch_size * max(1, int(chunk_batches))
    cuts = [(start, min(start + step, full), batch_size) for start in range(0, full, step)]
    if full < len(order):
        cuts.append((full, len(order), len(order) - full))
    for start, stop, size in cuts:
        rows = order[start:stop]

        def cut(a, rows=rows, size=size):
            return a[rows].reshape((-1, size, *a.shape[1:]))

        yield {k: cut(v) for k, v in columns.items()}, cut(labels).reshape(-1, size, 1)


def stream(epoch_batches, signature, first_epoch=1, buffer_size=2, stacked=False):
    """An endless `tf.data.Dataset` of batches: `epoch_batches(1)`, then
    `epoch_batches(2)`, ... (each epoch its own negatives and order).

    With `stacked`, `epoch_batches` yields stacks of batches
    (`shuffled_stacks`) and `signature` describes one stack; the stream
    still gives one batch per element.

    Prefetches a few batches with tf.data's autotuning off: with it on, `fit`
    often returned seconds after its last batch (on Frappe, DeepFM epochs of
    6-7 s of steps took 10.24 s, the end of the autotuning thread's doubling
    wait). The batches are ready-made arrays, so a small fixed buffer is all
    the pipeline needs.
    """
    import tensorflow as tf

    _release_streams_before_exit()

    def generate():
        epoch = first_epoch
        while True:
            yield from epoch_batches(epoch)
            epoch += 1

    options = tf.data.Options()
    options.autotune.enabled = False
    data = tf.data.Dataset.from_generator(generate, output_signature=signature)
    if stacked:
        data = data.flat_map(lambda x, y: tf.data.Dataset.from_tensor_slices((x, y)))
    return data.prefetch(buffer_size).with_options(options)


@functools.cache
def _release_streams_before_exit():
    """At exit, drops the last uncaught error before the interpreter is
    finalised.

    An error out of `fit` keeps its frames, and in them the stream's tf.data
    iterator, in `sys.last_traceback`. Freed only during finalisation, the
    iterator's generator is closed by a tf.data thread that then waits for
    the GIL forever: the process hung after printing the error.
    """

    def release():
        sys.last_type = sys.last_value = sys.last_traceback = None
        if hasattr(sys, "last_exc"):
            sys.last_exc = None
        gc.collect()

    atexit.register(release)


def signature_of(features, targets, open_axes=1):
    """The `tf.TensorSpec`s of one batch (or, with `open_axes=2`, one stack
    of batches), those leading dimensions left open."""
    import tensorflow as tf

    def spec(a):
        a = np.asarray(a)
        return tf.TensorSpec((None,) * open_axes + a.shape[open_axes:], tf.as_dtype(a.dtype))

    return {k: spec(v) for k, v in features.items()}, spec(targets)
