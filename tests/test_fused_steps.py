"""Several training steps as one compiled loop (`reczoo.training.fused`)."""

import keras
import numpy as np
import pytest

from reczoo.training.fused import fuse_steps

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="the fused loop is TensorFlow's"
)


def _model(jit_compile=True):
    keras.utils.set_random_seed(1)
    ids = keras.Input((None,), dtype="int32")
    pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 4)(ids))
    model = keras.Model(ids, keras.layers.Dense(1, activation="sigmoid")(pooled))
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy",
                  metrics=[keras.metrics.AUC(name="auc")], jit_compile=jit_compile)  # fmt: skip
    return model


def _stream(shapes):
    """Endless batches of the given (rows, length) shapes, in turn."""
    import tensorflow as tf

    def generate():
        rng = np.random.default_rng(0)
        while True:
            for rows, length in shapes:
                x = rng.integers(0, 20, (rows, length)).astype("int32")
                yield x, (x[:, :1] % 2).astype("float32")

    signature = (tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, 1), tf.float32))
    return tf.data.Dataset.from_generator(generate, output_signature=signature)


@pytest.mark.parametrize(
    "shapes",
    [
        [(8, 5)] * 6 + [(3, 5)],  # a partial batch at the end of each data epoch
        [(8, 5), (8, 5), (8, 2), (8, 7), (4, 3)],  # lengths that differ, as next-item batches
    ],
)
def test_fused_calls_train_as_keras_own_loop(shapes):
    keras_loop, fused = _model(), _model()
    keras_loop.steps_per_execution = 4
    assert fuse_steps(fused, 4)
    for model in (keras_loop, fused):
        logs = model.fit(_stream(shapes), steps_per_epoch=8, epochs=3, verbose=0).history
        model.logs = logs
    assert int(fused.optimizer.iterations.numpy()) == 24
    for a, b in zip(keras_loop.get_weights(), fused.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(keras_loop.logs["loss"], fused.logs["loss"], rtol=1e-4)
    np.testing.assert_allclose(keras_loop.logs["auc"], fused.logs["auc"], rtol=1e-4)


def test_fused_steps_apply_only_to_compiled_single_device_calls():
    assert not fuse_steps(_model(jit_compile=False), 4)
    assert not fuse_steps(_model(), 1)
    assert not fuse_steps(_model(), 4, strategy=object())
    model = _model()
    assert fuse_steps(model, 4) and model.steps_per_execution == 4


def test_each_branch_traces_the_step_once():
    # The optimizer's slots are made before the first trace: a trace that
    # creates variables is traced again, every step of the loop with it.
    model = _model()
    traces = []
    step = model.train_step
    model.train_step = lambda data: (traces.append(1), step(data))[1]
    assert fuse_steps(model, 4)
    model.fit(_stream([(8, 5)] * 6 + [(3, 5)]), steps_per_epoch=8, epochs=2, verbose=0)
    # One trace in the compiled loop, one in the loop for batches of other shapes.
    assert len(traces) == 2
