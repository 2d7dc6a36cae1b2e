"""Reading delimited text files with errors that say where the problem is."""

import bz2
import csv
import gzip
import io
import math
import zipfile
from pathlib import Path

from reczoo.datasets.sources import DatasetError

_CANDIDATES = ("\t", ",", ";", "|", " ")


def sniff_separator(path, lines):
    """Guesses the separator from the first lines, never from the file name:
    `::` when every line holds it (MovieLens `.dat`), else the candidate whose
    most common field count (> 1) covers the most lines, so that one
    malformed line is reported rather than misread."""
    lines = [line for line in lines if line.strip()]
    if lines and all("::" in line for line in lines):
        return "::"
    best, best_score = None, None
    for sep in _CANDIDATES:
        counts = [len(line.split(sep)) for line in lines]
        mode = max(set(counts), key=counts.count)
        if mode < 2:
            continue
        score = (counts.count(mode) / len(counts), mode)
        if best_score is None or score > best_score:
            best, best_score = sep, score
    if best is None or best_score[0] < 0.5:
        raise DatasetError(
            f"Cannot tell the column separator of {path}: none of tab, comma, semicolon, "
            "'|', space or '::' splits its first lines evenly. Pass sep=..."
        )
    return best


def read_table(path, sep=None, header=True, encoding="utf-8", max_rows=None):
    """Reads a delimited file into columns of strings.

    Accepts LF and CRLF line endings, quoted fields for one-character
    separators, and `::` (MovieLens `.dat`).

    Returns:
        `(names, columns, sep)`: the column names (the header, or "0", "1", ...
        without one), a list of string lists, one per column, and the
        separator used.

    Raises:
        DatasetError: on an empty file, or a line with another number of
            fields than the first, naming the file and line number.
    """
    text = read_text(path, encoding)
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or not any(line.strip() for line in lines):
        raise DatasetError(f"{path} is empty: it has no header and no rows.")
    if sep is None:
        sep = sniff_separator(path, lines[:20])
    if sep == "::" or sep == " ":
        rows = (line.split(sep) for line in lines)
    else:
        rows = csv.reader(io.StringIO("\n".join(lines)), delimiter=sep)
    names = None
    width = None
    columns = None
    first_line = 1
    for number, row in _numbered(rows, path):
        if names is None and header:
            names = [c.strip() for c in row]
            width = len(names)
            columns = [[] for _ in range(width)]
            first_line = number + 1
            continue
        if width is None:
            width = len(row)
            names = [str(i) for i in range(width)]
            columns = [[] for _ in range(width)]
        if len(row) != width:
            if len(row) == 1 and not row[0].strip():
                raise DatasetError(f"{path}, line {number}: empty line inside the data.")
            raise DatasetError(
                f"{path}, line {number}: expected {width} fields separated by {sep!r}, "
                f"found {len(row)}: {lines[number - 1][:80]!r}"
            )
        for column, value in zip(columns, row, strict=True):
            column.append(value)
        if max_rows is not None and number - first_line + 1 >= max_rows:
            break
    if not columns or not columns[0]:
        raise DatasetError(f"{path} has a header but no rows.")
    return names, columns, sep


def read_bytes(path):
    """A file's bytes, decompressed if it is gzip, bzip2 or a one-file zip
    (by its content, whatever its name)."""
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"{path} is a folder, not a data file: give the file inside it.")
    if not path.is_file():
        raise DatasetError(f"No such data file: {path}")
    raw = path.read_bytes()
    try:
        if raw[:2] == b"\x1f\x8b":
            return gzip.decompress(raw)
        if raw[:3] == b"BZh":
            return bz2.decompress(raw)
        if raw[:4] == b"PK\x03\x04":
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                members = [m for m in z.namelist() if not m.endswith("/")]
                if len(members) != 1:
                    raise DatasetError(
                        f"{path} is a zip archive of {len(members)} files; reczoo reads a zip "
                        f"holding one. Extract the one you want. Members: {members[:5]}"
                    )
                return z.read(members[0])
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise DatasetError(f"{path} is a damaged compressed file: {e}") from None
    return raw


def read_text(path, encoding="utf-8"):
    """A file's text: decompressed (`read_bytes`), a UTF-8 byte-order mark removed."""
    raw = read_bytes(path)
    if encoding.lower().replace("-", "").replace("_", "") == "utf8":
        encoding = "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as e:
        raise DatasetError(
            f"{path} is not valid {encoding.removesuffix('-sig')} text (byte {e.start}); give "
            "its encoding: --encoding=latin-1 on the command line, encoding='latin-1' in "
            "Python (MovieLens 100K/1M files are latin-1)."
        ) from None


def _numbered(rows, path):
    """`enumerate(rows, 1)`, a malformed CSV line (a field over the size
    limit, a stray quote) reported with its number instead of `_csv.Error`."""
    number = 0
    iterator = iter(rows)
    while True:
        number += 1
        try:
            row = next(iterator)
        except StopIteration:
            return
        except csv.Error as e:
            raise DatasetError(f"{path}, line {number}: unreadable CSV ({e}).") from None
        yield number, row


def column_index(names, column, path, role):
    """Position of `column` (a name, or an int position) among `names`."""
    if isinstance(column, int) and not isinstance(column, bool):
        if 0 <= column < len(names):
            return column
    elif column in names:
        return names.index(column)
    raise DatasetError(
        f"{path} has no {role} column {column!r}. Columns found: {names}"
        + ("" if any(not n.isdigit() for n in names) else " (no header: use positions 0, 1, ...)")
    )


def parse_numbers(values, path, name, dtype, first_line):
    """Converts a column of strings, naming the line of the first bad value.

    Integers (`dtype="int64"`, ids and timestamps) are parsed exactly, never
    through float64, whose 53 bits collapse nanosecond times; a float literal
    is accepted only if it is a whole number below 2**53. Every value must be
    finite: NaN, infinity and out-of-range numbers are refused.
    """
    import numpy as np

    integer = np.dtype(dtype).kind in "iu"
    try:
        if integer:
            return np.asarray(values).astype(dtype)
        with np.errstate(over="ignore"):
            # Finite after the cast to `dtype`: 1e39 is finite in float64,
            # infinite in float32.
            array = np.asarray(values, "float64").astype(dtype)
        if np.isfinite(array).all():
            return array
    except (ValueError, OverflowError):
        pass
    out = np.empty(len(values), dtype=dtype)
    for i, value in enumerate(values):
        try:
            out[i] = _integer(value) if integer else _finite(value, dtype)
        except (ValueError, OverflowError):
            kind = (
                "a whole number within int64"
                if integer
                else f"a finite number (within {np.dtype(dtype).name}'s range)"
            )
            raise DatasetError(
                f"{path}, line {first_line + i}: column {name!r} should be {kind}. "
                f"Received: {value!r}"
            ) from None
    return out


def _integer(value):
    try:
        number = int(value)
    except ValueError:
        real = float(value)
        if not math.isfinite(real) or real != int(real) or abs(real) >= 2**53:
            raise ValueError(value) from None
        number = int(real)
    if not -(2**63) <= number < 2**63:
        raise OverflowError(value)
    return number


def _finite(value, dtype="float64"):
    import numpy as np

    real = float(value)
    with np.errstate(over="ignore"):
        if not math.isfinite(real) or not np.isfinite(np.asarray(real).astype(dtype)):
            raise ValueError(value)
    return real


def data_files(path):
    """The files of `path`: the file itself, a folder's data files (sorted;
    hidden files and `_SUCCESS`-style markers left out), or a glob's matches
    (`clicks/part-*.csv`)."""
    path = Path(path)
    text = str(path)
    if any(ch in text for ch in "*?["):
        base = Path(text.split("*")[0].split("?")[0].split("[")[0])
        root = base if base.is_dir() else base.parent
        pattern = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
        found = sorted(p for p in root.glob(pattern) if p.is_file())
        if not found:
            raise DatasetError(f"No file matches {text}.")
        return found
    if path.is_dir():
        found = sorted(p for p in path.iterdir()
                       if p.is_file() and not p.name.startswith((".", "_")))  # fmt: skip
        if not found:
            raise DatasetError(f"{path} is a folder with no data files in it.")
        return found
    if not path.is_file():
        raise DatasetError(f"No such data file: {path}")
    return [path]


def is_parquet(path):
    with open(path, "rb") as f:
        return f.read(4) == b"PAR1"


def read_columns(path, sep=None, header=True, encoding="utf-8"):
    """Reads a file, a folder of parts or a glob (CSV/TSV, compressed or not,
    or parquet) as one table of string columns.

    Parts must share their columns; parquet values are written as a CSV
    would hold them (`""` for a null), so a parquet file and the same table
    as CSV read alike.

    Returns:
        `(names, columns, sep, parts)`: `read_table`'s first three and the
        list of `(path, rows)` read.
    """
    parts = data_files(path)
    names = columns = None
    read = []
    for part in parts:
        if is_parquet(part):
            part_names, part_columns = _read_parquet(part)
            part_sep = sep
        else:
            part_names, part_columns, part_sep = read_table(
                part, sep=sep, header=header, encoding=encoding
            )
        if names is None:
            names, columns, sep = part_names, part_columns, part_sep
        elif part_names != names:
            raise DatasetError(
                f"{part} has columns {part_names}, but {parts[0]} has {names}: the parts of "
                "one table must share their columns."
            )
        else:
            for column, more in zip(columns, part_columns, strict=True):
                column.extend(more)
        read.append((part, len(part_columns[0]) if part_columns else 0))
    return names, columns, sep, read


def _read_parquet(path):
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        raise DatasetError(f"{path} is parquet: install pyarrow to read it.") from None
    try:
        table = pq.read_table(path)
    except Exception as e:  # pyarrow raises several kinds for a damaged file
        raise DatasetError(f"{path} is a damaged parquet file: {e}") from None
    if table.num_rows == 0:
        raise DatasetError(f"{path} has columns but no rows.")
    columns = []
    for column in table.columns:
        values = column.to_pylist()
        columns.append([_as_text(v) for v in values])
    return list(table.column_names), columns


def _as_text(value):
    """A parquet value as a CSV file holds it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 2**53 else repr(value)
    if isinstance(value, list | tuple):
        # A list column: the bag's values, joined by the multi separator "|".
        return "|".join(_as_text(v) for v in value)
    return str(value)


def iter_blocks(path, sep=None, header=True, encoding="utf-8", block_rows=65_536):
    """Streams a file, a folder of parts or a glob (CSV/TSV, gzip or bzip2,
    or parquet) in blocks of at most `block_rows` rows, never holding the
    whole table: yields `(names, columns, part, first_line)`, `columns` a
    list of string lists and `first_line` the file line of the block's
    first row. Parts must share their columns."""

    def blocks_of(part):
        if is_parquet(part):
            return _parquet_blocks(part, block_rows)
        return _text_blocks(part, sep, header, encoding, block_rows)

    yield from over_parts(path, blocks_of)


def over_parts(path, blocks_of):
    """`blocks_of(part)`'s `(names, columns, first_line)` for each file of
    `path` (`data_files`), as `(names, columns, part, first_line)`; a part
    whose columns differ from the first part's is refused by name."""
    names = None
    for part in data_files(path):
        for part_names, columns, first_line in blocks_of(part):
            if names is None:
                names = part_names
            elif part_names != names:
                raise DatasetError(f"{part} has columns {part_names}, but the first part has "
                                   f"{names}: the parts of one table must share their columns.")  # fmt: skip
            yield names, columns, part, first_line


def parquet_batches(path, block_rows):
    """A parquet file's record batches of at most `block_rows` rows: yields
    `(names, batch, first_line)`, the first row being line 1; a damaged file
    is refused by name."""
    import pyarrow.parquet as pq

    try:
        reader = pq.ParquetFile(path)
    except Exception as e:  # pyarrow raises several kinds for a damaged file
        raise DatasetError(f"{path} is a damaged parquet file: {e}") from None
    names = list(reader.schema_arrow.names)
    line = 1
    for batch in reader.iter_batches(batch_size=block_rows):
        yield names, batch, line
        line += batch.num_rows


def _parquet_blocks(path, block_rows):
    for names, batch, line in parquet_batches(path, block_rows):
        yield names, [[_as_text(v) for v in column.to_pylist()] for column in batch.columns], line


def _open_text(path, encoding):
    with open(path, "rb") as f:
        magic = f.read(3)
    if encoding.lower().replace("-", "").replace("_", "") == "utf8":
        encoding = "utf-8-sig"
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding=encoding, newline="")
    if magic == b"BZh":
        return bz2.open(path, "rt", encoding=encoding, newline="")
    if magic[:2] == b"PK":
        return io.StringIO(read_text(path, encoding), newline="")
    return open(path, encoding=encoding, newline="")


def _text_blocks(path, sep, header, encoding, block_rows):
    with _open_text(path, encoding) as f:
        head = [f.readline() for _ in range(20)]
        if sep is None:
            sep = sniff_separator(path, [line.rstrip("\r\n") for line in head if line.strip()])
        lines = _chain(head, f)
        if sep in ("::", " "):
            rows = (line.rstrip("\r\n").split(sep) for line in lines)
        else:
            rows = csv.reader(lines, delimiter=sep)
        names = width = None
        block, first = [], 1
        try:
            for number, row in _numbered(rows, path):
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if names is None:
                    width = len(row)
                    if header:
                        names, first = [c.strip() for c in row], number + 1
                        continue
                    names = [str(i) for i in range(width)]
                if len(row) != width:
                    raise DatasetError(
                        f"{path}, line {number}: expected {width} fields separated by {sep!r}, "
                        f"found {len(row)}."
                    )
                block.append(row)
                if len(block) == block_rows:
                    yield names, [list(c) for c in zip(*block, strict=True)], first
                    block, first = [], number + 1
        except UnicodeDecodeError as e:
            raise DatasetError(f"{path} is not valid {encoding} text ({e.reason}); give its "
                               "encoding (--encoding=latin-1).") from None  # fmt: skip
        if block:
            yield names, [list(c) for c in zip(*block, strict=True)], first
        elif names is None:
            raise DatasetError(f"{path} is empty: it has no header and no rows.")


def _chain(head, rest):
    for line in head:
        if line:
            yield line
    yield from rest


def relative_name(part, root):
    """`part`'s name as a row records it: `folder/part` inside a folder."""
    root = Path(root)
    if root.is_dir() and Path(part).is_relative_to(root):
        return f"{root.name}/{Path(part).relative_to(root)}"
    return Path(part).name
