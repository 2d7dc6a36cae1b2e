import numpy as np
import pytest

import reczoo


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


def test_interactions_without_histories_are_refused_naming_the_way(tmp_path):
    lines = ["user,item,rating,time"] + [
        f"u{u},i{(u + t) % 9},{2 + (u + t) % 4},{t}" for u in range(20) for t in range(8)
    ]
    (tmp_path / "ratings.csv").write_text("\n".join(lines) + "\n")
    data = reczoo.datasets.load_interactions(
        tmp_path / "ratings.csv", user="user", item="item", rating="rating", time="time"
    )
    with pytest.raises(ValueError, match=r"behaviour history.*history_ctr"):
        reczoo.run("din", data, protocol="loo_full", epochs=1, verbose=0)
    # The way it names works: the same ratings as a click log with histories.
    result = reczoo.run("din", reczoo.datasets.history_ctr(data), protocol="random_split",
                        epochs=1, verbose=0)  # fmt: skip
    assert 0.0 <= result["metrics"]["auc"] <= 1.0
