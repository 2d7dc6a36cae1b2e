"""The `reczoo train` command line that reproduces a run."""

import json
import shlex
from pathlib import Path


def format_command(settings, data_file=None, shards=None):
    """The `reczoo train` command for `settings` (a `RunSettings`).

    Only what the user chose is written: a recipe's settings come back with
    the recipe (named when it is not the default one), adaptive defaults
    with the data.

    Args:
        settings: the run's `RunSettings`.
        data_file: `{"path", "user_col", ..., "sep", "header"}` of a run on
            your own file.
        shards: the shard folder of a run on shards.
    """
    parts = ["reczoo", "train", f"--model={settings.model}"]
    if shards is not None:
        # The folder's own name: a row carries no path of the machine it ran on.
        parts.append(f"--shards={Path(shards).name}")
    elif data_file is None:
        parts.append(f"--dataset={settings.dataset}")
    else:
        parts.append(f"--data_file={data_file['path']}")
        table = ("label_col", "categorical_cols", "numerical_cols", "multi_cols", "drop_cols")
        for flag in (*table, "user_col", "item_col", "rating_col", "time_col"):
            if data_file.get(flag) is not None:
                parts.append(f"--{flag}={data_file[flag]}")
        # How the file was read, so that the command reads it the same way.
        if data_file.get("sep") is not None:
            parts.append(f"--sep={data_file['sep']}")
        if data_file.get("header") is False:
            parts.append("--noheader")
        if data_file.get("encoding") not in (None, "utf-8"):
            parts.append(f"--encoding={data_file['encoding']}")
        if data_file.get("numerical_transform") not in (None, "none"):
            parts.append(f"--numerical_transform={data_file['numerical_transform']}")
        if data_file.get("min_count") not in (None, 1):
            parts.append(f"--min_count={data_file['min_count']}")
    parts.append(f"--protocol={settings.protocol.name}")
    if settings.named_recipe is not None:
        parts.append(f"--recipe={settings.named_recipe}")
    if settings.epochs_given is not None:
        parts.append(f"--epochs={settings.epochs_given}")
    parts.append(f"--seed={settings.seed}")
    if settings.strategy != "default":
        parts.append(f"--strategy={settings.strategy}")
    for key in sorted(settings.overrides):
        value = settings.overrides[key]
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"--set={key}={text}")
    return " ".join(shlex.quote(p) for p in parts)
