"""Export a trained model as a TensorFlow SavedModel (`reczoo.export`) that
serves with TensorFlow alone (not reczoo, not Keras) and takes raw values.
(The package is `exporting`: a module named `export` would be shadowed by,
and would shadow, the function `reczoo.export`.)

Each task kind has its own graph; vocabularies, id lookups and numerical
transforms are inside it, and the first signature is also
`serving_default`, the one TensorFlow Serving answers by default:

- a ranker: `score(<each feature or column it reads>)`, raw values in (ids
  as strings; bags and histories as rows padded with ""; numbers as
  float32), the model's probability (or score) out. A ranker trained on a
  click log under a schema takes its columns as the schema reads them
  (bags joined by their separator, transforms applied in the graph).
- a next-item model: `recommend(history[, user_id])`, raw item ids of each
  history (oldest first, padded with "") in, the `k` best items the history
  does not hold out, as raw ids, with their scores.
- a retriever: `recommend(user_id)` (a known user's recorded features, or
  the out-of-vocabulary row for an unknown one) and
  `recommend_features(user_id, <query features>...)` (any user described
  by raw features), the `k` best items' raw ids and scores out.

`format="keras"` writes the Keras-native `model.keras` archive instead,
with the vocabularies beside it, for users who stay in Keras.

Example:
    ```python
    reczoo.export("two_tower_preset", "two_tower_savedmodel", k=10)
    ```

and, in any TensorFlow process:

```python
served = tf.saved_model.load("two_tower_savedmodel")
out = served.recommend(tf.constant(["1", "42"]))
out["items"], out["scores"]
```
"""

import json
from pathlib import Path

from reczoo import provenance
from reczoo.presets import check_output

FORMATS = ("savedmodel", "keras")


def export(model, output, k=100, overwrite=False, vocabularies=None, format="savedmodel"):
    """Writes `model` (a trained task, or a preset folder or name holding
    one) as a SavedModel (or a `.keras` archive) in the folder `output`.

    Args:
        model: a trained `Ranker`, `NextItem` or `Retriever` (a retriever
            with its catalogue and users recorded: `reczoo.run` records
            them), or a preset.
        output: a new (or empty) folder; with `overwrite`, an existing one
            is replaced only once the export is complete.
        k: how many items each query of a next-item model or a retriever
            gets (at most the catalogue).
        overwrite: replace a non-empty `output`.
        vocabularies: raw values of ids (`{"user": [...], "item": [...],
            <feature>: [...]}`); default: the model's (a preset's).
        format: `"savedmodel"` or `"keras"` (`output/model.keras` and
            `output/vocabularies.json`).

    Returns:
        The output path.

    Raises:
        ValueError: a model that cannot be exported (a retriever whose
            query tower reads a history, a model without the vocabularies
            its raw ids need), naming what it lacks; an unknown `format`.
        FileExistsError: a non-empty `output` without `overwrite`.

    Example:
        ```python
        reczoo.export("deepfm_frappe", "deepfm_savedmodel")
        import tensorflow as tf
        served = tf.saved_model.load("deepfm_savedmodel")
        print(list(served.signatures))  # ['serving_default', 'score']
        ```
    """
    import keras

    from reczoo.presets import from_preset

    if format not in FORMATS:
        raise ValueError(f"`format` must be one of {FORMATS}. Received: format={format!r}")
    check_output(output, overwrite=overwrite)
    if format == "savedmodel" and keras.backend.backend() != "tensorflow":
        return _export_on_tensorflow(model, output, k, overwrite, vocabularies)
    task = model if isinstance(model, keras.Model) else from_preset(model)
    vocabularies = vocabularies or getattr(task, "vocabularies", None) or {}
    if format == "keras":
        return _write(
            output, overwrite, lambda staging: _keras_archive(task, vocabularies, staging)
        )
    archive, description = _graph(task, vocabularies, k)
    from absl import logging as absl_logging

    verbosity = absl_logging.get_verbosity()
    # TensorFlow logs every renamed input and shard at INFO while writing.
    absl_logging.set_verbosity(absl_logging.WARNING)
    try:
        return _write(output, overwrite, lambda staging: (
            archive.write_out(str(staging), verbose=False),
            (staging / "reczoo_export.json").write_text(description),
        ))  # fmt: skip
    finally:
        absl_logging.set_verbosity(verbosity)


def _write(output, overwrite, fill):
    output = Path(output)
    with provenance.staged_folder(output, overwrite=overwrite) as staging:
        fill(staging)
    return output


def _graph(task, vocabularies, k):
    """The `(ExportArchive, description)` of `task`'s kind."""
    from reczoo.exporting.click_logs import is_click_log, ranker_archive
    from reczoo.exporting.next_item import next_item_archive
    from reczoo.exporting.rankers import feature_ranker_archive
    from reczoo.exporting.retrieval import retriever_archive
    from reczoo.models.next_item import NextItem
    from reczoo.models.ranker import Ranker
    from reczoo.models.retrieval import Retriever

    schema = (getattr(task, "preset_metadata", None) or {}).get("schema")
    if isinstance(task, Ranker) and schema and schema["columns"] and is_click_log(schema):
        return ranker_archive(task, vocabularies, schema)
    if isinstance(task, Ranker):
        return feature_ranker_archive(task, vocabularies)
    if isinstance(task, NextItem):
        return next_item_archive(task, vocabularies, k)
    if isinstance(task, Retriever):
        return retriever_archive(task, vocabularies, k)
    raise ValueError(
        f"reczoo export writes rankers, next-item models and retrievers; this model is a "
        f"{type(task).__name__} ({type(task.backbone).__name__})."
    )


def _keras_archive(task, vocabularies, folder):
    task.save(folder / "model.keras")
    (folder / "vocabularies.json").write_text(json.dumps(
        {name: [str(v) for v in values] for name, values in vocabularies.items()}
    ))  # fmt: skip
    meta = getattr(task, "preset_metadata", None) or {}
    (folder / "reczoo_export.json").write_text(json.dumps({
        "kind": "keras", "files": ["model.keras", "vocabularies.json"],
        "load": "import reczoo; keras.saving.load_model('model.keras')",
        "model": meta.get("model"), "dataset": meta.get("dataset"),
        "versions": provenance.versions(),
    }, indent=2))  # fmt: skip


def _export_on_tensorflow(model, output, k, overwrite, vocabularies):
    """The export of a model trained under another backend (JAX): a SavedModel
    is a TensorFlow graph, so a TensorFlow-backend process rebuilds the model
    from its preset (weights are backend-free) and writes it. A model in
    memory is first saved as a preset in a temporary folder."""
    import os
    import subprocess
    import sys
    import tempfile

    import keras

    from reczoo.presets import save_to_preset

    with tempfile.TemporaryDirectory(prefix="reczoo-export-") as tmp:
        preset = model
        if isinstance(model, keras.Model):
            preset = save_to_preset(
                model, Path(tmp) / "preset", metadata=getattr(model, "preset_metadata", None),
                vocabularies=vocabularies or model.vocabularies,
            )  # fmt: skip
        request = Path(tmp) / "request.json"
        request.write_text(json.dumps({
            "model": str(preset), "output": str(output), "k": int(k),
            "overwrite": bool(overwrite), "vocabularies": vocabularies,
        }))  # fmt: skip
        env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
        done = subprocess.run(
            [sys.executable, "-m", "reczoo.exporting", str(request)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        # The child's error, as the same type where it is a usage error.
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        kind, _, message = (lines[-1] if lines else "").partition(": ")
        known = {e.__name__: e for e in (ValueError, FileNotFoundError, FileExistsError)}
        if kind in known:
            raise known[kind](message)
        raise RuntimeError(
            "The export (in a TensorFlow-backend process, as a SavedModel needs) failed: "
            + (lines[-1] if lines else f"exit status {done.returncode}")
        )
    return Path(output)
