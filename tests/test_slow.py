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


@pytest.fixture
def u_data(data_dir):
    from reczoo.datasets import load_interactions

    return load_interactions(
        data_dir / "ml-100k" / "u.data", user=0, item=1, rating=2, time=3, header=False
    )


# The protocol a default run on this file takes (None: `ncf`, 99 sampled
# negatives), and full ranking (`loo_full`) for the next-item models, which
# clear it there with room to spare. Under loo_full MF-BPR and DeepFM land
# on either side of the bar from run to run (MF-BPR 0.1294 or 0.1368 on the
# same machine; DeepFM 0.1326 with two workers sharing the cores, 0.1442
# alone in a544397's message; the bar 0.1338): a default run validates by
# measured time (`eval_share`) and stops on a time budget, so its schedule
# follows the machine's speed. benchmarks/results/defaults holds every
# model's default run under ncf and the full-ranking runs of the others.
# MF-BPR keeps its full-ranking check with every period validated
# (`eval_share=1`), which makes its schedule, and its result, repeat.
@pytest.mark.parametrize(
    ("model", "protocol", "settings"),
    [("bpr_mf", None, {}), ("deepfm", None, {}), ("caser", "loo_full", {}),
     ("cl4srec", "loo_full", {}), ("bpr_mf", "loo_full", {"eval_share": 1})],
)  # fmt: skip
def test_default_runs_clear_popularity_on_your_file(
    u_data, model, protocol, settings, tmp_path, monkeypatch
):
    # Issue 26: a default run (no recipe, no epochs) on a 100,000-row file
    # returns above popularity by 0.05 HR@10. Under loo_full these were short
    # of it (0.108, 0.110, 0.082 and 0.125 against 0.084) before patience 6,
    # CL4SRec's cosine InfoNCE and, for DeepFM, validation kept to a quarter
    # of the run's time (`eval_share`).
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    pop = run("pop", u_data, protocol=protocol, verbose=0)
    row = run(model, u_data, protocol=protocol, verbose=0, **settings)
    assert row["settings_from"] == "defaults adapted to the data"
    assert row["protocol"] == pop["protocol"] == (protocol or "ncf")
    assert row["metrics"]["hr@10"] >= pop["metrics"]["hr@10"] + 0.05, (model, row["metrics"])
