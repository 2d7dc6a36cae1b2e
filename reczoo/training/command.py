"""The `reczoo train` command line that reproduces a run."""

import json
import shlex
from pathlib import Path


def format_command(
    model, dataset, protocol, seed, overrides, epochs=None, recipe=None, data_file=None,
    shards=None, strategy="default",
):  # fmt: skip
    """The `reczoo train` command for these settings.

    Only what the user chose is written: a recipe's settings come back with
    the recipe (named when it is not the default one), adaptive defaults
    with the data.
    """
    parts = ["reczoo", "train", f"--model={model}"]
    if shards is not None:
        # The folder's own name: a row carries no path of the machine it ran on.
        parts.append(f"--shards={Path(shards).name}")
    elif data_file is None:
        parts.append(f"--dataset={dataset}")
    else:
        parts.append(f"--data_file={data_file['path']}")
        for flag in ("user_col", "item_col", "rating_col", "time_col"):
            if data_file.get(flag) is not None:
                parts.append(f"--{flag}={data_file[flag]}")
    parts.append(f"--protocol={protocol}")
    if recipe is not None:
        parts.append(f"--recipe={recipe}")
    if epochs is not None:
        parts.append(f"--epochs={epochs}")
    parts.append(f"--seed={seed}")
    if strategy != "default":
        parts.append(f"--strategy={strategy}")
    for key in sorted(overrides):
        value = overrides[key]
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"--set={key}={text}")
    return " ".join(shlex.quote(p) for p in parts)
