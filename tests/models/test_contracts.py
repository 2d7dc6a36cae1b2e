"""The contracts every registered model keeps: declared outputs, precision,
and hand-computed numbers for two ranking backbones."""

import keras
import numpy as np
import pytest
from testing import tiny_batch, tiny_labels, tiny_spec

import reczoo
from reczoo.dtypes import bfloat16_runs
from reczoo.models import Backbone, RankingBackbone, SequentialBackbone

# Also the JAX tier's (KERAS_BACKEND=jax python -m pytest -m jax).
pytestmark = pytest.mark.jax


@pytest.mark.parametrize("name", reczoo.list_models())
def test_backbone_returns_its_declared_keys(name):
    entry = reczoo.model_info(name)
    model = reczoo.get_model(name, feature_spec=tiny_spec())
    backbone = model.backbone
    base = {"Ranker": RankingBackbone, "NextItem": SequentialBackbone, "Retriever": Backbone}[
        entry.task_name
    ]
    assert isinstance(backbone, base)
    assert isinstance(model, entry.task)
    out = backbone(tiny_spec().dummy_inputs(3))
    assert isinstance(out, dict)
    assert set(out) == set(backbone.output_keys)
    if isinstance(backbone, RankingBackbone):
        assert out["features"].shape[0] == 3
        if backbone.computes_logit:
            assert tuple(out["logit"].shape) == (3, 1)
    elif entry.task_name == "Retriever":
        assert out["query_embedding"].shape[0] == out["candidate_embedding"].shape[0] == 3
        assert out["query_embedding"].shape[1] == out["candidate_embedding"].shape[1]
    else:
        key = backbone.output_key
        expected_rank = 3 if backbone.per_position else 2
        assert len(out[key].shape) == expected_rank
        assert backbone.item_embedding.input_dim == backbone.num_items


def _one_of_each_family():
    first = {}
    for name in reczoo.list_models():
        first.setdefault(reczoo.model_info(name).family, name)
    return set(first.values())


# Every model under mixed_float16; under mixed_bfloat16 (the same casts, another
# range: the mask values) the first of each family in the default tier, and
# every model in the slow tier and the JAX tier. The bfloat16 cases run on one
# pytest-xdist worker: on a CPU whose flags do not settle it, the first asks a
# child process (7-10 s), and a second worker reaching them at the same time
# would wait for it idle.
BFLOAT16_DEFAULT_TIER = _one_of_each_family() | {"sasrec", "bert4rec", "din", "two_tower"}


def _precision_marks(name, policy):
    if policy != "mixed_bfloat16":
        return []
    if name not in BFLOAT16_DEFAULT_TIER:
        return [pytest.mark.slow]
    return [pytest.mark.xdist_group("bfloat16")]


@pytest.mark.parametrize(
    "name, policy",
    [
        pytest.param(name, policy, marks=_precision_marks(name, policy))
        for name in reczoo.list_models()
        for policy in ("mixed_float16", "mixed_bfloat16")
    ],
)  # fmt: skip
def test_one_step_under_mixed_precision(name, policy):
    if policy == "mixed_bfloat16" and not bfloat16_runs():
        pytest.skip("TensorFlow's oneDNN cannot multiply bfloat16 on this CPU")
    spec = tiny_spec()
    model = reczoo.get_model(name, feature_spec=spec, dtype=policy)
    # Eager: one step of a tiny model; tracing would cost more than the step.
    model.compile(run_eagerly=True)
    assert model.backbone.dtype_policy.name == policy
    assert model.dtype_policy.name == policy
    compute = policy.split("_")[1]
    # Every sublayer computes in the policy's dtype, not only the outer model.
    inner = [layer for layer in model.backbone._flatten_layers() if layer.weights]
    assert inner and all(layer.dtype_policy.name == policy for layer in inner), name
    features, _ = tiny_batch(spec)
    labels = tiny_labels(model, features)
    loss = model.train_on_batch(features, labels)
    loss = loss[0] if isinstance(loss, list) else loss
    assert np.isfinite(loss), (name, policy, loss)
    if name != "pop":
        raw = model.backbone(features)
        assert all(keras.backend.standardize_dtype(v.dtype) == compute for v in raw.values()), {
            k: v.dtype for k, v in raw.items()
        }


def test_mixed_float16_scales_the_loss():
    model = reczoo.get_model("deepfm", feature_spec=tiny_spec(), dtype="mixed_float16")
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def _fields_spec():
    return reczoo.FeatureSpec([reczoo.Categorical("a", 3, 2), reczoo.Categorical("b", 3, 2)])


def _set_embeddings(embedding):
    embedding.embedding_table("a").embeddings.assign([[0, 0], [1, 2], [0, 0]])
    embedding.embedding_table("b").embeddings.assign([[0, 0], [3, 4], [0, 0]])


def test_deepfm_logit_by_hand():
    backbone = reczoo.models.DeepFMBackbone(_fields_spec(), hidden_units=[2])
    _set_embeddings(backbone.get_layer("feature_embedding"))
    linear = backbone.get_layer("linear")
    linear.weights_embedding.embedding_table("a").embeddings.assign([[0], [0.5], [0]])
    linear.weights_embedding.embedding_table("b").embeddings.assign([[0], [0.25], [0]])
    linear.bias.assign([1.5])
    dense = backbone.get_layer("dnn").dense_layers[0]
    # flat = (1, 2, 3, 4); unit 0 sums all, unit 1 is -(v_a0) and is cut by relu.
    dense.kernel.assign([[1.0, -1.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    dense.bias.assign([0.0, 0.0])
    head = backbone.get_layer("dnn_logit")
    head.kernel.assign([[0.5], [2.0]])
    head.bias.assign([0.25])
    out = backbone.predict({"a": np.array([1]), "b": np.array([1])}, verbose=0)
    # linear 1.5 + 0.5 + 0.25 = 2.25; FM <(1,2),(3,4)> = 11;
    # DNN relu(10) * 0.5 + relu(-1) * 2 + 0.25 = 5.25.
    np.testing.assert_allclose(out["logit"], [[2.25 + 11.0 + 5.25]])
    np.testing.assert_allclose(out["features"], [[10.0, 0.0]])


def test_ipnn_features_by_hand():
    backbone = reczoo.models.PNNBackbone(_fields_spec(), product="inner", hidden_units=[1])
    _set_embeddings(backbone.get_layer("feature_embedding"))
    dense = backbone.get_layer("dnn").dense_layers[0]
    # Input: the flat embeddings (1, 2, 3, 4), then <v_a, v_b> = 11.
    dense.kernel.assign([[1.0], [1.0], [1.0], [1.0], [2.0]])
    dense.bias.assign([-5.0])
    out = backbone.predict({"a": np.array([1, 0]), "b": np.array([1, 1])}, verbose=0)
    # Row 0: 10 + 22 - 5 = 27. Row 1 (a is padding, zeros): 7 + 0 - 5 = 2.
    np.testing.assert_allclose(out["features"], [[27.0], [2.0]])
    ranker = reczoo.models.Ranker(backbone)
    ranker.get_layer("logit").kernel.assign([[1.0]])
    ranker.get_layer("logit").bias.assign([-27.0])
    probability = ranker.predict({"a": np.array([1]), "b": np.array([1])}, verbose=0)
    np.testing.assert_allclose(probability, [[0.5]])
