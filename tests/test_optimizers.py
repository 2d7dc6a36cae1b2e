"""`LazyAdam` moves the rows a batch used, once each, and nothing else."""

import keras
import numpy as np
import pytest

import reczoo
from reczoo.optimizers import LazyAdam

TENSORFLOW = keras.backend.backend() == "tensorflow"


def _slices(values, rows, shape):
    import tensorflow as tf

    return tf.IndexedSlices(
        tf.constant(values, "float32"), tf.constant(rows, "int32"), tf.constant(shape)
    )


@pytest.mark.skipif(not TENSORFLOW, reason="sparse gradients are TensorFlow's")
@pytest.mark.parametrize("jit", [False, True])
def test_only_the_rows_of_the_batch_move_each_once_with_its_summed_gradient(jit):
    import tensorflow as tf

    table = keras.Variable(np.ones((5, 2), "float32"))
    lazy = LazyAdam(learning_rate=0.1)
    lazy.build([table])
    apply = tf.function(lambda g: lazy.apply_gradients([(g, table)]), jit_compile=jit)
    # Row 1 twice (1 + 0.5) and row 3 once: Adam's step on the dense sum.
    first = _slices([[1.0, 1.0], [2.0, 2.0], [0.5, 0.5]], [1, 3, 1], [5, 2])
    apply(first)
    reference = keras.Variable(np.ones((5, 2), "float32"))
    adam = keras.optimizers.Adam(learning_rate=0.1)
    adam.build([reference])
    adam.apply_gradients([(tf.convert_to_tensor(first), reference)])
    np.testing.assert_allclose(table.numpy(), reference.numpy(), atol=1e-5)
    np.testing.assert_allclose(lazy.variables[2].numpy()[:, 0], [0, 0.15, 0, 0.2, 0], atol=1e-6)
    np.testing.assert_allclose(
        lazy.variables[3].numpy()[:, 0], [0, 0.001 * 1.5**2, 0, 0.001 * 4, 0], atol=1e-7
    )
    # A second step on row 0: rows 1 and 3 and their moments stay (Adam's decay).
    after_first = [v.numpy().copy() for v in (table, *lazy.variables[2:])]
    apply(_slices([[1.0, 1.0]], [0], [5, 2]))
    for before, now in zip(after_first, (table, *lazy.variables[2:]), strict=True):
        np.testing.assert_array_equal(now.numpy()[1:], before[1:])
        assert not np.array_equal(now.numpy()[0], before[0])
    adam.apply_gradients([(tf.convert_to_tensor(_slices([[1.0, 1.0]], [0], [5, 2])), reference)])
    assert not np.allclose(reference.numpy()[1], table.numpy()[1])  # Adam moved row 1 on


@pytest.mark.jax
def test_dense_weights_get_adams_update():
    kernel = keras.Variable(np.ones((3, 2), "float32"))
    reference = keras.Variable(np.ones((3, 2), "float32"))
    lazy, adam = LazyAdam(learning_rate=0.1), keras.optimizers.Adam(learning_rate=0.1)
    for step in range(3):
        gradient = np.full((3, 2), step - 1.0, "float32")
        lazy.apply_gradients([(keras.ops.convert_to_tensor(gradient), kernel)])
        adam.apply_gradients([(keras.ops.convert_to_tensor(gradient), reference)])
    np.testing.assert_allclose(kernel.numpy(), reference.numpy(), atol=1e-6)


@pytest.mark.jax
def test_a_model_trains_with_it_by_name_and_keeps_it_when_saved(tmp_path):
    spec = reczoo.FeatureSpec(
        [
            reczoo.Categorical("user_id", vocabulary_size=1_000, embedding_dim=4),
            reczoo.Categorical("item_id", vocabulary_size=500, embedding_dim=4, table="item"),
        ]
    )
    model = reczoo.get_model("fm", feature_spec=spec, optimizer={"class_name": "LazyAdam"})
    assert isinstance(model.optimizer, LazyAdam)
    model.fit({"user_id": np.array([[1], [7]]), "item_id": np.array([[3], [3]])},
              np.array([1.0, 0.0]), verbose=0)  # fmt: skip
    model.save(tmp_path / "fm.keras")
    again = keras.saving.load_model(tmp_path / "fm.keras")
    assert isinstance(again.optimizer, LazyAdam)
    users = next(w for w in model.weights if "embedding" in w.path and w.shape[0] == 1_000)
    before = users.numpy().copy()
    model.fit({"user_id": np.array([[2], [8]]), "item_id": np.array([[4], [4]])},
              np.array([1.0, 0.0]), verbose=0)  # fmt: skip
    now = users.numpy()
    assert not np.array_equal(now[[2, 8]], before[[2, 8]])
    # Users 1 and 7, not in this batch: where they were under TensorFlow's
    # sparse gradients; under JAX's dense ones Adam's momentum carries them on.
    assert np.array_equal(now[[1, 7]], before[[1, 7]]) == TENSORFLOW
    np.testing.assert_array_equal(now[[0, 999]], before[[0, 999]])  # never looked up


def test_amsgrad_is_refused_by_name():
    with pytest.raises(ValueError, match="LazyAdam does not support `amsgrad`"):
        LazyAdam(amsgrad=True)
