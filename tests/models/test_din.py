import types

import numpy as np
import pytest

import reczoo
from reczoo.datasets.pipelines import left_pad
from reczoo.training.plans import RankingPlan


def spec(history_table="item"):
    return reczoo.FeatureSpec(
        [
            reczoo.Categorical("user_id", 5, 4),
            reczoo.Categorical("item_id", 9, 4, table="item"),
            reczoo.Sequence("history", 9, 4, max_length=3, table=history_table),
        ]
    )


def test_history_must_share_the_target_table():
    with pytest.raises(ValueError, match="history table 'other', target table 'item'"):
        reczoo.models.DINBackbone(spec("other"))
    with pytest.raises(ValueError, match="needs the feature 'clicks'"):
        reczoo.models.DINBackbone(spec(), history_feature="clicks")


def test_interest_depends_on_the_candidate():
    backbone = reczoo.models.DINBackbone(spec(), hidden_units=[4])
    attention = backbone.get_layer("target_attention")
    embedding = backbone.get_layer("feature_embedding")
    history = np.array([[1, 2, 0], [1, 2, 0]])
    table = embedding.embedding_table("item")
    weights = attention.attention_weights(table(np.array([3, 4])), table(history), history != 0)
    weights = np.asarray(weights)
    assert (weights[:, 2] == 0).all()  # padding gets no weight
    assert not np.allclose(weights[0], weights[1])  # another candidate, other weights


def test_din_on_movielens_ctr_view(data_dir):
    data = reczoo.datasets.load("movielens-100k-ctr", download=False)
    assert data.num_interactions == 100_000
    assert int(data.labels.sum()) == 34_174 + 21_201  # ratings 4 and 5
    features = data.features(slice(0, 64))
    model = reczoo.get_model("din", feature_spec=data.feature_spec(8))
    model.fit(features, data.labels[:64], epochs=1, verbose=0)
    # A user's first rating has an empty history; later ones list earlier items.
    first = data.sequences["history"][0]
    assert (first == 0).all()


def ratings(tmp_path):
    lines = ["user,item,rating,time"] + [
        f"u{u},i{(7 * u + 13 * t) % 150},{2 + (u + t) % 4},{t}" for u in range(20) for t in range(8)
    ]
    (tmp_path / "ratings.csv").write_text("\n".join(lines) + "\n")
    return reczoo.datasets.load_interactions(
        tmp_path / "ratings.csv", user="user", item="item", rating="rating", time="time"
    )


def test_each_row_history_is_its_users_earlier_items():
    # Rows out of order; user 1 has two ratings at time 5, kept in file order.
    data = reczoo.datasets.InteractionDataset(
        name="toy",
        users=np.array([1, 2, 1, 1, 2, 1]),
        items=np.array([4, 7, 3, 5, 8, 6]),
        ratings=None,
        timestamps=np.array([9, 1, 5, 5, 2, 1]),
    )
    histories = data.row_histories(max_length=2)
    # User 1 in time order: 6 (t=1), 3 and 5 (t=5, file order), 4 (t=9).
    np.testing.assert_array_equal(histories, [[3, 5], [0, 0], [0, 6], [6, 3], [0, 7], [0, 0]])


def test_din_trains_on_interactions_with_histories_made_from_them(tmp_path):
    data = ratings(tmp_path)
    split = reczoo.datasets.split(data, "ncf", seed=0)
    spec = reczoo.FeatureSpec(
        [
            reczoo.Categorical("user_id", data.num_users + 1, 4),
            reczoo.Categorical("item_id", data.num_items + 1, 4),
            reczoo.Sequence("history", data.num_items + 1, 4, max_length=3, table="item_id"),
        ]
    )
    for objective, per_positive in (("binary", None), ("bpr", 2)):
        settings = types.SimpleNamespace(train_negatives=2, batch_size=16)
        plan = RankingPlan(data, split, spec, objective, settings, seed=0, history="history")
        features, labels = plan.training_set(1)
        train = split.train
        expected = train.row_histories(3)
        if per_positive is None:
            # Positives first, in the training rows' order; each negative
            # then carries its positive's history.
            n = train.num_interactions
            np.testing.assert_array_equal(features["history"][:n], expected)
            np.testing.assert_array_equal(features["history"][n:], np.repeat(expected, 2, 0))
        else:
            np.testing.assert_array_equal(features["history"], np.repeat(expected, 4, 0))
        # No positive is in its own history: it comes strictly after.
        positive = labels == 1
        rows = features["history"][positive]
        assert not (rows == features["item_id"][positive][:, None]).all(axis=1).any()
    # Recent interactions counted more (`recent_weight`): each copy keeps its history.
    settings = types.SimpleNamespace(train_negatives=1, batch_size=16, recent_weight=3,
                                     recent_share=0.5)  # fmt: skip
    plan = RankingPlan(data, split, spec, "binary", settings, seed=0, history="history")
    features, labels = plan.training_set(1)
    weighted = split.train.recent_rows(0.5, 3)
    n = len(weighted)
    assert n > split.train.num_interactions
    np.testing.assert_array_equal(features["history"][:n], expected[weighted])
    np.testing.assert_array_equal(features["item_id"][:n], split.train.items[weighted])
    # Each candidate is scored with its user's items before the held-out one.
    for stage in ("valid", "test"):
        seen = []
        model = types.SimpleNamespace(
            predict_on_batch=lambda chunk, seen=seen: (
                seen.append(chunk["history"]) or chunk["item_id"]
            )
        )
        metrics, pairs, _ = plan.evaluate(model, stage)
        assert pairs == 20 * 100 and metrics["users"] == 20
        np.testing.assert_array_equal(
            np.concatenate(seen)[:pairs], np.repeat(split.histories_before(stage, 3), 100, 0)
        )
    for protocol in ("ncf", "loo_full"):
        result = reczoo.run("din", data, protocol=protocol, epochs=1, verbose=0)
        assert 0.0 <= result["metrics"]["hr@10"] <= 1.0
        assert result["hyperparameters"]["max_length"] == 50
    # `recommend` (and so `reczoo recommend` on its preset) reads each user's
    # training items, in time order, as the history.
    model, user = result.model, 3
    found = model.recommend([user], k=4)
    past = split.train.histories()[user]
    assert len(past) and not np.isin(found.items[0], past).any()
    rows = {
        "user_id": np.full(4, user),
        "item_id": found.items[0],
        "history": np.repeat(left_pad([past], 50), 4, axis=0),
    }
    np.testing.assert_allclose(found.scores[0], model.score(rows), rtol=1e-5)
    # Without recorded interactions there is no history to read: it says so.
    bare = reczoo.get_model("din", feature_spec=model.feature_spec)
    with pytest.raises(ValueError, match=r"reads \['history'\] besides the ids"):
        bare.recommend([user], k=4, exclude_seen=False)


def test_a_row_split_of_interactions_is_refused_naming_the_way(tmp_path):
    data = ratings(tmp_path)
    with pytest.raises(ValueError, match=r"leave-last-out protocol.*history_ctr\(data\)"):
        reczoo.run("din", data, protocol="random_split", epochs=1, verbose=0)
    # The way it names works: the same ratings as a click log with histories.
    result = reczoo.run("din", reczoo.datasets.history_ctr(data), protocol="random_split",
                        epochs=1, verbose=0)  # fmt: skip
    assert 0.0 <= result["metrics"]["auc"] <= 1.0
