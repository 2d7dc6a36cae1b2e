"""Top-k recommendation: the whole catalogue scored in batches, seen items
left out, raw ids through a preset, and `reczoo recommend`."""

import json

import numpy as np
import pytest

import reczoo
from reczoo.cli import main


def _mf():
    spec = reczoo.FeatureSpec(
        [reczoo.Categorical("user_id", 4, 2), reczoo.Categorical("item_id", 7, 2)]
    )
    model = reczoo.get_model("bpr_mf", feature_spec=spec, item_bias=False)
    tables = model.backbone.get_layer("feature_embedding")
    tables.embedding_table("user_id").embeddings.assign([[0, 0], [1, 0], [0, 1], [1, 1]])
    # Item scores for user 1 (x): 5, 4, 3, 2, 1, 0; for user 2 (y): 0, 1, 2, 3, 4, 5.
    items = [[0, 0], [5, 0], [4, 1], [3, 2], [2, 3], [1, 4], [0, 5]]
    tables.embedding_table("item_id").embeddings.assign(items)
    return model


def test_recommend_returns_the_known_top_items_best_first():
    model = _mf()
    found = model.recommend([1, 2, 3], k=3, exclude_seen=False)
    assert found.items.tolist() == [[1, 2, 3], [6, 5, 4], [1, 2, 3]]
    np.testing.assert_allclose(found.scores, [[5, 4, 3], [5, 4, 3], [5, 5, 5]])
    # The same, a user per predict call: batching changes nothing.
    one = model.recommend([1, 2, 3], k=3, exclude_seen=False, batch_size=1)
    assert one.items.tolist() == found.items.tolist()


def test_recommend_never_returns_a_seen_item():
    model = _mf()
    with pytest.raises(ValueError, match="set_interactions"):
        model.recommend([1], k=2)
    model.set_interactions([1, 1, 2, 3, 3, 3, 3, 3], [1, 3, 6, 1, 2, 3, 4, 5])
    items, scores = model.recommend([1, 2, 3], k=3)
    # User 3 has one unseen item left: the rest of the row is 0 (no item).
    assert items.tolist() == [[2, 4, 5], [5, 4, 3], [6, 0, 0]]
    assert np.isneginf(scores[2, 1:]).all()
    with pytest.raises(ValueError, match="outside the model's vocabulary"):
        model.recommend([4], k=1)
    with pytest.raises(ValueError, match="`k` must be a positive integer"):
        model.recommend([1], k=0)


def test_next_item_recommend_takes_histories_of_any_length():
    spec = reczoo.FeatureSpec([reczoo.Sequence("history", 9, 8, 4, table="item")])
    model = reczoo.get_model("sasrec", feature_spec=spec, num_blocks=1, num_heads=1)
    ragged = [[3], [1, 2, 5, 6, 7, 8], []]
    padded = np.array([[0, 0, 0, 3], [5, 6, 7, 8], [0, 0, 0, 0]])
    # The model reads the last four items; left padding is done for the caller.
    np.testing.assert_allclose(model.score_items(ragged), model.score_items(padded), rtol=1e-6)
    items, scores = model.recommend(ragged, k=8)
    assert (np.diff(scores[0, :7]) <= 0).all() and 3 not in items[0, :7]
    # Every item of a history is left out, also those before the window:
    # two items are left for row 1, then no item (0).
    assert set(items[1, :2]) == {3, 4} and items[1, 2:].tolist() == [0] * 6
    assert set(items[2]) == set(range(1, 9))
    with pytest.raises(ValueError, match="either `histories` or `users`"):
        model.recommend(k=2)


# Pairs and histories: collaborative filtering, factorization, recurrent,
# convolutional (Caser reads the user id too). Attention recommends through
# the same next-item path: the SASRec preset's answers are checked in
# test_zoo.py and the README.
MODELS = ("bpr_mf", "fm", "gru4rec", "caser")


@pytest.fixture(scope="module")
def presets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("presets")
    rng = np.random.default_rng(0)
    lines = ["user,item,time"]
    for user in range(30):
        for t, item in enumerate(rng.choice(20, size=8, replace=False)):
            lines.append(f"u{user},i{item},{t}")
    (folder / "log.csv").write_text("\n".join(lines) + "\n")
    data = reczoo.datasets.load_interactions(
        folder / "log.csv", user="user", item="item", time="time"
    )
    out = {}
    for name in MODELS:
        out[name] = folder / name
        reczoo.run(name, data, protocol="loo_full", epochs=1, batch_size=32, verbose=0,
                   output=out[name], embedding_dim=8)  # fmt: skip
    return data, out


@pytest.mark.parametrize("name", MODELS)
def test_reczoo_recommend_answers_for_a_preset_in_raw_ids(presets, name, capsys):
    data, folders = presets
    assert main(["reczoo", "recommend", f"--preset={folders[name]}", "--user=u3,u7", "--k=5",
                 "--json"]) == 0  # fmt: skip
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["user"] for line in lines] == ["u3", "u7"]
    split = reczoo.datasets.split(data, "loo_full", seed=0)
    vocabulary = data.vocabularies["item"].to_list()
    for line in lines:
        user = data.vocabularies["user"].to_list().index(line["user"])
        seen = {vocabulary[i] for i in split.train.items[split.train.users == user]}
        assert len(line["items"]) == 5 and not seen & set(line["items"])
        assert all(item.startswith("i") for item in line["items"])
        assert line["scores"] == sorted(line["scores"], reverse=True)
    assert main(["reczoo", "recommend", f"--preset={folders[name]}", "--user=u3"]) == 0
    assert "rank" in capsys.readouterr().out
    assert main(["reczoo", "recommend", f"--preset={folders[name]}", "--user=nobody"]) == 1
    assert "Unknown user 'nobody'" in capsys.readouterr().err


def test_k_beyond_the_unseen_catalogue_lists_what_is_left(presets, capsys):
    _, folders = presets
    assert main(["reczoo", "recommend", f"--preset={folders['fm']}", "--user=u3", "--k=50",
                 "--json"]) == 0  # fmt: skip
    out = capsys.readouterr()

    def refuse(constant):
        raise ValueError(f"non-standard JSON: {constant}")

    line = json.loads(out.out.strip(), parse_constant=refuse)
    # 20 items, 8 of them seen by u3 (its last 2 held out count as unseen).
    assert 0 < len(line["items"]) < 20 and "None" not in line["items"]
    assert all(np.isfinite(line["scores"]))
    assert f"has {len(line['items'])} item(s) left to recommend, fewer than --k=50" in out.err
