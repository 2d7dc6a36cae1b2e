"""Recipes, the defaults that apply without one, and what a run returns."""

import json
import subprocess
import sys

import numpy as np
import pytest

import reczoo
from reczoo.benchmark import run, settings
from reczoo.datasets.preprocessing import build_interactions


def test_the_default_recipe_applies_and_set_overrides_it():
    run_settings, model_settings, recipe = settings.resolve("deepfm", "frappe-x1", "bars_x1", {})
    assert recipe.name == "deepfm/frappe-x1"
    assert run_settings["batch_size"] == 4096 and run_settings["embedding_dim"] == 10
    assert run_settings["patience"] == 2 and run_settings["reduce_lr"] == 0.1
    assert model_settings["hidden_units"] == [400, 400, 400]
    run_settings, model_settings, _ = settings.resolve(
        "deepfm", "frappe-x1", "bars_x1", {"batch_size": 512, "dropout": 0.1}, epochs=3
    )
    assert run_settings["batch_size"] == 512 and run_settings["epochs"] == 3
    assert model_settings["dropout"] == 0.1 and model_settings["batch_norm"] is True


def test_a_variant_is_named_and_none_means_no_recipe():
    _, model_settings, recipe = settings.resolve(
        "sasrec", "amazon-games", "sasrec", {}, recipe="sasrec-ce/amazon-games"
    )
    assert recipe.name == "sasrec-ce/amazon-games" and model_settings["loss"] == "ce"
    run_settings, model_settings, recipe = settings.resolve(
        "sasrec", "amazon-games", "sasrec", {}, recipe="none"
    )
    assert recipe is None and model_settings == {}
    assert run_settings["eval_every_examples"] and run_settings["max_length"] is None


def test_bad_recipes_and_settings_are_named():
    with pytest.raises(ValueError, match=r"Unknown recipe 'deepfm/frape-x1'.*deepfm/frappe-x1"):
        settings.resolve("deepfm", "frappe-x1", "bars_x1", {}, recipe="deepfm/frape-x1")
    with pytest.raises(ValueError, match=r"is for model 'fm'\. Received: model='deepfm'"):
        settings.resolve("deepfm", "frappe-x1", "bars_x1", {}, recipe="fm/frappe-x1")
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        settings.resolve("fm", "movielens-100k", "ncf", {"batch_size": 0})
    with pytest.raises(ValueError, match="`epochs` must be a positive integer"):
        settings.resolve("fm", "movielens-100k", "ncf", {}, epochs=0)
    with pytest.raises(ValueError, match="`epochs` must be a positive integer"):
        settings.resolve("fm", "movielens-100k", "ncf", {}, epochs=2.7)


def test_one_default_recipe_per_key():
    keys = [
        (r.model, r.dataset, r.protocol)
        for r in map(reczoo.get_recipe, reczoo.list_recipes())
        if r.default
    ]
    assert len(keys) == len(set(keys))
    for name in reczoo.list_recipes():
        recipe = reczoo.get_recipe(name)
        # Every recipe's settings are accepted by its model.
        reczoo.registry.route_settings(recipe.model, recipe.model_settings)
        assert set(recipe.training) <= set(settings.RUN_KEYS), name


def test_schedule_counts_epochs_under_a_recipe_and_examples_without():
    assert settings.schedule({"epochs": 200, "eval_every": 10}, steps_per_epoch=7) == (70, 20)
    assert settings.schedule({"epochs": 5, "eval_every": 2}, steps_per_epoch=7) == (14, 3)
    adaptive = {
        "epochs": None,
        "eval_every_examples": 1000,
        "batch_size": 128,
        "max_evaluations": 9,
    }
    assert settings.schedule(adaptive, steps_per_epoch=7) == (8, 9)


def walk(users=40, items=60, seed=0):
    # Each user walks forward through the catalogue: item i is followed by i+1.
    rng = np.random.default_rng(seed)
    u, i, t = [], [], []
    for user in range(1, users + 1):
        start, length = rng.integers(1, items - 25), rng.integers(6, 25)
        for step in range(length):
            u.append(user)
            i.append(start + step)
            t.append(step)
    return build_interactions("walk", u, i, timestamps=t, sha256="w" * 64)


def test_history_length_comes_from_the_data():
    split = reczoo.datasets.split(walk(), "loo_full", cache=False)
    lengths = [len(h) for h in split.train.histories()[1:]]
    expected = int(np.ceil(np.quantile(lengths, 0.9) / 10) * 10)
    assert settings.history_length(split) == min(200, max(10, expected))


def test_a_run_without_recipe_counts_examples_and_returns_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    protocol = reczoo.datasets.Protocol("toy", "loo_sampled", num_negatives=20)
    result = run(
        "sasrec", walk(), protocol=protocol, verbose=0, embedding_dim=8,
        eval_every_examples=256, max_evaluations=2,
    )  # fmt: skip
    assert result["recipe"] is None
    assert result["settings_from"] == "defaults adapted to the data"
    assert result["hyperparameters"]["max_length"] == settings.history_length(result.split)
    steps_per_period = 2  # 256 histories at batch 128
    assert result["steps"] == 2 * steps_per_period
    assert [h["step"] for h in result["history"]] == [2, 4]
    assert isinstance(result.model, reczoo.NextItem)
    assert json.loads(str(result)) == json.loads(json.dumps(dict(result)))
    histories = result.split.histories_before("test", result["hyperparameters"]["max_length"])
    top = result.model.recommend(histories, k=5).items
    assert top.shape == (40, 5) and (top > 0).all()


def test_training_pairs_sequences_and_evaluation_inputs():
    data = walk()
    split = reczoo.datasets.split(
        data, reczoo.datasets.Protocol("t", "loo_sampled", num_negatives=5)
    )
    features, labels = split.train.training_pairs(negatives=2, seed=3)
    n = split.train.num_interactions
    assert len(labels) == 3 * n and labels[:n].all() and not labels[n:].any()
    seen = set(zip(split.train.users.tolist(), split.train.items.tolist(), strict=True))
    negatives = zip(features["user_id"][n:].tolist(), features["item_id"][n:].tolist(), strict=True)
    assert not any(pair in seen for pair in negatives)
    again, _ = split.train.training_pairs(negatives=2, seed=3)
    np.testing.assert_array_equal(again["item_id"], features["item_id"])

    inputs, targets = split.train.sequences(max_length=4)
    history = split.train.histories()[1]
    np.testing.assert_array_equal(inputs["history"][0], history[:-1][-4:])
    np.testing.assert_array_equal(targets[0], history[1:][-4:])

    spec = data.feature_spec(4)
    candidates, relevant = split.evaluation_inputs("test", spec)
    assert relevant.shape == (40, 6) and relevant[:, 0].all() and not relevant[:, 1:].any()
    np.testing.assert_array_equal(candidates["item_id"].reshape(40, 6)[:, 0], split.test_items)
    padded = split.histories_before("valid", 3)
    assert padded.shape == (40, 3)


def test_building_a_model_after_seeding_does_not_depend_on_earlier_imports():
    # The first `get_model("dcnv2")` imports keras-rs, which draws from
    # Python's random state; the registry restores it, so the weights match.
    code = (
        "import keras, numpy as np, reczoo\n"
        "spec = reczoo.FeatureSpec([reczoo.Categorical('a', 5, 4)])\n"
        "def weights():\n"
        "    keras.utils.set_random_seed(0)\n"
        "    m = reczoo.get_model('dcnv2', feature_spec=spec, hidden_units=[4])\n"
        "    return np.concatenate([np.ravel(w) for w in m.get_weights()])\n"
        "first = weights()\n"
        "print(bool(np.array_equal(first, weights())))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "True"


def test_fewer_epochs_than_a_recipes_evaluation_period_train_those_epochs():
    from reczoo.benchmark.settings import resolve

    # sasrec/amazon-games evaluates every 10 epochs; --epochs=3 trains 3.
    settings, _, recipe = resolve("sasrec", "amazon-games", "sasrec", {}, epochs=3)
    assert recipe.name == "sasrec/amazon-games"
    assert (settings["epochs"], settings["eval_every"]) == (3, 3)
    settings, _, _ = resolve("sasrec", "amazon-games", "sasrec", {}, epochs=40)
    assert (settings["epochs"], settings["eval_every"]) == (40, 10)
