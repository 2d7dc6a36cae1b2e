"""The catalogue of public datasets: each registers itself.

A public dataset is one module under `reczoo/datasets/public/` that calls
`register_source` (its files: names, pinned sha256s, URLs, licence) and
`register_dataset` (its name, reader, default protocol and published
statistics). The `reczoo.datasets.public` package imports every module
there (`reczoo.datasets` imports it), so adding a dataset touches no shared
file (docs/adding_a_dataset.md).
Nothing here imports TensorFlow: `reczoo datasets` lists them without it.
"""

import dataclasses
import difflib

from reczoo.datasets.sources import Source

# name -> Source (files, checksums, licence); several datasets may share one.
SOURCES = {}
# name -> DatasetInfo
DATASETS = {}


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """A public dataset.

    Attributes:
        name: what `reczoo.datasets.load(name)` and `--dataset=` take.
        source: the name of its `Source` (`register_source`).
        reader: `reader(folder, sha256)` returns the dataset from the
            source's verified folder (`sha256` names it in caches and rows).
        default_protocol: the protocol a run that names none uses.
        description: one line for `reczoo datasets`.
        published: statistics the dataset's publisher gives
            (`{"interactions": 100_000, ...}`): files no checksum covers are
            checked against them.
    """

    name: str
    source: str
    reader: callable
    default_protocol: str
    description: str
    published: dict


def register_source(name, source):
    """Registers the raw files `source` (a `Source`) under `name`."""
    if not isinstance(source, Source):
        raise TypeError(f"register_source takes a Source. Received: {type(source).__name__}")
    if name in SOURCES and SOURCES[name] != source:
        raise ValueError(f"Source {name!r} is already registered with other files.")
    SOURCES[name] = source
    return source


def register_dataset(info):
    """Registers a public dataset (a `DatasetInfo`); its source must be
    registered first."""
    if info.name in DATASETS and DATASETS[info.name] is not info:
        raise ValueError(f"Dataset {info.name!r} is already registered.")
    if info.source not in SOURCES:
        raise ValueError(
            f"Dataset {info.name!r} names source {info.source!r}, which is not registered: "
            "call register_source first."
        )
    DATASETS[info.name] = info
    return info


def reader(fn, *args):
    """A `DatasetInfo.reader` from `fn(folder, *args, sha256=...)`."""
    return lambda folder, sha256: fn(folder, *args, sha256=sha256)


def list_datasets():
    """Names of the public datasets `load` reads.

    Returns:
        A sorted list of names.

    Example:
        ```python
        reczoo.datasets.list_datasets()  # ['amazon-games', 'avazu-x1', ..., 'movielens-100k', ...]
        ```
    """
    return sorted(DATASETS)


def dataset_info(name):
    """What reczoo knows of a public dataset.

    Args:
        name: a dataset name (`list_datasets()`).

    Returns:
        Its `DatasetInfo`: description, source, default protocol and the
        published statistics its files are checked against.

    Raises:
        ValueError: an unknown name (the error suggests close ones).

    Example:
        ```python
        info = reczoo.datasets.dataset_info("movielens-100k")
        print(info.description, info.default_protocol)
        ```
    """
    info = DATASETS.get(name)
    if info is None:
        close = difflib.get_close_matches(name, list(DATASETS), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(f"Unknown dataset {name!r}.{hint} Known datasets: {list_datasets()}")
    return info


def source_of(name):
    """The `Source` of dataset `name`."""
    return SOURCES[dataset_info(name).source]
