"""Real-data training runs (minutes): `pytest -m slow`."""

import pytest

from reczoo.training import run

pytestmark = pytest.mark.slow


def test_mlp_beats_popularity_on_movielens(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    pop = run("pop", "movielens-100k", protocol="ncf", verbose=0)
    mlp = run("mlp", "movielens-100k", protocol="ncf", epochs=8, batch_size=1024, verbose=0)
    assert mlp["metrics"]["hr@10"] > pop["metrics"]["hr@10"] + 0.1
    assert mlp["metrics"]["ndcg@10"] > pop["metrics"]["ndcg@10"] + 0.05


def test_fm_learns_frappe(data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    # Without the recipe: its L2 terms suit 100 epochs and slow the first two.
    row = run("fm", "frappe", epochs=2, batch_size=4096, embedding_dim=10, verbose=0, recipe="none")
    assert row["metrics"]["auc"] > 0.9
