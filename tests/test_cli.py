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
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:] if line.strip()]
    # By name or family (factorization): fm and deepfm, never mlp (ncf).
    assert "fm" in names and "deepfm" in names and "mlp" not in names


def test_help_lists_subcommands(capsys):
    assert cli.main(["reczoo", "--help"]) == 0
    out = capsys.readouterr().out
    for name in ("models", "presets", "recipes", "train", "datasets"):
        assert f"  {name}" in out


def test_presets_command_when_none_matches(capsys):
    assert cli.main(["reczoo", "presets", "--pattern=no_such_*"]) == 0
    assert capsys.readouterr().out.startswith("No built-in presets match.")


def test_presets_command_lists_a_registered_preset(capsys, monkeypatch):
    from reczoo import registry

    monkeypatch.setitem(
        registry._PRESETS,
        "demo_preset",
        {"url": "https://example.invalid/p.tar.gz", "sha256": "0" * 64, "model": "fm",
         "description": "a test entry"},
    )  # fmt: skip
    assert cli.main(["reczoo", "presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "model", "dataset", "test", "metrics", "weights", "from"]
    row = next(line for line in lines if line.startswith("demo_preset"))
    assert row.split() == ["demo_preset", "fm", "-", "-", "url"]


def test_recipes_command(capsys):
    assert cli.main(["reczoo", "recipes", "--pattern=frappe-x1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["name", "model", "dataset", "protocol"]
    names = [line.split()[0] for line in lines[2:]]
    assert "deepfm/frappe-x1" in names and "sasrec/amazon-games" not in names


def test_listing_commands_do_not_import_tensorflow():
    # `reczoo models`, `recipes` and `--help` answer without loading TensorFlow.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from reczoo import cli\n"
        "for argv in (['models'], ['recipes'], ['--help']):\n"
        "    assert cli.main(['reczoo', *argv]) == 0\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


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
