"""Evaluates a trained next-item preset under another protocol, without training.

    python benchmarks/evaluate_preset.py --preset=DIR --protocol=sasrec_10k [--label=sasrec]

The SASRec paper's code evaluated 10,000 sampled users, reczoo's `sasrec`
protocol every user; this scores the same trained model both ways. The
protocol must hold out the same items as the one the preset was trained
under (every leave-one-out protocol leaves each user's last two items out),
so the preset never saw the test items: `loo_full` ranks a `sasrec`-trained
model against every item. Writes a result row (`reczoo train`'s form, with the
training run's numbers and command kept under `trained_by`) to
`<output_dir>/<date>-<dataset>-<label>-<protocol>.json`.
"""

import argparse
import datetime
import json
import sys
from pathlib import Path

import reczoo
from reczoo import datasets
from reczoo.metrics.evaluators import evaluate_next_item
from reczoo.provenance import git_commit, script_command
from reczoo.training import KS


def check_same_held_out(trained_split, protocol):
    """Raises unless `protocol` holds out the items the preset's training left out.

    Every leave-one-out protocol (sampled negatives or full ranking) holds out
    each eligible user's last two items; which users are eligible depends only
    on `min_interactions`.
    """
    trained_loo = trained_split["kind"] in ("loo_sampled", "loo_full")
    same_users = trained_split.get("min_interactions") == protocol.min_interactions
    if not (protocol.leave_one_out and trained_loo and same_users):
        raise ValueError(
            f"The preset was trained under a {trained_split['kind']} split "
            f"(min_interactions={trained_split.get('min_interactions')}); protocol "
            f"{protocol.name!r} is a {protocol.kind} split (min_interactions="
            f"{protocol.min_interactions}), which would hold out other items."
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True)
    parser.add_argument("--protocol", required=True)
    parser.add_argument("--label", default=None, help="result file label; default: the model")
    parser.add_argument("--output_dir", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    command = script_command("benchmarks/evaluate_preset.py", sys.argv[1:])
    task = reczoo.from_preset(args.preset)
    trained = json.loads((Path(args.preset) / "metadata.json").read_text())
    commit = git_commit()
    if trained.get("git_commit") and commit and trained["git_commit"] != commit:
        print(
            f"warning: the preset was trained at commit {trained['git_commit'][:10]} and is "
            f"evaluated at {commit[:10]}; if the model's code changed between them, the "
            "same weights compute something else. Evaluate from a checkout of the training "
            "commit to reproduce its numbers.",
            file=sys.stderr,
        )
    protocol = datasets.get_protocol(args.protocol)
    check_same_held_out(trained["split"], protocol)
    data = datasets.load(trained["dataset"])
    if data.sha256 != trained["dataset_sha256"]:
        raise ValueError(
            f"Dataset {trained['dataset']!r} differs from the one the preset was trained on "
            f"(sha256 {data.sha256} != {trained['dataset_sha256']})."
        )
    split = datasets.split(data, protocol, seed=trained["seed"])
    max_length = trained["hyperparameters"]["max_length"]
    metrics, pairs, seconds = evaluate_next_item(task, split, "test", max_length, KS)
    valid, _, _ = evaluate_next_item(task, split, "valid", max_length, KS)
    keep = ("model", "dataset", "seed", "epochs", "train_samples_per_sec", "wall_seconds")
    row = {k: trained[k] for k in keep}
    label = args.label or trained.get("label") or trained["model"]
    row.update(
        {
            "protocol": protocol.name,
            "protocol_details": protocol.to_dict(),
            "hyperparameters": trained["hyperparameters"],
            "metrics": metrics,
            "valid_metrics": valid,
            "infer_samples_per_sec": round(pairs / seconds, 1) if seconds else None,
            "label": label if label != trained["model"] else None,
            "trained_by": {
                "protocol": trained["protocol"],
                "metrics": trained["metrics"],
                "command": trained["command"],
                "git_commit": trained.get("git_commit"),
            },
            "device": trained.get("device"),
            "git_commit": commit,
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": command,
        }
    )
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.date.today().isoformat()
    path = out / f"{stamp}-{row['dataset']}-{label}-{protocol.name}.json"
    path.write_text(json.dumps(row, indent=2) + "\n")
    print(json.dumps({"metrics": metrics, "file": str(path)}))


if __name__ == "__main__":
    main()
