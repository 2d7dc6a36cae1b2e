"""What both peer comparisons write: two result rows and their comparison."""

import datetime
import json
import subprocess
import time
from pathlib import Path

import numpy as np

import reczoo
from reczoo.provenance import device_name

SHOWN = ("metrics", "train_samples_per_sec", "epochs", "train_seconds")


def run_peer(peer_python, script, output, arguments, env, cwd=None):
    """Runs a peer script (beside this file) in the peer's venv.

    The script writes an .npz to `output` with a JSON `summary`. Returns the
    arrays (loaded into memory), the summary and the wall seconds.
    """
    start = time.perf_counter()
    subprocess.run(
        [peer_python, str(Path(__file__).with_name(script)), f"--output={output}", *arguments],
        check=True,
        env=env,
        cwd=cwd,
    )
    wall = time.perf_counter() - start
    with np.load(output) as saved:
        arrays = {k: saved[k] for k in saved.files}
    return arrays, json.loads(str(arrays.pop("summary"))), wall


def peer_row(model, data, split, settings, summary, metrics, scored, wall, command, **extra):
    """A peer's result row in `reczoo train`'s JSON form.

    `summary` is what the peer script reported (train_samples, train_seconds,
    infer_seconds, epochs, params, versions); `metrics` the pair of test and
    validation metrics computed by reczoo; `scored` the test predictions
    made in `infer_seconds`. `extra` adds or overrides fields (`peer_mode`,
    `best_epoch`, ...).
    """
    test_metrics, valid_metrics = metrics
    return {
        "model": model,
        "dataset": data.name,
        "protocol": split.protocol.name,
        "protocol_details": split.protocol.to_dict(),
        "hyperparameters": settings,
        "metrics": test_metrics,
        "valid_metrics": valid_metrics,
        "train_samples_per_sec": round(summary["train_samples"] / summary["train_seconds"], 1),
        "infer_samples_per_sec": round(scored / summary["infer_seconds"], 1),
        "epochs": summary["epochs"],
        "best_epoch": summary.get("best_epoch", summary["epochs"]),
        "wall_seconds": round(wall, 2),
        "train_seconds": round(summary["train_seconds"], 2),
        "params": summary["params"],
        "batch_size": settings["batch_size"],
        "device": device_name(),
        "precision": "float32",
        "jit": False,
        "seed": settings["seed"],
        "versions": summary["versions"],
        "dataset_sha256": data.sha256,
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": command,
        **extra,
    }


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
