"""Optimizers for embedding tables.

- `LazyAdam` updates only the rows a batch used;
- `Adagrad` is Keras' Adagrad with each table row's gradient summed over
  the batch before it is squared, as Adagrad is defined.
"""

import keras

__all__ = ["Adagrad", "LazyAdam"]


@keras.saving.register_keras_serializable(package="reczoo")
class Adagrad(keras.optimizers.Adagrad):
    """Adagrad whose accumulator adds the square of each row's whole gradient.

    Under TensorFlow an embedding lookup's gradient is a `tf.IndexedSlices`
    with one slice per looked-up id, and Keras' optimizers square it slice
    by slice: a row looked up `n` times in a batch adds the sum of `n`
    squares to its accumulator, where Adagrad (and Keras under JAX, whose
    gradients are dense, and tf-keras, and PyTorch) adds the square of their
    sum. Adagrad's accumulator never decays, so such a row keeps steps about
    `sqrt(n)` times larger for the whole run: at batch 8,192 on
    MovieLens-100K a popular movie appears about 50 times a batch. This
    class sums each row's slices first (`summed_slices`); everything else
    is Keras' Adagrad. `{"class_name": "Adagrad"}` in a reczoo optimizer
    config names it.

    The TF Recommenders tutorial trains with Adagrad (tf-keras, which sums
    the slices): with Keras' own, reczoo's `two_tower-tfrs-tutorial` recipe
    scored test top-10 accuracy 0.0202 against TF Recommenders' 0.0218 over
    five seeds; with this one, 0.0212 (benchmarks/README.md).

    Args:
        *args: those of `keras.optimizers.Adagrad` (`learning_rate`,
            `initial_accumulator_value`, `epsilon`, ...).
        **kwargs: the same, by name.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=100, embedding_dim=8),
            reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=8),
        ])
        model = reczoo.get_model("fm", feature_spec=spec, optimizer={"class_name": "Adagrad"})
        pairs = {"user_id": np.array([[1], [7]]), "item_id": np.array([[3], [3]])}
        model.fit(pairs, np.array([1.0, 0.0]), verbose=0)  # item 3's two slices summed
        ```
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

    def update_step(self, gradient, variable, learning_rate):
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            if isinstance(gradient, tf.IndexedSlices):
                gradient = summed_slices(gradient)
        return super().update_step(gradient, variable, learning_rate)


@keras.saving.register_keras_serializable(package="reczoo")
class LazyAdam(keras.optimizers.Adam):
    """Adam that moves only the embedding rows a batch looked up.

    Keras' Adam updates every row of a table at every step: the moments of
    the rows a batch did not touch decay and those rows keep moving along
    them. Its cost grows with the vocabulary, not with the batch: at
    Criteo's shape (26 tables hashed to 2**20 rows of 16) a DeepFM step at
    batch 256 spent most of its time there (benchmarks/sparse_optimizer.py).
    `LazyAdam`, as TF Addons' and PyTorch's `SparseAdam`, updates the two
    moments and the weights of the rows in the batch only, each row once
    with the sum of its gradients (a row looked up three times gets one
    update, with Adam's `(g1 + g2 + g3)**2` as its second moment); every
    other row and its moments stay as they are. Dense weights, a table
    whose gradient is dense (an `embeddings_regularizer` adds a term on
    every row, as BARS' recipes do), and every weight under a backend whose
    gradients are dense (JAX) get Adam's update unchanged.

    The result differs from Adam's: a rare row takes a full step when it
    appears instead of small steps along a decaying momentum in between.
    Use it where tables are large against the batch; the committed rows
    train with Adam.

    Args:
        *args: those of `keras.optimizers.Adam` (`learning_rate`, `beta_1`,
            `beta_2`, `epsilon`, ...).
        **kwargs: the same, by name.

    Raises:
        ValueError: `amsgrad=True`, which this update does not keep.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=100_000, embedding_dim=8),
            reczoo.Categorical("item_id", vocabulary_size=50_000, embedding_dim=8),
        ])
        # By name in a config (as `--set=optimizer=...` gives it), or as an object.
        model = reczoo.get_model("fm", feature_spec=spec, optimizer={"class_name": "LazyAdam"})
        model.compile(optimizer=reczoo.optimizers.LazyAdam(learning_rate=1e-3))
        pairs = {"user_id": np.array([[1], [7]]), "item_id": np.array([[3], [3]])}
        model.fit(pairs, np.array([1.0, 0.0]), verbose=0)  # moves rows 1, 7 and 3 only
        ```
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.amsgrad:
            raise ValueError("LazyAdam does not support `amsgrad`. Received: amsgrad=True")

    def update_step(self, gradient, variable, learning_rate):
        if keras.backend.backend() != "tensorflow":
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf

        if not isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        rows, summed = _rows_and_sums(gradient)
        dtype = variable.dtype
        summed = tf.cast(summed, dtype)
        step = tf.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = tf.cast(self.beta_1, dtype), tf.cast(self.beta_2, dtype)
        alpha = (
            tf.cast(learning_rate, dtype)
            * tf.sqrt(1 - tf.pow(beta_2, step))
            / (1 - tf.pow(beta_1, step))
        )
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        m_rows = beta_1 * tf.gather(_read(m), rows) + (1 - beta_1) * summed
        v_rows = beta_2 * tf.gather(_read(v), rows) + (1 - beta_2) * tf.square(summed)
        # A row that appears several times is written several times, each
        # with the same value (`_rows_and_sums`): scatter_update, not _add.
        self.assign(m, tf.IndexedSlices(m_rows, rows))
        self.assign(v, tf.IndexedSlices(v_rows, rows))
        moved = tf.gather(_read(variable), rows) - alpha * m_rows / (tf.sqrt(v_rows) + self.epsilon)
        self.assign(variable, tf.IndexedSlices(moved, rows))


def _read(variable):
    # Keras hands `update_step` the TensorFlow variable under its own
    # wrapper or, inside a distribution strategy's update, bare.
    return variable.value if isinstance(variable, keras.Variable) else variable


def _segments(gradient):
    """`(ordered, segment, sums)` of a `tf.IndexedSlices`: its rows sorted,
    each sorted slice's place among the distinct rows, and each distinct
    row's summed slices (first, then zeros: as many as there are slices,
    the batch's static length, which XLA needs; `tf.unique` has none)."""
    import tensorflow as tf

    indices = tf.reshape(gradient.indices, [-1])
    n = tf.shape(indices)[0]
    values = tf.reshape(gradient.values, [n, -1])
    order = tf.argsort(indices, stable=True)
    ordered = tf.gather(indices, order)
    first = tf.ones_like(ordered[:1], dtype=tf.int32)  # empty when there are no slices
    starts = tf.concat([first, tf.cast(ordered[1:] != ordered[:-1], tf.int32)], axis=0)
    segment = tf.cumsum(starts) - 1
    sums = tf.math.unsorted_segment_sum(tf.gather(values, order), segment, n)
    return ordered, segment, sums


def _rows_and_sums(gradient):
    """`(rows, sums)`: each slice's row and the sum of all the slices of
    that row, one entry per slice."""
    import tensorflow as tf

    ordered, segment, sums = _segments(gradient)
    shape = tf.concat([tf.shape(segment), tf.shape(gradient.values)[1:]], axis=0)
    return ordered, tf.reshape(tf.gather(sums, segment), shape)


def summed_slices(gradient):
    """`gradient` (a `tf.IndexedSlices`) with one slice per distinct row,
    holding the sum of that row's slices, and zero slices at row 0 after
    them: the same length as `gradient`, so that XLA, which needs static
    shapes, compiles it. A zero slice adds nothing to any optimizer's update."""
    import tensorflow as tf

    ordered, segment, sums = _segments(gradient)
    n = tf.shape(segment)[0]
    distinct = tf.reduce_max(tf.concat([segment, [-1]], axis=0)) + 1
    # The segments past the distinct rows are empty: their max is the
    # dtype's lowest value, replaced by row 0 (their sums are zero).
    rows = tf.math.unsorted_segment_max(ordered, segment, n)
    rows = tf.where(tf.range(n) < distinct, rows, tf.zeros_like(rows))
    shape = tf.concat([[n], tf.shape(gradient.values)[1:]], axis=0)
    return tf.IndexedSlices(tf.reshape(sums, shape), rows, gradient.dense_shape)


# Short names for optimizer configs (`{"class_name": "LazyAdam"}`), beside
# Keras' own; "Adagrad" is reczoo's, which Keras' name would not reach.
CUSTOM_OBJECTS = {"LazyAdam": LazyAdam, "Adagrad": Adagrad}
