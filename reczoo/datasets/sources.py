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
from reczoo.provenance import sha256_of


class DatasetError(ValueError):
    """A dataset that cannot be found, downloaded, verified or parsed."""


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
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets" / "reczoo"


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


def locate(source, download=True):
    """The folder holding all of `source`'s files, verified; downloads if needed."""
    candidates = []
    if data_dir() is not None:
        candidates.append(data_dir() / source.folder)
    candidates.append(cache_dir() / source.folder)
    for folder in candidates:
        if _complete(folder, source):
            for f in source.files:
                _verify(folder / f.name, f.sha256)
            return folder
    target = cache_dir() / source.folder
    where = " or ".join(str(c) for c in candidates)
    first = candidates[0]
    needed = ", ".join(f.name for f in source.files if not (first / f.name).is_file())
    unpinned = (source.archive_url and not source.archive_sha256) or (
        not source.archive_url and any(f.sha256 is None for f in source.files)
    )
    if not download or not source.urls or unpinned:
        reason = (
            "its source publishes no checksum reczoo can pin, so it is not downloaded automatically"
            if unpinned
            else "downloading is off"
        )
        raise DatasetError(
            f"Dataset files not found: {needed}. Looked in {where}; {reason}. Get them from "
            f"{', '.join(source.urls) or source.homepage} and place them in "
            f"{data_dir() / source.folder if data_dir() else target} "
            "(or set RECZOO_DATA_DIR to a folder holding "
            f"'{source.folder}/')."
        )
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


_GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
_GROUPLENS_LICENCE = "GroupLens research licence: no redistribution, cite Harper & Konstan 2015"

# Archive hashes as pinned by tensorflow-datasets' url_checksums/movielens.txt;
# member hashes as verified in this project's shared data.
SOURCES = {
    "movielens-100k": Source(
        folder="ml-100k",
        files=(
            RemoteFile(
                "u.data",
                "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
                member="ml-100k/u.data",
            ),
            RemoteFile(
                "u.user",
                "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
                member="ml-100k/u.user",
            ),
            RemoteFile(
                "u.item",
                "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
                member="ml-100k/u.item",
            ),
        ),
        archive_url=_GROUPLENS + "ml-100k.zip",
        archive_sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        homepage="https://grouplens.org/datasets/movielens/100k/",
        licence=_GROUPLENS_LICENCE,
    ),
    "movielens-1m": Source(
        folder="ml-1m",
        files=(
            RemoteFile("ratings.dat", None, member="ml-1m/ratings.dat"),
            RemoteFile(
                "users.dat",
                "1dc3a95300cb19f7c10e027daf29b8cdf1d908dab65b5edfb45950aa389a10a3",
                member="ml-1m/users.dat",
            ),
            RemoteFile(
                "movies.dat",
                "0140fc2356357c1a851d0f52e893a1e4d3696df632c4141cea8d5bc3d621f0b9",
                member="ml-1m/movies.dat",
            ),
        ),
        archive_url=_GROUPLENS + "ml-1m.zip",
        archive_sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        homepage="https://grouplens.org/datasets/movielens/1m/",
        licence=_GROUPLENS_LICENCE,
    ),
    "movielens-latest": Source(
        folder="ml-latest-small",
        files=(
            RemoteFile("ratings.csv", None, member="ml-latest-small/ratings.csv"),
            RemoteFile("movies.csv", None, member="ml-latest-small/movies.csv"),
        ),
        archive_url=_GROUPLENS + "ml-latest-small.zip",
        archive_sha256="696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        homepage="https://grouplens.org/datasets/movielens/latest/",
        licence=_GROUPLENS_LICENCE,
    ),
    "movielens-20m": Source(
        folder="ml-20m",
        files=(
            RemoteFile("ratings.csv", None, member="ml-20m/ratings.csv"),
            RemoteFile("movies.csv", None, member="ml-20m/movies.csv"),
        ),
        archive_url=_GROUPLENS + "ml-20m.zip",
        archive_sha256="96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
        homepage="https://grouplens.org/datasets/movielens/20m/",
        licence=_GROUPLENS_LICENCE,
    ),
    "movielens-25m": Source(
        folder="ml-25m",
        files=(
            RemoteFile("ratings.csv", None, member="ml-25m/ratings.csv"),
            RemoteFile("movies.csv", None, member="ml-25m/movies.csv"),
        ),
        archive_url=_GROUPLENS + "ml-25m.zip",
        archive_sha256="8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
        homepage="https://grouplens.org/datasets/movielens/25m/",
        licence=_GROUPLENS_LICENCE,
    ),
    "amazon-games": Source(
        folder="amazon-games",
        files=(
            RemoteFile(
                "Video.txt",
                "b7376fe24430743f411dc7f567285657b2adb3f74361cc7ba0aee94f3024b651",
                url="https://raw.githubusercontent.com/kang205/SASRec/"
                "e3738967fddab206d6eeb4fda433e7a7034dd8b1/data/Video.txt",
            ),
        ),
        homepage="https://github.com/kang205/SASRec",
        licence="Derived from J. McAuley's Amazon reviews; cite Kang & McAuley, ICDM 2018",
    ),
    "frappe": Source(
        folder="frappe",
        files=(
            RemoteFile(
                "raw/frappe.csv",
                "409edc12f4e2153c5dd58ae171938735911d9b0f70961d5f1086b241656b2cb5",
                member="Mobile_Frappe/frappe/frappe.csv",
            ),
            RemoteFile(
                "raw/meta.csv",
                "de87f6b2e7cd0428f9179167e2e7826b5dd3bf490d5af680261b685763ac214f",
                member="Mobile_Frappe/frappe/meta.csv",
            ),
        ),
        archive_url="https://raw.githubusercontent.com/irecsys/CARSKit/"
        "0a1789fb0804b067cabd223c4b8fd8b4d2f6e881/context-aware_data_sets/Mobile_Frappe.zip",
        archive_sha256="4adc616de57170f282397f6e6e30215f97fa7ad1b7f40bd12ef5dceaaf3e9b4e",
        homepage="https://arxiv.org/abs/1505.03014",
        licence="Research use only, no redistribution; cite Baltrunas et al. 2015",
    ),
    "frappe-nfm": Source(
        folder="frappe",
        files=(
            RemoteFile(
                "frappe.validation.libfm",
                "fdf4be563a7dd9b15f7a6e8b32671e90e6e7a2a2bd3af4e10bf13c5ad7e76e9e",
                url="https://raw.githubusercontent.com/hexiangnan/neural_factorization_machine/"
                "ca2a5d11b929816aa44c6e470e795af144608507/data/frappe/frappe.validation.libfm",
            ),
            RemoteFile(
                "frappe.test.libfm",
                "a2ebaef3a9af8e55f8bb0d08bc4923965e42e43760ebd7635ac2f8c5db99e097",
                url="https://raw.githubusercontent.com/hexiangnan/neural_factorization_machine/"
                "ca2a5d11b929816aa44c6e470e795af144608507/data/frappe/frappe.test.libfm",
            ),
        ),
        homepage="https://github.com/hexiangnan/neural_factorization_machine",
        licence="Research use only, no redistribution; cite Baltrunas et al. 2015",
    ),
    "criteo": Source(
        folder="criteo",
        files=(RemoteFile("train.txt", None, member="train.txt"),),
        archive_url="https://go.criteo.net/"
        "criteo-research-kaggle-display-advertising-challenge-dataset.tar.gz",
        archive_sha256=None,
        homepage="https://ailab.criteo.com/ressources/",
        licence="Criteo Labs Data Terms of Use: non-commercial, no redistribution",
    ),
    "criteo-sample": Source(
        folder="criteo-sample",
        files=(
            RemoteFile(
                "criteo_sample.txt",
                "08b84f12a22438fb534e989a5e4fa245726b2bda001983556bc2aea2f094f724",
                url="https://raw.githubusercontent.com/shenweichen/DeepCTR/"
                "1b5fe40e158d1ee6af8b1d9df217a5ed5aea9136/examples/criteo_sample.txt",
            ),
        ),
        homepage="https://github.com/shenweichen/DeepCTR",
        licence="Criteo Labs Data Terms of Use: non-commercial, no redistribution",
    ),
}
