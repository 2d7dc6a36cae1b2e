"""BARS' Criteo_x1 and Avazu_x1: placed by hand, converted once, trained by name.

The real files (45.8M and 40.4M rows) are not on this machine; stand-ins
of the same layout (`synthetic_bars_x1`) read the same path end to end.
"""

import dataclasses

import pytest

import reczoo
from reczoo import datasets, registry
from reczoo.benchmark.references import reference
from reczoo.datasets.public.bars_x1 import PUBLISHED, SCHEMAS

X1 = ("criteo-x1", "avazu-x1")


@pytest.fixture
def stand_ins(tmp_path, monkeypatch):
    """A data folder with both datasets' stand-ins, their counts accepted."""
    for name in X1:
        datasets.synthetic_bars_x1(tmp_path, name, rows=(600, 200, 200))
        info = datasets.DATASETS[name]
        monkeypatch.setitem(datasets.DATASETS, name, dataclasses.replace(info, published={}))
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path))
    return tmp_path


def test_files_other_than_the_published_ones_are_refused_by_their_counts(tmp_path, monkeypatch):
    datasets.synthetic_bars_x1(tmp_path, "avazu-x1", rows=(50, 20, 20))
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path))
    with pytest.raises(datasets.DatasetError, match=r"train_rows 50 \(published: 28,300,276\)"):
        datasets.load("avazu-x1", download=False)
    # Not placed: the error says where they come from and where they go.
    with pytest.raises(datasets.DatasetError, match=r"huggingface\.co/datasets/reczoo/Criteo_x1.*"
                       r"criteo-x1"):  # fmt: skip
        datasets.load("criteo-x1")


def test_whether_files_can_be_had_is_told_without_reading_or_fetching_them(tmp_path, monkeypatch):
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    # Not here, and no pinned checksum: the message load() raises.
    reason = datasets.unobtainable("criteo-x1")
    with pytest.raises(datasets.MissingFiles) as raised:
        datasets.load("criteo-x1")
    assert reason == str(raised.value) and str(tmp_path / "data" / "criteo-x1") in reason
    # Not here but pinned: load() would download it; offline it would not.
    assert datasets.unobtainable("movielens-100k") is None
    assert "downloading is off" in datasets.unobtainable("movielens-100k", download=False)
    # Placed (any content: nothing is read until load()): obtainable.
    datasets.synthetic_bars_x1(tmp_path / "data", "avazu-x1", rows=(5, 2, 2))
    assert datasets.unobtainable("avazu-x1") is None
    assert not (tmp_path / "home").exists()  # nothing was downloaded or cached


def test_the_files_are_shards_of_their_own_parts(stand_ins):
    data = datasets.load("criteo-x1", download=False)
    assert data.streaming and data.split_files == {
        p: f"{p}.csv" for p in ("train", "valid", "test")
    }
    assert [data.rows(p) for p in ("train", "valid", "test")] == [600, 200, 200]
    spec = data.feature_spec(10)
    assert spec.names == [*(f"C{i}" for i in range(1, 27)), *(f"I{i}" for i in range(1, 14))]
    # Loaded again: the cached shards, not a second conversion.
    assert datasets.load("criteo-x1", download=False).folder == data.folder
    assert set(PUBLISHED["criteo-x1"]) <= set(data.statistics())


def test_each_leader_has_the_published_configuration_and_number():
    for model in ("finalmlp", "finalnet"):
        for name in X1:
            recipe = registry.find_recipe(model, name, "bars_x1")
            assert recipe.name == f"{model}/{name}" and "as published" in recipe.source
            assert recipe.training["embedding_dim"] == 10 and recipe.training["patience"] == 2
            assert reference(model, name, "bars_x1").metrics["auc"] > 0.76
            contexts = [*recipe.model_settings.get("stream1_context", []),
                        *recipe.model_settings.get("stream2_context", [])]  # fmt: skip
            assert set(contexts) <= set(SCHEMAS[name]["columns"])


# The other two pairs train in docs/guide.md's commands (tests/test_docs.py).
# The slow tier: the default tier trains FinalMLP by name on the avazu-x1
# stand-ins there (guide.md), and FinalNet in the registry-wide contract tests.
@pytest.mark.slow
@pytest.mark.parametrize("model,name", [("finalmlp", "criteo-x1"), ("finalnet", "avazu-x1")])
def test_the_published_configurations_train_by_name(stand_ins, model, name):
    # Smaller batches than the recipe's 4096: a few steps on 600 rows.
    row = reczoo.run(model, name, epochs=2, batch_size=100, verbose=0).row
    assert (row["recipe"], row["protocol"]) == (f"{model}/{name}", "bars_x1")
    assert row["hyperparameters"]["embedding_dim"] == 10
    assert row["dataset_statistics"]["test_rows"] == 200
    # The stand-ins' labels follow their ids: a model that reads them learns.
    assert row["metrics"]["auc"] > 0.55, row["metrics"]


def test_a_split_the_files_do_not_hold_is_refused(stand_ins):
    with pytest.raises(ValueError, match=r"written from its split files\. Use protocol 'shards'"):
        reczoo.run("finalnet", "avazu-x1", protocol="random_split", epochs=1, verbose=0)
