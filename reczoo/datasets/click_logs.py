"""Your own click log with features: a label column and feature columns,
read into a `CTRDataset` that every ranking model takes.

```python
data = reczoo.datasets.load_table(
    "clicks.csv", label="Label", categorical=["C1", "C2"], numerical=["I1"]
)
```

From the shell the same columns are flags (`--label_col`, `--categorical_cols`,
`--numerical_cols`, `--multi_cols`, `--drop_cols`), ranges such as `C1-C26`
accepted.
"""

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from reczoo.datasets.base import CTRDataset, Vocabulary
from reczoo.datasets.sources import DatasetError
from reczoo.datasets.tables import column_index, parse_numbers, read_table
from reczoo.provenance import sha256_of

TRANSFORMS = ("none", "log1p")


def column_list(text):
    """`"C1-C26,I3,tag"` to `["C1", ..., "C26", "I3", "tag"]`: a range is a
    prefix with two numbers (`C1-C26`); any other item is one column."""
    out = []
    for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
        found = re.fullmatch(r"([^\d,-]*)(\d+)-\1?(\d+)", part)
        if found and int(found[2]) <= int(found[3]):
            prefix, first, last = found[1], int(found[2]), int(found[3])
            out += [f"{prefix}{k}" for k in range(first, last + 1)]
        else:
            out.append(part)
    return out


def load_table(
    path,
    label,
    categorical=(),
    numerical=(),
    multi=None,
    drop=(),
    min_count=1,
    numerical_transform="none",
    sep=None,
    header=True,
    encoding="utf-8",
    name=None,
):
    """Reads a labelled table (CSV, TSV, compressed or not) as a `CTRDataset`.

    Args:
        path: the file.
        label: the label column: 0 or 1 on every line.
        categorical: columns of one id per row; values seen fewer than
            `min_count` times, and empty ones, share id 0.
        numerical: columns of numbers (empty: 0), with `numerical_transform`
            (`"none"`, or `"log1p"`: `log(1 + x)` for x > 0, else 0, as for
            Criteo's counts).
        multi: `{column: separator}` of bags such as `Action|Comedy`, pooled.
        drop: columns to leave out. Every other column must have a role.
        sep, header, encoding: how to read the file (the separator is
            sniffed when None).
        name: the dataset's name (default: the file's).

    Returns:
        A `CTRDataset`; `data.feature_spec()` is its `FeatureSpec`.
    """
    path = Path(path)
    multi = dict(multi or {})
    if numerical_transform not in TRANSFORMS:
        raise ValueError(
            f"numerical_transform must be one of {TRANSFORMS}. Received: {numerical_transform!r}"
        )
    names, columns, sep = read_table(path, sep=sep, header=header, encoding=encoding)
    _check_roles(path, names, header, label, categorical, numerical, multi, drop)
    first = 2 if header else 1
    labels = _labels(columns[column_index(names, label, path, "label")], path, label, first)
    data = CTRDataset(name=name or path.name.split(".")[0], labels=labels, categorical={})
    # Features are named by the header, or by position ("14") without one.
    for column in categorical:
        at = column_index(names, column, path, "categorical")
        feature = names[at]
        data.vocabularies[feature], data.categorical[feature] = _ids(
            feature, np.asarray(columns[at]), min_count
        )
    for column in numerical:
        at = column_index(names, column, path, "numerical")
        data.numerical[names[at]] = _numbers(
            columns[at], path, names[at], first, numerical_transform
        )
    for column, separator in multi.items():
        at = column_index(names, column, path, "multi")
        data.vocabularies[names[at]], data.multi_hot[names[at]] = _bags(
            names[at], columns[at], separator
        )
    digest = sha256_of(path)
    choices = [digest, label, list(categorical), list(numerical), multi, list(drop), min_count,
               numerical_transform, sep, header, encoding]  # fmt: skip
    data.sha256 = hashlib.sha256(json.dumps(choices).encode()).hexdigest()
    data.files = {path.name: {"sha256": digest, "lines": first - 1 + len(labels)}}
    return data


def _check_roles(path, names, header, label, categorical, numerical, multi, drop):
    """Every column named is found and has one role; with a header, every
    column of the file has one (or is dropped)."""
    roles = {"label": [label], "categorical": list(categorical), "numerical": list(numerical),
             "multi": list(multi), "drop": list(drop)}  # fmt: skip
    seen = {}
    for role, given in roles.items():
        for column in given:
            column_index(names, column, path, role)  # lists the columns found
            if column in seen:
                raise ValueError(f"Column {column!r} of {path} is given two roles: "
                                 f"{seen[column]} and {role}.")  # fmt: skip
            seen[column] = role
    if not (roles["categorical"] or roles["numerical"] or roles["multi"]):
        raise ValueError(f"{path}: no feature columns; give categorical, numerical or multi ones.")
    left = [n for n in names if n not in seen]
    if header and left:
        raise ValueError(
            f"Columns {left} of {path} have no role: give each one (categorical, numerical, "
            "multi) or leave them out with drop (--drop_cols)."
        )


def _labels(values, path, column, first):
    labels = parse_numbers(values, path, column, "float32", first)
    bad = np.flatnonzero((labels != 0) & (labels != 1))
    if bad.size:
        raise DatasetError(
            f"{path}, line {first + int(bad[0])}: label column {column!r} should be 0 or 1. "
            f"Received: {values[int(bad[0])]!r}"
        )
    return labels


def _ids(column, raw, min_count):
    values, counts = np.unique(raw, return_counts=True)
    keep = [v for v, c in zip(values.tolist(), counts.tolist(), strict=True)
            if v != "" and c >= min_count]  # fmt: skip
    vocab = Vocabulary(column, keep)
    return vocab, vocab.encode(raw)


def _numbers(values, path, column, first, transform):
    filled = ["0" if not v.strip() else v for v in values]
    numbers = parse_numbers(filled, path, column, "float64", first)
    if transform == "log1p":
        numbers = np.log1p(np.maximum(numbers, 0.0))
    return numbers.astype("float32")


def _bags(column, raw, separator):
    bags = [[t for t in value.split(separator) if t] for value in raw]
    vocab = Vocabulary(column, sorted({t for bag in bags for t in bag}))
    width = max(1, max((len(b) for b in bags), default=1))
    ids = np.zeros((len(bags), width), dtype="int32")
    for row, bag in enumerate(bags):
        if bag:
            ids[row, : len(bag)] = vocab.encode(np.asarray(bag))
    return vocab, ids
