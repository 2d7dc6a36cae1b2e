"""The command-line reference (docs/cli.md), made from the flags themselves.

    python -m reczoo.cli_reference            # rewrite docs/cli.md
    python -m reczoo.cli_reference --check    # exit 1 if docs/cli.md differs

Every subcommand's flags are defined exactly as `reczoo SUBCOMMAND` defines
them (`reczoo.cli.command_flags`), so the page cannot drift from the parser:
a test compares the committed page with this output.
"""

import re
import sys
from pathlib import Path

from reczoo import cli

PAGE = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
HEADER = """# Command line

`reczoo SUBCOMMAND [--flag=value ...]`; `reczoo SUBCOMMAND --help` prints the
same flags. Every subcommand that runs Keras also takes `--backend`. This page
is generated from the flags themselves (`python -m reczoo.cli_reference`), and
a test fails when it differs from them.

| subcommand | what it does |
| --- | --- |
"""


def _cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(flag):
    if flag.default is None:
        return ""
    if isinstance(flag.default, list | tuple):
        return f"`{','.join(map(str, flag.default))}`" if flag.default else ""
    return f"`{flag.default}`"


def _type(flag):
    if getattr(flag.parser, "enum_values", None):
        return " \\| ".join(f"`{v}`" for v in flag.parser.enum_values)
    return flag.flag_type()


def _help(flag):
    # absl writes an enum's values before its help ("<a|b|c>: ..."); the
    # type column shows them.
    return re.sub(r"^<[^>]*>: ", "", flag.help)


def _anchor(name):
    return name.replace(" ", "-")


def section(name):
    """The Markdown section of one subcommand."""
    command = cli.COMMANDS[name]
    fv = cli.command_flags(name)
    seen, rows = set(), []
    for key in fv:
        flag = fv[key]
        if id(flag) in seen:
            continue
        seen.add(id(flag))
        rows.append(
            f"| `--{flag.name}` | {_type(flag)} | {_default(flag)} | {_cell(_help(flag))} |"
        )
    usage = f"reczoo {name} [--flag=value ...]" + (
        f" {command.positional}" if command.positional else ""
    )
    lines = [f"## reczoo {name}", "", command.summary, "", f"`{usage}`", ""]
    if rows:
        lines += ["| flag | type | default | meaning |", "| --- | --- | --- | --- |", *rows]
    else:
        lines.append("No flags.")
    return "\n".join(lines) + "\n"


def markdown():
    """The whole page."""
    index = "".join(
        f"| [`reczoo {name}`](#reczoo-{_anchor(name)}) | {_cell(c.summary)} |\n"
        for name, c in cli.COMMANDS.items()
    )
    return HEADER + index + "\n" + "\n".join(section(name) for name in cli.COMMANDS)


def main(argv):
    text = markdown()
    if "--check" in argv[1:]:
        if PAGE.read_text() != text:
            print(f"{PAGE} differs from the flags: run python -m reczoo.cli_reference")
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
