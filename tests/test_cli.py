import pytest

from reczoo import cli


def test_models_lists_the_registry(capsys):
    assert cli.main(["reczoo", "models"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["name", "family", "task", "paper"]
    assert any(line.startswith("fm ") for line in lines)
    assert any(line.startswith("mlp ") for line in lines)


def test_models_pattern(capsys):
    assert cli.main(["reczoo", "models", "--pattern=f*"]) == 0
    out = capsys.readouterr().out
    assert "fm " in out and "mlp " not in out


def test_help_lists_subcommands(capsys):
    assert cli.main(["reczoo", "--help"]) == 0
    out = capsys.readouterr().out
    for name in ("models", "presets"):
        assert f"  {name}" in out


def test_presets_command(capsys):
    assert cli.main(["reczoo", "presets"]) == 0
    assert "presets" in capsys.readouterr().out.lower()


@pytest.mark.parametrize(
    "argv",
    [
        ["reczoo"],
        ["reczoo", "modelz"],
        ["reczoo", "models", "--no-such-flag"],
        ["reczoo", "models", "stray"],
    ],
)
def test_usage_errors_exit_2(argv, capsys):
    assert cli.main(argv) == 2
    assert "usage: reczoo" in capsys.readouterr().err


def test_public_surface():
    import reczoo

    for name in reczoo.__all__:
        assert hasattr(reczoo, name), name
    assert callable(reczoo.run) and callable(reczoo.datasets.load)
    assert callable(reczoo.metrics.ranking_metrics)
