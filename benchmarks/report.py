"""Builds benchmarks/RESULTS.md and the model cards from the committed rows.

    python benchmarks/report.py           # rewrites them
    python benchmarks/report.py --check   # changes nothing; exit 1 if one is stale

Model cards (`docs/models/<name>.md`) take their text from the registry and
the backbone's docstring, and their numbers from the result rows only.

Every row in `benchmarks/results/*.json` is one run (`reczoo train`'s JSON
line); the newest row per (dataset, protocol, model) is shown beside the
published reference and the target it was held to.
"""

import argparse
import inspect
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# BARS Frappe_x1 test AUC (FuxiCTR; published best configurations), and the
# targets of the reczoo issue that introduced each model.
_BARS_FRAPPE = {
    "fm": (0.967108, 0.967, "BARS FM_frappe_x1"),
    "deepfm": (0.983947, 0.984, "BARS DeepFM_frappe_x1"),
    "dcnv2": (0.983824, 0.9845, "BARS DCNv2_frappe_x1"),
    "autoint_plus": (0.984812, 0.9845, "BARS AutoInt+_frappe_x1 (5 layers of 128, 4 heads)"),
    "xdeepfm": (0.984138, None, "BARS xDeepFM_frappe_x1"),
}
# `frappe-x1` holds BARS' own validation and test rows; `frappe` is another draw.
REFERENCES = {(d, m): v for d in ("frappe", "frappe-x1") for m, v in _BARS_FRAPPE.items()}
# Amazon Games, SASRec paper Table III (HR@10, NDCG@10), held to as targets;
# the full cross-entropy target is the (Klenitskiy & Vasilev 2023).
RANKING_REFERENCES = {
    ("amazon-games", "sasrec"): ((0.7410, 0.5360), "SASRec paper, Table III"),
    ("amazon-games", "sasrec-ce"): ((0.76, 0.55), "issue target, full softmax"),
    ("amazon-games", "gru4rec"): ((0.6599, 0.4759), "SASRec paper's GRU4Rec+"),
    ("amazon-games", "caser"): ((0.5282, 0.3214), "SASRec paper's Caser"),
}
SAMPLED_LIKE_PAPER = ("sasrec", "sasrec_10k")
PEER_PREFIXES = ("deepctr_", "recbole_")


def label(row):
    """The model name, or a variant's label (`sasrec-ce`) given by the suite."""
    return row.get("label") or row["model"]


def load_rows():
    """The newest seed-0 row per (dataset, protocol, model), and the test
    metrics of every seed run with that row's settings: the spread across
    splits, or across initialisations where the dataset brings its own split
    (`frappe-x1`)."""
    rows, runs = {}, {}
    for path in sorted(HERE.glob("results/*.json")):
        row = json.loads(path.read_text())
        if "model" not in row or "metrics" not in row or "seed" not in row:
            continue
        if "command_in_comparison" in row or row["model"].startswith(PEER_PREFIXES):
            continue  # shown in the peer comparison sections
        key = (row["dataset"], row["protocol"], label(row))
        runs.setdefault(key, []).append(row)
        if row["seed"] != 0:
            continue
        if key not in rows or row.get("date", "") >= rows[key][0].get("date", ""):
            rows[key] = (row, path.name)
    seeds = {key: same_settings(row, runs[key]) for key, (row, _) in rows.items()}
    return rows, seeds


def same_settings(row, runs):
    """Test metrics by seed of the runs with `row`'s settings, newest last.

    Settings that only one of two rows records (added to the runner between
    them) are not compared."""
    ours = row.get("hyperparameters", {})

    def agrees(other):
        theirs = other.get("hyperparameters", {})
        return all(ours[k] == theirs[k] for k in ours.keys() & theirs.keys())

    return {
        r["seed"]: r["metrics"] for r in sorted(runs, key=lambda r: r.get("date", "")) if agrees(r)
    }


def seed_summary(by_seed, target):
    """Mean and sample standard deviation of the test AUC over seeds, and
    whether the mean meets `target`; empty below three seeds."""
    values = [m["auc"] for m in by_seed.values()]
    if len(values) < 3:
        return ""
    mean, sd = statistics.mean(values), statistics.stdev(values)
    met = "" if target is None else (", yes" if mean >= target else ", no")
    return f"{mean:.4f} ± {sd:.4f} ({len(values)}){met}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming the files that differ from what the rows give",
    )
    args = parser.parse_args(argv)
    outputs = build()
    stale = [
        path for path, text in outputs.items() if not path.is_file() or path.read_text() != text
    ]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(HERE.parent)}")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outputs[path])
    print(
        f"{len(stale)} of {len(outputs)} files rewritten from {len(list(HERE.glob('results/*.json')))} rows."
    )
    return 0


def build():
    """`{path: text}` of RESULTS.md and every model card, from the rows."""
    rows, seeds = load_rows()
    lines = [
        "# Benchmark results",
        "",
        "Generated by `python benchmarks/report.py` from `benchmarks/results/`. Each row's",
        "file holds the exact command that reproduces it. Throughput is measured on the",
        "machine named in the row; compare it only with rows from the same run.",
        "A model marked `(trained: X)` was trained and early-stopped under protocol X and",
        "scored from its saved preset by `benchmarks/evaluate_preset.py`; its epochs,",
        "throughput and wall time are the training run's.",
        "",
    ]
    by_dataset = {}
    for (dataset, protocol, model), (row, name) in sorted(rows.items()):
        by_dataset.setdefault((dataset, protocol), []).append((model, row, name))
    for (dataset, protocol), entries in by_dataset.items():
        lines += [f"## {dataset}, protocol `{protocol}`", ""]
        ranking = "hr@10" in entries[0][1]["metrics"]
        if ranking:
            header = (
                "| model | HR@10 | NDCG@10 | valid NDCG@10 | reference (HR, NDCG) | met "
                "| users | epochs | train ex/s | wall s | file |"
            )
            lines += [header, "| --- " * 11 + "|"]
        else:
            header = (
                "| model | test AUC | valid AUC | logloss | reference | target | met |"
                " other seeds (test AUC) | all seeds: mean ± sd (n), met | epochs"
                " | train ex/s | params | file |"
            )
            lines += [header, "| --- " * 13 + "|"]
        for model, row, name in entries:
            m = row["metrics"]
            if ranking:
                ref = None  # the paper's numbers are for 100 sampled negatives
                if protocol in SAMPLED_LIKE_PAPER:
                    ref, _ = RANKING_REFERENCES.get((dataset, model), (None, ""))
                met = ""
                if ref is not None:
                    met = "yes" if m["hr@10"] >= ref[0] and m["ndcg@10"] >= ref[1] else "no"
                valid = row.get("valid_metrics", {}).get("ndcg@10")
                trained = row.get("trained_by", {}).get("protocol")
                shown = model if trained in (None, protocol) else f"{model} (trained: `{trained}`)"
                lines.append(
                    f"| {shown} | {m['hr@10']:.4f} | {m['ndcg@10']:.4f} "
                    f"| {'' if valid is None else f'{valid:.4f}'} "
                    f"| {'' if ref is None else f'{ref[0]:.4f}, {ref[1]:.4f}'} | {met} "
                    f"| {m.get('users', '')} | {row['epochs']} "
                    f"| {row['train_samples_per_sec'] or 0:,.0f} | {row['wall_seconds']:.0f} "
                    f"| [{name}](results/{name}) |"
                )
                continue
            ref, target, _ = REFERENCES.get((dataset, model), (None, None, ""))
            met = "" if target is None else ("yes" if m["auc"] >= target else "no")
            others = seeds.get((dataset, protocol, model), {})
            spread = ", ".join(
                f"seed {k}: {v['auc']:.4f}" for k, v in sorted(others.items()) if k != 0
            )
            valid = row.get("valid_metrics", {}).get("auc")
            lines.append(
                f"| {model} | {m['auc']:.4f} | {'' if valid is None else f'{valid:.4f}'} "
                f"| {m['logloss']:.4f} "
                f"| {'' if ref is None else f'{ref:.4f}'} | {'' if target is None else target} "
                f"| {met} | {spread} | {seed_summary(others, target)} | {row['epochs']} "
                f"| {row['train_samples_per_sec'] or 0:,.0f} "
                f"| {row['params']:,} | [{name}](results/{name}) |"
            )
        lines.append("")
    for path in sorted(HERE.glob("results/*-vs-deepctr.json"), reverse=True):
        c = json.loads(path.read_text())
        title = (
            f"DeepFM: reczoo vs DeepCTR on {c['dataset']} (`{c['protocol']}`), one run,"
            f" {c['date'][:10]}"
        )
        lines += _comparison(c, "deepctr", "DeepCTR", title, [], AUC)
    for path in sorted(HERE.glob("results/*-vs-recbole.json")):
        c = json.loads(path.read_text())
        title = f"{c['model']}: reczoo vs RecBole on {c['dataset']} (`{c['protocol']}`), one run"
        intro = [
            f"Both {c['equal']}, the same loss and settings; both scored on reczoo's saved",
            "negatives by the same code.",
            "",
        ]
        lines += _comparison(c, "recbole", "RecBole", title, intro, HR_NDCG)
    return {HERE / "RESULTS.md": "\n".join(lines), **model_cards(rows)}


AUC = (("test AUC", "auc"), ("logloss", "logloss"))
HR_NDCG = (("HR@10", "hr@10"), ("NDCG@10", "ndcg@10"))


def _comparison(c, peer, peer_title, title, intro, metrics):
    """A side-by-side section: both libraries' numbers and the throughput ratio."""
    names = [label for label, _ in metrics]
    lines = [f"## {title}", "", *intro]
    lines.append("| library | " + " | ".join(names) + " | epochs | train ex/s | train s |")
    lines.append("| --- " * (len(names) + 4) + "|")
    for lib in ("reczoo", peer):
        r = c[lib]
        values = " | ".join(f"{r['metrics'][key]:.4f}" for _, key in metrics)
        lines.append(
            f"| {lib} | {values} | {r['epochs']} | {r['train_samples_per_sec']:,.0f} "
            f"| {r['train_seconds']:.0f} |"
        )
    lines += [
        "",
        f"Training throughput ratio reczoo / {peer_title}: **{c['train_throughput_ratio']}x** "
        f"on {c['device']}; 1-minute load average "
        + ", ".join(f"{when} {values[0]:.2f}" for when, values in c["load_average"].items())
        + ".",
        f"Command: `{c['command']}`.",
        "",
    ]
    return lines


def usage(name, entry):
    """A snippet that runs as written: the model on a small spec, one fit."""
    if entry.task_name == "NextItem":
        user = entry.backbone.uses_user
        lines = [
            "```python",
            "import reczoo",
            "",
            "spec = reczoo.FeatureSpec(",
            "    [",
            '        reczoo.Sequence("history", 1683, 50, max_length=20, table="item"),',
            *(['        reczoo.Categorical("user_id", 944, 50),'] if user else []),
            "    ]",
            ")",
            f'model = reczoo.get_model("{name}", feature_spec=spec)  # compiled, ready to fit',
            "features = spec.dummy_inputs(64)",
        ]
        if entry.backbone.output_key == "sequence_output":
            lines.append('next_items = features["history"]  # the item after each position')
        else:
            lines.append('next_items = features["history"][:, -1]  # the item after the window')
        lines += [
            "model.fit(features, next_items, batch_size=32, epochs=1)",
            "model.recommend(features, k=10)  # top-10 item ids per history",
            "```",
        ]
        return lines
    history = name == "din"
    return [
        "```python",
        "import numpy as np",
        "import reczoo",
        "",
        "spec = reczoo.FeatureSpec(",
        "    [",
        '        reczoo.Categorical("user_id", 944, 16),',
        '        reczoo.Categorical("item_id", 1683, 16, table="item"),',
        *(
            ['        reczoo.Sequence("history", 1683, 16, max_length=20, table="item"),']
            if history
            else []
        ),
        "    ]",
        ")",
        f'model = reczoo.get_model("{name}", feature_spec=spec)  # compiled, ready to fit',
        "features = spec.dummy_inputs(256)",
        "labels = np.random.default_rng(0).integers(0, 2, size=256)",
        "model.fit(features, labels, batch_size=64, epochs=1)",
        "model.score(features)[:5]  # click probabilities",
        "```",
    ]


def recipes_of(name):
    """The model's recipes, as `reczoo recipes` lists them."""
    import reczoo

    names = [r for r in reczoo.list_recipes(name) if reczoo.get_recipe(r).model == name]
    if not names:
        return ["No recipe yet: `reczoo train` uses defaults adapted to the data."]
    lines = [
        "`reczoo train --model=M --dataset=D` uses the recipe of its dataset and protocol:",
        "",
    ]
    for r in names:
        recipe = reczoo.get_recipe(r)
        how = "" if recipe.default else f" (`--recipe={r}`)"
        lines.append(f"- `{r}`{how}: {recipe.dataset}, `{recipe.protocol}`; {recipe.source}.")
    return lines


def model_cards(rows):
    import reczoo

    folder = HERE.parent / "docs" / "models"
    cards = {}
    index = ["# Model cards", "", "| model | family | task | paper |", "| --- | --- | --- | --- |"]
    for name in reczoo.list_models():
        entry = reczoo.model_info(name)
        doc = inspect.cleandoc(entry.backbone.__doc__ or "")
        prose, _, details = doc.partition("\nArgs:")
        if details:
            # The docstring's own example fences would close the text block.
            details = "\n".join(
                line for line in details.splitlines() if not line.strip().startswith("```")
            )
            doc = f"{prose.strip()}\n\n```text\nArgs:{details}\n```"
        defaults = ", ".join(f"{k}={v!r}" for k, v in entry.defaults.items())
        card = [
            f"# `{name}`",
            "",
            f"- family: {entry.family}; task: `{entry.task_name}`; tags: {', '.join(entry.tags)}",
            f"- paper: {entry.paper}",
            f"- backbone: `reczoo.models.{entry.backbone.__name__}`"
            + (f" with {defaults}" if defaults else ""),
            "",
            entry.description,
            "",
            "## What it computes",
            "",
            doc,
            "",
            "## Use",
            "",
            *usage(name, entry),
            "",
            "## Recipes",
            "",
            *recipes_of(name),
            "",
            "## Measured",
            "",
        ]
        measured = [
            (k, v) for k, v in sorted(rows.items()) if k[2] == name or v[0]["model"] == name
        ]
        if not measured:
            card.append("No benchmark row has been committed for this model yet.")
        for (dataset, protocol, variant), (row, file) in measured:
            metrics = ", ".join(f"{k} {v:.4f}" for k, v in row["metrics"].items() if k != "users")
            shown = dataset if variant == name else f"{dataset} ({variant})"
            card += [
                f"- **{shown}**, `{protocol}`: test {metrics}; {row['epochs']} epochs, "
                f"{row['train_samples_per_sec'] or 0:,.0f} training examples/s on "
                f"{row['device']} ([row](../../benchmarks/results/{file})).",
                (
                    f"  Reproduce: `{row['trained_by']['command']} --output=DIR`, then "
                    f"`{row['command']}` with that DIR (scored from the saved model)."
                    if "trained_by" in row
                    else f"  Reproduce: `{row['command']}`"
                ),
            ]
        cards[folder / f"{name}.md"] = "\n".join(card) + "\n"
        index.append(
            f"| [{name}]({name}.md) | {entry.family} | {entry.task_name} | {entry.paper} |"
        )
    cards[folder / "README.md"] = "\n".join(index) + "\n"
    return cards


if __name__ == "__main__":
    sys.exit(main())
