"""benchmarks/profile_epoch.py: the lever it names, and its committed table."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location(
        "profile_epoch", ROOT / "benchmarks" / "profile_epoch.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _profile(**changes):
    base = {"steps": 100, "batch_size": 256, "steps per call": 25, "epoch": 10.0,
            "epoch as trained": 6.0, "pipeline": 1.0, "step": 9.0, "16 steps per call": 5.0,
            "dispatch": 4.3, "optimizer": 0.5, "forward/backward": 4.2, "evaluation": 0.5,
            "evaluated": "valid", "evaluations_per_epoch": 1, "matmul floor": 0.5,
            "matmul GFLOP per step": 0.1}  # fmt: skip
    return {**base, **changes}


def test_the_lever_is_the_largest_part_outside_the_kernels():
    lever = _script().lever
    assert lever(_profile()).startswith("steps per call (per-step dispatch): 4.3 s, 43%")
    # Pulled where the epoch as trained (several steps per call) is 1.5x or more faster.
    assert lever(_profile()).endswith("; pulled: the epoch as trained (25 per call) is 1.67x")
    assert "pulled" not in lever(_profile(**{"epoch as trained": 7.0}))
    assert lever(_profile(epoch=14.0)).startswith("the input pipeline")  # 5 s not hidden
    # Evaluation counts once per period: every 10 epochs, a tenth of it.
    slow_eval = _profile(dispatch=0.1, step=9.5, evaluation=5.0)
    assert lever(slow_eval).startswith("evaluation (once per period): 5.0 s")
    assert lever({**slow_eval, "evaluations_per_epoch": 0.1}).startswith("none outside the kernels")


def test_a_step_bound_by_its_matrix_products_names_the_kernels():
    lever = _script().lever
    # Matrix products alone at the machine's best rate: 4 s of the 6 s epoch.
    assert lever(_profile(**{"matmul floor": 4.0})).startswith(
        "the kernels: matrix products alone at this machine's best rate take 67%"
    )
    assert not lever(_profile(**{"matmul floor": 2.9})).startswith("the kernels")


def test_the_floor_counts_each_product_and_its_gradients():
    import tensorflow as tf

    script = _script()
    w = tf.Variable(tf.ones([5, 3]))
    f = tf.Variable(tf.ones([2, 2, 1, 3]))

    def step(x, image, a, b):
        with tf.GradientTape() as tape:
            dense = tf.reduce_sum(x @ w)  # 8x5 @ 5x3
            conv = tf.reduce_sum(tf.nn.conv2d(image, f, strides=2, padding="VALID"))
            total = dense + conv
        pairs = tf.reduce_sum(tf.einsum("bi,bij->bj", a, b))  # 4 x 6 x 7
        return tape.gradient(total, [w, f]), pairs

    graph = (
        tf.function(step)
        .get_concrete_function(
            tf.ones([8, 5]), tf.ones([2, 4, 4, 1]), tf.ones([4, 6]), tf.ones([4, 6, 7])
        )
        .graph
    )
    # The matmul's gradient needs only the weights' product: 2 of 3. The
    # convolution (2x2x3 outputs per image, a 2x2x1 window): TensorFlow's
    # gradient computes both the filter's and the input's, 3 of 3.
    matmul, conv, einsum = 2 * 8 * 5 * 3, 2 * (2 * 2 * 2 * 3) * 4, 2 * 4 * 6 * 7
    assert script.graph_flops(graph) == 2 * matmul + 3 * conv + einsum


def test_the_committed_profile_is_its_numbers_rebuilt():
    folder = ROOT / "benchmarks" / "results" / "profile"
    results = json.loads((folder / "profile.json").read_text())
    script = _script()
    assert set(results["models"]) == set(script.CASES)
    assert (folder / "profile.md").read_text() == script.markdown(results, results["command"])
    for profile in results["models"].values():
        assert profile["epoch as trained"] > 0 and profile["steps per call"] >= 1
