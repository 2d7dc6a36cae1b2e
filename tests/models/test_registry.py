import keras
import numpy as np
import pytest
from testing import assert_config_round_trip, tiny_batch, tiny_labels, tiny_spec

import reczoo


def test_list_models_wildcards_over_names_and_tags():
    names = reczoo.list_models()
    assert names == sorted(names)
    assert {"fm", "mlp"} <= set(names)
    assert reczoo.list_models("f?") == ["fm"]
    assert "mlp" in reczoo.list_models("DNN")
    assert reczoo.list_models("no-such-*") == []


def test_unknown_model_suggests_close_names():
    with pytest.raises(ValueError, match=r"Unknown model 'mlpp'\. Did you mean: mlp"):
        reczoo.get_model("mlpp", feature_spec=tiny_spec())


def test_overrides_are_routed_and_checked():
    model = reczoo.get_model(
        "mlp",
        feature_spec=tiny_spec(),
        hidden_units=[8],
        objective="regression",
        learning_rate=0.01,
    )
    assert model.backbone.hidden_units == [8]
    assert model.objective == "regression"
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(0.01)
    with pytest.raises(TypeError, match=r"no setting 'hiden_units'.*Accepted: .*'hidden_units'"):
        reczoo.get_model("mlp", feature_spec=tiny_spec(), hiden_units=[8])


def test_every_entry_declares_family_task_and_paper():
    for name in reczoo.list_models():
        entry = reczoo.model_info(name)
        assert entry.family and entry.paper
        assert entry.task_name in ("Ranker", "NextItem", "Retriever"), (name, entry.task_name)
        assert issubclass(entry.task, reczoo.Task)
        assert issubclass(entry.backbone, reczoo.Backbone)


# One quick model of each task and objective: a preset of it is trained again
# after loading (the others' compile settings travel the same way).
TRAINED_AGAIN = {"gmf", "bpr_mf", "gru4rec", "two_tower"}


def test_every_task_and_objective_is_trained_again_after_loading():
    kinds = {}
    for name in reczoo.list_models():
        entry = reczoo.model_info(name)
        kinds.setdefault((entry.task_name, entry.task_defaults.get("objective")), set()).add(name)
    missing = [kind for kind, names in kinds.items() if not names & TRAINED_AGAIN]
    assert not missing, f"add a model of {missing} to TRAINED_AGAIN"


# Also the JAX tier's: every model trains, saves and loads (.keras and preset).
@pytest.mark.jax
@pytest.mark.parametrize("name", reczoo.list_models())
def test_registered_model_builds_fits_and_round_trips(name, tmp_path):
    spec = tiny_spec()
    model = reczoo.get_model(name, feature_spec=spec)
    features, _ = tiny_batch(spec)
    labels = tiny_labels(model, features)
    history = model.fit(features, labels, batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # Scored by a direct call: an eager forward pass, where `predict` would
    # trace a function for each of the three models (fit stays traced).
    before = _scores(model, features)

    assert_config_round_trip(model.backbone)
    rebuilt = type(model).from_config(model.get_config())
    assert rebuilt.get_config() == model.get_config()

    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    _assert_close(_scores(loaded, features), before)
    assert loaded.compiled

    model.save_to_preset(tmp_path / "preset")
    again = reczoo.from_preset(tmp_path / "preset")
    _assert_close(_scores(again, features), before)
    assert again.compiled
    if name in TRAINED_AGAIN:
        # The restored model keeps training.
        again.fit(features, labels, epochs=1, verbose=0)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's tracing")
def test_a_first_fit_traces_its_training_step_once():
    # The optimizer's slots are made before the first step: made inside the
    # trace, TensorFlow traced the step a second time.
    spec = tiny_spec()
    model = reczoo.get_model("deepfm", feature_spec=spec)
    features, _ = tiny_batch(spec)
    traces = []
    step = model.train_step
    model.train_step = lambda data: (traces.append(1), step(data))[1]
    model.fit(features, tiny_labels(model, features), batch_size=16, epochs=2, verbose=0)
    assert len(traces) == 1 and model.optimizer.built


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="TensorFlow's tracing")
def test_scoring_in_batches_traces_one_shape():
    # The last, short batch is scored as a whole one (its last row repeated,
    # its extra scores dropped): one trace of the predict step, not two.
    from reczoo.metrics.evaluators import _predict

    spec = tiny_spec()
    model = reczoo.get_model("deepfm", feature_spec=spec)
    features, _ = tiny_batch(spec, n=40)
    alone = np.concatenate([_scores(model, {k: v[i : i + 1] for k, v in features.items()})
                            for i in range(40)]).reshape(-1)  # fmt: skip
    traces = []
    step = model.predict_step
    model.predict_step = lambda data: (traces.append(1), step(data))[1]
    np.testing.assert_allclose(model.score(features, batch_size=16), alone, rtol=1e-5, atol=1e-6)
    assert len(traces) == 1
    model.predict_function = None
    np.testing.assert_allclose(_predict(model, features, 16), alone, rtol=1e-5, atol=1e-6)
    assert len(traces) == 2


def _scores(model, features):
    return keras.tree.map_structure(keras.ops.convert_to_numpy, model(features, training=False))


def _assert_close(got, want):
    # A retriever predicts a dict of embeddings; the others an array.
    if isinstance(want, dict):
        assert set(got) == set(want)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_ranker_regression_metrics():
    spec = tiny_spec()
    model = reczoo.get_model("fm", feature_spec=spec, objective="regression")
    features, _ = tiny_batch(spec)
    ratings = np.random.default_rng(0).uniform(1, 5, size=(16, 1)).astype("float32")
    logs = model.fit(features, ratings, epochs=1, verbose=0).history
    assert {"loss", "rmse", "mae"} <= set(logs)


def test_ranker_rejects_unknown_objective():
    with pytest.raises(ValueError, match="objective='softmax'"):
        reczoo.get_model("fm", feature_spec=tiny_spec(), objective="softmax")


def test_fm_backbone_is_linear_plus_pairwise():
    spec = reczoo.FeatureSpec([reczoo.Categorical("a", 3, 2), reczoo.Categorical("b", 3, 2)])
    backbone = reczoo.models.FMBackbone(spec)
    emb = backbone.get_layer("feature_embedding")
    linear = backbone.get_layer("linear")
    emb.embedding_table("a").embeddings.assign([[0, 0], [1, 2], [0, 0]])
    emb.embedding_table("b").embeddings.assign([[0, 0], [3, 4], [0, 0]])
    linear.weights_embedding.embedding_table("a").embeddings.assign([[0], [0.5], [0]])
    linear.weights_embedding.embedding_table("b").embeddings.assign([[0], [0.25], [0]])
    linear.bias.assign([1.5])
    out = backbone.predict({"a": np.array([1]), "b": np.array([1])}, verbose=0)
    # 1.5 + 0.5 + 0.25 + <(1,2),(3,4)> = 2.25 + 11.
    np.testing.assert_allclose(out["logit"], [[13.25]])
    np.testing.assert_allclose(out["features"], [[1, 2, 3, 4]])
