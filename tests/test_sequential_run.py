"""Next-item runs end to end: toy data for every model, real data for SASRec."""

import numpy as np
import pytest

from reczoo import datasets
from reczoo.datasets.preprocessing import build_interactions
from reczoo.training import run


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))


def toy(users=60, items=80, seed=0):
    # Each user walks forward through the catalogue: item i is followed by i+1.
    rng = np.random.default_rng(seed)
    u, i, t = [], [], []
    for user in range(1, users + 1):
        start = rng.integers(1, items - 12)
        length = rng.integers(6, 12)
        for step in range(length):
            u.append(user)
            i.append(start + step)
            t.append(step)
    return build_interactions("walk", u, i, timestamps=t, sha256="w" * 64)


@pytest.mark.parametrize("name", ["sasrec", "gru4rec", "caser"])
def test_next_item_run_on_toy_data(name):
    protocol = datasets.Protocol("toy", "loo_sampled", num_negatives=20)
    row = run(
        name, toy(), protocol=protocol, epochs=2, verbose=0,
        embedding_dim=8, batch_size=16, max_length=6 if name != "caser" else 3,
    )  # fmt: skip
    assert row["metrics"]["users"] == 60
    assert 0.0 <= row["metrics"]["ndcg@10"] <= 1.0
    assert row["train_samples_per_sec"] > 0
    assert "--model=" + name in row["command"]


def test_loo_full_for_next_item():
    row = run(
        "sasrec", toy(), protocol="loo_full", epochs=1, verbose=0, embedding_dim=8, max_length=6
    )
    assert row["metrics"]["users"] == 60


def test_next_item_model_refuses_ctr_protocol():
    with pytest.raises(ValueError, match="leave-last-out"):
        run("sasrec", toy(), protocol="random_split", epochs=1, verbose=0)


# Slow tier, with CL4SRec's and BERT4Rec's checks: real-data training (the
# whole Amazon Games file read, 5 epochs), about 18 s of the default run.
@pytest.mark.slow
def test_sasrec_beats_popularity_on_amazon_games_subset(data_dir):
    data = datasets.load("amazon-games", download=False)
    subset = datasets.compact(data.select(data.users <= 3000, name="amazon-games-3k"))
    pop = run("pop", subset, protocol="sasrec", verbose=0)
    sasrec = run(
        "sasrec", subset, protocol="sasrec", epochs=5, verbose=0, dropout=0.2, loss="ce",
    )  # fmt: skip
    assert sasrec["metrics"]["ndcg@10"] > pop["metrics"]["ndcg@10"]
