"""The report's summary over seeds: mean, sample deviation, and the target."""

import report


def _seeds(*values):
    return {seed: {"auc": v} for seed, v in enumerate(values)}


def test_mean_and_sample_deviation():
    # mean 0.984, deviations -0.001, 0, +0.001: sample sd = sqrt(2e-6 / 2) = 0.001
    assert report.seed_summary(_seeds(0.983, 0.984, 0.985), 0.984) == "0.9840 ± 0.0010 (3), yes"
    assert report.seed_summary(_seeds(0.983, 0.984, 0.985), 0.9845) == "0.9840 ± 0.0010 (3), no"
    assert report.seed_summary(_seeds(0.983, 0.984, 0.985), None) == "0.9840 ± 0.0010 (3)"


def test_fewer_than_three_seeds_give_no_summary():
    assert report.seed_summary(_seeds(0.98, 0.99), 0.9) == ""


def test_seeds_are_gathered_only_from_runs_with_the_same_settings():
    row = {"seed": 0, "hyperparameters": {"dropout": 0.2}, "metrics": {"auc": 0.98}}
    runs = [
        row,
        {"seed": 1, "hyperparameters": {"dropout": 0.2}, "metrics": {"auc": 0.97}},
        {"seed": 1, "hyperparameters": {"dropout": 0.4}, "metrics": {"auc": 0.5}},
        {"seed": 2, "hyperparameters": {"dropout": 0.4}, "metrics": {"auc": 0.5}},
        # an older row, before the runner recorded `max_length`
        {
            "seed": 3,
            "hyperparameters": {"dropout": 0.2, "max_length": 50},
            "metrics": {"auc": 0.96},
        },
    ]
    assert report.same_settings(row, runs) == {
        0: {"auc": 0.98},
        1: {"auc": 0.97},
        3: {"auc": 0.96},
    }


def test_committed_results_and_model_cards_are_current(capsys):
    # RESULTS.md and docs/models/ are what `python benchmarks/report.py` makes
    # of the committed rows, registry and docstrings; --check writes nothing.
    assert report.main(["--check"]) == 0, capsys.readouterr().out


def test_help_writes_nothing(capsys):
    import pytest

    before = (report.HERE / "RESULTS.md").stat().st_mtime_ns
    with pytest.raises(SystemExit) as exit_info:
        report.main(["--help"])
    assert exit_info.value.code == 0
    assert "--check" in capsys.readouterr().out
    assert (report.HERE / "RESULTS.md").stat().st_mtime_ns == before


def test_recorded_commands_carry_no_machine_path():
    from reczoo.provenance import portable_command, script_command

    command = (
        "python benchmarks/evaluate_preset.py --preset=/tmp/presets/amazon-games-caser "
        "--protocol=loo_full --output_dir=/tmp/res2"
    )
    assert portable_command(command) == (
        "python benchmarks/evaluate_preset.py --preset=DIR --protocol=loo_full"
    )
    peer = ["--peer_python=/work/peers/deepctr/bin/python", "--dataset=frappe-x1"]
    assert script_command("benchmarks/peers/compare_deepctr.py", peer) == (
        "python benchmarks/peers/compare_deepctr.py --peer_python=$PEERS/deepctr/bin/python "
        "--dataset=frappe-x1"
    )
    assert portable_command("reczoo train --output=my_preset") == "reczoo train --output=my_preset"
    root = report.HERE.parent
    committed = [
        report.HERE / "RESULTS.md",
        report.HERE / "README.md",
        *(root / "docs").rglob("*.md"),
        *(report.HERE / "results").rglob("*.json"),
    ]
    for path in committed:
        text = path.read_text()
        assert "/tmp/" not in text and "/work/" not in text and "/root/" not in text, path
