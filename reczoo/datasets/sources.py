"""Where each public dataset's raw files come from, and how they are found.

A file is looked for, in order: under `$RECZOO_DATA_DIR/<folder>/`, then in
the download cache `$KERAS_HOME/datasets/reczoo/<folder>/`, and only then
downloaded from the official source and checked against a pinned sha256.
Raw files are never shipped with reczoo: their licences forbid it.
"""

import dataclasses
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

from reczoo import provenance
from reczoo.provenance import keras_home, sha256_of


class DatasetError(ValueError):
    """A dataset that cannot be found, downloaded, verified or parsed.

    A `ValueError` whose message names the file, the line or the URL.

    Example:
        ```python
        try:
            reczoo.datasets.load_interactions("no_such_file.csv")
        except reczoo.datasets.DatasetError as error:
            print(error)  # No such data file: no_such_file.csv
        ```
    """


class MissingFiles(DatasetError):
    """A dataset whose files are not here and that reczoo does not download
    (no pinned checksum, or downloading off): the message says where to get
    them and where to place them. A benchmark suite skips its entries."""


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    """One raw file of a dataset.

    Args:
        name: path inside the dataset folder (`u.data`, `raw/frappe.csv`).
        sha256: pinned content hash, checked wherever the file is found;
            None where no trustworthy hash is published.
        url: the file's own download URL, when it is not in an archive.
        member: its path inside the source archive, when it is.
    """

    name: str
    sha256: str | None = None
    url: str | None = None
    member: str | None = None


@dataclasses.dataclass(frozen=True)
class Source:
    folder: str
    files: tuple
    archive_url: str | None = None
    archive_sha256: str | None = None
    homepage: str = ""
    licence: str = ""

    @property
    def urls(self):
        if self.archive_url:
            return [self.archive_url]
        return [f.url for f in self.files if f.url]


def data_dir():
    """`$RECZOO_DATA_DIR` as a `Path`, or None when unset."""
    value = os.environ.get("RECZOO_DATA_DIR")
    return Path(value).expanduser() if value else None


def cache_dir():
    return keras_home() / "datasets" / "reczoo"


def _verify(path, expected):
    if expected is None:
        return
    actual = sha256_of(path)
    if actual != expected:
        raise DatasetError(
            f"{path} does not match its pinned sha256: expected {expected}, found {actual}. "
            "The file is modified, truncated or another release; replace it with the "
            "official file."
        )


def _complete(folder, source):
    return folder is not None and all((folder / f.name).is_file() for f in source.files)


def _candidates():
    """The folders where a source's folder is looked for, in order."""
    return ([data_dir()] if data_dir() is not None else []) + [cache_dir()]


def _unpinned(source):
    """True where the source publishes no checksum reczoo can pin."""
    if source.archive_url:
        return not source.archive_sha256
    return any(f.sha256 is None for f in source.files)


def unobtainable(source, download=True):
    """Why `source`'s files can be neither found (complete in a folder where
    `locate` looks) nor downloaded, as `MissingFiles`' message; None where
    they can. Reads no file: nothing is hashed or downloaded."""
    candidates = [base / source.folder for base in _candidates()]
    if any(_complete(folder, source) for folder in candidates):
        return None
    unpinned = _unpinned(source)
    if download and source.urls and not unpinned:
        return None
    where = " or ".join(str(c) for c in candidates)
    first = candidates[0]
    needed = ", ".join(f.name for f in source.files if not (first / f.name).is_file())
    reason = (
        "its source publishes no checksum reczoo can pin, so it is not downloaded automatically"
        if unpinned
        else "downloading is off"
    )
    return (
        f"Dataset files not found: {needed}. Looked in {where}; {reason}. Get them from "
        f"{', '.join(source.urls) or source.homepage} and place them in "
        f"{data_dir() / source.folder if data_dir() else cache_dir() / source.folder} "
        f"(or set RECZOO_DATA_DIR to a folder holding '{source.folder}/')."
    )


def locate(source, download=True):
    """The folder holding all of `source`'s files, verified; downloads if needed."""
    candidates = [base / source.folder for base in _candidates()]
    for folder in candidates:
        if _complete(folder, source):
            for f in source.files:
                _verify(folder / f.name, f.sha256)
            return folder
    reason = unobtainable(source, download)
    if reason is not None:
        raise MissingFiles(reason)
    target = cache_dir() / source.folder
    needed = ", ".join(f.name for f in source.files if not (candidates[0] / f.name).is_file())
    try:
        # Two processes needing the same files download them once: the
        # second waits, then finds them in place.
        with provenance.file_lock(target.with_name(f".{target.name}.lock")):
            if not _complete(target, source):
                _download(source, target)
            for f in source.files:
                _verify(target / f.name, f.sha256)
    except DatasetError:
        raise
    except Exception as e:
        raise DatasetError(
            f"Could not download {', '.join(source.urls)} ({type(e).__name__}: {e}). "
            f"Place {needed} in {target} or under $RECZOO_DATA_DIR/{source.folder}/ and retry."
        ) from e
    return target


def _download(source, target):
    import keras

    with provenance.staged_folder(target, overwrite=True) as staging:
        if source.archive_url:
            archive = keras.utils.get_file(
                fname=source.archive_url.rsplit("/", 1)[-1],
                origin=source.archive_url,
                file_hash=source.archive_sha256,
                hash_algorithm="sha256",
                cache_dir=str(staging),
                cache_subdir="download",
            )
            _extract(archive, source, staging)
        else:
            for f in source.files:
                path = keras.utils.get_file(
                    fname=Path(f.name).name,
                    origin=f.url,
                    file_hash=f.sha256,
                    hash_algorithm="sha256",
                    cache_dir=str(staging),
                    cache_subdir="download",
                )
                (staging / f.name).parent.mkdir(parents=True, exist_ok=True)
                shutil.move(path, staging / f.name)
        shutil.rmtree(staging / "download", ignore_errors=True)
        for f in source.files:
            _verify(staging / f.name, f.sha256)


def _extract(archive, source, staging):
    members = {f.member: f.name for f in source.files}
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for member, name in members.items():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                with z.open(member) as src, open(staging / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        return
    with tarfile.open(archive) as tar:
        for member, name in members.items():
            src = tar.extractfile(member)
            if src is None:
                raise DatasetError(f"{archive} has no file member {member!r}.")
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            with src, open(staging / name, "wb") as dst:
                shutil.copyfileobj(src, dst)


def unpinned_files(folder, source):
    """`{name: {"sha256", "lines"}}` of the source's files that no pinned
    checksum covers: placed by the user, and recorded with every result."""
    records = {}
    for f in source.files:
        if f.sha256 is None:
            path = folder / f.name
            with open(path, "rb") as handle:
                lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
            records[f.name] = {"sha256": sha256_of(path), "lines": lines}
    return records


def source_sha256(folder, source):
    """One sha256 over the dataset's files, recorded with every result."""
    import hashlib

    digest = hashlib.sha256()
    for f in source.files:
        digest.update(f.name.encode())
        digest.update((f.sha256 or sha256_of(folder / f.name)).encode())
    return digest.hexdigest()
