"""Several training steps as one compiled loop (TensorFlow backend, XLA).

Keras' multi-step call (`steps_per_execution`) runs a graph loop that
launches the compiled step once per batch: for a small model such as MF-BPR
the launch and the iterator's per-batch work cost as much as the step
itself. `fuse_steps` gives a task a train function that takes a call's
batches from the stream, stacks them and runs all its steps inside one XLA
computation (`tf.while_loop`), launched once per call.

A call whose batches differ in shape (the last, partial batch of a data
epoch, or next-item batches grouped by history length) cannot be stacked:
it runs the same steps one after another in a graph loop without XLA, so
that no batch shape is compiled once for a single call. Either way each
batch gets one step, in the stream's order, as under Keras' own loop.
"""

import keras

from reczoo.models.task import build_optimizer


def fuse_steps(task, steps, strategy=None):
    """Installs the fused train function on `task` for `steps` steps per
    call, where it applies; returns whether it did.

    It applies under the TensorFlow backend to a task compiled with
    `jit_compile`, outside `tf.distribute` strategies, with `steps` > 1. The
    input must be endless (reczoo's training streams): each call takes
    `steps` batches, and `fit`'s `steps_per_epoch` must be a multiple of it
    (`reczoo.training.loop.execution_steps`). Reset it with
    `task.train_function = None`.
    """
    if (
        keras.backend.backend() != "tensorflow" or steps < 2 or strategy is not None
        or not task.jit_compile or task.run_eagerly
    ):  # fmt: skip
        return False
    task.steps_per_execution = steps
    task.train_function = _train_function(task, steps)
    return True


def _train_function(task, steps):
    import tensorflow as tf

    def run_all(batches):
        def step(i):
            task.train_step(tf.nest.map_structure(lambda t: t[i], batches))
            return (i + 1,)

        tf.while_loop(lambda i: i < steps, step, (tf.constant(0),))
        return task.get_metrics_result()

    stacked_steps = tf.function(run_all, jit_compile=True, reduce_retracing=True)

    @tf.function
    def traced(iterator):
        batches = [iterator.get_next() for _ in range(steps)]
        flat = [tf.nest.flatten(b) for b in batches]
        same = tf.reduce_all(
            [tf.reduce_all(tf.shape(t) == tf.shape(first)) for b in flat[1:]
             for t, first in zip(b, flat[0], strict=True)]
        )  # fmt: skip

        def stacked():
            return stacked_steps(tf.nest.map_structure(lambda *t: tf.stack(t), *batches))

        def one_by_one():
            # Each leaf's batches in a TensorArray of elements of any shape;
            # a step reads its batch back with the stream's static shape.
            arrays = []
            for j, leaf in enumerate(flat[0]):
                array = tf.TensorArray(leaf.dtype, size=steps, infer_shape=False)
                for k, b in enumerate(flat):
                    array = array.write(k, b[j])
                arrays.append(array)

            def one(i):
                leaves = []
                for array, leaf in zip(arrays, flat[0], strict=True):
                    value = array.read(i)
                    value.set_shape(leaf.shape)
                    leaves.append(value)
                task.train_step(tf.nest.pack_sequence_as(batches[0], leaves))
                return (i + 1,)

            tf.while_loop(lambda i: i < steps, one, (tf.constant(0),))
            return task.get_metrics_result()

        return tf.cond(same, stacked, one_by_one)

    def train_function(iterator):
        # Slots made inside the trace would trace every step twice.
        build_optimizer(task)
        return traced(iterator)

    return train_function
