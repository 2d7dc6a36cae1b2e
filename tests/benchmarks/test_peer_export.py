"""The RecBole peer trains on what reczoo exports: the same held-out items."""

import json

import numpy as np
import pytest

from reczoo import datasets
from reczoo.benchmark.peers import export_sequences
from reczoo.datasets.preprocessing import build_interactions


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))


def test_export_holds_out_the_same_items(tmp_path):
    rng = np.random.default_rng(0)
    users, items, times = [], [], []
    for user in range(1, 61):
        seq = rng.choice(np.arange(1, 401), size=rng.integers(4, 9), replace=False)
        for t, item in enumerate(seq):
            users.append(user)
            items.append(int(item))
            times.append(100 - t)  # stored newest first: the export must use time order
    data = build_interactions("toy", users, items, timestamps=times, sha256="t" * 64)
    split = datasets.split(data, "sasrec", seed=0)
    split_path = export_sequences(tmp_path, "toy_export", split)

    lines = (tmp_path / "toy_export" / "toy_export.inter").read_text().splitlines()
    assert lines[0] == "user_id:token\titem_id:token\ttimestamp:float"
    by_user = {}
    for line in lines[1:]:
        user, item, t = line.split("\t")
        by_user.setdefault(int(user), []).append((float(t), int(item)))
    # RecBole's LS split on time order: last item test, second-to-last valid.
    for user, valid_item, test_item in zip(
        split.test_users, split.valid_items, split.test_items, strict=True
    ):
        ordered = [item for _, item in sorted(by_user[int(user)])]
        assert ordered[-1] == test_item and ordered[-2] == valid_item
    histories = json.loads((tmp_path / "histories.json").read_text())
    assert sum(len(h) for h in histories.values()) == len(lines) - 1
    with np.load(split_path) as saved:
        np.testing.assert_array_equal(saved["test_negatives"], split.test_negatives)
