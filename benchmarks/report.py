"""Builds the model cards and the zoo page from the committed rows and presets, and
checks the suite reports.

    python benchmarks/report.py           # rewrites what changed
    python benchmarks/report.py --check   # changes nothing; exit 1 if one is stale

Model cards (`docs/models/<name>.md`) take their text from the registry and
the backbone's docstring, and their numbers from the rows of the committed
suite folders (`benchmarks/results/<suite>/results.jsonl`), the rows that
each folder's report.md and plots are built from (`reczoo benchmark report
DIR`, run here for every folder too). The zoo page (`docs/zoo.md`) takes its
table from the built-in presets' metadata (`reczoo/pretrained/`) and its
fine-tuning evidence from the `finetune` suite's rows.
"""

import argparse
import inspect
import statistics
import sys
from pathlib import Path

from reczoo.benchmark.report import build as build_suite_report
from reczoo.benchmark.rows import read_rows
from reczoo.provenance import portable_command as portable

HERE = Path(__file__).resolve().parent
# The suites whose accuracy rows feed the model cards and the README's table.
SUITES = ("paper", "quick", "frappe", "throughput", "finetune")


def suite_folders():
    return [
        HERE / "results" / s for s in SUITES if (HERE / "results" / s / "results.jsonl").exists()
    ]


def report_folders():
    """Every committed folder of suite rows (`reczoo benchmark --output=DIR`)."""
    return sorted(p.parent for p in (HERE / "results").glob("*/results.jsonl"))


def load_rows(seeds=None):
    """The newest seed-0 accuracy row per (suite, dataset, protocol, label);
    with a dict as `seeds`, also fills it with the newest row of every seed
    per key (`{key: {seed: row}}`)."""
    rows = {}
    for folder in suite_folders():
        for row in read_rows(folder):
            if row.get("kind") != "accuracy" or row.get("status") != "ok":
                continue
            key = (folder.name, row["dataset"], row["protocol"], row.get("label") or row["model"])
            if seeds is not None:
                kept = seeds.setdefault(key, {})
                seed = row.get("seed") or 0
                if seed not in kept or row.get("date", "") >= kept[seed].get("date", ""):
                    kept[seed] = row
            if row.get("seed"):
                continue
            if key not in rows or row.get("date", "") >= rows[key].get("date", ""):
                rows[key] = row
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 naming the files that differ from what the rows give",
    )
    args = parser.parse_args(argv)
    seeds = {}
    outputs = model_cards(load_rows(seeds), seeds)
    outputs.update(zoo_page())
    outputs.update(readme_models_table(load_rows()))
    stale = [
        path for path, text in outputs.items() if not path.is_file() or path.read_text() != text
    ]
    if args.check:
        for folder in report_folders():
            stale += build_suite_report(folder, check=True)
        for path in stale:
            print(f"stale: {path.relative_to(HERE.parent)}")
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(outputs[path])
    for folder in report_folders():
        stale += build_suite_report(folder)
    print(f"{len(stale)} files rewritten.")
    return 0


README_TABLE = ("<!-- The models table: generated from the registry by python benchmarks/report.py -->",
                "<!-- end of the models table -->")  # fmt: skip


def models_table(rows=None):
    """The README's table of models: one row per registered model, with its
    committed seed-0 rows that answer a published number (`rows`:
    `load_rows()`), each beside that number."""
    import reczoo

    lines = [
        "| name | family | task | paper | measured (published) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in reczoo.list_models():
        entry = reczoo.model_info(name)
        paper = entry.paper.rstrip(".")
        lines.append(
            f"| [`{name}`](docs/models/{name}.md) | {entry.family} | {entry.task_name} | {paper} "
            f"| {'; '.join(_against_published(name, rows or {}))} |"
        )
    return "\n".join(lines)


def _against_published(name, rows):
    """`dataset protocol: metric measured (published)` for each committed
    seed-0 row of `name` (its own label, not a variant's) that a reference
    answers, uncapped, the paper suite's first."""
    from reczoo.benchmark.references import reference

    cells = {}
    # The paper suite's row first where several suites ran the same split.
    for (_, dataset, protocol, label), row in sorted(
        rows.items(), key=lambda kv: kv[0][0] != "paper"
    ):
        ref = reference(label, dataset, protocol) if label == name else None
        capped = row["entry"].split("/")[-1] if "|" not in row["entry"] else ""
        if ref is None or capped or (dataset, protocol) in cells:
            continue
        metric = next((k for k in ref.metrics if k in row["metrics"]), None)
        if metric is not None:
            cells[dataset, protocol] = (
                f"{dataset} `{protocol}`: {metric} {row['metrics'][metric]:.4f} "
                f"({ref.metrics[metric]:.4f})"
            )
    return [cells[key] for key in sorted(cells)]


def readme_models_table(rows=None):
    """`{README path: its text with the models table made anew}`."""
    path = HERE.parent / "README.md"
    text = path.read_text()
    start, end = README_TABLE
    if start not in text or end not in text:
        raise SystemExit(f"README.md has no models table between {start!r} and {end!r}.")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return {path: f"{head}{start}\n{models_table(rows)}\n{end}{tail}"}


def usage(name, entry):
    """A snippet that runs as written: the model on a small spec, one fit."""
    if entry.task_name == "Retriever":
        history = entry.backbone.uses_history
        query = '["user_id", "history"]' if history else '["user_id"]'
        return [
            "```python",
            "import numpy as np",
            "import reczoo",
            "",
            "spec = reczoo.FeatureSpec(",
            "    [",
            '        reczoo.Categorical("user_id", 944, 32),',
            *(['        reczoo.Sequence("history", 1683, 32, max_length=20),'] if history else []),
            '        reczoo.Categorical("item_id", 1683, 32),',
            "    ]",
            ")",
            "# Compiled, ready to fit; the candidate tower reads item_id (the default).",
            f'model = reczoo.get_model("{name}", feature_spec=spec, query_features={query})',
            "features = spec.dummy_inputs(256)  # (user, positive item) pairs",
            'model.fit(features, features["item_id"], batch_size=64, epochs=1)',
            'model.set_candidates({"item_id": np.arange(1683)})  # the catalogue, row = item id',
            "index = model.index(k=10)  # brute-force top-10 over every item",
            'queries = {k: v[:2] for k, v in features.items() if k != "item_id"}',
            "scores, items = index.query(model.query_embeddings(queries))",
            "```",
        ]
    if entry.task_name == "NextItem":
        user = entry.backbone.uses_user
        # Items 1..1682; a model with a mask token has it at 1683.
        rows = 1684 if entry.backbone.uses_mask_token else 1683
        lines = [
            "```python",
            "import reczoo",
            "",
            "spec = reczoo.FeatureSpec(",
            "    [",
            f'        reczoo.Sequence("history", {rows}, 50, max_length=20, table="item"),',
            *(['        reczoo.Categorical("user_id", 944, 50),'] if user else []),
            "    ]",
            ")",
            f'model = reczoo.get_model("{name}", feature_spec=spec)  # compiled, ready to fit',
            "features = spec.dummy_inputs(64)",
        ]
        if entry.backbone.uses_mask_token:
            lines.append('features["history"] %= 1683  # items only: 1683 is the mask token')
        if entry.backbone.output_key == "sequence_output":
            lines.append('next_items = features["history"]  # the item after each position')
        else:
            lines.append('next_items = features["history"][:, -1]  # the item after the window')
        lines += [
            "model.fit(features, next_items, batch_size=32, epochs=1)",
            "items, scores = model.recommend(features, k=10)  # top-10 unseen items per history",
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
        *(
            [
                "# BPR: rows in pairs, a user's positive item then a negative one",
                'features["user_id"][1::2] = features["user_id"][0::2]',
                "labels = np.tile([1.0, 0.0], 128)",
            ]
            if entry.task_defaults.get("objective") == "bpr"
            else ["labels = np.random.default_rng(0).integers(0, 2, size=256)"]
        ),
        "model.fit(features, labels, batch_size=64, epochs=1)",
        "model.score(features)[:5]  # "
        + ("scores" if entry.task_defaults.get("objective") == "bpr" else "click probabilities"),
        *(
            [
                "model.set_interactions([1, 1, 2], [10, 20, 30])  # what each user saw",
                "items, scores = model.recommend([1, 2], k=10)  # top-10 unseen items per user",
            ]
            if not history and entry.backbone.fit_by == "fit"
            else []
        ),
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


def model_cards(rows, seeds=None):
    import reczoo

    folder = HERE.parent / "docs" / "models"
    cards = {}
    index = ["# Model cards", "", "| model | family | task | paper |", "| --- | --- | --- | --- |"]
    for name in reczoo.list_models():
        entry = reczoo.model_info(name)
        doc = inspect.cleandoc(entry.backbone.__doc__ or "")
        prose, _, details = doc.partition("\nArgs:")
        if details:
            # The docstring's example is the API reference's (docs/api/); the
            # card's own "Use" block below runs the model end to end.
            before, _, example = details.partition("\nExample:\n")
            after = example.partition("\nReference:\n")[2]
            details = before.rstrip() + (f"\n\nReference:\n{after}" if after else "")
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
        measured = [(k, v) for k, v in sorted(rows.items()) if v["model"] == name]
        if not measured:
            card.append("No benchmark row has been committed for this model yet.")
        for (suite, dataset, protocol, variant), row in measured:
            metrics = ", ".join(f"{k} {v:.4f}" for k, v in row["metrics"].items() if k != "users")
            shown = dataset if variant == name else f"{dataset} ({variant})"
            capped = row["entry"].split("/")[-1] if "|" not in row["entry"] else ""
            card += [
                f"- **{shown}**, `{protocol}`, suite `{suite}`"
                + (f" ({capped.replace(',', ', ')})" if capped else "")
                + f": test {metrics}; {row['epochs']} epochs, "
                f"{row['train_samples_per_sec'] or 0:,.0f} training examples/s on "
                f"{row['device']} ([report](../../benchmarks/results/{suite}/report.md)).",
                *_beside(
                    (variant, dataset, protocol),
                    row,
                    (seeds or {}).get((suite, dataset, protocol, variant), {}),
                    capped,
                ),
                f"  Reproduce: `{portable(row['suite_command'])}`",
            ]
        card += _unmeasured(name, {(k[1], k[2]) for k, _ in measured})
        cards[folder / f"{name}.md"] = "\n".join(card) + "\n"
        index.append(
            f"| [{name}]({name}.md) | {entry.family} | {entry.task_name} | {entry.paper} |"
        )
    cards[folder / "README.md"] = "\n".join(index) + "\n"
    return cards


def _unmeasured(name, measured):
    """A card's lines for the published numbers of `name` on datasets no
    committed row measures (`measured`: its (dataset, protocol) pairs), with
    the command that would."""
    from reczoo.benchmark.references import REFERENCES

    lines = []
    for ref in REFERENCES:
        if ref.label != name or any((ref.dataset, p) in measured for p in ref.protocols):
            continue
        published = ", ".join(f"{k} {v:.4f}" for k, v in ref.metrics.items())
        lines += [
            f"- **{ref.dataset}**, `{ref.protocols[0]}`: not measured here (its files are "
            f"not on the machine the rows come from; [datasets](../guide.md)).",
            f"  Published: {published} ({ref.source}).",
            f"  Run: `reczoo train --model={name} --dataset={ref.dataset}`",
        ]
    return lines


def _beside(where, row, by_seed, capped=""):
    """The lines a card's measured row gets beside it: the mean over its
    seeds where there are several, and the published number it answers
    (`where`: label, dataset, protocol), unless the run was capped below
    its recipe."""
    from reczoo.benchmark.references import reference

    lines = []
    if len(by_seed) > 1:
        cells = []
        for name in row["metrics"]:
            values = [r["metrics"][name] for r in by_seed.values() if name in r["metrics"]]
            if name != "users" and len(values) > 1:
                cells.append(
                    f"{name} {statistics.mean(values):.4f} ± {statistics.stdev(values):.4f}"
                )
        lines.append(f"  Over seeds {', '.join(map(str, sorted(by_seed)))}: {', '.join(cells)}.")
    ref = None if capped else reference(*where)
    if ref is not None:
        published = ", ".join(f"{k} {v:.4f}" for k, v in ref.metrics.items())
        lines.append(f"  Published: {published} ({ref.source}).")
    return lines


def _size(n):
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.0f} kB"


def zoo_page():
    """`docs/zoo.md`: the built-in presets, from their metadata, and the
    fine-tuning evidence, from the `finetune` suite's rows."""
    import json

    from reczoo import registry, zoo

    index = zoo.read_index()
    total = sum(e["size_bytes"] for e in index.values())
    lines = [
        "# The pretrained zoo",
        "",
        "<!-- Generated by `python benchmarks/report.py` from reczoo/pretrained/ and "
        "benchmarks/results/finetune/; do not edit. -->",
        "",
        "Every preset below ships inside the package and loads by name, with no dataset "
        "present. Each was built by `reczoo zoo build NAME` from its recipe and seed, "
        "with TensorFlow's deterministic ops; its test metrics are those of the weights "
        "as shipped. Weights are stored compactly where the test metric moved by at most "
        f"{zoo.COMPACT_TOLERANCE} from the float32 weights': `int8` (embedding tables of "
        "10,000 rows or more in int8 with a scale per row, the rest in float16) or "
        "`float16`; the `weights` column says which, beside the float32 weights' metric. "
        f"All {len(index)} together take {_size(total)}.",
        "",
        "| preset | model | dataset, protocol | test metrics (shipped weights) | weights | size |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, item in index.items():
        meta = json.loads((registry.PRETRAINED_DIR / name / "metadata.json").read_text())
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in item["metrics"].items())
        lines.append(
            f"| `{name}` | [{item['model']}](models/{item['model']}.md) | {item['dataset']}, "
            f"`{item['protocol']}` | {metrics} | {meta['weights_dtype']} "
            f"(float32: {meta['float32_metrics'][meta['metric']]:.4f} {meta['metric']}) | "
            f"{_size(item['size_bytes'])} |"
        )
    lines += [
        "",
        "## Load and recommend",
        "",
        "A next-item preset recommends after any history of raw item ids:",
        "",
        "```python",
        "import reczoo",
        "",
        'model = reczoo.from_preset("sasrec_amazon_games")',
        'found = model.recommend(histories=[["1", "2", "3"]], k=5, raw_ids=True)',
        "print(found.items, found.scores)",
        "```",
        "",
        "`reczoo.from_preset` takes a built-in name, a folder (`reczoo train --output`, "
        "`reczoo finetune --output`) or a URL with its sha256 (downloaded once into "
        "`$KERAS_HOME/reczoo/presets`). Every file is checked against the sha256 in "
        "`metadata.json`, and a built-in preset's `metadata.json` against the package's "
        "index; the config is read in Keras safe mode, so no code from a preset runs, "
        "whatever `keras.config.enable_unsafe_deserialization()` set for the process; "
        "`reczoo.from_preset(path, safe_mode=False)` lets that one call read a config with "
        "code, for a preset whose source you trust. "
        "A preset of a newer layout (`format_version`), or whose backbone code has changed "
        "what the same weights compute (`model_code_version`), is refused with both "
        "versions named. `reczoo.NextItem.from_preset(...)` (and `Ranker`, `Retriever`) "
        "also checks the kind of task.",
        "",
        "What a built-in preset holds of its data: " + zoo.CONTENTS + " The licences of "
        "MovieLens and Frappe forbid redistributing the data, so a preset recommends from "
        "the histories and features you give it: `recommend(histories=...)` for next-item "
        "models; a retriever's catalogue is set with `set_candidates` "
        "(see [serving](serving.md)); a ranker scores the feature rows you pass to "
        "`predict`. `reczoo zoo evaluate NAME` rebuilds the split from the dataset "
        "(`RECZOO_DATA_DIR`, or a download) and scores the preset again.",
        "",
        "```bash",
        "reczoo presets",
        "```",
        "",
        "## Fine-tune on your data",
        "",
        "`reczoo finetune` keeps the preset's architecture and settings, aligns the new "
        "data's raw ids to the preset's vocabularies (a known user or item keeps its "
        "row, bit for bit; new ones get freshly initialised rows after them), and keeps "
        "the rows of ids the new data does not train on as they were. The learning rate "
        "defaults to a tenth of the preset's; `--freeze=embeddings` keeps every "
        "pretrained row fixed, `--freeze=backbone` every pretrained weight (only new "
        "rows learn). The output is a preset whose metadata names its parent.",
        "",
        "```bash",
        "reczoo finetune --preset=two_tower_movielens_100k --dataset=movielens-100k "
        "--epochs=1 --freeze=embeddings --output=my_two_tower",
        "```",
        "",
        "In Python: `reczoo.finetune(preset, dataset, epochs=..., freeze=...)` "
        "returns the result row with the model (`.model`).",
        "",
        *_finetune_evidence(),
        "",
        "## Build a preset again",
        "",
        "```text",
        "reczoo zoo build sasrec_amazon_games   # trains from the recipe, writes reczoo/pretrained/",
        "reczoo zoo evaluate sasrec_amazon_games",
        "```",
        "",
        "## Data licences",
        "",
    ]
    for dataset in sorted({e["dataset"] for e in index.values()}):
        lines.append(f"- **{dataset}**: {zoo.LICENCES.get(dataset, 'see its source')}")
    return {HERE.parent / "docs" / "zoo.md": "\n".join(lines) + "\n"}


def _finetune_evidence():
    folder = HERE / "results" / "finetune"
    if not (folder / "results.jsonl").exists():
        return []
    rows = [r for r in read_rows(folder) if r.get("status") == "ok" and r.get("kind") == "transfer"]
    out = [
        "## Does fine-tuning pay? (a later period, equal budgets)",
        "",
        "A model pre-trained on a first period is fine-tuned on the next, and the "
        "same model is trained from scratch on it with the same settings, epochs and "
        "batch size; both are tested on the last period, against the same catalogue. "
        "MovieLens-100K is cut in global time (first 80% of ratings, next 10%, last 10%). "
        "Amazon Games as SASRec preprocessed it has no timestamps, only each user's "
        "order: each user's items but the last three pre-train, the third-to-last is "
        "the one training target of the later period, the last tests "
        "([benchmarks/README.md](../benchmarks/README.md#fine-tuning-a-preset)).",
        "",
        "| dataset | model | epochs | metric | from scratch | fine-tuned | new users, items |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        if not row["label"].endswith("-finetune"):
            continue
        budget = row["transfer"]["budget_epochs"]
        scratch = next(
            r
            for r in rows
            if r["label"] == row["label"].replace("-finetune", "-scratch")
            and r["transfer"]["budget_epochs"] == budget
        )
        metric = "top_100_accuracy" if "top_100_accuracy" in row["metrics"] else "ndcg@10"
        growth = row["transfer"]["vocabulary_growth"]
        new = f"{growth['user']['grown'] - growth['user']['known']:,}, " + (
            f"{growth['item']['grown'] - growth['item']['known']:,}"
        )
        out.append(
            f"| {row['dataset']} | {row['model']} | {budget} | {metric} | "
            f"{scratch['metrics'][metric]:.4f} | {row['metrics'][metric]:.4f} | {new} |"
        )
    commands = sorted({portable(r["suite_command"]) for r in rows})
    out += ["", "Reproduce: " + "; ".join(f"`{c}`" for c in commands)]
    return out


if __name__ == "__main__":
    sys.exit(main())
