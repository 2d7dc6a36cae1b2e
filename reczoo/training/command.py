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
        data_file: the flags that read your own data, `{flag: value}`
            (`"path"` for `--data_file`; `False` for a `--noflag`; values
            at their defaults are left out).
        shards: the shard folder of a run on shards.
    """
    parts = ["reczoo", "train", f"--model={settings.model}"]
    if shards is not None:
        # The folder's own name: a row carries no path of the machine it ran on.
        parts.append(f"--shards={Path(shards).name}")
    elif data_file is None:
        parts.append(f"--dataset={settings.dataset}")
    else:
        parts += data_flags(data_file)
    parts.append(f"--protocol={settings.protocol.name}")
    ratios = _ratios(settings.protocol)
    if ratios is not None:
        parts.append(f"--ratios={ratios}")
    if settings.named_recipe is not None:
        parts.append(f"--recipe={settings.named_recipe}")
    if settings.epochs_given is not None:
        parts.append(f"--epochs={settings.epochs_given}")
    parts.append(f"--seed={settings.seed}")
    if settings.strategy != "default":
        parts.append(f"--strategy={settings.strategy}")
    backend = _backend()
    if backend != "tensorflow":
        parts.append(f"--backend={backend}")
    for key in sorted(settings.overrides):
        value = settings.overrides[key]
        text = value if isinstance(value, str) else json.dumps(value)
        parts.append(f"--set={key}={text}")
    return " ".join(shlex.quote(p) for p in parts)


def _backend():
    import keras

    return keras.backend.backend()


# Flag values that need not be written: the defaults.
_DEFAULTS = {"header": True, "encoding": "utf-8", "numerical_transform": "none", "min_count": 1}


def data_flags(data_file):
    out = []
    for flag, value in data_file.items():
        flag = "data_file" if flag == "path" else flag
        if value is None or _DEFAULTS.get(flag, object()) == value:
            continue
        if value is False:
            out.append(f"--no{flag}")
        elif value is True:
            out.append(f"--{flag}")
        else:
            out.append(f"--{flag}={value}")
    return out


def _ratios(protocol):
    """`--ratios` when the run's split fractions are not its protocol's own."""
    from reczoo.datasets.protocols import PROTOCOLS

    own = PROTOCOLS.get(protocol.name)
    if own is None or tuple(own.ratios) == tuple(protocol.ratios):
        return None
    return ",".join(f"{r:g}" for r in protocol.ratios)
