"""Two-tower retrieval: the in-batch loss by hand, accidental hits, top-K
against numpy, the index, the SavedModel export, and real data."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from keras import ops

import reczoo
from reczoo import datasets
from reczoo.metrics.evaluators import evaluate_retrieval_held_out, retrieval_metrics
from reczoo.models.retrieval import remove_accidental_hits
from reczoo.training import run


def _spec(dim=2, users=6, items=9):
    return reczoo.FeatureSpec(
        [reczoo.Categorical("user_id", users, dim), reczoo.Categorical("item_id", items, dim)]
    )


def _retriever(**task):
    settings = {"temperature": 1.0, "logq_correction": False, "remove_accidental_hits": False,
                "hidden_units": [], "output_dim": None, "normalize": False, **task}  # fmt: skip
    return reczoo.get_model("two_tower", feature_spec=_spec(), **settings)


Q = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]], "float32")
C = np.array([[2.0, 1.0], [0.0, 1.0], [1.0, -1.0]], "float32")


def _loss(task, ids):
    out = task.compute_loss(
        y=np.asarray(ids, "int32"),
        y_pred={"query_embedding": Q, "candidate_embedding": C},
    )
    return float(ops.convert_to_numpy(out))


def _softmax_loss(logits):
    logits = logits - logits.max(axis=1, keepdims=True)
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    return float(-np.mean(np.diag(log_p)))


def test_in_batch_softmax_matches_hand_computed_values():
    # Q C^T = [[2, 0, 1], [2, 2, -2], [3, 1, 0]]; the positives on the diagonal.
    logits = np.array([[2, 0, 1], [2, 2, -2], [3, 1, 0]], "float64")
    assert _loss(_retriever(), [1, 2, 3]) == pytest.approx(_softmax_loss(logits), rel=1e-6)
    # A temperature divides every logit.
    task = _retriever(temperature=0.5)
    assert _loss(task, [1, 2, 3]) == pytest.approx(_softmax_loss(logits / 0.5), rel=1e-6)
    # Summed instead of averaged (TF Recommenders' reduction).
    task = _retriever(loss_reduction="sum")
    assert _loss(task, [1, 2, 3]) == pytest.approx(3 * _softmax_loss(logits), rel=1e-6)


def test_logq_correction_subtracts_the_log_of_each_candidates_frequency():
    logits = np.array([[2, 0, 1], [2, 2, -2], [3, 1, 0]], "float64")
    task = _retriever(logq_correction=True)
    # Training items: 1 four times, 2 three times, 3 once (8 pairs).
    task.set_candidate_frequencies([1, 1, 1, 1, 2, 2, 2, 3], num_items=9)
    q = np.array([4 / 8, 3 / 8, 1 / 8])
    expected = _softmax_loss(logits - np.log(q)[None, :])
    assert _loss(task, [1, 2, 3]) == pytest.approx(expected, rel=1e-6)
    assert expected != pytest.approx(_softmax_loss(logits))
    # Before any frequencies are set, Q is each item's share of the batch.
    fresh = _retriever(logq_correction=True)
    share = np.array([2 / 3, 1 / 3, 2 / 3])  # ids 5, 7, 5
    expected = _softmax_loss(logits - np.log(share)[None, :])
    assert _loss(fresh, [5, 7, 5]) == pytest.approx(expected, rel=1e-6)


def test_accidental_hits_are_masked_and_only_them():
    logits = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]], "float32")
    labels = np.array([[0, 0, 1, 0], [0, 1, 0, 0]], "float32")
    ids = np.array([7, 5, 7, 8])
    out = ops.convert_to_numpy(remove_accidental_hits(logits, labels, ids))
    # Row 0's positive is item 7, also in column 0; row 1's is item 5, alone.
    assert out[0, 0] < -1e30
    np.testing.assert_array_equal(out[0, 1:], [2.0, 3.0, 4.0])
    np.testing.assert_array_equal(out[1], logits[1])
    # In the loss: rows 0 and 2 share item 4; each ignores the other's column.
    logits = np.array([[2, 0, 1], [2, 2, -2], [3, 1, 0]], "float64")
    task = _retriever(remove_accidental_hits=True)
    masked = logits.copy()
    masked[0, 2] = masked[2, 0] = -np.inf
    assert _loss(task, [4, 6, 4]) == pytest.approx(_softmax_loss(masked), rel=1e-6)


def test_hard_negative_mining_keeps_the_hardest_negatives():
    # Logits [[2, 0, 1], [2, 2, -2], [3, 1, 0]], positives on the diagonal.
    task = _retriever(num_hard_negatives=1)
    # Each row keeps its positive and its single highest negative.
    kept = [np.array([2, 1]), np.array([2, 2]), np.array([0, 3])]
    expected = np.mean([-(k[0] - np.log(np.exp(k).sum())) for k in kept])
    assert _loss(task, [1, 2, 3]) == pytest.approx(expected, rel=1e-6)


def test_sampled_negatives_add_columns_scored_by_the_candidate_tower():
    task = _retriever(num_sampled_negatives=2, logq_correction=True)
    # Every catalogue item embeds to v = (1, 1): whichever items are drawn,
    # each adds the column q . v, corrected by log(1/8) (uniform over 8 items).
    task.backbone.candidate_tower.get_layer("candidate_embedding").embedding_table(
        "item_id"
    ).embeddings.assign(np.ones((9, 2), "float32"))
    task.set_candidates({"item_id": np.arange(9)})
    task.set_candidate_frequencies([1, 1, 1, 1, 2, 2, 2, 3], num_items=9)
    in_batch = np.array([[2, 0, 1], [2, 2, -2], [3, 1, 0]], "float64")
    in_batch -= np.log([4 / 8, 3 / 8, 1 / 8])[None, :]
    sampled = (Q @ np.ones(2))[:, None] - np.log(1 / 8)
    logits = np.concatenate([in_batch, sampled, sampled], axis=1)
    assert _loss(task, [1, 2, 3]) == pytest.approx(_softmax_loss(logits), rel=1e-5)
    with pytest.raises(ValueError, match="set_candidates"):
        _loss(_retriever(num_sampled_negatives=2), [1, 2, 3])


def test_top_k_accuracy_and_recall_against_a_numpy_brute_force():
    rng = np.random.default_rng(0)
    queries, items = rng.normal(size=(40, 3)), rng.normal(size=(30, 3))
    positives = rng.integers(1, 30, size=40)
    users = np.repeat(np.arange(1, 11), 4)
    seen = reczoo.models.topk.Interactions([1, 1, 2], [3, 4, 5], 11)
    got = retrieval_metrics(queries, items, positives, (1, 5, 10), users=users, seen=seen)
    scores = queries @ items[1:].T
    for k in (1, 5, 10):
        top = np.argsort(-scores, axis=1)[:, :k] + 1
        expected = np.mean([p in row for p, row in zip(positives, top, strict=True)])
        assert got[f"top_{k}_accuracy"] == pytest.approx(expected)
    # Recall@K: per user (first row's query), training items left out.
    recalls = []
    for user in range(1, 11):
        row = np.flatnonzero(users == user)[0]
        user_scores = scores[row].copy()
        user_scores[seen.of(user) - 1] = -np.inf
        top = set((np.argsort(-user_scores)[:5] + 1).tolist())
        wanted = set(positives[users == user].tolist())
        recalls.append(len(wanted & top) / len(wanted))
    assert got["recall@5"] == pytest.approx(np.mean(recalls))


def test_the_index_matches_numpy_and_takes_new_and_changed_items():
    task = _retriever()
    rng = np.random.default_rng(1)
    features = {"item_id": np.arange(1, 9)}
    index = task.index(features, ids=np.arange(1, 9), k=3)
    queries = rng.normal(size=(5, 2)).astype("float32")
    scores, ids = index.query(queries)
    vectors = task.candidate_embeddings(features)
    expected = np.argsort(-(queries @ vectors.T), axis=1)[:, :3] + 1
    np.testing.assert_array_equal(ids, expected)
    np.testing.assert_allclose(scores, np.sort(queries @ vectors.T, axis=1)[:, ::-1][:, :3],
                               rtol=1e-5)  # fmt: skip
    # Item 3 changes (now embedded like item 5), item 42 is new (OOV row 0).
    index.update({"item_id": np.array([5, 0])}, ids=[3, 42])
    assert len(index) == 9
    table = dict(zip(index.ids.tolist(), index.vectors, strict=True))
    np.testing.assert_allclose(table[3], table[5])
    np.testing.assert_allclose(table[42], task.candidate_embeddings({"item_id": np.array([0])})[0])
    scores, ids = index.query(queries)
    # Items 3 and 5 now tie: the scores, and each id's own score, are the check.
    every = queries @ index.vectors.T
    np.testing.assert_allclose(scores, np.sort(every, axis=1)[:, ::-1][:, :3], rtol=1e-5)
    column = {int(i): c for c, i in enumerate(index.ids)}
    own = np.array([[every[r, column[int(i)]] for i in row] for r, row in enumerate(ids)])
    np.testing.assert_allclose(own, scores, rtol=1e-5)


def test_protocols_made_for_another_task_are_refused_naming_both():
    with pytest.raises(ValueError, match=r"'tfrs_retrieval'.*'fm'"):
        run("fm", "movielens-100k", protocol="tfrs_retrieval", epochs=1, verbose=0)


def _ratings(tmp_path):
    lines = ["user,item,rating,time"] + [
        f"u{u},i{(7 * u + 13 * t) % 150},{2 + (u + t) % 4},{t}" for u in range(20) for t in range(8)
    ]
    (tmp_path / "ratings.csv").write_text("\n".join(lines) + "\n")
    return datasets.load_interactions(
        tmp_path / "ratings.csv", user="user", item="item", rating="rating", time="time"
    )


def test_under_leave_last_out_a_retriever_ranks_each_held_out_item_as_a_ranker(tmp_path):
    data = _ratings(tmp_path)
    for protocol in ("ncf", "loo_full"):
        result = run("two_tower", data, protocol=protocol, epochs=1, verbose=0)
        model, split = result.model, result.split
        assert result["monitor"] == "ndcg@10"
        users, targets, negatives = split.held_out("test")
        queries = model.query_embeddings({"user_id": users})
        items = model.candidate_embeddings()
        scores = queries @ items.T
        if negatives is not None:
            # Against the saved negatives alone.
            rank = (scores[np.arange(len(users))[:, None], negatives] >
                    scores[np.arange(len(users)), targets][:, None]).sum(axis=1)  # fmt: skip
        else:
            # Against every item but padding and the user's earlier items.
            scores[:, 0] = -np.inf
            for row, seen in enumerate(split.seen_before("test")):
                scores[row, seen[seen != targets[row]]] = -np.inf
            rank = (scores > scores[np.arange(len(users)), targets][:, None]).sum(axis=1)
        assert result["metrics"]["hr@10"] == pytest.approx(np.mean(rank < 10))
        # Users in chunks of 7 give the same.
        chunked, _, _ = evaluate_retrieval_held_out(
            model, split, "test", {"user_id": users}, (10,), batch_size=7
        )
        assert chunked["hr@10"] == pytest.approx(result["metrics"]["hr@10"])
    # A watch history per training row: the user's earlier items.
    result = run("youtube_dnn", data, protocol="ncf", epochs=1, verbose=0)
    features, _ = result.plan.rows("train")
    length = result["hyperparameters"]["max_length"]
    np.testing.assert_array_equal(features["history"], result.split.train.row_histories(length))
    assert 0.0 <= result["metrics"]["hr@10"] <= 1.0


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    if not os.path.isdir(os.environ.get("RECZOO_DATA_DIR") or "/nonexistent"):
        pytest.skip("RECZOO_DATA_DIR is not set to a folder with the public datasets")
    folder = tmp_path_factory.mktemp("two_tower")
    result = run(
        "two_tower", "movielens-100k", protocol="tfrs_retrieval", epochs=1, verbose=0,
        output=folder / "preset",
    )  # fmt: skip
    return result, folder


# Real-data training of two models: the slow tier (the default tier trains
# two_tower on MovieLens-100K in the fixture and in docs/serving.md).
@pytest.mark.slow
def test_two_tower_and_youtube_dnn_beat_popularity_on_movielens(trained):
    result, _ = trained
    data, split = result.data, result.split
    train, test = split.rows("train"), split.rows("test")
    counts = np.bincount(data.items[train], minlength=data.num_items + 1).astype("float64")
    pop = retrieval_metrics(np.ones((len(test), 1)), counts[:, None], data.items[test])
    assert result["metrics"]["top_100_accuracy"] > pop["top_100_accuracy"] + 0.03
    youtube = run("youtube_dnn", data, protocol="tfrs_retrieval", epochs=1, verbose=0)
    assert youtube["metrics"]["top_100_accuracy"] > pop["top_100_accuracy"] + 0.03


def test_the_export_answers_raw_ids_in_a_process_without_reczoo(trained, capsys):
    _, folder = trained
    reczoo.export(folder / "preset", folder / "export", k=5)
    task = reczoo.from_preset(folder / "preset")
    users = ["1", "42", "943"]
    expected = task.recommend(users, k=5, exclude_seen=False, raw_ids=True)
    script = textwrap.dedent(
        f"""
        import json, sys
        import tensorflow as tf
        served = tf.saved_model.load({str(folder / "export")!r})
        out = served.recommend(tf.constant({users!r}))
        new = served.recommend_features(
            tf.constant(["no-such-user"]), tf.constant(["25"]), tf.constant(["F"]),
            tf.constant(["student"]), tf.constant(["55"]))
        assert not any(m.startswith("reczoo") for m in sys.modules), "reczoo was imported"
        print(json.dumps({{
            "items": out["items"].numpy().astype(str).tolist(),
            "scores": out["scores"].numpy().tolist(),
            "new": new["items"].numpy().astype(str).tolist(),
        }}))
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=folder, check=True)  # fmt: skip
    served = json.loads(done.stdout.strip().splitlines()[-1])
    assert served["items"] == expected.items.astype(str).tolist()
    np.testing.assert_allclose(served["scores"], expected.scores, rtol=1e-5, atol=1e-6)
    assert len(served["new"][0]) == 5
    # A --k beyond the catalogue gives every item, and says so.
    from reczoo import cli

    assert cli.main(["reczoo", "export", f"--preset={folder / 'preset'}",
                     f"--output={folder / 'every_item'}", "--k=100000"]) == 0  # fmt: skip
    told = capsys.readouterr()
    assert "top 1682 raw item ids" in told.out and "--k=100000 is more than" in told.err
    # A model without the vocabularies its raw ids need is refused, naming them.
    with pytest.raises(ValueError, match=r"no vocabulary of \['user_id', 'item_id'\]"):
        reczoo.export(reczoo.get_model("fm", feature_spec=_spec()), folder / "fm", vocabularies={})


def test_recommend_leaves_out_seen_items_and_maps_raw_ids(trained):
    result, folder = trained
    task = reczoo.from_preset(folder / "preset")
    found = task.recommend(["1"], k=20, raw_ids=True)
    seen = set(result.data.vocabularies["item"].decode(task.interactions.of(1)))
    assert not seen & set(found.items[0].tolist())
    with pytest.raises(ValueError, match="Unknown user"):
        task.recommend(["no-such-user"], raw_ids=True)


def test_title_words_are_a_bag_per_item(data_dir):
    data = datasets.load("movielens-100k", download=False).with_title_tokens()
    table, words = data.item_features["title_tokens"], data.vocabularies["item.title_tokens"]
    # "Star Trek: The Wrath of Khan (1982)": the year dropped, lower case, and
    # "wrath" and "khan", in no other title, left out (min_count=2).
    khan = next(i for i, t in data.titles.items() if t.startswith("Star Trek: The Wrath"))
    assert words.decode(table[khan][table[khan] > 0]) == ["star", "trek", "the", "of"]
    assert table.shape == (data.num_items + 1, 8) and not table[0].any()
