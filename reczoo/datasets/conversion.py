"""The shard converter's engine: click logs read by pyarrow in blocks,
vocabularies counted exactly in bounded memory, shards written by threads.

- `arrow_blocks` streams a file, a folder of parts or a glob with pyarrow's
  streaming CSV reader (or parquet's batches), `block_rows` rows at a time,
  every column as text; inputs pyarrow cannot read as such (zip archives,
  multi-character separators, encodings other than UTF-8) go through
  `tables.iter_blocks`, the pure-Python reader, to the same blocks.
- `VocabularyCounter` counts each column's values exactly without holding
  them: each block's distinct values and counts go, hash-partitioned, into
  spill files on disk; at the end each partition is summed alone (split
  again when larger than `memory_bytes`), the values seen at least
  `min_count` times are kept, and the partitions' sorted values are merged
  into the vocabulary file. Memory holds one partition, never the column.
- `ParallelWriter` writes each part's shards on a thread of its own, a
  bounded number of blocks behind the reader.
"""

import concurrent.futures
import contextlib
import heapq
import itertools
import shutil
import tempfile
from pathlib import Path

import numpy as np

from reczoo.datasets.sources import DatasetError

SPILL_PARTITIONS = 16
MEMORY_BYTES = 8 * 2**20
FLUSH_PAIRS = 1 << 15
# Odd 64-bit multipliers of the partition hash, one per byte position mod 64.
_MULTIPLIERS = (
    np.random.default_rng(20261204).integers(1, 2**63, 64, dtype=np.uint64) * 2 + 1
).astype(np.uint64)


def _pa():
    import pyarrow as pa

    return pa


def _text(array):
    """`array` (a pyarrow array or chunked array) as one UTF-8 string array,
    nulls as empty strings."""
    pa = _pa()
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = pa.concat_arrays(array.chunks) if array.num_chunks else pa.array([], pa.string())
    if not pa.types.is_string(array.type):
        if pa.types.is_large_string(array.type) or pa.types.is_dictionary(array.type):
            array = array.cast(pa.string())
        else:
            array = _cast_text(array)
    return pc.fill_null(array, "") if array.null_count else array


def _cast_text(array):
    """A typed parquet column as a CSV file holds it (`tables._as_text`):
    booleans as 0/1, whole floats without `.0`."""
    pa = _pa()
    import pyarrow.compute as pc

    if pa.types.is_boolean(array.type):
        return pc.if_else(array, "1", "0")
    if pa.types.is_floating(array.type):
        whole = pc.and_(pc.equal(pc.floor(array), array), pc.less(pc.abs(array), 2.0**53))
        as_int = pc.cast(pc.if_else(whole, array, 0.0), pa.int64()).cast(pa.string())
        return pc.if_else(whole, as_int, array.cast(pa.string()))
    if pa.types.is_list(array.type) or pa.types.is_large_list(array.type):
        return pa.array([
            "" if v is None else "|".join("" if x is None else str(x) for x in v)
            for v in array.to_pylist()
        ], pa.string())  # fmt: skip
    return array.cast(pa.string())


# === Reading ===


def arrow_blocks(
    path, sep=None, header=True, encoding="utf-8", block_rows=65_536, names=None, numeric=()
):
    """Streams `path` (a file, a folder of parts or a glob; CSV/TSV, gzip or
    bzip2, or parquet) in blocks of `block_rows` rows (fewer at a part's end):
    yields `(names, columns, part, first_line)`, `columns` a list of pyarrow
    arrays: text, except the `numeric` columns of text files, which the
    reader may give as float64 (empty fields null). `names` names the
    columns of headerless text."""
    from reczoo.datasets.tables import is_parquet, over_parts

    def blocks_of(part):
        if is_parquet(part):
            return _parquet_blocks(part, block_rows)
        if _arrow_reads(part, sep, encoding):
            return _csv_blocks(part, sep, header, block_rows, names, numeric)
        return _python_blocks(part, sep, header, encoding, block_rows)

    yield from over_parts(path, blocks_of)


def _compression(part):
    with open(part, "rb") as f:
        magic = f.read(3)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"BZh":
        return "bz2"
    if magic[:2] == b"PK":
        return "zip"
    return None


def _arrow_reads(part, sep, encoding):
    """Whether pyarrow's CSV reader reads `part` as the Python reader would."""
    utf8 = encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")
    return utf8 and (sep is None or len(sep) == 1) and sep != " " and _compression(part) != "zip"


def _sniffed(part, sep, compression):
    from reczoo.datasets.tables import sniff_separator

    if sep is not None:
        return sep
    pa = _pa()
    with pa.input_stream(str(part), compression=compression) as f:
        head = f.read(1 << 16).decode("utf-8", errors="replace").splitlines()[:20]
    return sniff_separator(part, [line for line in head if line.strip()])


def _csv_blocks(part, sep, header, block_rows, names, numeric=()):
    """Blocks of a text part read by pyarrow; the `numeric` columns parsed as
    float64 by the reader (a value it cannot parse sends the rest of the
    part through the text path, where the bad value is named by its line)."""
    yielded = 0
    try:
        for item in _csv_read(part, sep, header, block_rows, names, numeric):
            yield item
            yielded += len(item[1][0])
    except _Untyped:
        for item in _csv_read(part, sep, header, block_rows, names, ()):
            if yielded > 0:
                yielded -= len(item[1][0])
                continue
            yield item


class _Untyped(Exception):
    """The reader could not parse a numeric column as numbers."""


def _csv_read(part, sep, header, block_rows, names, numeric):
    import pyarrow.csv as csv

    pa = _pa()
    compression = _compression(part)
    sep = _sniffed(part, sep, compression)
    if sep in ("::", " ") or len(sep) != 1:
        yield from _python_blocks(part, sep, header, "utf-8", block_rows)
        return
    stream = pa.input_stream(str(part), compression=compression)
    types = _all_text(stream, part, sep, header, names, compression)
    read = csv.ReadOptions(block_size=1 << 20, column_names=None if header else list(types))
    typed = {raw for raw in types if raw.lstrip("\ufeff").strip() in set(numeric)}
    types.update(dict.fromkeys(typed, pa.float64()))
    try:
        reader = csv.open_csv(
            stream, read_options=read, parse_options=csv.ParseOptions(delimiter=sep),
            convert_options=csv.ConvertOptions(
                column_types=types, null_values=[""], strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )  # fmt: skip
    except pa.ArrowInvalid as e:
        if typed:
            raise _Untyped() from None
        _raise_bad_line(part, sep, header, compression, e)
    columns_names = [n.lstrip("\ufeff").strip() for n in reader.schema.names]
    first = 1 + int(bool(header))
    try:
        for table in _rebatched(reader, block_rows):
            columns = [
                _numbers_array(c) if name in typed else _text(c)
                for name, c in zip(reader.schema.names, table.columns, strict=True)
            ]
            yield columns_names, columns, first
            first += table.num_rows
    except pa.ArrowInvalid as e:
        if typed:
            raise _Untyped() from None
        _raise_bad_line(part, sep, header, compression, e)


def _numbers_array(array):
    pa = _pa()
    if isinstance(array, pa.ChunkedArray):
        array = pa.concat_arrays(array.chunks) if array.num_chunks else pa.array([], pa.float64())
    return array


def _raise_bad_line(part, sep, header, compression, error):
    """Names the first line whose fields do not match the first line's, as
    the Python reader would; else pyarrow's own message."""
    import csv
    import io

    pa = _pa()
    with pa.input_stream(str(part), compression=compression) as f:
        text = io.TextIOWrapper(f, encoding="utf-8-sig", errors="replace", newline="")
        width = None
        for number, row in enumerate(csv.reader(text, delimiter=sep), start=1):
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if width is None:
                width = len(row)
            elif len(row) != width:
                raise DatasetError(
                    f"{part}, line {number}: expected {width} fields separated by {sep!r}, "
                    f"found {len(row)}."
                ) from None
    raise DatasetError(f"{part}: {_arrow_message(error)}") from None


def _all_text(stream, part, sep, header, names, compression):
    """Every column read as text: the column names, from the header or given."""
    import pyarrow.csv as csv

    pa = _pa()
    if not header:
        if names is not None:
            return dict.fromkeys(names, pa.string())
        with pa.input_stream(str(part), compression=compression) as f:
            line = f.read(1 << 16).decode("utf-8", errors="replace").splitlines()[:1]
        width = len(line[0].split(sep)) if line else 0
        return {str(i): pa.string() for i in range(width)}
    with pa.input_stream(str(part), compression=compression) as f:
        first = csv.read_csv(
            pa.py_buffer(f.read(1 << 20).split(b"\n", 1)[0] + b"\n"),
            parse_options=csv.ParseOptions(delimiter=sep),
        )
    return dict.fromkeys(first.column_names, pa.string())


def _rebatched(reader, block_rows):
    """The reader's batches re-cut into tables of exactly `block_rows` rows."""
    pa = _pa()
    pending, held = [], 0
    for batch in reader:
        pending.append(batch)
        held += batch.num_rows
        while held >= block_rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, block_rows)
            rest = table.slice(block_rows)
            pending, held = rest.to_batches(), rest.num_rows
    if held:
        yield pa.Table.from_batches(pending)


def _arrow_message(error):
    return str(error).strip().splitlines()[0]


def _parquet_blocks(part, block_rows):
    from reczoo.datasets.tables import parquet_batches

    for names, batch, line in parquet_batches(part, block_rows):
        yield names, [_text(c) for c in batch.columns], line


def _python_blocks(part, sep, header, encoding, block_rows):
    from reczoo.datasets.tables import iter_blocks

    pa = _pa()
    for names, columns, _, first in iter_blocks(part, sep, header, encoding, block_rows):
        yield names, [pa.array(c, pa.string()) for c in columns], first


# === Numbers ===


def numbers(array, part, first_line, column):
    """A text column as float64, empty fields as 0; a value that is not a
    finite number is refused naming its line (`tables.parse_numbers`)."""
    pa = _pa()
    import pyarrow.compute as pc

    if pa.types.is_floating(array.type):
        values = pc.fill_null(array, 0.0).to_numpy(zero_copy_only=False)
        finite = np.isfinite(values)
        if not finite.all():
            bad = int(np.flatnonzero(~finite)[0])
            raise DatasetError(
                f"{part}, line {first_line + bad}: column {column!r} should be a finite "
                f"number (within float64's range). Received: {str(values[bad])!r}"
            )
        return values
    filled = pc.if_else(pc.equal(pc.utf8_trim_whitespace(array), ""), "0", array)
    try:
        values = pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False)
        if np.isfinite(values).all():
            return values
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    from reczoo.datasets.tables import parse_numbers

    return parse_numbers(filled.to_pylist(), part, column, "float64", first_line)


# === Shard records ===


def _varints(values):
    """The protobuf varint bytes of each non-negative int64 in `values`:
    (bytes, lengths), bytes concatenated."""
    values = np.asarray(values, dtype=np.uint64)
    widths = np.ones(len(values), dtype=np.int64)
    rest = values >> np.uint64(7)
    while rest.any():
        widths += rest > 0
        rest = rest >> np.uint64(7)
    out = np.zeros(int(widths.sum()), dtype=np.uint8)
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    rest = values.copy()
    for k in range(int(widths.max()) if len(values) else 0):
        live = widths > k
        more = widths > k + 1
        byte = (rest & np.uint64(0x7F)).astype(np.uint8) | (more.astype(np.uint8) << 7)
        out[starts[live] + k] = byte[live]
        rest = rest >> np.uint64(7)
    return out, widths


def _varint(n):
    data, _ = _varints([n])
    return data.tobytes()


def string_tensor_proto(array):
    """The serialized `TensorProto` of a 1-D string tensor of `array`'s
    values (a pyarrow string array), byte for byte what
    `tf.make_tensor_proto(values).SerializeToString()` gives, built by
    pyarrow and numpy rather than value by value."""
    return b"".join(string_tensor_pieces(array))


def string_tensor_pieces(array):
    """`string_tensor_proto(array)` as a list of byte buffers to join."""
    import pyarrow.compute as pc

    pa = _pa()
    n = len(array)
    dim = b"\x08" + _varint(n) if n else b""
    shape = b"\x12" + _varint(len(dim)) + dim
    head = b"\x08\x07" + b"\x12" + _varint(len(shape)) + shape
    if n == 0:
        return [head]
    values = array.cast(pa.binary())
    lengths = pc.binary_length(values).to_numpy(zero_copy_only=False)
    # Each value: tag 0x42 (field 8, length-delimited), its length, its bytes.
    if lengths.max() < 128:
        prefix = np.empty(2 * n, dtype=np.uint8)
        prefix[0::2] = 0x42
        prefix[1::2] = lengths
        offsets = np.arange(0, 2 * n + 1, 2, dtype=np.int32)
    else:
        varints, widths = _varints(lengths)
        prefix = np.empty(len(varints) + n, dtype=np.uint8)
        starts = np.concatenate([[0], np.cumsum(widths + 1)[:-1]]).astype(np.int64)
        prefix[starts] = 0x42
        within = np.arange(len(varints)) - np.repeat(np.cumsum(widths) - widths, widths)
        prefix[np.repeat(starts + 1, widths) + within] = varints
        offsets = np.concatenate([[0], np.cumsum(widths + 1)]).astype(np.int32)
    prefixes = pa.Array.from_buffers(
        pa.binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(prefix)]
    )
    joined = pc.binary_join_element_wise(prefixes, values, pa.scalar(b"", pa.binary()))
    body_offsets = np.frombuffer(joined.buffers()[1], dtype=np.int32)
    first, last = body_offsets[joined.offset], body_offsets[joined.offset + n]
    return [head, memoryview(joined.buffers()[2])[first:last]]


def _field(number, payload):
    """A length-delimited protobuf field: tag, length, bytes."""
    return bytes([number << 3 | 2]) + _varint(len(payload)) + payload


def _header(number, size):
    return bytes([number << 3 | 2]) + _varint(size)


def example_bytes(columns):
    """The serialized `tf.train.Example` whose features are `columns`
    (`{name: bytes, or a list of byte buffers to join}`), each a `BytesList`
    of one value: what `tf.train.Example(...).SerializeToString()` gives,
    joined once rather than copied through protobuf objects."""
    pieces, total = [], 0
    for name, value in columns.items():
        parts = value if isinstance(value, list) else [value]
        size = sum(len(p) for p in parts)
        bytes_list = _header(1, size)  # BytesList.value
        feature = _header(1, len(bytes_list) + size)  # Feature.bytes_list
        key = _field(1, name.encode())
        entry = key + _header(2, len(feature) + len(bytes_list) + size)
        head = _header(1, len(entry) + len(feature) + len(bytes_list) + size)  # Features.feature
        pieces += [head, entry, feature, bytes_list, *parts]
        total += len(head) + len(entry) + len(feature) + len(bytes_list) + size
    return b"".join([_header(1, total), *pieces])  # Example.features


_TF_DTYPES = {"float32": 1, "float64": 2, "int32": 3, "int64": 9}


def numeric_tensor_proto(values):
    """The serialized `TensorProto` of a 1-D numpy array (float32, float64,
    int32 or int64): what `tf.make_tensor_proto(values).SerializeToString()`
    gives (dtype, shape, the values' little-endian bytes)."""
    values = np.ascontiguousarray(values)
    n = len(values)
    dim = b"\x08" + _varint(n) if n else b""
    shape = b"\x12" + _varint(len(dim)) + dim
    head = bytes([0x08, _TF_DTYPES[values.dtype.name]]) + b"\x12" + _varint(len(shape)) + shape
    if n == 0:
        return head
    data = values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes()
    return head + _field(4, data)


def _masked_crc(data):
    import google_crc32c

    crc = google_crc32c.value(data)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


class TFRecordFile:
    """A TFRecord file written without TensorFlow: each record is its length
    (uint64), the length's masked CRC-32C, the bytes, their masked CRC-32C,
    as `tf.io.TFRecordWriter` writes and `tf.data.TFRecordDataset` checks."""

    def __init__(self, path):
        self._file = open(path, "wb")  # noqa: SIM115  closed by close()

    def write(self, record):
        length = len(record).to_bytes(8, "little")
        self._file.write(length + _masked_crc(length).to_bytes(4, "little"))
        self._file.write(record)
        self._file.write(_masked_crc(record).to_bytes(4, "little"))

    def close(self):
        self._file.close()


class ParallelWriter:
    """Each part's blocks written on a thread of its own, in order, at most
    `pending` blocks behind. `write(part, columns)`; `close()` waits."""

    def __init__(self, writers, pending=4):
        self.writers = writers
        self.pools = {p: concurrent.futures.ThreadPoolExecutor(1) for p in writers}
        self.futures = {p: [] for p in writers}
        self.pending = pending

    def write(self, part, columns):
        futures = self.futures[part]
        while len(futures) >= self.pending:
            futures.pop(0).result()
        futures.append(self.pools[part].submit(self.writers[part].write, columns))

    def close(self):
        try:
            for futures in self.futures.values():
                for f in futures:
                    f.result()
        finally:
            for pool in self.pools.values():
                pool.shutdown(wait=True)


# === Vocabularies ===


def partition_hash(array, seed=0):
    """A 64-bit hash of each value of a pyarrow string array, vectorised over
    its bytes (for spreading values over spill partitions, not for ids)."""
    pa = _pa()
    array = array.cast(pa.large_binary())
    n = len(array)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + n + 1]
    data = array.buffers()[2]
    data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    data = data[offsets[0] : offsets[-1]]
    lengths = np.diff(offsets)
    position = np.arange(len(data)) - np.repeat(offsets[:-1] - offsets[0], lengths)
    multipliers = np.roll(_MULTIPLIERS, seed)
    with np.errstate(over="ignore"):
        contribution = (data.astype(np.uint64) + np.uint64(1)) * multipliers[position % 64]
        total = np.concatenate([np.zeros(1, np.uint64), np.cumsum(contribution, dtype=np.uint64)])
        ends = (offsets[1:] - offsets[0]).astype(np.int64)
        starts = (offsets[:-1] - offsets[0]).astype(np.int64)
        h = total[ends] - total[starts] + lengths.astype(np.uint64)
        h ^= h >> np.uint64(31)
        h *= np.uint64(0x9E3779B97F4A7C15)
        h ^= h >> np.uint64(29)
    return h


class VocabularyCounter:
    """Exact value counts of several columns in bounded memory.

    `update(column, values)` takes a block's values (a pyarrow string array).
    Their distinct values and counts are held until `flush_pairs` pairs
    gather for the column, summed, and appended to the column's spill file
    under a temporary folder. `write(column, path, min_count)` sums the
    spill file (first split by hash into `partitions` files, again and again,
    while a file is larger than `memory_bytes`), keeps the non-empty values
    seen at least `min_count` times, and writes them to `path` in sorted
    order (UTF-8 byte order, which is Python's order of the strings), after
    the `first` lines; it returns how many values it kept.

    Memory holds, per column, at most `flush_pairs` pairs, and one spill
    partition at a time: not the column's distinct values.

    Args:
        folder: where the spill folder goes (a temporary folder inside it).
        partitions: how many files a spill file too large to sum is split into.
        memory_bytes: the largest spill file summed at once.
        flush_pairs: pairs held per column before they go to disk.
    """

    def __init__(self, folder, partitions=SPILL_PARTITIONS, memory_bytes=MEMORY_BYTES,
                 flush_pairs=FLUSH_PAIRS):  # fmt: skip
        self.root = Path(tempfile.mkdtemp(prefix=".counts-", dir=folder))
        self.partitions, self.memory_bytes = partitions, memory_bytes
        self.flush_pairs = flush_pairs
        self._held, self._sinks = {}, {}
        self._names = itertools.count()

    @staticmethod
    def _schema():
        pa = _pa()
        return pa.schema([("value", pa.string()), ("count", pa.int64())])

    def update(self, column, values):
        import pyarrow.compute as pc

        counted = pc.value_counts(values)
        held = self._held.setdefault(column, [])
        held.append(counted)
        if sum(len(h) for h in held) >= self.flush_pairs:
            self._flush(column)

    def _flush(self, column):
        pa = _pa()
        held = self._held.pop(column, [])
        if not held:
            return
        pairs = pa.Table.from_arrays(
            [pa.concat_arrays([h.field("values") for h in held]),
             pa.concat_arrays([h.field("counts") for h in held])],
            schema=self._schema(),
        )  # fmt: skip
        summed = pairs.group_by("value").aggregate([("count", "sum")])
        batch = pa.Table.from_arrays([summed["value"], summed["count_sum"]], schema=self._schema())
        if column not in self._sinks:
            path = self.root / f"{next(self._names):04d}.arrow"
            self._sinks[column] = (path, pa.ipc.new_stream(str(path), self._schema()))
        self._sinks[column][1].write_table(batch)

    def _spill(self, column):
        self._flush(column)
        entry = self._sinks.pop(column, None)
        if entry is None:
            return None
        entry[1].close()
        return entry[0]

    def _kept(self, path, min_count, depth):
        """Sorted kept values of one spill file, as pyarrow arrays."""
        import pyarrow.compute as pc

        pa = _pa()
        if path.stat().st_size > self.memory_bytes and depth < 4:
            # Split by hash, batch by batch, then sum each part alone.
            parts = {}
            with pa.ipc.open_stream(pa.OSFile(str(path))) as reader:
                for batch in reader:
                    where = partition_hash(batch.column(0), seed=depth)
                    where = where % np.uint64(self.partitions)
                    for k in np.unique(where):
                        if k not in parts:
                            sub = path.with_name(f"{path.stem}-{depth}-{k}.arrow")
                            parts[k] = (sub, pa.ipc.new_stream(str(sub), self._schema()))
                        parts[k][1].write_batch(batch.filter(pa.array(where == k)))
            path.unlink()
            for _, writer in parts.values():
                writer.close()
            for sub, _ in parts.values():
                yield from self._kept(sub, min_count, depth + 1)
            return
        with pa.ipc.open_stream(pa.OSFile(str(path))) as reader:
            table = reader.read_all()
        path.unlink()
        summed = table.group_by("value").aggregate([("count", "sum")])
        keep = pc.and_(pc.greater_equal(summed["count_sum"], min_count),
                       pc.not_equal(summed["value"], ""))  # fmt: skip
        values = summed["value"].filter(keep)
        yield values.take(pc.sort_indices(values))

    def write(self, column, path, min_count, first=()):
        """Writes `first` lines then `column`'s kept values in sorted order to
        `path`; returns how many values were kept."""
        spill = self._spill(column)
        runs = []
        for values in self._kept(spill, min_count, 0) if spill is not None else ():
            if len(values):
                run = self.root / f"run-{len(runs):05d}.txt"
                _write_lines(run, values)
                runs.append(run)
        kept = 0
        with open(path, "w", encoding="utf-8", newline="\n") as out:
            for line in first:
                out.write(f"{line}\n")
            with contextlib.ExitStack() as stack:
                files = [stack.enter_context(open(r, encoding="utf-8", newline="\n"))
                         for r in runs]  # fmt: skip
                for line in files[0] if len(files) == 1 else heapq.merge(*files):
                    out.write(line)
                    kept += 1
        for run in runs:
            run.unlink()
        return kept

    def close(self):
        for _, writer in self._sinks.values():
            writer.close()
        self._sinks, self._held = {}, {}
        shutil.rmtree(self.root, ignore_errors=True)


def _write_lines(path, values):
    """One value a line (values hold no line breaks: they came from lines)."""
    import pyarrow.compute as pc

    pa = _pa()
    joined = pc.binary_join_element_wise(values, pa.scalar("", pa.string()), "\n")
    with open(path, "wb") as f:
        for chunk in joined.chunks if isinstance(joined, pa.ChunkedArray) else [joined]:
            buffers = chunk.buffers()
            offsets = np.frombuffer(buffers[1], dtype=np.int32)[
                chunk.offset : chunk.offset + len(chunk) + 1
            ]
            f.write(memoryview(buffers[2])[offsets[0] : offsets[-1]])
