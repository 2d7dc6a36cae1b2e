"""docs/cli.md is what the subcommands' flags make."""

import dataclasses

from absl import flags

from reczoo import cli, cli_reference


def test_the_committed_reference_is_the_flags():
    assert cli_reference.PAGE.read_text() == cli_reference.markdown(), (
        "docs/cli.md differs from the flags: run python -m reczoo.cli_reference"
    )


def test_a_new_flag_makes_the_reference_differ(monkeypatch):
    train = cli.COMMANDS["train"]

    def define(fv):
        train.define(fv)
        flags.DEFINE_integer("warmup_steps", 0, "Steps of learning-rate warm-up.", flag_values=fv)

    monkeypatch.setitem(cli.COMMANDS, "train", dataclasses.replace(train, define=define))
    text = cli_reference.markdown()
    assert "| `--warmup_steps` | int | `0` | Steps of learning-rate warm-up. |" in text
    assert text != cli_reference.PAGE.read_text()
    assert cli_reference.main(["cli_reference", "--check"]) == 1


def test_every_subcommand_and_flag_is_on_the_page():
    page = cli_reference.PAGE.read_text()
    for name in cli.COMMANDS:
        assert f"## reczoo {name}\n" in page
        for flag in cli.command_flags(name):
            assert f"`--{flag}`" in page or len(flag) == 1, (name, flag)
