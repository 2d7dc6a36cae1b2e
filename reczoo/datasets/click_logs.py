"""Your own data under a schema: a click log with features (a `CTRDataset`)
or interactions (an `InteractionDataset`), with item and user tables joined.

```python
data = reczoo.datasets.load_table(
    "clicks.csv", label="Label", categorical=["C1", "C2"], numerical=["I1"]
)
data = reczoo.datasets.load_table("clicks.parquet", schema="schema.json")
```

From the shell the same columns are flags (`--label_col`, `--categorical_cols`,
`--numerical_cols`, `--multi_cols`, `--drop_cols`, ranges such as `C1-C26`
accepted), or a schema file (`--schema=schema.json`).
"""

import dataclasses
import datetime
import hashlib
import json
from pathlib import Path

import numpy as np

from reczoo.datasets import side_tables
from reczoo.datasets.base import CTRDataset, HashedVocabulary, Vocabulary, hash_ids
from reczoo.datasets.schema import (
    ID_ROLES,
    TRANSFORMS,
    Schema,
    SchemaError,
    column_list,
    position,
)
from reczoo.datasets.sources import DatasetError
from reczoo.datasets.tables import column_index, parse_numbers, read_columns, relative_name
from reczoo.provenance import sha256_of

__all__ = ["TRANSFORMS", "column_list", "fit_transforms", "hash_ids", "load_table"]

STAGES = ("train", "valid", "test")


def load_table(
    path,
    label=None,
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
    user=None,
    item=None,
    rating=None,
    time=None,
    item_table=None,
    user_table=None,
    schema=None,
):
    """Reads your data under a schema: given here column by column, or as a
    `Schema` (or the path of a schema file).

    Args:
        path: a file (CSV, TSV, compressed or not, parquet), a folder or glob
            of parts read as one table, or `{"train": ..., "valid": ...,
            "test": ...}`: files that are the split (protocol `fixed_split`).
        label: the label column (0 or 1 on every line): the data is a click
            log. Without one it is interactions (`user` and `item` columns).
        categorical: columns of one id per row; values seen fewer than
            `min_count` times, and empty ones, share id 0.
        numerical: columns of numbers (empty: 0), with `numerical_transform`.
        multi: `{column: separator}` of bags such as `Action|Comedy`, pooled.
        drop: columns to leave out. With a header, every other column must
            have a role.
        min_count: categorical values seen fewer times share id 0.
        numerical_transform: `"none"`, `"log1p"` (log(1 + x)), `"standardize"`
            or `"bucketize"`; the last two are fitted on training rows only.
        user: the user column (in a click log a categorical feature that
            names who clicked).
        item: the item column (a categorical feature that names what).
        rating: the rating column, if any.
        time: the time column, if any (it orders a `temporal_split`).
        item_table: `{"path", "key", "categorical", "numerical", "multi",
            "drop"}` (`reczoo.datasets.schema.side_table`'s arguments): a
            table joined on the item column, its columns features of the item.
        user_table: the same for the user column.
        sep: the files' separator (sniffed when None).
        header: whether the files have a header row.
        encoding: the files' encoding.
        name: the dataset's name (default: the file's).
        schema: a `Schema`, a dict, or a schema file; instead of the column
            arguments.

    Returns:
        A `CTRDataset` or an `InteractionDataset`; `data.feature_spec()` is
        its `FeatureSpec`, `data.schema` the schema it was read with, and
        `data.notes` what was noticed on the way (columns that cannot help,
        keys missing from a side table).

    Example:
        ```python
        reczoo.datasets.write_examples()
        data = reczoo.datasets.load_table(
            "shop_clicks.csv", label="clicked", categorical=["C1", "C2", "C3", "C4", "C5", "C6"],
            numerical=["I1", "I2", "I3"], numerical_transform="log1p", multi={"tags": "|"},
            drop=["id"],
        )
        model = reczoo.get_model("deepfm", feature_spec=data.feature_spec())
        ```
    """
    if schema is None:
        schema = Schema.from_options(
            label=label, categorical=categorical, numerical=numerical, multi=multi, drop=drop,
            user=user, item=item, rating=rating, time=time, min_count=min_count,
            numerical_transform=numerical_transform, sep=sep, header=header, encoding=encoding,
            item_table=item_table, user_table=user_table,
        )  # fmt: skip
    elif isinstance(schema, dict):
        schema = Schema.from_dict(schema)
    elif not isinstance(schema, Schema):
        schema = Schema.load(schema)
    return _Reader(schema, path, name).read()


class _Reader:
    """Reads one dataset under a schema; every message names the file, the
    column and, for a bad value, its line."""

    def __init__(self, schema, path, name, optional_label=False):
        self.schema, self.table, self.notes = schema, schema.table, []
        # Scoring new rows (`reczoo predict`): a file without the label reads.
        self.optional_label = optional_label
        self.unlabelled = False
        self.extra_files = {}  # side tables' files
        if isinstance(path, dict):
            unknown = set(path) - set(STAGES)
            if unknown or "train" not in path or "test" not in path:
                raise SchemaError(
                    "Split files are {'train': ..., 'test': ...} and optionally 'valid'. "
                    f"Received: {sorted(path)}"
                )
            self.paths = {s: Path(path[s]) for s in STAGES if path.get(s) is not None}
        else:
            self.paths = {"all": Path(path)}
        self.where = self.paths.get("all", self.paths.get("train"))
        self.name = name or _stem(self.where)

    def read(self):
        names, columns, first_lines, bounds, files = self._read_files()
        self.names, self.columns, self.first_lines = names, columns, first_lines
        self._check_columns(self.table, names, self.where)
        data = self._click_log() if self.schema.kind == "ctr" else self._interactions()
        data.labelled = not self.unlabelled
        if len(bounds) > 1:
            data.fixed_split = {s: np.arange(a, b) for s, (a, b) in bounds.items()}
            data.fixed_split.setdefault("valid", np.arange(0))
        data.files = {**files, **self.extra_files}
        # The schema as read: a sniffed separator is written down.
        table = self.table
        if self.unlabelled:  # rows to score: the schema keeps its label
            table = self.schema.table.with_format(table.sep, table.header, table.encoding)
        data.schema = dataclasses.replace(self.schema, table=table)
        choices = [sorted((k, v["sha256"]) for k, v in data.files.items()), data.schema.to_dict(),
                   {s: str(p.name) for s, p in self.paths.items()}]  # fmt: skip
        data.sha256 = hashlib.sha256(json.dumps(choices).encode()).hexdigest()
        data.notes = self.notes
        return data

    # --- files ------------------------------------------------------------

    def _read_files(self):
        table = self.table
        names = columns = None
        bounds, files, first_lines = {}, {}, []
        rows = 0
        for stage, path in self.paths.items():
            found, cols, sep, parts = read_columns(path, table.sep, table.header, table.encoding)
            if table.sep is None and sep is not None:
                self.table = table = table.with_format(sep, table.header, table.encoding)
            if names is None:
                names, columns = found, cols
            elif found != names:
                raise DatasetError(f"{path} has columns {found}, but {self.where} has {names}: "
                                   "split files must share their columns.")  # fmt: skip
            else:
                for column, more in zip(columns, cols, strict=True):
                    column.extend(more)
            for part, count in parts:
                skip = 1 if table.header and not _is_parquet_name(part) else 0
                first_lines.append((rows, part, 1 + skip))
                files[relative_name(part, path)] = {
                    "sha256": sha256_of(part),
                    "lines": count + skip,
                }
                rows += count
            bounds[stage] = (rows - sum(c for _, c in parts), rows)
        return names, columns, first_lines, bounds, files

    def sub(self, where, table):
        """A reader of a side table `table` in file `where`, sharing the notes."""
        return _SubReader(self, where, table)

    def line(self, row):
        """`(file, line)` of a row of the concatenated table."""
        for start, part, first in reversed(self.first_lines):
            if row >= start:
                return part, first + row - start
        return self.where, row + 1  # pragma: no cover

    def _check_columns(self, table, names, where):
        if self.optional_label and table is self.table:
            label = table.one("label")
            if label is not None and label.name not in names:
                self.table = table = dataclasses.replace(
                    table, columns=tuple(c for c in table.columns if c.role != "label")
                )
                self.unlabelled = True
        for column in table.columns:
            column_index(names, position(column.name, table.header), where, column.role)
        if table.key is not None:
            column_index(names, position(table.key, table.header), where, "key")
        if table.header and not self.optional_label:  # scoring reads only the columns it needs
            given = {c.name for c in table.columns} | {table.key}
            left = [n for n in names if n not in given]
            if left:
                raise SchemaError(
                    f"Columns {left} of {where} have no role: give each one (categorical, "
                    "numerical, multi, ...) or leave them out with drop (--drop_cols)."
                )

    def values(self, column, names=None, columns=None, table=None):
        table = table or self.table
        names, columns = names or self.names, columns or self.columns
        return columns[column_index(names, position(column.name, table.header), self.where,
                                    column.role)]  # fmt: skip

    def bad(self, row, column, expected, value):
        path, line = self.line(row)
        raise DatasetError(
            f"{path}, line {line}: {column.role} column {column.name!r} should be {expected}. "
            f"Received: {value!r}"
        )

    # --- a click log --------------------------------------------------------

    def _click_log(self):
        table = self.table
        label = table.one("label")
        if label is None:  # new rows to score, without their label
            rows = len(self.columns[0])
            data = CTRDataset(name=self.name, labels=np.zeros(rows, "float32"), categorical={})
            return self._click_log_features(data)
        raw_labels = self.values(label)
        labels = self._numbers(label, raw_labels, "float32")
        wrong = np.flatnonzero((labels != 0) & (labels != 1))
        if wrong.size:
            self.bad(int(wrong[0]), label, "0 or 1", raw_labels[int(wrong[0])])
        data = CTRDataset(name=self.name, labels=labels, categorical={})
        return self._click_log_features(data)

    def _click_log_features(self, data):
        table = self.table
        if table.one("rating") is not None:
            raise SchemaError(
                f"A click log's label is its target: give the rating column "
                f"{table.one('rating').name!r} the role numerical, or drop it."
            )
        for column in table.columns:
            if column.role in ("categorical", "user", "item"):
                self._categorical(data, column, np.asarray(self.values(column)))
            elif column.role == "numerical":
                self._numerical(data, column, self.values(column))
            elif column.role in ("multi", "sequence"):
                self._bags(data, column, self.values(column))
        if table.one("user") is not None:
            data.user_column = table.one("user").name
        if table.one("item") is not None:
            data.item_column = table.one("item").name
        if table.one("time") is not None:
            data.timestamps = self._times(table.one("time"))
        for owner in ("item", "user"):
            side = getattr(self.schema, f"{owner}_table")
            if side is not None:
                raw_keys = np.asarray(self.values(table.one(owner)))
                side_tables.join_rows(self, data, owner, side, raw_keys)
        return data

    def _categorical(self, data, column, raw):
        name = column.name
        if column.hash_buckets:
            vocab = HashedVocabulary(name, column.hash_buckets)
            data.vocabularies[name], data.categorical[name] = vocab, vocab.encode(raw)
        else:
            values, counts = np.unique(raw, return_counts=True)
            keep = [v for v, c in zip(values.tolist(), counts.tolist(), strict=True)
                    if v != "" and c >= column.min_count]  # fmt: skip
            vocab = Vocabulary(name, keep)
            data.vocabularies[name], data.categorical[name] = vocab, vocab.encode(raw)
            self._check_ids(column, values, counts, len(raw), kept=len(keep))
        if column.embedding_dim:
            data.embedding_dims[name] = column.embedding_dim

    def _check_ids(self, column, values, counts, rows, kept):
        """Notes on a categorical column that cannot help a model."""
        empty = len(values) == 1 and values[0] == ""
        where = f"{column.role} column {column.name!r}"
        if empty:
            self.notes.append(f"{where} is empty on every row: drop it.")
        elif len(values) == 1:
            self.notes.append(f"{where} holds one value ({values[0]!r}) on every row: it "
                              "cannot tell rows apart; drop it.")  # fmt: skip
        elif len(values) == rows and rows >= 100 and column.role == "categorical":
            self.notes.append(
                f"{where} has a distinct value on every row (an id?): no value is seen twice, "
                "so none can be learned; drop it, or hash it (hash_buckets) if new rows share "
                "its values."
            )
        elif kept == 0:
            self.notes.append(f"{where}: no value is seen min_count={column.min_count} times; "
                              "every row gets the out-of-vocabulary id. Lower min_count.")  # fmt: skip

    def _numbers(self, column, values, dtype):
        filled = ["0" if not v.strip() else v for v in values]
        try:
            return parse_numbers(filled, self.where, column.name, dtype, 1)
        except DatasetError:
            numbers = np.empty(len(filled), dtype=dtype)
            for row, value in enumerate(filled):
                try:
                    numbers[row] = parse_numbers([value], self.where, column.name, dtype, 1)[0]
                except DatasetError:
                    self.bad(row, column, "a number", values[row])
            return numbers  # pragma: no cover

    def _numerical(self, data, column, values):
        numbers = self._numbers(column, values, "float64")
        if column.transform == "log1p":
            numbers = np.log1p(np.maximum(numbers, 0.0))
        elif column.transform in ("standardize", "bucketize"):
            data.pending[column.name] = column  # fitted on the training rows
        if len(np.unique(numbers)) == 1:
            self.notes.append(f"numerical column {column.name!r} holds one value on every row: "
                              "it cannot tell rows apart; drop it.")  # fmt: skip
        data.numerical[column.name] = numbers.astype("float32")

    def _bags(self, data, column, values):
        name = column.name
        bags = [[t for t in value.split(column.separator) if t] for value in values]
        share = column.role == "sequence" and self.table.one("item") is not None
        if share:
            # A history of items: read with the item column's vocabulary and
            # table, so that the history and the candidate share embeddings.
            item = self.table.one("item").name
            vocab = data.vocabularies.get(item)
            if vocab is None:
                raise SchemaError(f"sequence column {name!r} is read after the item column: "
                                  "list the item column first.")  # fmt: skip
            data.tables[item] = data.tables[name] = item
        elif column.hash_buckets:
            vocab = HashedVocabulary(name, column.hash_buckets)
        else:
            flat, counts = np.unique([t for bag in bags for t in bag] or [""], return_counts=True)
            vocab = Vocabulary(name, [v for v, c in zip(flat.tolist(), counts.tolist(),
                                                        strict=True)
                                      if v and c >= column.min_count])  # fmt: skip
        width = column.max_length or max(1, max((len(b) for b in bags), default=1))
        ids = np.zeros((len(bags), width), dtype="int32")
        for row, bag in enumerate(bags):
            bag = bag[-width:] if column.role == "sequence" else list(dict.fromkeys(bag))[:width]
            if bag:
                encoded = vocab.encode(np.asarray(bag))
                # Histories are left-padded (the latest item last), bags right-padded.
                start = width - len(bag) if column.role == "sequence" else 0
                ids[row, start : start + len(bag)] = encoded
        if vocab is not None and not share:
            data.vocabularies[name] = vocab
        if column.role == "sequence":
            data.sequences[name] = ids
        else:
            data.multi_hot[name] = ids
        if column.embedding_dim:
            data.embedding_dims[name] = column.embedding_dim

    def _times(self, column):
        values = self.values(column)
        try:
            return parse_numbers(values, self.where, column.name, "int64", 1)
        except DatasetError:
            pass
        out = np.empty(len(values), dtype="int64")
        for row, value in enumerate(values):
            try:
                moment = datetime.datetime.fromisoformat(value.strip())
            except ValueError:
                self.bad(row, column, "an integer timestamp or an ISO date", value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=datetime.UTC)
            out[row] = int(moment.timestamp())
        return out

    def _interactions(self):
        from reczoo.datasets.preprocessing import build_interactions

        table = self.table
        raw = {}
        for role in ("user", "item"):
            column = table.one(role)
            raw[role] = np.asarray(self.values(column))
            empty = np.flatnonzero(np.char.str_len(np.char.strip(raw[role].astype(str))) == 0)
            if empty.size:
                self.bad(int(empty[0]), column, f"a {role} id", raw[role][int(empty[0])])
        ratings = timestamps = None
        if table.one("rating") is not None:
            ratings = self._numbers(table.one("rating"), self.values(table.one("rating")),
                                    "float32")  # fmt: skip
        if table.one("time") is not None:
            timestamps = self._times(table.one("time"))
        data = build_interactions(self.name, raw["user"], raw["item"], ratings, timestamps)
        side_tables.inline(self, data)
        for owner in ("item", "user"):
            side = getattr(self.schema, f"{owner}_table")
            if side is None:
                continue
            features = data.item_features if owner == "item" else data.user_features
            for name, (array, vocab, _) in side_tables.read_side(
                self, owner, side, data.vocabularies[owner]
            ).items():
                features[name] = array
                if vocab is not None:
                    data.vocabularies[f"{owner}.{name}"] = vocab
        data.declared_features = bool(data.item_features or data.user_features)
        return data


class _SubReader(_Reader):
    """The reader's value checks on a side table (its own file and lines)."""

    def __init__(self, parent, where, table):
        self.schema, self.table, self.notes = parent.schema, table, parent.notes
        self.where, self.first_lines = where, [(0, where, 2 if table.header else 1)]


def _stem(path):
    name = Path(path).name
    return name.split(".")[0] or name


def _is_parquet_name(part):
    from reczoo.datasets.tables import is_parquet

    return is_parquet(part)


def read_for(schema, path, vocabularies, fitted=None):
    """New rows (a file, folder, glob or parquet) read as a preset trained
    under `schema` reads them: every value through the preset's
    `vocabularies` (values it never saw get the out-of-vocabulary id 0),
    numerical columns through its `fitted` transforms. The label column may
    be absent (`data.labelled` says). Returns a `CTRDataset`."""
    if not isinstance(schema, Schema):
        schema = Schema.from_dict(schema)
    # The preset's vocabularies decide what is known: count nothing here.
    columns = tuple(
        dataclasses.replace(c, min_count=1) if c.role in (*ID_ROLES, "user", "item") else c
        for c in schema.table.columns
    )
    schema = dataclasses.replace(schema, table=dataclasses.replace(schema.table, columns=columns))
    data = _Reader(schema, path, None, optional_label=True).read()
    labelled = data.labelled
    data, growth = data.aligned(vocabularies)
    for name, (known, grown) in growth.items():
        for store in (data.categorical, data.multi_hot, data.sequences):
            if name in store and grown > known:
                store[name] = np.where(store[name] >= known, 0, store[name]).astype("int32")
    if fitted:
        data = dataclasses.replace(data, transform_state=dict(fitted))
    data = fit_transforms(data, np.arange(0))
    data.labelled = labelled
    return data


def fit_transforms(data, rows):
    """`data` with its standardize and bucketize columns fitted on `rows`
    (the training rows) and applied to every row: standardized columns stay
    numerical, bucketized ones become categorical (an id per quantile bin,
    0 for none). The fitted values are in `data.transform_state`."""
    if not getattr(data, "pending", None):
        return data
    numerical, categorical = dict(data.numerical), dict(data.categorical)
    vocabularies, state = dict(data.vocabularies), {}
    given = data.transform_state or {}  # a preset's, when fine-tuning
    for name, column in data.pending.items():
        values = data.numerical[name].astype("float64")
        train = values[rows] if len(rows) else values
        known = given.get(name, {})
        if known.get("transform", column.transform) != column.transform:
            raise SchemaError(f"numerical column {name!r} is {column.transform}d here, "
                              f"{known['transform']}d in the preset.")  # fmt: skip
        if column.transform == "standardize":
            mean, std = float(train.mean()), float(train.std())
            mean, std = known.get("mean", mean), known.get("std", std)
            std = std if std > 0 else 1.0
            numerical[name] = ((values - mean) / std).astype("float32")
            state[name] = {"transform": "standardize", "mean": mean, "std": std}
        else:
            edges = np.unique(np.quantile(train, np.linspace(0, 1, column.bins + 1)[1:-1]))
            edges = np.asarray(known.get("edges", edges), dtype="float64")
            del numerical[name]
            categorical[name] = (np.searchsorted(edges, values, side="right") + 1).astype("int32")
            vocabularies[name] = Vocabulary(name, [f"bin{k}" for k in range(1, len(edges) + 2)])
            state[name] = {"transform": "bucketize", "edges": edges.tolist()}
    return dataclasses.replace(
        data, numerical=numerical, categorical=categorical, vocabularies=vocabularies,
        pending={}, transform_state=state,
    )  # fmt: skip
