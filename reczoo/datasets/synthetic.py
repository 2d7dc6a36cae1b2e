"""Synthetic click logs in Criteo's format, with a signal a model can learn.

For tests, examples and memory measurements where the real `train.txt`
(45 million rows, 11 GB) is not at hand: the same layout (label, 13 integer
and 26 categorical hex fields, tab-separated, empty when missing), heavy-
tailed value frequencies, and labels drawn from a logistic model over the
values, so that AUC measures something.
"""

from pathlib import Path

import numpy as np

from reczoo.datasets.shards import CRITEO_CATEGORICAL, CRITEO_INTEGER

# Distinct values per categorical column: a few large columns, many small.
DEFAULT_CARDINALITY = (
    1_000, 500, 20_000, 10_000, 200, 20, 5_000, 500, 3, 10_000, 3_000, 20_000, 2_000,
    20, 5_000, 20_000, 10, 2_000, 1_000, 4, 20_000, 10, 15, 10_000, 50, 5_000,
)  # fmt: skip


def synthetic_criteo(path, rows, seed=0, cardinality=DEFAULT_CARDINALITY, chunk_rows=100_000):
    """Writes `rows` lines of a Criteo-format click log to `path`.

    The model behind the labels (its weights drawn from `seed`) is the same
    for every `rows`, and the first `n` rows of a longer file are the rows of
    a file of `n` rows: files of 10x the rows grow the same data.

    Args:
        path: the file to write (Criteo's `train.txt` layout).
        rows: how many lines.
        seed: draws the value tables, the weights and the rows.
        cardinality: distinct values of each of the 26 categorical columns.
        chunk_rows: lines generated at once (memory stays bounded).

    Returns:
        The `Path` written.
    """
    if len(cardinality) != len(CRITEO_CATEGORICAL):
        raise ValueError(
            f"cardinality needs one size per categorical column ({len(CRITEO_CATEGORICAL)}). "
            f"Received: {len(cardinality)}"
        )
    model = np.random.default_rng([seed, 0])
    # Each column's values: distinct 8-digit hex strings, as Criteo's hashes.
    tables = []
    for size in cardinality:
        codes = model.choice(2**32, size=size, replace=False)
        tables.append(np.array([f"{c:08x}" for c in codes], dtype=object))
    weights = [model.normal(0.0, 0.35, size) for size in cardinality]
    slopes = model.normal(0.0, 0.3, len(CRITEO_INTEGER))
    scales = model.uniform(1.0, 300.0, len(CRITEO_INTEGER))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for k, start in enumerate(range(0, rows, chunk_rows)):
            # Whole chunks are drawn, the last one cut: a longer file holds
            # the shorter one's rows.
            n, keep = chunk_rows, min(chunk_rows, rows - start)
            draw = np.random.default_rng([seed, 1, k])
            logit = np.full(n, -1.6)
            fields = []
            for j in range(len(CRITEO_INTEGER)):
                x = np.floor(draw.exponential(scales[j], n)).astype("int64")
                logit += slopes[j] * (np.log1p(x) - np.log1p(scales[j]))
                text = x.astype(str).astype(object)
                text[draw.random(n) < 0.1] = ""
                fields.append(text)
            for size, table, w in zip(cardinality, tables, weights, strict=True):
                # Zipf-like frequencies: low ranks are the common values.
                ids = np.minimum(np.floor(size ** draw.random(n)).astype("int64") - 1, size - 1)
                logit += w[ids]
                text = table[ids]
                text[draw.random(n) < 0.04] = ""
                fields.append(text)
            labels = (draw.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int).astype(str)
            lines = [
                "\t".join(r) for r in zip(labels[:keep], *(f[:keep] for f in fields), strict=True)
            ]
            f.write("\n".join(lines) + "\n")
    return path
