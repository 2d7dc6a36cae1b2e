"""reczoo's DeepFM and DeepCTR's DeepFM on one Frappe split, one after the other.

    python benchmarks/peers/compare_deepctr.py --peer_python=PATH [--output_dir=benchmarks/results]

`PATH` is the python of DeepCTR's venv (`benchmarks/peers/setup_deepctr.sh`
makes one and prints it). `--dataset=frappe-x1` compares on BARS' own
validation and test rows. The split (the dataset's own protocol: `bars_ctr`,
seed 0, for `frappe`; `bars_x1` for `frappe-x1`) is exported once and
both libraries train on it with the same settings and procedure; both sets of
predictions are scored by `reczoo.metrics`. Writes one result row per library
(`reczoo train`'s JSON form) and a comparison with the throughput ratio.
"""

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from sidebyside import peer_row, run_peer, write_comparison

from reczoo import datasets, run
from reczoo.metrics import auc, logloss
from reczoo.provenance import script_command

SETTINGS = {
    "embedding_dim": 10,
    "hidden_units": [400, 400, 400],
    "dropout": 0.2,
    "batch_norm": True,
    "l2_embedding": 0.025,
    "learning_rate": 1e-3,
    "batch_size": 4096,
    "epochs": 100,
    "patience": 2,
    "seed": 0,
}


def export_split(path, data, split):
    arrays = {}
    columns = list(data.categorical)
    for stage in ("train", "valid", "test"):
        rows = split.rows(stage)
        for c in columns:
            arrays[f"{stage}_{c}"] = data.categorical[c][rows]
        arrays[f"{stage}_labels"] = data.labels[rows]
    vocab = {c: len(data.vocabularies[c]) for c in columns}
    np.savez(path, columns=json.dumps(columns), vocabulary_sizes=json.dumps(vocab), **arrays)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer_python", required=True)
    parser.add_argument("--output_dir", default="benchmarks/results")
    parser.add_argument("--dataset", default="frappe")
    args = parser.parse_args()
    command = script_command("benchmarks/peers/compare_deepctr.py", sys.argv[1:])
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    protocol = datasets.dataset_info(args.dataset).default_protocol
    data = datasets.load(args.dataset)
    split = datasets.split(data, protocol, seed=SETTINGS["seed"])
    load = {"before": list(os.getloadavg())}

    reg = {"class_name": "L2", "config": {"l2": SETTINGS["l2_embedding"]}}
    ours = run(
        "deepfm",
        data,
        protocol=protocol,
        seed=SETTINGS["seed"],
        epochs=SETTINGS["epochs"],
        verbose=1,
        batch_size=SETTINGS["batch_size"],
        embedding_dim=SETTINGS["embedding_dim"],
        patience=SETTINGS["patience"],
        hidden_units=SETTINGS["hidden_units"],
        dropout=SETTINGS["dropout"],
        batch_norm=SETTINGS["batch_norm"],
        embeddings_regularizer=reg,
        learning_rate=SETTINGS["learning_rate"],
    )
    load["between"] = list(os.getloadavg())

    with tempfile.TemporaryDirectory() as tmp:
        data_path, pred_path = Path(tmp) / "split.npz", Path(tmp) / "predictions.npz"
        export_split(data_path, data, split)
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        peer, summary, wall = run_peer(
            args.peer_python,
            "deepctr_deepfm.py",
            pred_path,
            [f"--data={data_path}", f"--config={json.dumps(SETTINGS)}"],
            env,
        )
        valid_pred, test_pred = peer["valid_predictions"], peer["test_predictions"]
    load["after"] = list(os.getloadavg())

    valid_y, test_y = data.labels[split.valid_rows], data.labels[split.test_rows]
    theirs = peer_row(
        "deepctr_deepfm",
        data,
        split,
        SETTINGS,
        summary,
        (
            {"auc": auc(test_y, test_pred), "logloss": logloss(test_y, test_pred)},
            {"auc": auc(valid_y, valid_pred), "logloss": logloss(valid_y, valid_pred)},
        ),
        len(test_y),
        wall,
        command,
        peer_mode="tf-keras (TF_USE_LEGACY_KERAS=1)",
    )
    write_comparison(
        out_dir, f"{args.dataset}-deepfm-vs-deepctr", "deepctr", ours, theirs, load, command
    )


if __name__ == "__main__":
    main()
