"""Running a peer's script in its environment, and the row it gives."""

import json
import subprocess
import time
from pathlib import Path

import numpy as np

from reczoo.provenance import run_record


def run_peer(peer_python, script, output, arguments, env, cwd=None):
    """Runs a peer script (beside this file) with the peer environment's `peer_python`.

    The script writes an .npz to `output` with a JSON `summary`. Returns the
    arrays (loaded into memory), the summary and the wall seconds.
    """
    start = time.perf_counter()
    done = subprocess.run(
        [peer_python, str(Path(__file__).with_name(script)), f"--output={output}", *arguments],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"{script} failed with exit status {done.returncode}: {tail}")
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
        "precision": "float32",
        "jit": False,
        "seed": settings["seed"],
        "dataset_sha256": data.sha256,
        **run_record(),
        "backend": None,  # the peer's own framework, in its versions
        "versions": summary["versions"],
        "command": command,
        **extra,
    }
