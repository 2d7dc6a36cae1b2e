"""Scoring new rows of a click log with a preset trained on one.

```python
scores = reczoo.predict("./my_deepfm", "new_clicks.csv").scores
```

From the shell `reczoo predict --preset=DIR --data_file=F --output=scores.csv`.
The rows are read under the schema the preset was trained with (its
metadata holds it): raw column values in, one score per row out; values the
preset never saw get the out-of-vocabulary row, numerical columns the
preset's fitted transforms. The label column may be absent; where it is
there, the scores are also evaluated (AUC, log loss).
"""

import dataclasses

import numpy as np

from reczoo.presets import PresetError, from_preset


@dataclasses.dataclass
class Predictions:
    """`scores` (one per row, in file order), `metrics` where the rows
    carry labels (else `{}`), the `data` read, and `unknown`: per column,
    how many rows held a value the preset never saw."""

    scores: np.ndarray
    metrics: dict
    data: object
    unknown: dict


def predict(preset, path, batch_size=8192):
    """Scores new rows of a click log with a preset trained on one.

    The rows are read with the preset's own schema (its fitted transforms and
    vocabularies): raw values in, one probability per row out.

    Args:
        preset: a folder, a built-in name or a URL of a model trained on a
            click log read under a schema (`reczoo train --data_file=...
            --label_col=...`, or `reczoo.run` on `load_table`'s dataset).
        path: the rows: a file, a folder or glob of parts, CSV or parquet.
        batch_size: rows scored per batch.

    Returns:
        `Predictions`: the scores and the rows' kept columns.

    Raises:
        ValueError: the rows lack columns the preset reads.
        reczoo.PresetError: the preset was not trained on a click log.

    Example:
        ```python
        reczoo.datasets.write_examples()
        data = reczoo.datasets.load_table(
            "shop_clicks.csv", label="clicked", categorical=["C1", "C2", "C3", "C4", "C5", "C6"],
            numerical=["I1", "I2", "I3"], multi={"tags": "|"}, drop=["id"],
        )
        reczoo.run("fm", data, epochs=1, output="shop_model", verbose=0)
        predictions = reczoo.predict("shop_model", "shop_clicks.csv")
        ```
    """
    from reczoo.datasets.click_logs import read_for
    from reczoo.metrics.pointwise import auc, logloss

    task = from_preset(preset, compile=False)
    meta = task.preset_metadata or {}
    schema = meta.get("schema")
    if not schema or "label" not in [c["role"] for c in schema["columns"].values()]:
        raise PresetError(
            f"{preset!r} was not trained on a click log read under a schema (reczoo train "
            "--data_file=... --label_col=..., or --schema): `predict` reads new rows as its "
            "training rows were read. Use `reczoo recommend` for interaction presets."
        )
    data = read_for(schema, path, task.vocabularies, meta.get("schema_fitted"))
    unknown = {}
    for name, ids in data.categorical.items():
        if name in task.vocabularies:
            raw = data.schema.table.get(name)
            missing = int(np.sum(ids == 0)) if raw is not None else 0
            if missing:
                unknown[name] = missing
    spec = task.feature_spec
    features = data.features()
    absent = [f.name for f in spec if f.name not in features]
    if absent:
        raise ValueError(f"The rows of {path} lack columns the preset reads: {absent}.")
    scores = task.score({f.name: features[f.name] for f in spec}, batch_size=batch_size)
    metrics = {}
    if data.labelled and task.objective == "binary":
        metrics = {"auc": auc(data.labels, scores), "logloss": logloss(data.labels, scores)}
    return Predictions(scores, metrics, data, unknown)
