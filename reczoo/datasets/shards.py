"""Sharded datasets: written once into TFRecord files, streamed through tf.data.

A click log too large for memory is converted in one pass (`convert_criteo`,
`convert_table`: read by pyarrow, vocabularies counted on disk, shards
written without TensorFlow; see `reczoo.datasets.conversion`), or a loaded
table is written out (`write_shards`); either way the folder holds

- `manifest.json`: the columns, how each categorical column becomes ids, the
  parts (`train`, `valid`, `test`) with their files, rows and positives, the
  split and the source file's sha256;
- `vocabularies/<column>.txt`: a column's values, one per line, the line
  number being the id (line 0 is the padding token: id 0 is missing or rare);
- `<part>-NNNNN.tfrecord`: shards of about `rows_per_shard` rows. Each record
  is a block of consecutive rows: a `tf.train.Example` whose features are the
  block's columns, each a serialized tensor (`tf.io.serialize_tensor`), so
  that a block is written and parsed without a per-row cost.

`ShardedDataset.dataset(part, ...)` reads them back through tf.data:
shuffled file order, interleaved reads, a bounded shuffle buffer over rows,
per-worker sharding (`tf.distribute.InputContext`), ids looked up or hashed
per batch, prefetch. Memory is bounded by the buffers, not by the rows.
"""

import concurrent.futures
import contextlib
import dataclasses
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np

from reczoo import provenance
from reczoo.datasets import conversion
from reczoo.datasets.base import PAD
from reczoo.datasets.sources import DatasetError
from reczoo.provenance import sha256_of

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PARTS = ("train", "valid", "test")
LABEL = "label"
CRITEO_INTEGER = tuple(f"I{i}" for i in range(1, 14))
CRITEO_CATEGORICAL = tuple(f"C{i}" for i in range(1, 27))


def _tf():
    import tensorflow as tf

    return tf


def _tensor_bytes(values):
    """A column's serialized `TensorProto`: text (pyarrow arrays) as byte
    buffers to join, numbers (numpy) as bytes."""
    if isinstance(values, np.ndarray):
        return conversion.numeric_tensor_proto(values)
    return conversion.string_tensor_pieces(values)


class _PartWriter:
    """Blocks of one part into numbered shard files."""

    def __init__(self, folder, part, rows_per_shard):
        self.folder, self.part, self.rows_per_shard = Path(folder), part, rows_per_shard
        self.files, self.rows, self.positives = [], 0, 0
        self._writer, self._in_file = None, 0

    def write(self, columns):
        n = len(columns[LABEL])
        if n == 0:
            return
        if self._writer is None or self._in_file >= self.rows_per_shard:
            self.close()
            name = f"{self.part}-{len(self.files):05d}.tfrecord"
            self.files.append(name)
            self._writer = conversion.TFRecordFile(self.folder / name)
            self._in_file = 0
        record = conversion.example_bytes({k: _tensor_bytes(v) for k, v in columns.items()})
        self._writer.write(record)
        self._in_file += n
        self.rows += n
        self.positives += int(np.sum(columns[LABEL] > 0.5))

    def close(self):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def entry(self):
        return {"rows": self.rows, "positives": self.positives, "files": self.files}


@contextlib.contextmanager
def _new_folder(folder, overwrite):
    """A shard folder written whole or not at all (`provenance.staged_folder`):
    a failed conversion leaves nothing half-written, and an existing folder is
    replaced only with `overwrite`, once the new one is whole."""
    with provenance.staged_folder(folder, overwrite=overwrite) as work:
        (work / "vocabularies").mkdir()
        yield work


def _finish(work, manifest, writers):
    for w in writers.values():
        w.close()
    manifest["parts"] = {part: w.entry() for part, w in writers.items()}
    (work / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")


def _write_vocabulary(work, column, values):
    text = "".join(f"{v}\n" for v in values)
    (work / "vocabularies" / f"{column}.txt").write_text(text)


def write_shards(
    data, folder, split=None, rows_per_shard=1_000_000, block_rows=4096, overwrite=False
):
    """Writes a loaded `CTRDataset` into shards, its ids as they are.

    Args:
        data: a `CTRDataset`.
        folder: a new (or empty) folder.
        split: a `RowSplit` of `data` (`reczoo.datasets.split`): each part
            gets exactly its rows, in their order. Without one, every row is
            `train`.
        rows_per_shard: rows per file.
        block_rows: rows per record.
        overwrite: replace a non-empty `folder` once the new shards are whole.

    Returns:
        The `ShardedDataset`.
    """
    if getattr(data, "kind", None) != "ctr" or getattr(data, "streaming", False):
        raise TypeError(f"write_shards takes a loaded CTR table. Received: {type(data).__name__}")
    if data.multi_hot or data.sequences:
        raise ValueError(
            f"{data.name!r} has multi-hot or sequence columns; shards hold categorical "
            "and numerical columns only."
        )
    block_rows = min(block_rows, rows_per_shard)
    parts = {p: split.rows(p) if split is not None else None for p in PARTS}
    if split is None:
        parts = {"train": np.arange(data.num_interactions), "valid": [], "test": []}
    with _new_folder(folder, overwrite) as work:
        writers = {p: _PartWriter(work, p, rows_per_shard) for p in PARTS}
        for part, rows in parts.items():
            rows = np.asarray(rows, dtype="int64")
            for start in range(0, len(rows), block_rows):
                chunk = rows[start : start + block_rows]
                columns = {LABEL: data.labels[chunk].astype("float32")}
                columns.update({c: v[chunk].astype("int64") for c, v in data.categorical.items()})
                columns.update({c: v[chunk].astype("float32") for c, v in data.numerical.items()})
                writers[part].write(columns)
        encoding = {}
        for c in data.categorical:
            encoding[c] = {"kind": "ids", "size": len(data.vocabularies[c])}
            _write_vocabulary(work, c, data.vocabularies[c].to_list())
        manifest = {
            "format_version": FORMAT_VERSION,
            "name": data.name,
            "source": {"dataset": data.name, "sha256": data.sha256},
            "categorical": list(data.categorical),
            "numerical": list(data.numerical),
            "encoding": encoding,
            "split": (
                {"protocol": split.protocol.to_dict(), "seed": split.seed}
                if split is not None else {"all": "train"}
            ),
            "block_rows": block_rows,
        }  # fmt: skip
        _finish(work, manifest, writers)
    return ShardedDataset(folder)


def _criteo_layout(path):
    """(separator, has a header) of a Criteo file: Criteo's own `train.txt`
    (tab-separated, no header) or DeepCTR's sample (CSV with a header)."""
    with open(path) as f:
        first = f.readline().rstrip("\n")
    if first.startswith("label,"):
        expected = ",".join([LABEL, *CRITEO_INTEGER, *CRITEO_CATEGORICAL])
        if first != expected:
            raise DatasetError(f"{path}: expected the header {expected!r}. Found: {first!r}")
        return ",", True
    fields = len(first.split("\t"))
    if fields != 40:
        raise DatasetError(
            f"{path}: expected 40 tab-separated fields (label, 13 integer, 26 categorical) "
            f"on each line, as in Criteo's train.txt; line 1 has {fields}."
        )
    return "\t", False


def convert_criteo(
    path,
    folder,
    min_count=10,
    hash_buckets=None,
    ratios=(0.8, 0.1, 0.1),
    seed=0,
    rows_per_shard=1_000_000,
    block_rows=65_536,
    max_rows=None,
    name="criteo",
    overwrite=False,
    sha256=None,
):
    """Converts a Criteo click log into shards in one pass over the file.

    Reads Criteo's `train.txt` as published (tab-separated: label, I1..I13,
    C1..C26, no header; empty fields are missing) or DeepCTR's CSV sample.
    Integer columns become `log(1 + x)` for x > 0 (0 when missing or
    negative), as `reczoo.datasets.load("criteo")` always did. Each row goes
    to train, validation or test at random (`ratios`, `seed`).

    Categorical values are kept as the file spells them; they become ids
    when read, either through a vocabulary (`min_count`: values seen at least
    that often in the whole file get ids 1..n in sorted order, the others 0)
    or by hashing (`hash_buckets`: id 1 + fingerprint % (buckets - 1), no
    vocabulary). Memory stays bounded: a few blocks of rows, and the counts
    go to disk (`conversion.VocabularyCounter`: exact, whatever the number
    of distinct values); hashing needs no counts at all.

    Returns:
        The `ShardedDataset`; its `conversion` holds the rows converted, the
        seconds and the rows per second.
    """
    path = Path(path)
    _check_conversion(path, hash_buckets, ratios)
    sep, header = _criteo_layout(path)
    names = None if header else [LABEL, *CRITEO_INTEGER, *CRITEO_CATEGORICAL]
    blocks = conversion.arrow_blocks(
        path, sep, header, block_rows=block_rows, names=names, numeric=(LABEL, *CRITEO_INTEGER)
    )
    columns = [
        _Column(LABEL, "label"),
        *(_Column(c, "numerical", transform="log1p") for c in CRITEO_INTEGER),
        *(_Column(c, "categorical", min_count=min_count, hash_buckets=hash_buckets,
                  hash_offset=0) for c in CRITEO_CATEGORICAL),
    ]  # fmt: skip
    with _new_folder(folder, overwrite) as work, _checksums() as checksums:
        # The file's checksum is read beside the conversion, not before it.
        checksum = checksums.submit(sha256_of, path) if sha256 is None else None
        writers, encoding = _convert(
            work, blocks, columns, ratios, seed, rows_per_shard, block_rows, max_rows
        )
        sha256 = sha256 or checksum.result()
        source = {"file": path.name, "sha256": sha256, "format": "criteo"}
        manifest = {
            "format_version": FORMAT_VERSION,
            "name": name,
            "source": source,
            "categorical": list(CRITEO_CATEGORICAL),
            "numerical": list(CRITEO_INTEGER),
            "encoding": encoding,
            "split": {"ratios": list(ratios), "seed": seed},
            "block_rows": block_rows,
            **({"max_rows": max_rows} if max_rows is not None else {}),
        }
        _finish(work, manifest, writers)
    return _converted(folder, writers)


def _checksums():
    """A thread that reads the input's checksums while it is converted."""
    return concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="reczoo-checksum")


@dataclasses.dataclass(frozen=True)
class _Column:
    """A column the converter keeps: its role and how it is encoded."""

    name: str
    role: str  # label, numerical or categorical
    transform: str = "none"
    min_count: int = 1
    hash_buckets: int | None = None
    hash_offset: int = 1  # a schema's hash_buckets excludes id 0; Criteo's includes it


def _convert(work, blocks, columns, ratios, seed, rows_per_shard, block_rows, max_rows, fixed=None):
    """Streams `blocks` (`conversion.arrow_blocks`) into the parts' shards in
    `work`; returns the part writers and the categorical columns' encoding.

    Each row goes to train, validation or test by a uniform draw against
    `ratios` (one stream of draws, whatever the blocks); with `fixed`
    (`{file: part}`, split files), to its file's part, and only training
    rows are counted. Vocabularies are counted in bounded memory
    (`conversion.VocabularyCounter`); the parts' shards are written on
    threads of their own (`conversion.ParallelWriter`).
    """
    rng = np.random.default_rng(seed)
    bounds = np.cumsum(ratios)[:2]
    writers = {p: _PartWriter(work, p, rows_per_shard) for p in PARTS}
    counted = [c for c in columns if c.role == "categorical" and not c.hash_buckets]
    counter = conversion.VocabularyCounter(work)
    threads = conversion.ParallelWriter(writers)
    seen, started = 0, time.perf_counter()
    try:
        for names, arrays, part, first_line in blocks:
            get = dict(zip(names, arrays, strict=True))
            if max_rows is not None:
                get = {k: v.slice(0, max_rows - seen) for k, v in get.items()}
            n = len(next(iter(get.values())))
            if n == 0:
                break
            block = _encoded_block(get, columns, part, first_line)
            if fixed is None:
                where = np.searchsorted(bounds, rng.random(n), side="right")
            else:
                where = np.full(n, PARTS.index(fixed[str(part)]))
            if fixed is None or fixed[str(part)] == "train":
                for c in counted:
                    counter.update(c.name, get[c.name])
            # One gather puts each part's rows together, in their order.
            order = np.argsort(where, kind="stable")
            ends = np.searchsorted(where[order], np.arange(len(PARTS) + 1))
            grouped = _take(block, order)
            for k, part_name in enumerate(PARTS):
                if ends[k + 1] > ends[k]:
                    threads.write(part_name, _slice(grouped, ends[k], ends[k + 1]))
            seen += n
            if max_rows is not None and seen >= max_rows:
                break
        threads.close()
        encoding = {}
        for c in columns:
            if c.role != "categorical":
                continue
            if c.hash_buckets:
                encoding[c.name] = {"kind": "hash", "size": int(c.hash_buckets) + c.hash_offset}
                continue
            size = counter.write(c.name, work / "vocabularies" / f"{c.name}.txt", c.min_count,
                                 first=[PAD])  # fmt: skip
            kind = "vocabulary"
            encoding[c.name] = {"kind": kind, "size": size + 1, "min_count": c.min_count}
    finally:
        threads.close()
        counter.close()
    seconds = time.perf_counter() - started
    for w in writers.values():
        w.seconds = seconds
    return writers, encoding


def _encoded_block(get, columns, part, first_line):
    """One block as shards store it: labels checked, numbers parsed and
    transformed, categorical values kept as text (an arrow array)."""
    block = {}
    for c in columns:
        values = get[c.name]
        if c.role == "label":
            block[LABEL] = _checked_labels(values, part, first_line, c.name)
        elif c.role == "numerical":
            numbers = conversion.numbers(values, part, first_line, c.name)
            if c.transform == "log1p":
                numbers = np.log1p(np.maximum(numbers, 0.0))
            block[c.name] = numbers.astype("float32")
        else:
            block[c.name] = values
    return block


def _take(block, rows):
    import pyarrow as pa

    index = pa.array(rows)
    return {k: v.take(index) if isinstance(v, pa.Array) else v[rows] for k, v in block.items()}


def _slice(block, start, end):
    return {k: v.slice(start, end - start) if hasattr(v, "slice") else v[start:end]
            for k, v in block.items()}  # fmt: skip


def _shown(value):
    return f"{value:g}" if isinstance(value, float) else value


def _checked_labels(values, part, first_line, column):
    labels = conversion.numbers(values, part, first_line, column)
    bad = np.flatnonzero((labels != 0) & (labels != 1))
    if bad.size:
        raise DatasetError(
            f"{part}, line {first_line + int(bad[0])}: label column {column!r} should be 0 or "
            f"1. Received: {_shown(values[int(bad[0])].as_py())!r}"
        )
    return labels.astype("float32")


def _converted(folder, writers):
    """The `ShardedDataset` of a conversion, with `conversion` set to its
    rows, seconds and rows per second."""
    data = ShardedDataset(folder)
    rows = sum(w.rows for w in writers.values())
    seconds = next(iter(writers.values())).seconds
    data.conversion = {"rows": rows, "seconds": round(seconds, 3),
                       "rows_per_second": round(rows / max(seconds, 1e-9), 1)}  # fmt: skip
    return data


def convert_table(
    path,
    folder,
    schema,
    ratios=(0.8, 0.1, 0.1),
    seed=0,
    rows_per_shard=1_000_000,
    block_rows=65_536,
    max_rows=None,
    name=None,
    overwrite=False,
):
    """Converts your click log (a file, a folder or glob of parts, CSV or
    parquet; or split files, `{"train": ..., "valid": ..., "test": ...}`)
    into shards under `schema`, in one pass, in blocks.

    The schema's label, categorical (and user and item) and numerical
    columns are kept; each categorical column becomes ids when read, by a
    vocabulary of the values seen at least its `min_count` times in the
    whole file, or by hashing into its `hash_buckets`. Numerical columns take
    `none` or `log1p` (`standardize` and `bucketize` need the training rows'
    values first: read the table in memory for those). Each row goes to
    train, validation or test at random (`ratios`, `seed`); with split
    files, each row stays in its file's part, vocabularies count the
    training rows only (a value first seen in validation or test reads as
    id 0, as FuxiCTR and BARS encode their fixed splits) and `max_rows`
    counts each part's rows.

    Memory stays bounded: a few blocks of rows, and the counts go to disk
    (`conversion.VocabularyCounter`: exact for every value, so for every
    value at or above `min_count`); hashed columns need no counts. Text is
    read by pyarrow's streaming CSV reader; parquet by its batches.

    Returns:
        The `ShardedDataset`; its `conversion` holds the rows converted, the
        seconds and the rows per second.
    """
    schema = _shardable(schema, ratios)
    table = schema.table
    label = table.one("label")
    categorical = [c for c in table.columns if c.role in ("categorical", "user", "item")]
    numerical = [c for c in table.columns if c.role == "numerical"]
    columns = [
        _Column(label.name, "label"),
        *(_Column(c.name, "numerical", transform=c.transform) for c in numerical),
        *(_Column(c.name, "categorical", min_count=c.min_count, hash_buckets=c.hash_buckets)
          for c in categorical),
    ]  # fmt: skip
    files = {}

    def checked(blocks, checksums):
        for names, arrays, part, first_line in blocks:
            if str(part) not in files:
                _check_names(table, names, part)
                # Each part's checksum is read beside the conversion.
                files[str(part)] = checksums.submit(sha256_of, part)
            yield names, arrays, part, first_line

    numeric = [c.name for c in columns if c.role != "categorical"]
    blocks, fixed, split, max_rows = _table_blocks(
        path, table, numeric, block_rows, (ratios, seed), max_rows
    )
    with _new_folder(folder, overwrite) as work, _checksums() as checksums:
        writers, encoding = _convert(
            work, checked(blocks, checksums), columns, ratios, seed, rows_per_shard,
            block_rows, max_rows, fixed=fixed,
        )  # fmt: skip
        digest = hashlib.sha256()
        for checksum in files.values():
            digest.update(checksum.result().encode())
        manifest = _table_manifest(
            path.get("train") if fixed else path, name, schema, digest.hexdigest(),
            (categorical, numerical, encoding), split, block_rows, max_rows,
        )  # fmt: skip
        _finish(work, manifest, writers)
    return _converted(folder, writers)


def _table_blocks(path, table, numeric, block_rows, split, max_rows):
    """`(blocks, part of each file or None, the manifest's split, max_rows
    left to the converter)` of a table's file(s) or of split files."""

    def read(path):
        return conversion.arrow_blocks(
            path, table.sep, table.header, table.encoding, block_rows, numeric=numeric
        )

    if isinstance(path, dict):
        fixed, blocks = _split_blocks(path, read, max_rows)
        return blocks, fixed, {"files": {k: Path(str(v)).name for k, v in path.items()}}, None
    ratios, seed = split
    return read(path), None, {"ratios": list(ratios), "seed": seed}, max_rows


def _split_blocks(files, read, max_rows):
    """`(part of each file, blocks)` of split files `{part: path}`: the
    blocks of each part's files in turn, at most `max_rows` rows a part."""
    unknown = sorted(set(files) - set(PARTS))
    if unknown or "train" not in files:
        raise ValueError(
            f"Split files are given as {{part: path}} with parts {PARTS}, train among them. "
            f"Received parts: {sorted(files)}"
        )
    owner = {}

    def blocks():
        for part, path in files.items():
            seen = 0
            for names, arrays, source, first_line in read(path):
                owner[str(source)] = part
                if max_rows is not None:
                    arrays = [a.slice(0, max_rows - seen) for a in arrays]
                n = len(arrays[0]) if arrays else 0
                if n:
                    yield names, arrays, source, first_line
                seen += n
                if max_rows is not None and seen >= max_rows:
                    break

    return owner, blocks()


def _table_manifest(path, name, schema, sha256, columns, split, block_rows, max_rows):
    """The manifest of a click log converted under `schema`."""
    categorical, numerical, encoding = columns
    source = Path(str(path))
    return {
        "format_version": FORMAT_VERSION,
        "name": name or source.name.split(".")[0] or source.name,
        "source": {
            "file": source.name,
            "sha256": sha256,
            "format": "schema",
            "schema": schema.to_dict(),
            "schema_sha256": schema.sha256,
        },
        "categorical": [c.name for c in categorical],
        "numerical": [c.name for c in numerical],
        "encoding": encoding,
        "split": split,
        "block_rows": block_rows,
        **({"max_rows": max_rows} if max_rows is not None else {}),
    }


def _shardable(schema, ratios):
    """`schema` (a `Schema`, a dict or a schema file) as a `Schema` shards can
    hold, and `ratios` checked; what they cannot hold is refused by name."""
    from reczoo.datasets.schema import Schema

    if not isinstance(schema, Schema):
        schema = Schema.from_dict(schema) if isinstance(schema, dict) else Schema.load(schema)
    _check_shardable(schema)
    if len(ratios) != 3 or min(ratios) < 0 or not math.isclose(sum(ratios), 1.0):
        raise ValueError(f"ratios must be three fractions summing to 1. Received: {ratios}")
    return schema


def _check_shardable(schema):
    table = schema.table
    if schema.kind != "ctr":
        raise ValueError("Shards hold a click log: the schema needs a label column.")
    if schema.item_table is not None or schema.user_table is not None:
        raise ValueError("Side tables are joined in memory (reczoo train --item_table ...); "
                         "shards hold the log's own columns.")  # fmt: skip
    unsupported = [f"{c.name} ({c.role})" for c in table.columns
                   if c.role in ("multi", "sequence", "rating", "time")]  # fmt: skip
    unsupported += [f"{c.name} (transform {c.transform})" for c in table.columns
                    if c.role == "numerical" and c.transform in ("standardize", "bucketize")]  # fmt: skip
    if unsupported:
        raise ValueError(
            f"Shards hold labels, categorical and numerical columns (none or log1p); "
            f"drop or change {', '.join(unsupported)}, or read the table in memory."
        )
    dims = [c.name for c in table.columns if c.embedding_dim]
    if dims:
        raise ValueError(f"Shards take the model's embedding width; remove embedding_dim from "
                         f"{dims}.")  # fmt: skip


def _check_names(table, names, part):
    for c in table.columns:
        if c.name not in names and not (not table.header and c.name.isdigit()
                                        and int(c.name) < len(names)):  # fmt: skip
            raise DatasetError(f"{part} has no {c.role} column {c.name!r}. Columns found: {names}")
    if table.header:
        left = [n for n in names if table.get(n) is None]
        if left:
            raise DatasetError(f"Columns {left} of {part} have no role: give each one or drop it.")


def _check_conversion(path, hash_buckets, ratios):
    if not path.is_file():
        raise DatasetError(f"Criteo file {str(path)!r} does not exist.")
    if hash_buckets is not None and hash_buckets < 2:
        raise ValueError(f"hash_buckets must be at least 2. Received: hash_buckets={hash_buckets}")
    if len(ratios) != 3 or min(ratios) < 0 or not math.isclose(sum(ratios), 1.0):
        raise ValueError(f"ratios must be three fractions summing to 1. Received: {ratios}")


@dataclasses.dataclass(frozen=True)
class ShardSplit:
    """The split a `ShardedDataset` was written with: its parts."""

    dataset: object
    protocol: object
    seed: int

    def rows(self, stage):
        raise TypeError(
            "A sharded dataset is streamed: its rows are not held in memory. "
            "Read them with dataset.dataset(part)."
        )


class ShardedDataset:
    """A dataset written into shards (`write_shards`, `convert_criteo`).

    Behaves as a `CTRDataset` where runs need it to (`kind`, `name`,
    `sha256`, `feature_spec`, `statistics`, `vocabulary_lists`), but its
    rows stay on disk: `dataset(part, ...)` streams them.

    Args:
        folder: the shard folder.
    """

    kind = "ctr"
    streaming = True
    multi_hot = sequences = {}
    user_column = item_column = None

    def __init__(self, folder):
        self.folder = Path(folder)
        path = self.folder / MANIFEST
        if not path.is_file():
            raise DatasetError(
                f"{str(self.folder)!r} holds no {MANIFEST}: not a shard folder "
                "(write one with `reczoo shards`)."
            )
        try:
            self.manifest = json.loads(path.read_text())
        except json.JSONDecodeError as e:
            raise DatasetError(f"{path} is damaged ({e}); convert the data again.") from None
        version = self.manifest.get("format_version")
        if version != FORMAT_VERSION:
            raise DatasetError(
                f"{path} has shard format version {version!r}; this reczoo reads version "
                f"{FORMAT_VERSION}. Convert the data again."
            )
        missing = [f for p in self.manifest["parts"].values() for f in p["files"]
                   if not (self.folder / f).is_file()]  # fmt: skip
        if missing:
            raise DatasetError(f"{self.folder}: shard files are missing: {missing[:5]}")
        self.name = self.manifest["name"]
        self.categorical = self.manifest["categorical"]
        self.numerical = self.manifest["numerical"]
        self.encoding = self.manifest["encoding"]
        self.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        self.files = {}

    def __repr__(self):
        stats = ", ".join(f"{k}={v}" for k, v in self.statistics().items())
        return f"ShardedDataset({str(self.folder)!r}, {stats})"

    def rows(self, part):
        return self.manifest["parts"][part]["rows"]

    @property
    def split_files(self):
        """`{part: file name}` of shards written from split files, else None."""
        return self.manifest["split"].get("files")

    @property
    def num_interactions(self):
        return sum(p["rows"] for p in self.manifest["parts"].values())

    def statistics(self):
        parts = self.manifest["parts"]
        return {
            "rows": self.num_interactions,
            "positives": sum(p["positives"] for p in parts.values()),
            "fields": len(self.categorical) + len(self.numerical),
            **{f"{p}_rows": parts[p]["rows"] for p in PARTS},
            "shards": sum(len(p["files"]) for p in parts.values()),
        }

    def feature_spec(self, embedding_dim=16, **_):
        from reczoo.features import Categorical, FeatureSpec, Numerical

        features = [
            Categorical(c, self.encoding[c]["size"], embedding_dim) for c in self.categorical
        ]
        return FeatureSpec(features + [Numerical(c) for c in self.numerical])

    def vocabulary(self, column):
        path = self.folder / "vocabularies" / f"{column}.txt"
        return path.read_text().splitlines() if path.is_file() else None

    def vocabulary_lists(self):
        found = {c: self.vocabulary(c) for c in self.categorical}
        return {c: v for c, v in found.items() if v is not None}

    def split(self, protocol):
        return ShardSplit(self, protocol, self.manifest["split"].get("seed", 0))

    def _encoders(self):
        """Per column, a function from the stored values to ids."""
        tf = _tf()
        encoders = {}
        for c in self.categorical:
            how = self.encoding[c]
            if how["kind"] == "ids":
                encoders[c] = lambda v: tf.cast(v, tf.int32)
            elif how["kind"] == "hash":
                buckets = how["size"] - 1

                def hashed(v, buckets=buckets):
                    ids = tf.strings.to_hash_bucket_fast(v, buckets) + 1
                    return tf.cast(tf.where(v == "", tf.zeros_like(ids), ids), tf.int32)

                encoders[c] = hashed
            else:
                keys = tf.constant(self.vocabulary(c)[1:] or [""], tf.string)
                values = tf.range(1, tf.size(keys) + 1, dtype=tf.int64)
                table = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(keys, values), default_value=0
                )
                encoders[c] = lambda v, table=table: tf.cast(table.lookup(v), tf.int32)
        return encoders

    def _parse(self, record):
        """A record's block as three tensors: labels (n,), numerical (n, 13)
        and categorical (n, 26) columns; few tensors per row keep the
        row-level shuffle cheap."""
        tf = _tf()
        ids = any(self.encoding[c]["kind"] == "ids" for c in self.categorical)
        kinds = {LABEL: tf.float32, **dict.fromkeys(self.numerical, tf.float32)}
        kinds.update(dict.fromkeys(self.categorical, tf.int64 if ids else tf.string))
        raw = tf.io.parse_single_example(
            record, {k: tf.io.FixedLenFeature([], tf.string) for k in kinds}
        )
        parsed = {k: tf.ensure_shape(tf.io.parse_tensor(raw[k], kinds[k]), [None]) for k in kinds}
        block = {LABEL: parsed[LABEL]}
        if self.numerical:
            block["numerical"] = tf.stack([parsed[c] for c in self.numerical], axis=1)
        if self.categorical:
            block["categorical"] = tf.stack([parsed[c] for c in self.categorical], axis=1)
        return block

    def dataset(self, part, batch_size, **options):
        """One pass over `part` as `(features, labels)` batches; `options` as
        in `batches`."""
        return self.encoded(self.batches(part, batch_size, **options))

    def encoded(self, batches):
        """`(features, labels)` from stored batches: ids looked up or hashed
        per batch, numerical columns as (batch, 1)."""
        tf = _tf()
        encoders = self._encoders()
        numerical = list(self.numerical)

        def encode(rows):
            features = {
                c: encoders[c](rows["categorical"][:, j]) for j, c in enumerate(self.categorical)
            }
            features.update({c: rows["numerical"][:, j : j + 1] for j, c in enumerate(numerical)})
            return features, rows[LABEL]

        return batches.map(encode, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    def batches(
        self,
        part,
        batch_size,
        seed=None,
        shuffle_buffer=None,
        input_context=None,
        drop_remainder=False,
        cycle_length=4,
    ):
        """One pass over `part` in batches of the stored columns.

        Args:
            part: `"train"`, `"valid"` or `"test"`.
            batch_size: rows per batch (per replica under a strategy: use
                `input_context.get_per_replica_batch_size`).
            seed: shuffle the file order and the rows (through a buffer of
                `shuffle_buffer` rows) with this seed; None reads in order.
            input_context: a `tf.distribute.InputContext`: this worker reads
                every `num_input_pipelines`-th file (or, when there are fewer
                files than workers, every such row).
            drop_remainder: drop a last, smaller batch.
            cycle_length: files read at once.
        """
        tf = _tf()
        if part not in PARTS:
            raise ValueError(f"part must be one of {PARTS}. Received: part={part!r}")
        files = [str(self.folder / f) for f in self.manifest["parts"][part]["files"]]
        if not files:
            raise ValueError(f"{self.folder} has no {part!r} rows.")
        ds = tf.data.Dataset.from_tensor_slices(files)
        workers = input_context.num_input_pipelines if input_context else 1
        index = input_context.input_pipeline_id if input_context else 0
        by_file = workers > 1 and len(files) >= workers
        if by_file:
            ds = ds.shard(workers, index)
        if seed is not None:
            ds = ds.shuffle(len(files), seed=seed)
        ds = ds.interleave(
            tf.data.TFRecordDataset,
            cycle_length=min(cycle_length, len(files)) if seed is not None else 1,
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        ds = ds.map(self._parse, num_parallel_calls=tf.data.AUTOTUNE).unbatch()
        if workers > 1 and not by_file:
            # Fewer files than workers: each reads them all and keeps its rows.
            ds = ds.shard(workers, index)
        if seed is not None:
            ds = ds.shuffle(shuffle_buffer or 100_000, seed=seed)
        return ds.batch(batch_size, drop_remainder=drop_remainder)


def open_shards(folder):
    """The `ShardedDataset` in `folder`."""
    return ShardedDataset(folder)


def cached_criteo(path, name, sha256, min_count=10):
    """`path` converted once into the reczoo cache, keyed by the dataset's
    `sha256` and the conversion's settings; later loads open the shards."""
    from reczoo.datasets.sources import cache_dir
    from reczoo.provenance import file_lock

    folder = cache_dir() / "shards" / f"{name}-{sha256[:16]}-min{min_count}"
    # Workers started together on one host convert once: the others wait.
    with file_lock(folder.with_name(f".{folder.name}.lock")):
        if (folder / MANIFEST).is_file():
            return ShardedDataset(folder)
        return convert_criteo(path, folder, min_count=min_count, name=name, overwrite=True)


def cached_split(files, name, sha256, schema):
    """Split files (`{part: path}`) converted once under `schema` into the
    reczoo cache, keyed by the dataset's `sha256` and the schema's; later
    loads open the shards."""
    from reczoo.datasets.schema import Schema
    from reczoo.datasets.sources import cache_dir
    from reczoo.provenance import file_lock

    schema = schema if isinstance(schema, Schema) else Schema.from_dict(schema)
    folder = cache_dir() / "shards" / f"{name}-{sha256[:16]}-{schema.sha256[:8]}"
    with file_lock(folder.with_name(f".{folder.name}.lock")):
        if (folder / MANIFEST).is_file():
            return ShardedDataset(folder)
        return convert_table(files, folder, schema, name=name, overwrite=True)
