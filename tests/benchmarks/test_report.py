"""The committed model cards and suite reports are what the rows make."""

import report


def test_committed_results_and_model_cards_are_current(capsys):
    # docs/models/ and each committed suite's report.md, results.csv and plots
    # are what the rows, registry and docstrings make; --check writes nothing.
    assert report.main(["--check"]) == 0, capsys.readouterr().out


def test_help_writes_nothing(capsys):
    import pytest

    card = report.HERE.parent / "docs" / "models" / "deepfm.md"
    before = card.stat().st_mtime_ns
    with pytest.raises(SystemExit) as exit_info:
        report.main(["--help"])
    assert exit_info.value.code == 0
    assert "--check" in capsys.readouterr().out
    assert card.stat().st_mtime_ns == before


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
    assert script_command("benchmarks/peers/run.py", peer) == (
        "python benchmarks/peers/run.py --peer_python=$PEERS/deepctr/bin/python --dataset=frappe-x1"
    )
    assert portable_command("reczoo train --output=my_preset") == "reczoo train --output=my_preset"
    root = report.HERE.parent
    committed = [
        report.HERE / "README.md",
        *(root / "docs").rglob("*.md"),
        *(report.HERE / "results").rglob("*.json"),
        *(report.HERE / "results").rglob("*.jsonl"),
        *(report.HERE / "results").rglob("*.csv"),
        *(report.HERE / "results").rglob("*.md"),
    ]
    for path in committed:
        text = path.read_text()
        assert "/tmp/" not in text and "/work/" not in text and "/root/" not in text, path


def test_the_readme_table_puts_each_uncapped_row_beside_its_published_number():
    def row(entry, auc):
        return {"model": "finalnet", "entry": entry, "metrics": {"auc": auc, "logloss": 0.13}}

    rows = {
        # A capped run (epochs=2) never stands beside the published number.
        ("quick", "frappe-x1", "bars_x1", "finalnet"): row(
            "accuracy/finalnet/frappe-x1/bars_x1//epochs=2", 0.97
        ),
        ("paper", "frappe-x1", "bars_x1", "finalnet"): row(
            "accuracy/finalnet/frappe-x1/bars_x1//", 0.98625
        ),
        # No published number for a split of the user's own, nor for a variant.
        ("paper", "frappe", "bars_ctr", "finalnet"): row(
            "accuracy/finalnet/frappe/bars_ctr//", 0.9
        ),
        ("paper", "frappe-x1", "bars_x1", "finalnet-wide"): row("accuracy/x//", 0.99),
    }
    assert report._against_published("finalnet", rows) == [
        "frappe-x1 `bars_x1`: auc 0.9862 (0.9857)"
    ]
    assert report._against_published("deepfm", rows) == []
    table = report.models_table(rows).splitlines()
    assert table[0].endswith("| measured (published) |")
    assert next(line for line in table if "[`finalnet`]" in line).endswith("auc 0.9862 (0.9857) |")
