"""FinalMLP's and FINAL's layers against numbers computed by hand."""

import keras
import numpy as np
import pytest
from testing import assert_config_round_trip, tiny_spec

import reczoo
from reczoo.layers import (
    BilinearFusion,
    EnsembleDistillation,
    FactorizedInteraction,
    FeatureSelection,
    FieldGate,
    FinalBlock,
)

pytestmark = pytest.mark.jax


def to_numpy(x):
    return keras.ops.convert_to_numpy(x)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_feature_selection_gates_by_the_context():
    gate = FeatureSelection(hidden_units=[])
    x = np.array([[1.0, -2.0, 3.0]], "float32")
    context = np.array([[1.0, 2.0]], "float32")
    gate(x, context=context)
    kernel = np.array([[0.5, 0.0, -1.0], [0.0, 1.0, 0.25]], "float32")
    bias = np.array([0.0, -1.0, 0.5], "float32")
    gate.gate.kernel.assign(kernel)
    gate.gate.bias.assign(bias)
    # 2 * sigmoid([0.5, 1.0, 0.0]) times x.
    expected = x * 2.0 * sigmoid(context @ kernel + bias)
    np.testing.assert_allclose(to_numpy(gate(x, context=context)), expected, rtol=1e-6)


def test_feature_selection_learned_context_starts_as_identity_gate():
    gate = FeatureSelection(hidden_units=[4], context_dim=3)
    x = np.array([[1.0, -2.0], [0.5, 4.0]], "float32")
    gate(x)
    gate.gate.kernel.assign(np.ones((4, 2), "float32"))
    gate.gate.bias.assign(np.zeros(2, "float32"))
    # Context zeros -> hidden ReLU(b=0) = 0 -> sigmoid(0) = 0.5 -> gate 1.
    np.testing.assert_allclose(to_numpy(gate(x)), x, rtol=1e-6)
    assert gate.context_bias.shape == (1, 3)
    with pytest.raises(ValueError, match="no context"):
        FeatureSelection([2])(x)


def test_bilinear_fusion_heads_by_hand():
    fusion = BilinearFusion(num_heads=2)
    x = np.array([[1.0, 2.0, 3.0, 4.0]], "float32")
    y = np.array([[1.0, -1.0]], "float32")
    fusion([x, y])
    fusion.w_x.kernel.assign(np.array([[1.0], [0.0], [0.0], [0.0]], "float32"))
    fusion.w_x.bias.assign(np.array([0.5], "float32"))
    fusion.w_y.kernel.assign(np.array([[0.0], [2.0]], "float32"))
    fusion.w_y.bias.assign(np.array([0.0], "float32"))
    # Head 0: x (1, 2), y (1,), W [[1], [2]] -> 1 + 4 = 5.
    # Head 1: x (3, 4), y (-1,), W [[3], [-1]] -> (9 - 4) * -1 = -5.
    fusion.w_xy.assign(np.array([[1.0], [2.0], [3.0], [-1.0]], "float32"))
    # w_x: 1 + 0.5; w_y: -2; bilinear 5 - 5.
    np.testing.assert_allclose(to_numpy(fusion([x, y])), [[1.5 - 2.0 + 0.0]], rtol=1e-6)
    with pytest.raises(ValueError, match="num_heads=3"):
        BilinearFusion(num_heads=3)([x, y])


@pytest.mark.parametrize("residual", ["concat", "sum"])
def test_factorized_interaction_by_hand(residual):
    layer = FactorizedInteraction(2, residual=residual)
    x = np.array([[1.0, 2.0]], "float32")
    layer(x)
    width = 4 if residual == "sum" else 2
    kernel = np.arange(2 * width, dtype="float32").reshape(2, width) - 2.0
    bias = np.linspace(-1.0, 1.0, width).astype("float32")
    layer.dense.kernel.assign(kernel)
    layer.dense.bias.assign(bias)
    h = x @ kernel + bias
    h2, h1 = h[:, : width // 2], h[:, width // 2 :]
    expected = np.concatenate([h2, h1 * h2], -1) if residual == "concat" else h2 + h1 * h2
    np.testing.assert_allclose(to_numpy(layer(x)), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="even"):
        FactorizedInteraction(3)


def test_field_gate_starts_as_identity_and_mixes_fields():
    gate = FieldGate()
    fields = np.array([[[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]]], "float32")
    np.testing.assert_allclose(to_numpy(gate(fields)), np.concatenate([fields, fields], 1))
    mixing = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 2.0]], "float32")
    gate.mixing.kernel.assign(mixing)
    gate.mixing.bias.assign(np.zeros(3, "float32"))
    # Per embedding unit d: gates[f] = sum_g fields[g, d] * mixing[g, f].
    gates = np.einsum("gd,gf->fd", fields[0], mixing)
    expected = np.concatenate([fields[0], fields[0] * gates], 0)[None]
    np.testing.assert_allclose(to_numpy(gate(fields)), expected, rtol=1e-6)


def test_final_block_layers_and_shapes():
    block = FinalBlock([4, 2], activation="relu", dropout=0.1, batch_norm=True)
    assert tuple(block(np.ones((3, 5), "float32")).shape) == (3, 2)
    assert [len(layers) for layers in block.blocks] == [4, 4]
    plain = FinalBlock([2], activation=None, batch_norm=False)
    x = np.array([[1.0, 2.0]], "float32")
    plain(x)
    fi = plain.blocks[0][0]
    fi.dense.kernel.assign(np.eye(2, dtype="float32"))
    fi.dense.bias.assign(np.zeros(2, "float32"))
    # Halves (h2, h1) = (1, 2): [h2, h1 * h2] = [1, 2].
    np.testing.assert_allclose(to_numpy(plain(x)), [[1.0, 2.0]])


def test_ensemble_distillation_losses_only_in_training():
    layer = EnsembleDistillation(weight=0.5)
    a = np.array([[2.0], [-1.0]], "float32")
    b = np.array([[0.0], [1.0]], "float32")
    np.testing.assert_allclose(to_numpy(layer([a, b])), (a + b) / 2)
    assert not layer.losses
    layer([a, b], training=True)
    teacher = sigmoid((a + b) / 2)

    def bce(logits):
        p = sigmoid(logits)
        return np.mean(-(teacher * np.log(p) + (1 - teacher) * np.log(1 - p)))

    got = sorted(float(to_numpy(loss)) for loss in layer.losses)
    np.testing.assert_allclose(got, sorted([0.5 * bce(a), 0.5 * bce(b)]), rtol=1e-5)


@pytest.mark.parametrize(
    "layer",
    [
        FeatureSelection([8], context_dim=3),
        BilinearFusion(2),
        FactorizedInteraction(4, residual="sum"),
        FinalBlock([4], activation="relu", dropout=0.2),
        FieldGate(),
        EnsembleDistillation(0.5),
    ],
)
def test_config_round_trip(layer):
    assert_config_round_trip(layer)


def test_finalmlp_context_must_name_features():
    with pytest.raises(ValueError, match="'city'"):
        reczoo.get_model("finalmlp", feature_spec=tiny_spec(), stream1_context=["city"])


def test_finalmlp_embeds_numbers_in_streams_and_contexts_when_asked():
    spec = reczoo.FeatureSpec([reczoo.Categorical("c", 5, 4), reczoo.Numerical("x"),
                               reczoo.Numerical("y")])  # fmt: skip
    settings = {"stream1_units": [8], "stream2_units": [6], "num_heads": 2,
                "stream1_context": ["x", "y"], "stream2_context": ["c"]}  # fmt: skip
    raw = reczoo.get_model("finalmlp", feature_spec=spec, **settings).backbone
    embedded = reczoo.get_model(
        "finalmlp", feature_spec=spec, numerical_embedding=True, **settings
    ).backbone
    # Streams read 4 + 1 + 1 raw values, or three vectors of 4; the numbers'
    # context is 2 values, or 2 vectors of 4.
    assert raw.get_layer("stream1").input.shape[-1] == 6
    assert embedded.get_layer("stream1").input.shape[-1] == 12
    assert embedded.get_layer("context1_embedding").compute_output_shape(None) == (None, 8)
    assert embedded.get_config()["numerical_embedding"] is True
    inputs = spec.dummy_inputs(3, seed=0)
    assert embedded(inputs)["logit"].shape == (3, 1)


def test_finalnet_two_blocks_train_on_the_distillation_too():
    spec = tiny_spec()
    features = spec.dummy_inputs(8, seed=0)
    labels = np.ones((8, 1), "float32")
    losses = {}
    for weight in (0.0, 1.0):
        keras.utils.set_random_seed(0)
        model = reczoo.get_model("finalnet", feature_spec=spec, distillation=weight)
        model.compile(run_eagerly=True)
        losses[weight] = float(np.ravel(model.train_on_batch(features, labels))[0])
    # Same weights (same seed): the distilled run adds two positive terms.
    assert losses[1.0] > losses[0.0] + 1e-3
    one = reczoo.get_model("finalnet", feature_spec=spec, num_blocks=1, field_gate=True)
    assert not any(isinstance(layer, EnsembleDistillation) for layer in one.backbone.layers)
