"""Runs a benchmark suite, one `reczoo train` process per model, one at a time.

    python benchmarks/run_suite.py --suite=frappe [--models=deepfm,fm] [--seed=N] [--output_dir=...]

`--models` picks entries by label: the recipe's name before `/` (`deepfm`,
`sasrec-ce`). Each entry is a recipe (`reczoo recipes`), run as plain
`reczoo train --model=M --dataset=D --protocol=P`, which picks it up (a
recipe that is not its key's default is named with `--recipe`).

Each run's JSON row (the last line `reczoo train` prints, with the command
that reproduces it) is saved as `<output_dir>/<date>-<dataset>-<model>.json`,
with `-seed<N>` before `.json` for a seed other than 0, and `-2`, `-3`, ...
after that if the file exists: no row is overwritten.
Runs are sequential so that throughput is not shared between two jobs. With
`--checkpoint_dir`, an interrupted suite started again resumes each run from
its last evaluation.
"""

import argparse
import datetime
import json
import shlex
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from suites import SUITES, entries


def unused_path(path):
    """`path`, or `path` with `-2`, `-3`, ... before its suffix if taken: a
    rerun on the same day never overwrites a committed row."""
    path = Path(path)
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", required=True, choices=sorted(SUITES))
    parser.add_argument("--models", default=None, help="comma-separated subset")
    parser.add_argument("--output_dir", default=str(Path(__file__).parent / "results"))
    parser.add_argument("--seed", type=int, default=0, help="`reczoo train --seed`")
    parser.add_argument(
        "--checkpoint_dir",
        default=None,
        help="checkpoint each run in <checkpoint_dir>/<dataset>-<label>[-seedN]: the same "
        "command resumes an interrupted suite, each run from its last evaluation",
    )
    parser.add_argument(
        "--presets_dir",
        default=None,
        help="also save each trained model as a preset in <presets_dir>/<dataset>-<label>",
    )
    args = parser.parse_args()
    wanted = set(args.models.split(",")) if args.models else None
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for recipe, label in entries(args.suite):
        if wanted and label not in wanted:
            continue
        model, dataset = recipe.model, recipe.dataset
        command = [
            "reczoo", "train", f"--model={model}", f"--dataset={dataset}",
            f"--protocol={recipe.protocol}", "--quiet",
        ]  # fmt: skip
        if not recipe.default:
            command.append(f"--recipe={recipe.name}")
        if args.seed:
            command.append(f"--seed={args.seed}")
        if args.checkpoint_dir:
            tag = f"{dataset}-{label}" + (f"-seed{args.seed}" if args.seed else "")
            command.append(f"--checkpoint_dir={Path(args.checkpoint_dir) / tag}")
        if args.presets_dir:
            command.append(f"--output={Path(args.presets_dir) / f'{dataset}-{label}'}")
        print("$", " ".join(shlex.quote(c) for c in command), flush=True)
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr[-3000:], file=sys.stderr)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        if label != model:
            row["label"] = label
        stamp = datetime.date.today().isoformat()
        suffix = f"-seed{args.seed}" if args.seed else ""
        path = unused_path(out_dir / f"{stamp}-{dataset}-{label}{suffix}.json")
        path.write_text(json.dumps(row, indent=2) + "\n")
        m = row["metrics"]
        print(
            f"{model}: test "
            + ", ".join(f"{k}={v:.4f}" for k, v in m.items() if k != "users")
            + f"; epochs={row['epochs']}, train {row['train_samples_per_sec']:.0f}/s -> {path}",
            flush=True,
        )


if __name__ == "__main__":
    main()
