"""Item and user tables joined to your data, and feature columns of an
interactions file attached to their item or user: per-owner arrays (row =
the item's or user's id) read through a `click_logs` reader, whose value
checks name the side table's own file and lines."""

from pathlib import Path

import numpy as np

from reczoo.datasets.base import CTRDataset, HashedVocabulary, Vocabulary
from reczoo.datasets.schema import SchemaError, position
from reczoo.datasets.sources import DatasetError
from reczoo.datasets.tables import column_index, read_columns, relative_name
from reczoo.provenance import sha256_of


def read_side(reader, owner, side, owner_vocab):
    """A side table read into per-owner arrays: `{column: (array, vocab,
    Column)}`, row = the owner's id, row 0 and owners it lacks 0."""
    names, columns, _, parts = read_columns(side.path, side.sep, side.header, side.encoding)
    where = Path(side.path)
    reader._check_columns(side, names, where)
    keys = columns[column_index(names, position(side.key, side.header), where, "key")]
    values, counts = np.unique(np.asarray(keys), return_counts=True)
    if (counts > 1).any():
        twice = str(values[np.flatnonzero(counts > 1)[0]])
        raise DatasetError(f"{where}: key {side.key!r} holds {twice!r} on more than one "
                           "line; a side table has one line per key.")  # fmt: skip
    for part, _ in parts:
        reader.extra_files[relative_name(part, where)] = {"sha256": sha256_of(part)}
    rows = owner_vocab.encode(np.asarray(keys))
    missing = owner_vocab.size - 1 - len(np.unique(rows[rows > 0]))
    if missing:
        reader.notes.append(
            f"{missing} of {owner_vocab.size - 1} {owner}s are not in {where.name}: they "
            "get the out-of-vocabulary row of its features."
        )
    sub = reader.sub(where, side)
    chosen = [c for c in side.columns if c.role != "drop"]
    got = {c.name: np.asarray(reader.values(c, names, columns, side)) for c in chosen}
    return by_owner(sub, owner_vocab.size, rows, chosen, got)


def by_owner(reader, size, rows, chosen, got):
    """Per-owner arrays of the columns `chosen` (`got`: their raw values,
    `rows`: each value's owner id, 0 for an unknown owner)."""
    known = rows > 0
    out = {}
    for column in chosen:
        raw = got[column.name][known]
        if column.role == "numerical":
            numbers = reader._numbers(column, list(raw), "float64")
            if column.transform == "log1p":
                numbers = np.log1p(np.maximum(numbers, 0.0))
            array = np.zeros(size, dtype="float32")
            array[rows[known]] = numbers
            out[column.name] = (array, None, column)
        elif column.role == "categorical":
            if column.hash_buckets:
                vocab = HashedVocabulary(column.name, column.hash_buckets)
                ids = vocab.encode(raw)
            else:
                found, counts = np.unique(raw, return_counts=True)
                vocab = Vocabulary(column.name, [v for v, c in zip(found.tolist(),
                                   counts.tolist(), strict=True)
                                   if v and c >= column.min_count])  # fmt: skip
                ids = vocab.encode(raw)
            array = np.zeros(size, dtype="int32")
            array[rows[known]] = ids
            out[column.name] = (array, vocab, column)
        else:  # multi
            holder = CTRDataset(name="side", labels=np.zeros(len(raw)), categorical={})
            reader._bags(holder, column, list(raw))
            bags = holder.multi_hot[column.name]
            array = np.zeros((size, bags.shape[1]), dtype="int32")
            array[rows[known]] = bags
            out[column.name] = (array, holder.vocabularies.get(column.name), column)
    return out


def inline(reader, data):
    """Feature columns of an interactions file: each belongs to the item
    (one value per item) or else to the user (one value per user), as
    if read from an item or user table."""
    chosen = [c for c in reader.table.columns if c.role in ("categorical", "numerical", "multi")]
    found = {"item": [], "user": []}
    for column in chosen:
        raw = np.asarray(reader.values(column))
        for owner, ids in (("item", data.items), ("user", data.users)):
            pairs = np.unique(np.stack([ids.astype(str), raw]), axis=1)
            if len(np.unique(pairs[0])) == pairs.shape[1]:
                found[owner].append(column)
                break
        else:
            raise SchemaError(
                f"{column.role} column {column.name!r} of {reader.where} takes more than one "
                "value for an item and for a user: a feature of the interaction itself "
                "needs a click log (give a label column: --label_col)."
            )
    for owner, ids in (("item", data.items), ("user", data.users)):
        if not found[owner]:
            continue
        first = np.unique(ids, return_index=True)[1]
        got = {c.name: np.asarray(reader.values(c))[first] for c in found[owner]}
        features = data.item_features if owner == "item" else data.user_features
        size = len(data.vocabularies[owner])
        for name, (array, vocab, _) in by_owner(reader, size, ids[first], found[owner],
                                                      got).items():  # fmt: skip
            features[name] = array
            if vocab is not None:
                data.vocabularies[f"{owner}.{name}"] = vocab


def join_rows(reader, data, owner, side, raw_keys):
    """A click log's rows get their item's (user's) columns."""
    owner_vocab = Vocabulary(owner, sorted(set(raw_keys.tolist()) - {""}))
    joined = read_side(reader, owner, side, owner_vocab)
    ids = owner_vocab.encode(raw_keys)
    for name, (array, vocab, column) in joined.items():
        if name in data.features(slice(0, 0)):
            raise SchemaError(f"The {owner} table's column {name!r} is also a column of the "
                              "data file: rename or drop one.")  # fmt: skip
        if column.role == "numerical":
            data.numerical[name] = array[ids]
            if column.transform in ("standardize", "bucketize"):
                data.pending[name] = column
        elif array.ndim == 1:
            data.categorical[name] = array[ids]
        else:
            data.multi_hot[name] = array[ids]
        if vocab is not None:
            data.vocabularies[name] = vocab
        if column.embedding_dim:
            data.embedding_dims[name] = column.embedding_dim


# --- interactions -------------------------------------------------------
