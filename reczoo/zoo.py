"""The pretrained zoo: built-in presets, how each is built, and how it scores.

Each built-in preset is declared by its model's folder (a
`reczoo.registry.Preset`: a registered model, a public dataset, a protocol and
the recipe that trains it). `build(name)` trains it from its seed
(with TensorFlow's deterministic ops), stores its weights in the most compact
form whose test metric moves by at most `COMPACT_TOLERANCE`: int8 embedding
tables with float16 for the rest, else float16, else float32. It leaves
out every row of the data (the licences of MovieLens and Frappe forbid
redistributing it), and writes the preset into the package with its entry in
`reczoo/pretrained/index.json`. `evaluate(preset)` scores a preset on its
dataset's test split again, from the dataset files alone.

From the shell: `reczoo zoo build NAME`, `reczoo zoo evaluate NAME`,
`reczoo presets`.
"""

import datetime
import json
import math
from pathlib import Path

from reczoo import registry
from reczoo.provenance import sha256_of

# A compact (int8 or float16) preset's test metric may differ from its float32
# weights' by this much.
COMPACT_TOLERANCE = 0.002

_GROUPLENS = (
    "MovieLens 100K (GroupLens, University of Minnesota): research use only; no "
    "endorsement; acknowledge and cite Harper & Konstan, ACM TiiS 2015; no "
    "redistribution of the data without separate permission; no commercial use "
    "without permission."
)
_FRAPPE = (
    "Frappe (Baltrunas et al., arXiv:1505.03014): research use only; acknowledge and "
    "cite the paper; no redistribution of the data without separate permission; no "
    "attempt to deanonymise; no commercial use without permission."
)
_GAMES = (
    "Amazon Games as preprocessed by SASRec (Kang & McAuley, ICDM 2018; the SASRec "
    "repository is Apache-2.0 and asks to cite the paper), derived from J. McAuley's "
    "Amazon review data (UCSD); no separate data licence is stated."
)
LICENCES = {"movielens-100k": _GROUPLENS, "frappe-x1": _FRAPPE, "amazon-games": _GAMES}
# What a built-in preset holds of its data.
CONTENTS = (
    "Weights and the raw ids of users, items and feature values (vocabularies); no "
    "rows of the data: no interactions, histories, user or item features."
)


def entry(name):
    """The declaration (a `reczoo.registry.Preset`) of a built-in preset."""
    return registry.built_in_preset(name)


def _index_path(folder):
    return Path(folder) / "index.json"


def read_index(folder=None):
    path = _index_path(folder or registry.PRETRAINED_DIR)
    return json.loads(path.read_text()) if path.is_file() else {}


def _write_index(folder, index):
    path = _index_path(folder)
    path.write_text(json.dumps(dict(sorted(index.items())), indent=2) + "\n")


def _store_as(task, dtype, kept):
    """Sets the task's weights to what `kept` (float32 values) becomes once
    stored at `dtype` and loaded again."""
    from reczoo.presets import compact_table

    for v, value in zip(task.weights, kept, strict=True):
        v.assign(compact_table(value, dtype))


def build(name, folder=None, verbose=1, deterministic=True):
    """Trains the zoo preset `name` from its recipe and writes it into `folder`
    (default: the package's `reczoo/pretrained`), with its index entry.

    Returns the preset's metadata.
    """
    from reczoo.presets import INT8_MIN_ROWS, METADATA_FILE
    from reczoo.training.runner import run

    spec = entry(name)
    folder = Path(folder or registry.PRETRAINED_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    if deterministic:
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    result = run(spec.model, spec.dataset, protocol=spec.protocol, seed=spec.seed,
                 recipe=spec.recipe, verbose=verbose)  # fmt: skip
    task, plan = result.model, result.plan
    full = result["metrics"]
    kept = [v.numpy() for v in task.weights]
    # The most compact storage whose test metric stays within the tolerance.
    dtype, metrics, change = "float32", full, 0.0
    tables = any(v.ndim == 2 and max(v.shape) >= INT8_MIN_ROWS for v in kept)
    for candidate in ("int8", "float16") if tables else ("float16",):
        _store_as(task, candidate, kept)
        compact = plan.evaluate(task, "test")[0]
        moved = abs(compact[spec.metric] - full[spec.metric])
        if moved <= COMPACT_TOLERANCE:
            dtype, metrics, change = candidate, compact, moved
            break
    _store_as(task, dtype, kept)
    row = {k: v for k, v in result.items() if k not in ("history", "command")}
    metadata = {
        **row,
        "name": name,
        "description": spec.description,
        "command": spec.command,
        "run_command": result["command"],
        "split": row["protocol_details"],
        "metric": spec.metric,
        "metrics": metrics,
        "float32_metrics": full,
        "compact_change": round(change, 6),
        "data_licence": LICENCES.get(spec.dataset, "see the dataset's source"),
        "contents": CONTENTS,
        "built": datetime.date.today().isoformat(),
    }
    target = folder / name
    # Written once, in place of the old preset (save_to_preset stages it).
    task.save_to_preset(
        target, metadata=metadata, vocabularies=plan.data.vocabulary_lists(),
        weights_dtype=dtype, keep_data=False, overwrite=True,
    )  # fmt: skip
    meta = json.loads((target / METADATA_FILE).read_text())
    index_preset(name, folder)
    return meta


def index_preset(name, folder=None):
    """Writes the index entry of the built preset `name` in `folder`: what
    `reczoo presets` shows and the sha256 its `metadata.json` must have."""
    from reczoo.presets import METADATA_FILE, verify_preset

    spec = entry(name)
    folder = Path(folder or registry.PRETRAINED_DIR)
    target = folder / name
    meta = verify_preset(target)
    item = {
        "model": spec.model,
        "dataset": spec.dataset,
        "protocol": spec.protocol,
        "description": spec.description,
        "metrics": {k: _rounded(v) for k, v in meta["metrics"].items() if k in _SHOWN},
        "weights_dtype": meta["weights_dtype"],
        "metadata_sha256": sha256_of(target / METADATA_FILE),
        "size_bytes": sum(p.stat().st_size for p in target.rglob("*") if p.is_file()),
    }
    index = read_index(folder)
    index[name] = item
    _write_index(folder, index)
    return meta


_SHOWN = ("auc", "logloss", "hr@10", "ndcg@10", "top_10_accuracy", "top_100_accuracy")


def _rounded(value):
    return round(float(value), 4) if value is not None and math.isfinite(value) else None


def evaluate(preset, stage="test", data=None):
    """Scores a preset (name, folder or loaded task) on its dataset's `stage`
    again: the split is rebuilt from the metadata (dataset, protocol, seed)
    and the dataset must be the one the preset was trained on (sha256).
    `data`: the dataset, when already
    loaded (its sha256 is checked all the same).

    Returns `(metrics, recorded metrics)`.
    """
    from reczoo import datasets
    from reczoo.presets import PresetError, from_preset
    from reczoo.training import RunSettings, build_task

    task = from_preset(preset) if isinstance(preset, str | Path) else preset
    meta = task.preset_metadata
    data = data if data is not None else datasets.load(meta["dataset"])
    if data.sha256 != meta["dataset_sha256"]:
        raise PresetError(
            f"Dataset {meta['dataset']!r} here (sha256 {data.sha256}) is not the one the "
            f"preset was trained on ({meta['dataset_sha256']})."
        )
    settings = RunSettings.build(
        meta["model"], meta["dataset"], meta["protocol"], recipe=meta.get("recipe") or "none",
        seed=meta["seed"],
    )  # fmt: skip
    known = {k: v for k, v in meta["hyperparameters"].items() if k in settings.training()}
    split = datasets.split(data, settings.protocol, seed=meta["seed"])
    settings = settings.replace(**known).complete(data, split)
    if settings.kind == "next_item":
        from reczoo.metrics.evaluators import evaluate_next_item
        from reczoo.training import KS

        metrics = evaluate_next_item(task, split, stage, settings.max_length, KS,
                                     batch_size=min(1024, settings.eval_batch_size))[0]  # fmt: skip
        return metrics, meta["metrics"]
    # A task built as the run built it gives the plan (and a retriever's
    # catalogue); the preset's weights are what is scored.
    built, plan = build_task(settings, data, split)
    for name in built.asset_names:
        arrays = built.asset_arrays().get(name)
        if arrays is not None and name != "frequencies":
            task.restore_assets(name, arrays)
    return plan.evaluate(task, stage)[0], meta["metrics"]
