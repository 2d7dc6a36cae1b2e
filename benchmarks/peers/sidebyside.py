"""What both peer comparisons write: two result rows and their comparison."""

import datetime
import json

import reczoo
from reczoo.runner import device_name

SHOWN = ("metrics", "train_samples_per_sec", "epochs", "train_seconds")


def write_comparison(out_dir, name, peer, ours, theirs, load, command, **extra):
    """Writes `<date>-<name>-reczoo.json`, `-<peer>.json` and `<date>-<name>.json`.

    The comparison holds both libraries' test metrics, throughput, epochs and
    training time, the training throughput ratio reczoo / peer, and the load
    average before, between and after the two runs. Returns it.
    """
    ours["command_in_comparison"] = command
    ratio = ours["train_samples_per_sec"] / theirs["train_samples_per_sec"]
    comparison = {
        "dataset": ours["dataset"],
        "protocol": ours["protocol"],
        **extra,
        "reczoo": {k: ours[k] for k in SHOWN},
        peer: {k: theirs[k] for k in SHOWN},
        "train_throughput_ratio": round(ratio, 2),
        "load_average": load,
        "device": device_name(),
        "reczoo_version": reczoo.__version__,
        "command": command,
        "date": theirs["date"],
    }
    base = f"{datetime.date.today().isoformat()}-{name}"
    for path, row in (
        (out_dir / f"{base}-reczoo.json", ours),
        (out_dir / f"{base}-{peer}.json", theirs),
        (out_dir / f"{base}.json", comparison),
    ):
        path.write_text(json.dumps(row, indent=2) + "\n")
    print(json.dumps(comparison))
    return comparison
