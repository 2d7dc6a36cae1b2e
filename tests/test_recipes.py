"""Recipes, the defaults that apply without one, and what a run returns."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

import reczoo
from reczoo.datasets.preprocessing import build_interactions
from reczoo.training import RunSettings, run, settings
from reczoo.training.plans import RankingPlan


def build(model, dataset, protocol, overrides=None, **kwargs):
    return RunSettings.build(model, dataset, protocol, overrides or {}, **kwargs)


def test_the_default_recipe_applies_and_set_overrides_it():
    s = build("deepfm", "frappe-x1", "bars_x1")
    assert s.recipe.name == "deepfm/frappe-x1" and s.named_recipe is None
    assert s.batch_size == 4096 and s.embedding_dim == 10
    assert s.patience == 2 and s.reduce_lr == 0.1
    assert s.model_settings["hidden_units"] == [400, 400, 400]
    s = build("deepfm", "frappe-x1", "bars_x1", {"batch_size": 512, "dropout": 0.1}, epochs=3)
    assert s.batch_size == 512 and s.epochs == 3
    assert s.model_settings["dropout"] == 0.1 and s.model_settings["batch_norm"] is True


def test_run_settings_are_frozen_and_replace_routes_model_settings():
    s = build("deepfm", "frappe-x1", "bars_x1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.batch_size = 1
    with pytest.raises(TypeError):
        s.model_settings["dropout"] = 0.5
    t = s.replace(batch_size=64, dropout=0.5)
    assert (t.batch_size, t.model_settings["dropout"]) == (64, 0.5)
    assert (s.batch_size, s.model_settings["dropout"]) == (4096, 0.2)
    assert set(s.training()) == set(settings.EPOCH_BASE)


def test_a_variant_is_named_and_none_means_no_recipe():
    s = build("sasrec", "amazon-games", "sasrec", recipe="sasrec-ce/amazon-games")
    assert s.recipe.name == s.named_recipe == "sasrec-ce/amazon-games"
    assert s.model_settings["loss"] == "ce"
    s = build("sasrec", "amazon-games", "sasrec", recipe="none")
    assert s.recipe is None and dict(s.model_settings) == {}
    assert s.eval_every_examples and s.max_length is None


def test_bad_recipes_and_settings_are_named():
    with pytest.raises(ValueError, match=r"Unknown recipe 'deepfm/frape-x1'.*deepfm/frappe-x1"):
        build("deepfm", "frappe-x1", "bars_x1", recipe="deepfm/frape-x1")
    with pytest.raises(ValueError, match=r"is for model 'fm'\. Received: model='deepfm'"):
        build("deepfm", "frappe-x1", "bars_x1", recipe="fm/frappe-x1")
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        build("fm", "movielens-100k", "ncf", {"batch_size": 0})
    with pytest.raises(ValueError, match="`epochs` must be a positive integer"):
        build("fm", "movielens-100k", "ncf", epochs=0)
    with pytest.raises(ValueError, match="`epochs` must be a positive integer"):
        build("fm", "movielens-100k", "ncf", epochs=2.7)
    with pytest.raises(ValueError, match="Epochs given twice"):
        build("fm", "movielens-100k", "ncf", {"epochs": 2}, epochs=3)
    with pytest.raises(ValueError, match="train_last_targets is for next-item models"):
        build("fm", "movielens-100k", "ncf", {"train_last_targets": 2})
    with pytest.raises(ValueError, match="has no pre-training"):
        build("gmf", "movielens-100k", "ncf", {"pretrain": True})


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
    s = build("sasrec", "amazon-games", "sasrec")
    assert (s.epochs, s.eval_every) == (200, 10)
    assert s.schedule(steps_per_epoch=7) == (70, 20)
    assert build("sasrec", "amazon-games", "sasrec", {"eval_every": 2}, epochs=5).schedule(7) == (
        14,
        3,
    )
    adaptive = build("fm", "movielens-100k", "ncf", {"eval_every_examples": 1000,
                     "batch_size": 128, "max_evaluations": 9}, recipe="none")  # fmt: skip
    assert adaptive.epochs is None
    assert adaptive.schedule(steps_per_epoch=7) == (8, 9)
    # Small data: a period is an epoch, for next-item models no fewer than
    # 8,192 histories (64 steps of 128), never more than the defaults' 32,768.
    ranker = build("fm", "movielens-100k", "ncf", recipe="none")
    assert ranker.schedule(steps_per_epoch=7) == (7, 40)
    sequential = build("sasrec", "movielens-100k", "loo_full", recipe="none")
    assert sequential.schedule(steps_per_epoch=8) == (64, 40)
    assert sequential.schedule(steps_per_epoch=100) == (100, 40)
    assert sequential.schedule(steps_per_epoch=1000) == (256, 40)


def test_the_default_protocol_is_known_before_any_file_is_read():
    assert settings.default_protocol("amazon-games") == "sasrec"
    assert settings.default_protocol("clicks.csv", source="data_file") == "ncf"
    assert settings.default_protocol("folder", source="shards") == "shards"
    # A model the data's protocol does not fit gets one it does: a
    # retriever its recipe's split on public data, else a split of rows
    # (leave-last-out ranking, which fits it too, only when asked).
    assert settings.default_protocol("movielens-100k", model="two_tower") == "tfrs_retrieval"
    assert settings.default_protocol("movielens-100k", model="neumf") == "ncf"
    assert settings.default_protocol("u.data", "data_file", model="youtube_dnn") == "random_split"
    assert settings.default_protocol("u.data", "data_file", model="sasrec") == "ncf"
    assert settings.default_protocol("clicks.csv", "click_log", model="sasrec") == "ncf"
    assert settings.default_protocol("folder", "shards", model="two_tower") == "shards"
    assert settings.default_protocol("u.data", "data_file", model="nope") == "ncf"


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


def test_a_full_softmax_shortens_the_histories_of_a_large_catalogue():
    # 500 users, 40 items each, 20,000 items in all: at most 500,000 // 20,001
    # positions a history (24, so 20) for a model that scores every item.
    users = np.repeat(np.arange(1, 501), 40)
    items = 1 + np.random.default_rng(0).permutation(20_000)
    data = build_interactions(
        "wide", users, items, timestamps=np.arange(users.size), sha256="x" * 64
    )
    split = reczoo.datasets.split(data, "ncf", cache=False)
    assert settings.history_length(split) == 40
    lengths = {m: RunSettings.build(m, "wide", "ncf", {}).complete(data, split).max_length
               for m in ("gru4rec", "bert4rec", "cl4srec", "sasrec")}  # fmt: skip
    assert lengths == {"gru4rec": 20, "bert4rec": 20, "cl4srec": 20, "sasrec": 40}
    # Not where the loss is sampled, nor where the length is asked for.
    assert RunSettings.build("gru4rec", "wide", "ncf", {"loss": "bce"}).complete(
        data, split).max_length == 40  # fmt: skip
    assert RunSettings.build("gru4rec", "wide", "ncf", {"max_length": 60}).complete(
        data, split).max_length == 60  # fmt: skip


def test_rankers_get_an_embedding_penalty_where_items_have_few_interactions():
    # 500 users, 40 items each: 20,000 interactions over 2,000 items (10 an
    # item) or 500 items (40 an item).
    users = np.repeat(np.arange(1, 501), 40)

    def complete(model, items, overrides=None, **kwargs):
        data = build_interactions(f"i{items}", users, 1 + np.arange(users.size) % items,
                                  sha256="s" * 64)  # fmt: skip
        split = reczoo.datasets.split(data, "loo_full", cache=False)
        built = RunSettings.build(model, data.name, "loo_full", overrides or {}, **kwargs)
        return dict(built.complete(data, split).model_settings)

    penalty = {"class_name": "L2", "config": {"l2": settings.SPARSE_L2}}
    for model in ("bpr_mf", "neumf", "deepfm", "din"):
        assert complete(model, 2_000)["embeddings_regularizer"] == penalty
        assert "embeddings_regularizer" not in complete(model, 500)
    # Not for popularity (counted), a next-item model, a recipe, or a
    # penalty you name.
    assert "embeddings_regularizer" not in complete("pop", 2_000)
    assert "embeddings_regularizer" not in complete("sasrec", 2_000)
    assert "embeddings_regularizer" not in complete("neumf", 2_000, recipe="neumf/movielens-100k")
    mine = {"class_name": "L2", "config": {"l2": 0.1}}
    assert complete("fm", 2_000, {"embeddings_regularizer": mine})["embeddings_regularizer"] == mine


def test_recent_weight_counts_each_users_latest_interactions_more():
    # Two users, in file order not time order; user 2 has two ratings at one time.
    data = build_interactions(
        "recent", np.array([1, 2, 1, 1, 2, 1, 1, 2, 2]), np.array([1, 2, 3, 4, 5, 6, 7, 8, 9]),
        timestamps=np.array([5, 1, 1, 3, 2, 2, 4, 3, 3]), sha256="s" * 64,
    )  # fmt: skip
    # User 1's times 1..5 (items 3, 6, 4, 7, 1), user 2's 1, 2, 3, 3 (items 2, 5, 8, 9).
    rows = data.recent_rows(share=0.4, weight=3)
    counts = np.bincount(rows, minlength=9)
    # 40% of 5 is two (times 4 and 5); of 4, 1.6 rounds up to two (the two at time 3).
    assert counts.tolist() == [3, 1, 1, 1, 1, 1, 3, 3, 3]
    assert (np.diff(rows) >= 0).all()
    # At least one each; 0.2 x 15 is three, not four, in floating point.
    assert np.bincount(data.recent_rows(0.01, 2), minlength=9).tolist() == [2] + [1] * 7 + [2]
    fifteen = build_interactions("f", np.ones(15, int), np.arange(1, 16), sha256="s" * 64)
    assert (np.bincount(fifteen.recent_rows(0.2, 2)) == 2).sum() == 3

    split = reczoo.datasets.split(walk(), "loo_full", cache=False)
    plain = RunSettings.build("bpr_mf", "walk", "loo_full", {}, epochs=1).complete(walk(), split)
    heavy = RunSettings.build("bpr_mf", "walk", "loo_full", {"recent_weight": 2}, epochs=1)
    heavy = heavy.complete(walk(), split)
    assert heavy.recent_share == settings.RECENT_SHARE
    assert heavy.training()["recent_weight"] == 2 and "recent_weight" not in plain.training()
    spec = walk().feature_spec(4)
    base = RankingPlan(walk(), split, spec, "bpr", plain, seed=0)
    more = RankingPlan(walk(), split, spec, "bpr", heavy, seed=0)
    extra = (np.bincount(split.train.recent_rows(0.2, 2)) == 2).sum()
    assert more.samples_per_epoch == base.samples_per_epoch + extra * plain.train_negatives
    _, labels = more.training_set(1)
    assert len(labels) == 2 * more.samples_per_epoch


def test_recent_weight_is_for_rankers_under_leave_last_out():
    with pytest.raises(ValueError, match="for rankers under a leave-last-out protocol"):
        build("sasrec", "movielens-100k", "ncf", {"recent_weight": 2})
    with pytest.raises(ValueError, match="'random_split'"):
        build("fm", "movielens-100k", "random_split", {"recent_weight": 2})
    with pytest.raises(ValueError, match="give recent_weight too"):
        build("mlp", "movielens-100k", "ncf", {"recent_share": 0.5})
    with pytest.raises(ValueError, match="give recent_weight too"):
        build("fm", "movielens-100k", "ncf", {"recent_share": 0.5}, epochs=5)
    with pytest.raises(ValueError, match="`recent_weight` must be a positive integer"):
        build("fm", "movielens-100k", "ncf", {"recent_weight": 1.5})
    with pytest.raises(ValueError, match=r"`recent_share` must be a number in \(0, 1\]"):
        build("fm", "movielens-100k", "ncf", {"recent_weight": 2, "recent_share": 0})


def test_the_factorisation_rankers_default_runs_count_recent_interactions_more():
    # MF-BPR, GMF and FM: their default run under leave-last-out only.
    for model in ("bpr_mf", "gmf", "fm"):
        assert build(model, "walk", "loo_full").recent_weight == 3
        assert build(model, "walk", "loo_full", {"recent_share": 0.5}).recent_share == 0.5
        assert build(model, "walk", "loo_full", epochs=5).recent_weight is None
        assert build(model, "walk", "random_split").recent_weight is None
    # A recipe (NCF's procedure on MovieLens-100K), another model, or your value.
    assert build("bpr_mf", "movielens-100k", "loo_full").recipe is not None
    assert build("bpr_mf", "movielens-100k", "loo_full").recent_weight is None
    assert build("mlp", "walk", "loo_full").recent_weight is None
    assert build("fm", "walk", "loo_full", {"recent_weight": 2}).recent_weight == 2
    # 1 counts every interaction once: the plan trains on the split as it is.
    split = reczoo.datasets.split(walk(), "loo_full", cache=False)
    once = build("bpr_mf", "walk", "loo_full", {"recent_weight": 1}).complete(walk(), split)
    assert once.training()["recent_weight"] == 1
    plan = RankingPlan(walk(), split, walk().feature_spec(4), "bpr", once, seed=0)
    assert plan.train is split.train


def test_a_run_without_recipe_counts_examples_and_returns_the_model(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    protocol = reczoo.datasets.Protocol("toy", "loo_sampled", num_negatives=20)
    result = run(
        "gru4rec", walk(), protocol=protocol, verbose=0, embedding_dim=8,
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
    # sasrec/amazon-games evaluates every 10 epochs; --epochs=3 trains 3.
    s = build("sasrec", "amazon-games", "sasrec", epochs=3)
    assert s.recipe.name == "sasrec/amazon-games"
    assert (s.epochs, s.eval_every) == (3, 3)
    s = build("sasrec", "amazon-games", "sasrec", epochs=40)
    assert (s.epochs, s.eval_every) == (40, 10)
