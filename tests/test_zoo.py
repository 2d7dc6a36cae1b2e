"""The built-in presets: listed, loadable without data, and scoring what they record."""

import json

import numpy as np
import pytest

import reczoo
from reczoo import cli, registry, zoo

INDEX = zoo.read_index()
# What a preset's metadata must say of where it came from.
PROVENANCE = ("dataset", "dataset_sha256", "protocol", "split", "recipe", "command",
              "run_command", "metrics", "versions", "date", "data_licence", "seed",
              "format_version", "model_code_version", "weights_dtype")  # fmt: skip


def test_every_zoo_preset_is_built_and_fits_the_size_budget():
    assert sorted(INDEX) == registry.list_built_in_presets()
    assert sum(e["size_bytes"] for e in INDEX.values()) <= 15 * 10**6
    assert registry.list_presets() == registry.list_built_in_presets()


@pytest.mark.jax
@pytest.mark.parametrize("name", sorted(INDEX))
def test_builtin_preset_loads_with_its_provenance_and_no_data_rows(name):
    task = reczoo.from_preset(name)
    meta = task.preset_metadata
    missing = [k for k in PROVENANCE if meta.get(k) is None]
    assert not missing
    assert meta["command"] == f"reczoo zoo build {name}"
    assert meta["name"] == name and meta["data_assets"] is False
    assert not any(f.endswith(("interactions.npz", "queries.npz", "candidates.npz"))
                   for f in meta["files"])  # fmt: skip
    metric = meta["metric"]
    if meta["weights_dtype"] != "float32":
        assert abs(meta["metrics"][metric] - meta["float32_metrics"][metric]) <= 0.002
    assert INDEX[name]["metrics"][metric] == pytest.approx(meta["metrics"][metric], abs=1e-4)


@pytest.fixture(scope="module")
def loaded():
    """Datasets read once for the module: `{name: dataset}`, filled on use."""
    return {}


def _data(loaded, name):
    from reczoo import datasets

    dataset = INDEX[name]["dataset"]
    if dataset not in loaded:
        loaded[dataset] = datasets.load(dataset)
    return loaded[dataset]


# Every evaluation takes seconds (Amazon Games: 31,013 users, 101 items each);
# one worker runs them all, so that each dataset is read once.
# Also in the JAX tier: presets trained under TensorFlow score the same under JAX.
# Under TensorFlow the default tier scores the MovieLens-100K presets (its
# split is cached by other tests); those on Frappe_x1 and Amazon Games read
# and evaluate a dataset of their own (4-12 s each on a 2-core AVX2 CPU) and
# are in the slow tier and the JAX tier. The default tier loads every preset
# (test above).
SLOWEST = {n for n in INDEX if INDEX[n]["dataset"] != "movielens-100k"}


@pytest.mark.jax
@pytest.mark.xdist_group("zoo-datasets")
@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=[pytest.mark.slow] if n in SLOWEST else []) for n in sorted(INDEX)],
)
def test_builtin_preset_scores_its_recorded_metric(name, data_dir, loaded):
    metrics, recorded = zoo.evaluate(name, data=_data(loaded, name))
    metric = zoo.entry(name).metric
    assert metrics[metric] == pytest.approx(recorded[metric], abs=0.005)


def test_sasrec_preset_recommends_without_any_dataset(tmp_path, monkeypatch):
    from reczoo.datasets import sources

    def no_data(*args, **kwargs):
        raise AssertionError("a built-in preset looked for a dataset")

    monkeypatch.delenv("RECZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(sources, "locate", no_data)
    task = reczoo.from_preset("sasrec_amazon_games")
    found = task.recommend(histories=[["1", "2", "3"]], k=5, raw_ids=True)
    items = [str(i) for i in found.items[0]]
    assert len(items) == 5 and not {"1", "2", "3"} & set(items)


def test_presets_command_lists_every_preset_with_its_metrics(capsys):
    assert cli.main(["reczoo", "presets"]) == 0
    out = capsys.readouterr().out
    for name, item in INDEX.items():
        line = next(line for line in out.splitlines() if line.startswith(name))
        metric = zoo.entry(name).metric
        assert f"{metric}={item['metrics'][metric]:.4f}" in line


def test_unknown_zoo_names_are_refused_before_any_work(capsys):
    assert cli.main(["reczoo", "zoo", "build", "sasrec_amazon_gmaes"]) == 1
    err = capsys.readouterr().err
    assert "Unknown zoo preset 'sasrec_amazon_gmaes'" in err and "sasrec_amazon_games" in err


def test_finetune_command_runs_on_movielens(data_dir, tmp_path):
    out = tmp_path / "tuned"
    args = ["reczoo", "finetune", "--preset=two_tower_movielens_100k",
            "--dataset=movielens-100k", "--epochs=1", f"--output={out}", "--quiet"]  # fmt: skip
    assert cli.main(args) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["parent"]["preset"] == "two_tower_movielens_100k"
    assert meta["parent"]["metadata_sha256"] == INDEX["two_tower_movielens_100k"]["metadata_sha256"]
    assert meta["metrics"]["top_100_accuracy"] > 0.3


def test_recommend_command_takes_a_history(capsys):
    args = ["reczoo", "recommend", "--preset=sasrec_amazon_games", "--history=1,2,3", "--k=3",
            "--json"]  # fmt: skip
    assert cli.main(args) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["history"] == ["1", "2", "3"] and len(line["items"]) == 3
    assert cli.main([*args[:3], "--user=1"]) == 1
    assert "needs the users' histories" in capsys.readouterr().err


@pytest.mark.slow
def test_a_build_is_deterministic(data_dir, tmp_path):
    import tensorflow as tf

    name = "two_tower_movielens_100k"
    # Built as `reczoo zoo build` builds it: with Grappler's graph rewrites,
    # which the test session turns off (conftest.py) and which change the
    # float rounding (fused kernels).
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": False})
    try:
        zoo.build(name, folder=tmp_path, verbose=0)
    finally:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    again = reczoo.from_preset(tmp_path / name)
    shipped = reczoo.from_preset(name)
    for a, b in zip(again.weights, shipped.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert again.preset_metadata["metrics"] == shipped.preset_metadata["metrics"]
