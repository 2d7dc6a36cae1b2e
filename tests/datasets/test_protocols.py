import numpy as np
import pytest

from reczoo import datasets
from reczoo.datasets.preprocessing import build_interactions


def toy(num_users=6, per_user=6, num_items=40, seed=0):
    rng = np.random.default_rng(seed)
    users, items, times = [], [], []
    for u in range(1, num_users + 1):
        chosen = rng.choice(np.arange(1, num_items + 1), size=per_user, replace=False)
        users += [u] * per_user
        items += chosen.tolist()
        times += rng.permutation(per_user).tolist()
    # One user too short to evaluate.
    users += [99, 99]
    items += [1, 2]
    times += [0, 1]
    return build_interactions("toy", users, items, timestamps=times, sha256="t" * 64)


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))


def test_leave_last_out_by_time():
    data = toy()
    split = datasets.split(data, datasets.Protocol("t5", "loo_sampled", num_negatives=5), seed=3)
    histories = data.histories()
    assert len(split.test_users) == 6  # the 2-interaction user is train only
    for u, valid, test in zip(split.test_users, split.valid_items, split.test_items, strict=True):
        assert test == histories[u][-1] and valid == histories[u][-2]
    assert split.train.num_interactions == data.num_interactions - 12
    short = data.vocabularies["user"].encode([99])[0]
    assert (split.train.users == short).sum() == 2


def test_negatives_exclude_history_are_distinct_and_saved():
    data = toy(num_users=12)
    protocol = datasets.Protocol("t", "loo_sampled", num_negatives=15)
    split = datasets.split(data, protocol, seed=1)
    histories = data.histories()
    for u, negatives in zip(split.test_users, split.test_negatives, strict=True):
        assert len(set(negatives.tolist())) == 15
        assert not set(negatives.tolist()) & set(histories[u].tolist())
        assert negatives.min() >= 1
    path = datasets.protocols.split_path(data, protocol, seed=1)
    assert path.is_file()
    again = datasets.split(data, protocol, seed=1)
    np.testing.assert_array_equal(again.test_negatives, split.test_negatives)
    other = datasets.split(data, protocol, seed=2)
    assert not np.array_equal(other.test_negatives, split.test_negatives)


def test_popularity_negatives_follow_training_counts():
    data = toy(num_users=30, per_user=8, num_items=60)
    protocol = datasets.Protocol("p", "loo_sampled", num_negatives=5, sampling="popularity")
    split = datasets.split(data, protocol, seed=0)
    counts = np.bincount(split.train.items, minlength=61)
    assert (counts[split.test_negatives] > 0).all()


def test_eval_user_sample():
    data = toy(num_users=30)
    protocol = datasets.Protocol("s", "loo_sampled", num_negatives=5, eval_users=10)
    split = datasets.split(data, protocol, seed=0)
    assert len(split.test_users) == 10 and split.test_negatives.shape == (10, 5)


def test_random_and_temporal_splits():
    data = toy(num_users=20)
    split = datasets.split(data, "bars_ctr", seed=0)
    sizes = [len(split.train_rows), len(split.valid_rows), len(split.test_rows)]
    assert sum(sizes) == data.num_interactions and sizes[0] == round(0.7 * data.num_interactions)
    assert (
        len(np.unique(np.concatenate([split.train_rows, split.valid_rows, split.test_rows])))
        == data.num_interactions
    )
    tfrs = datasets.split(data, "tfrs_retrieval", seed=7)
    assert tfrs.seed == 42 and len(tfrs.valid_rows) == 0
    temporal = datasets.split(data, "temporal_split")
    assert data.timestamps[temporal.train_rows].max() <= data.timestamps[temporal.test_rows].min()


def test_protocol_validation():
    with pytest.raises(ValueError, match="Unknown protocol 'nfc'"):
        datasets.get_protocol("nfc")
    with pytest.raises(ValueError, match="kind='kfold'"):
        datasets.Protocol("x", "kfold")
    ctr = datasets.CTRDataset("c", np.zeros(3, "float32"), {"a": np.ones(3, "int32")})
    with pytest.raises(ValueError, match="needs user-item interactions"):
        datasets.split(ctr, "ncf")


def test_implicit_and_k_core():
    data = build_interactions(
        "k",
        users=[1, 1, 1, 2, 2, 3, 3, 3, 4],
        items=[1, 2, 3, 1, 2, 1, 2, 4, 1],
        ratings=[5, 4, 1, 5, 5, 4, 2, 5, 3],
    )
    implicit = datasets.to_implicit(data, 4)
    assert implicit.num_interactions == 6 and implicit.ratings is None
    core = datasets.k_core(data, k=2)
    # Item 3 and 4 (one user each) go, then user 4 (one item) goes.
    assert core.num_items == 2 and core.num_users == 3
    assert core.vocabularies["item"].decode(range(1, 3)) == [1, 2]
    assert core.users.max() == 3 and core.items.max() == 2
