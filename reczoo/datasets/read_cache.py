"""Built-in click-log datasets kept as read, so that a second `load` skips
the reading.

Frappe is rebuilt from the NFM files and the raw log at every read (3.4-4.4 s
on a 2-core AMD EPYC for `frappe-x1`; each `reczoo train` and benchmark run
on it paid that). The arrays of a `CTRDataset` read by one of reczoo's own
readers go to one `.npz` file (no pickled objects) beside a JSON file of its
vocabularies and names, under the reczoo cache. The file's name holds the
sha256 of the dataset's files and one of reczoo's version and the source of
every module in `reczoo.datasets`: a changed file or a changed reader reads
afresh (an install without those sources caches nothing). A cache
file that cannot be read is read around (and replaced); one that cannot be
written costs only the next read. Writing a dataset's file removes its older
ones (other files or code), so the cache holds one per dataset.
"""

import dataclasses
import functools
import hashlib
import json
import re
import zipfile
from pathlib import Path

import numpy as np

from reczoo.datasets.base import CTRDataset, Vocabulary
from reczoo.datasets.sources import cache_dir

# What a cached dataset may hold besides its arrays; a dataset with any other
# field set (a schema, sequences, pending transforms...) is not cached.
_ARRAY_DICTS = ("categorical", "numerical")
_KEPT = {"name", "labels", "vocabularies", "user_column", "item_column", "sha256",
         "fixed_split", "notes", *_ARRAY_DICTS}  # fmt: skip
_JSON_VALUES = (str, int, float)
# Larger logs stream from shards (`reczoo shards`), which are their own cache.
MAX_BYTES = 1 << 30


@functools.cache
def _code_digest():
    """sha256 of reczoo's version and the source of every module of
    `reczoo.datasets`; None where the sources are not there to read (an
    install of compiled files only), which turns the cache off."""
    from reczoo.version import __version__

    root = Path(__file__).parent
    sources = sorted(root.rglob("*.py"))
    if not sources:
        return None
    digest = hashlib.sha256(__version__.encode())
    for path in sources:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def path(name, source_sha256):
    """The cache file of dataset `name` read from files of `source_sha256`."""
    return cache_dir() / "read" / f"{name}-{source_sha256[:16]}-{_code_digest()[:12]}.npz"


def cacheable(reader):
    """Only reczoo's own readers: their code is in the key; a reader of
    yours (`register_dataset`) may change without it. A reader is reczoo's
    where its code, and that of every function it closes over (a
    `catalog.reader(fn)` wrapper's `fn`), is in `reczoo.datasets`."""
    if _code_digest() is None:
        return False
    root = Path(__file__).resolve().parent
    functions = [reader]
    for function in functions:
        code = getattr(function, "__code__", None)
        if code is None or not Path(code.co_filename).resolve().is_relative_to(root):
            return False
        for cell in function.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:  # a cell not yet filled
                continue
            if callable(value):
                functions.append(value)
    return True


def read(file):
    """The `CTRDataset` kept in `file`, or None where there is none (or it
    cannot be read whole)."""
    file = Path(file)
    try:
        meta = json.loads(file.with_suffix(".json").read_text())
        with np.load(file, allow_pickle=False) as arrays:
            arrays = {k: arrays[k] for k in arrays.files}
        fields = {
            **{k: meta[k] for k in ("name", "user_column", "item_column", "sha256", "notes")},
            "labels": arrays["labels"],
            "vocabularies": {
                column: Vocabulary(vname, values[1:])
                for column, (vname, values) in meta["vocabularies"].items()
            },
        }
        for group in (*_ARRAY_DICTS, "fixed_split"):
            columns = meta[group]
            fields[group] = (
                None if columns is None else {c: arrays[f"{group}/{c}"] for c in columns}
            )
        return CTRDataset(**fields)
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile):
        return None  # absent, or cut short: read the files again


def write(file, data):
    """Keeps `data` in `file` where it is a `CTRDataset` of arrays,
    vocabularies of plain values and names only; returns whether it did."""
    if not isinstance(data, CTRDataset):
        return False
    for field in dataclasses.fields(data):
        if field.name not in _KEPT and getattr(data, field.name) not in (None, {}, []):
            return False
    vocabularies = {}
    for column, vocabulary in data.vocabularies.items():
        values = vocabulary.values
        if type(vocabulary) is not Vocabulary or not all(type(v) in _JSON_VALUES for v in values):
            return False  # JSON would not give the same values back
        vocabularies[column] = (vocabulary.name, values)
    arrays = {"labels": data.labels}
    for group in (*_ARRAY_DICTS, "fixed_split"):
        arrays.update(
            {f"{group}/{c}": np.asarray(v) for c, v in (getattr(data, group) or {}).items()}
        )
    if sum(a.nbytes for a in arrays.values()) > MAX_BYTES or any(
        a.dtype.hasobject for a in arrays.values()
    ):
        return False  # too large to keep twice, or not storable without pickling
    meta = {k: getattr(data, k) for k in ("name", "user_column", "item_column", "sha256", "notes")}
    meta["vocabularies"] = vocabularies
    for group in (*_ARRAY_DICTS, "fixed_split"):
        columns = getattr(data, group)
        meta[group] = None if columns is None else list(columns)
    from reczoo.provenance import write_atomically

    file = Path(file)
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        # The arrays first: the JSON file, written last, marks them whole.
        write_atomically(file, lambda tmp: _save(tmp, arrays))
        write_atomically(file.with_suffix(".json"), lambda tmp: tmp.write_text(json.dumps(meta)))
    except OSError:
        return False
    pattern = re.compile(re.escape(data.name) + r"-[0-9a-f]{16}-[0-9a-f]{12}")
    for other in file.parent.glob(f"{data.name}-*"):
        if pattern.fullmatch(other.stem) and other.stem != file.stem:
            other.unlink(missing_ok=True)
    return True


def _save(tmp, arrays):
    with open(tmp, "wb") as handle:
        np.savez(handle, **arrays)
