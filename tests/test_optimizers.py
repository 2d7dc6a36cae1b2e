"""`LazyAdam` moves the rows a batch used, once each, and nothing else;
reczoo's `Adagrad` squares each row's summed gradient."""

import keras
import numpy as np
import pytest

import reczoo
from reczoo.optimizers import Adagrad, LazyAdam, summed_slices

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


def _compiled(optimizer, table, jit):
    import tensorflow as tf

    return tf.function(lambda g: optimizer.apply_gradients([(g, table)]), jit_compile=jit)


@pytest.mark.skipif(not TENSORFLOW, reason="sparse gradients are TensorFlow's")
@pytest.mark.parametrize("jit", [False, True])
def test_adagrad_accumulates_the_square_of_each_rows_summed_gradient(jit):
    import tensorflow as tf

    # Row 1 three times, row 3 once: Adagrad's accumulator adds (1 + 2 + 0.5)**2
    # to row 1, as from the dense gradient; Keras' own adds 1 + 4 + 0.25.
    gradient = _slices([[1.0, 1.0], [2.0, 2.0], [4.0, 4.0], [0.5, 0.5]], [1, 1, 3, 1], [5, 2])
    accumulated = {}
    for name, optimizer in (("ours", Adagrad(0.1)), ("keras", keras.optimizers.Adagrad(0.1))):
        table = keras.Variable(np.ones((5, 2), "float32"))
        optimizer.build([table])
        apply = _compiled(optimizer, table, jit)
        apply(gradient)
        apply(gradient)
        accumulated[name] = (optimizer.variables[-1].numpy()[:, 0], table.numpy())
    np.testing.assert_allclose(accumulated["ours"][0], [0.1, 0.1 + 2 * 3.5**2, 0.1, 0.1 + 32, 0.1])
    np.testing.assert_allclose(accumulated["keras"][0][1], 0.1 + 2 * 5.25)
    dense = keras.Variable(np.ones((5, 2), "float32"))
    reference = keras.optimizers.Adagrad(0.1)
    reference.build([dense])
    for _ in range(2):
        reference.apply_gradients([(tf.convert_to_tensor(gradient), dense)])
    np.testing.assert_allclose(accumulated["ours"][1], dense.numpy(), rtol=1e-6)
    assert not np.allclose(accumulated["keras"][1], dense.numpy())


@pytest.mark.skipif(not TENSORFLOW, reason="sparse gradients are TensorFlow's")
def test_summed_slices_keep_the_length_and_the_dense_gradient():
    import tensorflow as tf

    gradient = _slices(np.arange(14, dtype="float32").reshape(7, 2), [3, 0, 3, 5, 3, 0, 7], [9, 2])
    summed = summed_slices(gradient)
    assert summed.indices.numpy().tolist() == [0, 3, 5, 7, 0, 0, 0]
    np.testing.assert_array_equal(summed.values.numpy()[4:], 0)
    np.testing.assert_allclose(tf.convert_to_tensor(summed), tf.convert_to_tensor(gradient))
    assert summed_slices(_slices(np.zeros((0, 2)), np.zeros(0), [9, 2])).values.shape == (0, 2)


@pytest.mark.jax
def test_adagrad_by_name_is_reczoos_and_survives_saving(tmp_path):
    spec = reczoo.FeatureSpec(
        [
            reczoo.Categorical("user_id", vocabulary_size=50, embedding_dim=4),
            reczoo.Categorical("item_id", vocabulary_size=20, embedding_dim=4),
        ]
    )
    model = reczoo.get_model(
        "fm", feature_spec=spec,
        optimizer={"class_name": "Adagrad", "config": {"learning_rate": 0.1}},
    )  # fmt: skip
    assert isinstance(model.optimizer, Adagrad)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.1)
    model.fit({"user_id": np.array([[1], [7]]), "item_id": np.array([[3], [3]])},
              np.array([1.0, 0.0]), verbose=0)  # fmt: skip
    model.save(tmp_path / "fm.keras")
    assert isinstance(keras.saving.load_model(tmp_path / "fm.keras").optimizer, Adagrad)
