"""Public datasets, your own interaction files, preprocessing and protocols.

Example:
    ```python
    data = reczoo.datasets.load("movielens-100k")
    data.num_users, data.num_items, data.num_interactions  # 943, 1682, 100000
    split = reczoo.datasets.split(data, "ncf", seed=0)
    ```
"""

from reczoo.datasets import loaders, read_cache, shards, sources
from reczoo.datasets.base import CTRDataset, InteractionDataset, Vocabulary
from reczoo.datasets.catalog import (
    DATASETS,
    SOURCES,
    DatasetInfo,
    dataset_info,
    list_datasets,
    register_dataset,
    register_source,
)
from reczoo.datasets.click_logs import load_table
from reczoo.datasets.loaders import load_interactions
from reczoo.datasets.preprocessing import compact, history_ctr, k_core, to_implicit
from reczoo.datasets.protocols import (
    PROTOCOLS,
    LeaveOneOutSplit,
    Protocol,
    RowSplit,
    get_protocol,
    split,
)
from reczoo.datasets.schema import Schema, SchemaError, infer
from reczoo.datasets.shards import (
    ShardedDataset,
    convert_criteo,
    convert_table,
    open_shards,
    write_shards,
)
from reczoo.datasets.sources import DatasetError, MissingFiles
from reczoo.datasets.synthetic import (
    synthetic_bars_x1,
    synthetic_criteo,
    synthetic_long_tail,
    write_examples,
)


def locate(name, download=False):
    """The local folder of dataset `name`, or None if its files are not here."""
    info = dataset_info(name)
    try:
        return sources.locate(SOURCES[info.source], download=download)
    except DatasetError:
        if download:
            raise
        return None


def unobtainable(name, download=True):
    """Why public dataset `name`'s files are neither here nor downloadable:
    the message `load` would raise, or None where `load` can find or fetch
    them. Reads and downloads nothing, so it is cheap to ask before a long
    run (a benchmark suite does, to leave out of its time estimate the
    entries it will skip).

    Example:
        ```python
        print(reczoo.datasets.unobtainable("movielens-100k"))  # None
        ```
    """
    return sources.unobtainable(SOURCES[dataset_info(name).source], download=download)


def load(name, download=True):
    """Loads a public dataset by name (see `list_datasets()`).

    Files are read from `$RECZOO_DATA_DIR/<folder>/`, else from the reczoo
    download cache, else downloaded from the official source and checked
    against a pinned sha256. Offline, the error names the URL and the folder
    where the files belong.

    Args:
        name: a dataset name (`list_datasets()`).
        download: download missing files from the official source; False
            raises instead.

    Returns:
        An `InteractionDataset` or a `CTRDataset`.

    Raises:
        DatasetError: files that cannot be found, downloaded or verified; the
            message names the URL and the folder where they belong.
        ValueError: an unknown name.

    Example:
        ```python
        data = reczoo.datasets.load("movielens-100k")
        print(data.num_users, data.num_items, data.num_interactions)  # 943 1682 100000
        ```
    """
    info = dataset_info(name)
    source = SOURCES[info.source]
    folder = sources.locate(source, download=download)
    digest = sources.source_sha256(folder, source)
    kept = read_cache.path(name, digest) if read_cache.cacheable(info.reader) else None
    data = read_cache.read(kept) if kept else None
    if data is None:
        data = info.reader(folder, sha256=digest)
        if kept:
            read_cache.write(kept, data)  # a click log of arrays: read once (read_cache)
    data.files = sources.unpinned_files(folder, source)
    if data.files:
        _check_published(data, info, folder)
    return data


def statistics(name):
    """`load(name).statistics()` of a local dataset, kept in the reczoo cache
    under the sha256 of its files: a dataset is read once, and read again
    only when a file changes. Raises `DatasetError` when its files are not
    here (nothing is downloaded) or fail their checks."""
    import json

    from reczoo.provenance import write_atomically

    info = dataset_info(name)
    source = SOURCES[info.source]
    folder = sources.locate(source, download=False)
    digest = sources.source_sha256(folder, source)[:16]
    path = sources.cache_dir() / "statistics" / f"{name}-{digest}.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        pass  # not yet counted, or a cache file cut short: count again
    found = {
        k: v.item() if hasattr(v, "item") else v for k, v in load(name, False).statistics().items()
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda tmp: tmp.write_text(json.dumps(found)))
    except OSError:
        pass  # an unwritable cache only costs the next listing a read
    return found


def _check_published(data, info, folder):
    """Refuses a dataset whose files no checksum covers when its counts differ
    from the published ones: a truncated or edited file, or another release."""
    found = data.statistics()
    wrong = {k: (found[k], v) for k, v in info.published.items() if k in found and found[k] != v}
    if wrong:
        listed = ", ".join(f"{k} {got:,} (published: {want:,})" for k, (got, want) in wrong.items())
        raise DatasetError(
            f"{info.name} in {folder} does not match its published counts: {listed}. "
            f"Its files {sorted(data.files)} have no pinned checksum, so the counts are the "
            "check: the file is truncated, edited or another release. Replace it with the "
            "official file."
        )


# Every public dataset registers itself (reczoo/datasets/public/).
from reczoo.datasets import public  # noqa: E402, F401

__all__ = [
    "DATASETS",
    "PROTOCOLS",
    "SOURCES",
    "CTRDataset",
    "DatasetError",
    "DatasetInfo",
    "InteractionDataset",
    "LeaveOneOutSplit",
    "MissingFiles",
    "Protocol",
    "RowSplit",
    "Schema",
    "SchemaError",
    "ShardedDataset",
    "Vocabulary",
    "compact",
    "convert_criteo",
    "convert_table",
    "dataset_info",
    "get_protocol",
    "history_ctr",
    "infer",
    "k_core",
    "list_datasets",
    "load",
    "load_interactions",
    "load_table",
    "loaders",
    "locate",
    "open_shards",
    "register_dataset",
    "register_source",
    "shards",
    "sources",
    "split",
    "statistics",
    "synthetic_bars_x1",
    "synthetic_criteo",
    "synthetic_long_tail",
    "to_implicit",
    "unobtainable",
    "write_examples",
    "write_shards",
]
