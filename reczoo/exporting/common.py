"""What every exported graph shares: raw ids to rows, and the ids' padding."""

import numpy as np


def lookup_table(values):
    """A static table from raw values (row `i` of `values`, `i >= 1`) to
    their ids; anything else (unknown, "") maps to 0."""
    import tensorflow as tf

    keys = np.asarray(values[1:], dtype=object).astype(str)
    ids = np.arange(1, len(values), dtype="int64")
    return tf.lookup.StaticHashTable(tf.lookup.KeyValueTensorInitializer(keys, ids), 0)


def raw_ids(values, size):
    """Raw ids of rows `0..size-1` as strings (row 0, padding: "")."""
    return np.asarray(["", *values[1:size]], dtype=object).astype(str)


def check_vocabularies(vocabularies, needed, task):
    """Refuses an export without the vocabularies its raw ids go through."""
    missing = [n for n in needed if n not in (vocabularies or {})]
    if missing:
        raise ValueError(
            f"The export maps raw ids, and {type(task).__name__} "
            f"({type(task.backbone).__name__}) needs the {missing} vocabularies: export a "
            "preset saved by `reczoo train --output`, or pass `vocabularies=`."
        )


def left_pad(ragged, length):
    """A ragged (batch, <= length) int tensor as a dense (batch, length) one,
    each row's values at its end and zeros before them (as histories are fed)."""
    import tensorflow as tf

    lengths = tf.cast(ragged.row_lengths(), tf.int32)
    rows = tf.cast(ragged.value_rowids(), tf.int32)
    starts = tf.cast(ragged.row_starts(), tf.int32)
    within = tf.range(tf.shape(ragged.flat_values)[0]) - tf.gather(starts, rows)
    columns = tf.gather(length - lengths, rows) + within
    shape = tf.stack([tf.cast(ragged.nrows(), tf.int32), length])
    return tf.scatter_nd(tf.stack([rows, columns], axis=1), ragged.flat_values, shape)


def known_window(table, raw, length):
    """`(window, known)`: the ids of a (batch, any) string tensor's known
    values (unknown ones and "" left out), `known` ragged and `window` the
    last `length` of each row, left-padded."""
    import tensorflow as tf

    ids = tf.cast(table.lookup(raw), tf.int32)
    known = tf.ragged.boolean_mask(ids, ids > 0)
    return left_pad(known[:, -length:], length), known
