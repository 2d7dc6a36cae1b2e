"""reczoo and RecBole on one Amazon Games split, one after the other: SASRec or GRU4Rec.

    python benchmarks/peers/compare_recbole.py --peer_python=PATH --model=sasrec --epochs=3

`PATH` is the python of RecBole's venv (`benchmarks/peers/setup_recbole.sh`
makes one and prints it). The split (`sasrec` protocol, seed 0: last item
test, second-to-last validation, 100 saved uniform negatives) is exported
once; RecBole trains on the same training items (its `LS` split on the
exported order) and is scored on reczoo's saved negatives, both by
`reczoo.metrics`. Both train the same number of epochs with the same
settings and loss, without early stopping: RecBole takes minutes per epoch
here, so the comparison is at equal epochs, not at convergence. Writes one
result row per library (`reczoo train`'s JSON form) and a comparison with the
training throughput ratio.
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
from reczoo.metrics import ranking_metrics
from reczoo.provenance import script_command

MODELS = {
    "sasrec": {
        "peer": "SASRec",
        "settings": {
            "embedding_dim": 50,
            "num_blocks": 2,
            "num_heads": 1,
            "dropout": 0.5,
            "max_length": 50,
            "learning_rate": 1e-3,
            "batch_size": 128,
            "loss": "ce",
        },
        "model_keys": ("num_blocks", "num_heads", "dropout", "loss", "learning_rate"),
    },
    "gru4rec": {
        "peer": "GRU4Rec",
        "settings": {
            "embedding_dim": 50,
            "hidden_units": 100,
            "dropout": 0.2,
            "max_length": 50,
            "learning_rate": 1e-3,
            "batch_size": 128,
            "loss": "ce",
        },
        "model_keys": ("hidden_units", "dropout", "loss", "learning_rate"),
    },
}
DATASET, PROTOCOL, SEED = "amazon-games", "sasrec", 0


def export(directory, name, data, split):
    """RecBole's atomic file (position as timestamp), histories, negatives."""
    folder = Path(directory) / name
    folder.mkdir(parents=True)
    histories = {}
    with open(folder / f"{name}.inter", "w") as f:
        f.write("user_id:token\titem_id:token\ttimestamp:float\n")
        for user, items in enumerate(split.histories):
            if len(items) == 0:
                continue
            histories[str(user)] = [int(i) for i in items]
            f.writelines(f"{user}\t{item}\t{t}\n" for t, item in enumerate(items))
    (Path(directory) / "histories.json").write_text(json.dumps(histories))
    split_path = Path(directory) / "split.npz"
    split.save(split_path)
    return split_path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer_python", required=True)
    parser.add_argument("--model", default="sasrec", choices=sorted(MODELS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument(
        "--peer_threads",
        type=int,
        default=os.cpu_count(),
        help="torch threads for RecBole; default: every core, as TensorFlow uses for reczoo",
    )
    parser.add_argument("--output_dir", default="benchmarks/results")
    args = parser.parse_args()
    command = script_command("benchmarks/peers/compare_recbole.py", sys.argv[1:])
    spec = MODELS[args.model]
    settings = {
        **spec["settings"],
        "epochs": args.epochs,
        "seed": SEED,
        "threads": args.peer_threads,
    }
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = datasets.load(DATASET)
    split = datasets.split(data, PROTOCOL, seed=SEED)
    load = {"before": list(os.getloadavg())}

    ours = run(
        args.model,
        data,
        protocol=PROTOCOL,
        seed=SEED,
        epochs=args.epochs,
        verbose=1,
        patience=args.epochs,
        batch_size=settings["batch_size"],
        embedding_dim=settings["embedding_dim"],
        max_length=settings["max_length"],
        **{k: settings[k] for k in spec["model_keys"]},
    )
    load["between"] = list(os.getloadavg())

    with tempfile.TemporaryDirectory() as tmp:
        name = "reczoo_amazon_games"  # not a name RecBole ships a copy of
        split_path = export(tmp, name, data, split)
        output = Path(tmp) / "scores.npz"
        env = dict(
            os.environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1", OMP_NUM_THREADS=str(args.peer_threads)
        )
        peer, summary, wall = run_peer(
            args.peer_python,
            "recbole_sequential.py",
            output,
            [
                f"--data_dir={tmp}",
                f"--dataset={name}",
                f"--split={split_path}",
                f"--model={spec['peer']}",
                f"--config={json.dumps(settings)}",
            ],
            env,
            cwd=tmp,
        )
        valid_scores, test_scores = peer["valid_scores"], peer["test_scores"]
    load["after"] = list(os.getloadavg())

    def metrics(scores):
        labels = np.zeros(scores.shape, dtype="float32")
        labels[:, 0] = 1.0
        return ranking_metrics(scores, labels, (5, 10, 20))

    theirs = peer_row(
        f"recbole_{args.model}",
        data,
        split,
        settings,
        summary,
        (metrics(test_scores), metrics(valid_scores)),
        test_scores.size,
        wall,
        command,
        monitor=None,
        max_epochs=args.epochs,
        history=[{"epoch": i + 1, "loss": v} for i, v in enumerate(summary["losses"])],
        peer_mode=f"torch CPU, {summary['threads']} threads",
    )
    write_comparison(
        out_dir,
        f"{DATASET}-{args.model}-vs-recbole",
        "recbole",
        ours,
        theirs,
        load,
        command,
        model=args.model,
        equal=f"{args.epochs} epochs each, no early stopping",
    )


if __name__ == "__main__":
    main()
