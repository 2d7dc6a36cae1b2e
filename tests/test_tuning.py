"""`reczoo tune`: trials on the validation split only, resume without
repeating finished trials, a recipe file that reproduces the best trial."""

import json

import pytest
from test_runner import interactions_file

from reczoo import datasets, registry
from reczoo.training import runner
from reczoo.training.tuning import tune


@pytest.fixture
def data(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    path = interactions_file(tmp_path)
    return datasets.load_interactions(str(path), user="uid", item="sku", time="ts")


@pytest.fixture
def scored(monkeypatch):
    """Which runs scored the test split, in order."""
    calls, row = [], runner._row

    def spy(*args):
        calls.append(args[-1] if len(args) > 6 else True)
        return row(*args)

    monkeypatch.setattr(runner, "_row", spy)
    return calls


def test_a_search_scores_validation_only_and_retrains_the_best_once(data, scored, tmp_path):
    found = tune("fm", data, protocol="loo_full", trials=2, output="search", verbose=0)
    assert scored == [False, False, True]  # the test split: once, by the final retrain
    assert [r["trial"] for r in found.trials] == ["0", "1"]
    best = max(found.trials, key=lambda r: r["valid_metrics"]["ndcg@10"])
    assert found.best is best or found.best["trial"] == best["trial"]
    assert set(best["settings"]) == set(registry.search_space("fm"))
    # The first trial is the base settings (here the defaults: Adam at 1e-3).
    assert found.trials[0]["settings"]["learning_rate"] == pytest.approx(1e-3)
    # The recipe file reproduces the best trial: same validation score.
    assert found.final["valid_metrics"]["ndcg@10"] == pytest.approx(
        best["valid_metrics"]["ndcg@10"], abs=1e-9
    )
    assert 0.0 < found.final["metrics"]["hr@10"] <= 1.0
    recipe = json.loads((tmp_path / "search" / "recipe.json").read_text())
    assert recipe["model"] == "fm" and recipe["protocol"] == "loo_full"
    assert recipe["training"]["embedding_dim"] == best["settings"]["embedding_dim"]
    text = (tmp_path / "search" / "report.md").read_text()
    assert "(best)" in text and "search.png" in text
    assert (tmp_path / "search" / "search.png").read_bytes()[:4] == b"\x89PNG"

    # Started again with more trials: the finished ones are kept, not rerun.
    scored.clear()
    again = tune("fm", data, protocol="loo_full", trials=3, output="search", verbose=0)
    assert scored == [False, True]
    assert [r["trial"] for r in again.trials] == ["0", "1", "2"]
    assert again.trials[:2] == found.trials


def test_bad_searches_are_refused_before_training(data, tmp_path, monkeypatch, scored):
    with pytest.raises(ValueError, match="algorithm"):
        tune("fm", data, protocol="loo_full", algorithm="grid", output="a", verbose=0)
    with pytest.raises(ValueError, match="trials"):
        tune("fm", data, protocol="loo_full", trials=0, output="b", verbose=0)
    monkeypatch.setitem(registry._SEARCH_SPACES, "fm", {"no_such_knob": ("choice", [1, 2])})
    with pytest.raises(ValueError, match="no_such_knob"):
        tune("fm", data, protocol="loo_full", trials=1, output="c", verbose=0)
    (tmp_path / "broken.json").write_text('{"model": "fm"}')
    with pytest.raises(ValueError, match=r"missing fields \['dataset', 'protocol'\]"):
        runner.run("fm", data, protocol="loo_full", recipe=str(tmp_path / "broken.json"))
    assert scored == []
