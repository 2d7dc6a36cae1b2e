"""The `reczoo` command: `reczoo SUBCOMMAND [--flag=value ...]`.

Each subcommand has its own absl `FlagValues`, so a flag that belongs to
another subcommand is an error rather than silently ignored. Usage errors
exit with status 2, like argparse and absl's own parser.
"""

import dataclasses
import sys

from absl import flags
from absl import logging as absl_logging

USAGE_EXIT = 2


@dataclasses.dataclass(frozen=True)
class Command:
    name: str
    summary: str
    define: callable
    run: callable


def _table(rows, headers):
    rows = [[str(c) for c in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line.rstrip(), "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(out)


# --- reczoo models -----------------------------------------------------------


def _define_models(fv):
    flags.DEFINE_string(
        "pattern", "*", "Wildcard over model names, families and tags.", flag_values=fv
    )


def _run_models(fv):
    import reczoo

    names = reczoo.list_models(fv.pattern)
    if not names:
        print(f"No model matches {fv.pattern!r}. Registered: {', '.join(reczoo.list_models())}")
        return 1
    rows = []
    for name in names:
        entry = reczoo.model_info(name)
        rows.append([name, entry.family, entry.task_name, entry.paper])
    print(_table(rows, ["name", "family", "task", "paper"]))
    return 0


# --- reczoo presets ----------------------------------------------------------


def _define_presets(fv):
    flags.DEFINE_string("pattern", "*", "Wildcard over preset names.", flag_values=fv)


def _run_presets(fv):
    from reczoo import registry

    names = registry.list_presets(fv.pattern)
    if not names:
        print(
            "No built-in presets match. Load your own with "
            "reczoo.from_preset('path/to/preset') or a URL with its sha256."
        )
        return 0
    rows = []
    for name in names:
        info = registry.preset_info(name)
        rows.append([name, info["model"], info.get("description", "")])
    print(_table(rows, ["name", "model", "description"]))
    return 0


COMMANDS = {
    "models": Command("models", "List registered models.", _define_models, _run_models),
    "presets": Command(
        "presets", "List built-in pretrained presets.", _define_presets, _run_presets
    ),
}


def _usage():
    width = max(len(n) for n in COMMANDS)
    lines = [
        "usage: reczoo SUBCOMMAND [--flag=value ...]",
        "",
        "A Keras 3 model zoo for recommender systems.",
        "",
        "subcommands:",
    ]
    lines += [f"  {c.name.ljust(width)}  {c.summary}" for c in COMMANDS.values()]
    lines += ["", "Run 'reczoo SUBCOMMAND --help' for a subcommand's flags."]
    return "\n".join(lines)


def _command_help(command, fv):
    text = fv.get_help(include_special_flags=False).strip()
    body = text if text else "  (no flags)"
    return f"usage: reczoo {command.name} [--flag=value ...]\n\n{command.summary}\n\nflags:\n{body}"


def main(argv):
    """Runs the command line `argv` (program name first); returns the exit code."""
    args = list(argv[1:])
    if not args:
        print(_usage(), file=sys.stderr)
        return USAGE_EXIT
    if args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name = args.pop(0)
    command = COMMANDS.get(name)
    if command is None:
        print(f"reczoo: unknown subcommand {name!r}\n\n{_usage()}", file=sys.stderr)
        return USAGE_EXIT
    fv = flags.FlagValues()
    command.define(fv)
    if any(a in ("-h", "--help", "-help") for a in args):
        print(_command_help(command, fv))
        return 0
    try:
        rest = fv([f"reczoo {name}", *args])
    except flags.Error as e:
        print(f"reczoo {name}: {e}\n\n{_command_help(command, fv)}", file=sys.stderr)
        return USAGE_EXIT
    if len(rest) > 1:
        print(
            f"reczoo {name}: unexpected arguments {rest[1:]}\n\n{_command_help(command, fv)}",
            file=sys.stderr,
        )
        return USAGE_EXIT
    # Log through absl without its "logging before flag parsing" warning.
    if not flags.FLAGS.is_parsed():
        flags.FLAGS.mark_as_parsed()
    absl_logging.set_verbosity(absl_logging.INFO)
    try:
        return command.run(fv) or 0
    except (ValueError, FileNotFoundError, FileExistsError, TypeError, KeyError) as e:
        print(f"reczoo {name}: error: {e}", file=sys.stderr)
        return 1


def run_main():
    """Console-script entry point."""
    sys.exit(main(sys.argv))


if __name__ == "__main__":
    run_main()
