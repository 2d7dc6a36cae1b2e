"""Reading delimited text files with errors that say where the problem is."""

import csv
import io
from pathlib import Path

from reczoo.datasets.sources import DatasetError

_CANDIDATES = ("\t", ",", ";", "|", " ")


def sniff_separator(path, lines):
    """Guesses the separator from the first lines: `::` for MovieLens `.dat`,
    else the candidate whose most common field count (> 1) covers the most
    lines, so that one malformed line is reported rather than misread."""
    lines = [line for line in lines if line.strip()]
    if Path(path).suffix == ".dat" or all("::" in line for line in lines):
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
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"No such data file: {path}")
    try:
        with open(path, encoding=encoding, newline="") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise DatasetError(
            f"{path} is not valid {encoding} text (byte {e.start}); pass the right encoding "
            "(MovieLens 100K/1M files are latin-1)."
        ) from None
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
    for number, row in enumerate(rows, start=1):
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
    """Converts a column of strings, naming the line of the first bad value."""
    import numpy as np

    try:
        return np.asarray(values, dtype="float64").astype(dtype)
    except ValueError:
        for i, value in enumerate(values):
            try:
                float(value)
            except ValueError:
                raise DatasetError(
                    f"{path}, line {first_line + i}: column {name!r} should be a number. "
                    f"Received: {value!r}"
                ) from None
        raise
