"""Public datasets, your own interaction files, preprocessing and protocols.

Example:

```python
data = reczoo.datasets.load("movielens-100k")
data.num_users, data.num_items, data.num_interactions  # 943, 1682, 100000
split = reczoo.datasets.split(data, "ncf", seed=0)
```
"""

import dataclasses

from reczoo.datasets import loaders, shards, sources
from reczoo.datasets.base import CTRDataset, InteractionDataset, Vocabulary
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
from reczoo.datasets.shards import ShardedDataset, convert_criteo, open_shards, write_shards
from reczoo.datasets.sources import DatasetError
from reczoo.datasets.synthetic import synthetic_criteo, write_examples


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    name: str
    source: str
    reader: callable
    default_protocol: str
    description: str
    published: dict


def _reader(fn, *args):
    return lambda folder, sha256: fn(folder, *args, sha256=sha256)


DATASETS = {
    info.name: info
    for info in (
        DatasetInfo(
            "movielens-100k", "movielens-100k", loaders.read_movielens_100k, "ncf",
            "MovieLens 100K ratings with user and movie attributes",
            {"interactions": 100_000, "users": 943, "items": 1_682},
        ),
        DatasetInfo(
            "movielens-100k-ctr", "movielens-100k",
            lambda folder, sha256: history_ctr(
                loaders.read_movielens_100k(folder, sha256), name="movielens-100k-ctr"
            ),
            "random_split",
            "MovieLens 100K as CTR (rating >= 4) with each user's earlier items as history",
            {"rows": 100_000, "users": 943, "items": 1_682},
        ),
        DatasetInfo(
            "movielens-1m", "movielens-1m", loaders.read_movielens_1m, "ncf",
            "MovieLens 1M ratings with user and movie attributes",
            {"interactions": 1_000_209, "users": 6_040, "items": 3_706},
        ),
        DatasetInfo(
            "movielens-latest", "movielens-latest",
            _reader(loaders.read_movielens_csv, "movielens-latest"), "ncf",
            "MovieLens latest-small (the full ml-latest changes in place and cannot be pinned)",
            {"interactions": 100_836, "users": 610, "items": 9_724},
        ),
        DatasetInfo(
            "movielens-20m", "movielens-20m",
            _reader(loaders.read_movielens_csv, "movielens-20m"), "ncf",
            "MovieLens 20M ratings",
            {"interactions": 20_000_263, "users": 138_493, "items": 26_744},
        ),
        DatasetInfo(
            "movielens-25m", "movielens-25m",
            _reader(loaders.read_movielens_csv, "movielens-25m"), "ncf",
            "MovieLens 25M ratings",
            {"interactions": 25_000_095, "users": 162_541, "items": 59_047},
        ),
        DatasetInfo(
            "amazon-games", "amazon-games", loaders.read_amazon_games, "sasrec",
            "Amazon Video Games sequences as preprocessed for SASRec",
            {"interactions": 287_107, "users": 31_013, "items": 23_715},
        ),
        DatasetInfo(
            "frappe", "frappe", loaders.read_frappe, "bars_ctr",
            "Frappe app-usage log with 2 sampled negatives per log, as in NFM",
            {"rows": 288_609, "users": 957, "items": 4_082},
        ),
        DatasetInfo(
            "frappe-nfm", "frappe-nfm", loaders.read_frappe_nfm, "bars_ctr",
            "NFM's published Frappe validation and test libFM files",
            {"rows": 86_582},
        ),
        DatasetInfo(
            "frappe-x1", "frappe-nfm", loaders.read_frappe_x1, "bars_x1",
            "BARS Frappe_x1: NFM's validation and test files, training rebuilt from the raw log",
            {"rows": 288_609, "users": 957, "items": 4_082},
        ),
        DatasetInfo(
            "criteo", "criteo", lambda folder, sha256: shards.cached_criteo(
                folder / "train.txt", "criteo", sha256, min_count=10
            ), "shards",
            "Criteo Kaggle display-advertising train.txt (45.8M rows), converted once "
            "into shards (8:1:1, values seen 10 times) and streamed",
            {"rows": 45_840_617},
        ),
        DatasetInfo(
            "criteo-sample", "criteo-sample", lambda folder, sha256: loaders.read_criteo(
                folder / "criteo_sample.txt", "criteo-sample", sha256
            ), "bars_ctr",
            "DeepCTR's 200-row Criteo sample (CSV)",
            {"rows": 200},
        ),
    )
}  # fmt: skip


def list_datasets():
    return sorted(DATASETS)


def dataset_info(name):
    info = DATASETS.get(name)
    if info is None:
        import difflib

        close = difflib.get_close_matches(name, list(DATASETS), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(f"Unknown dataset {name!r}.{hint} Known datasets: {list_datasets()}")
    return info


def locate(name, download=False):
    """The local folder of dataset `name`, or None if its files are not here."""
    info = dataset_info(name)
    try:
        return sources.locate(sources.SOURCES[info.source], download=download)
    except DatasetError:
        if download:
            raise
        return None


def load(name, download=True):
    """Loads a public dataset by name (see `list_datasets()`).

    Files are read from `$RECZOO_DATA_DIR/<folder>/`, else from the reczoo
    download cache, else downloaded from the official source and checked
    against a pinned sha256. Offline, the error names the URL and the folder
    where the files belong.

    Returns:
        An `InteractionDataset` or a `CTRDataset`.
    """
    info = dataset_info(name)
    source = sources.SOURCES[info.source]
    folder = sources.locate(source, download=download)
    data = info.reader(folder, sha256=sources.source_sha256(folder, source))
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
    source = sources.SOURCES[info.source]
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


__all__ = [
    "DATASETS",
    "PROTOCOLS",
    "CTRDataset",
    "DatasetError",
    "InteractionDataset",
    "LeaveOneOutSplit",
    "Protocol",
    "RowSplit",
    "Schema",
    "SchemaError",
    "ShardedDataset",
    "Vocabulary",
    "compact",
    "convert_criteo",
    "dataset_info",
    "get_protocol",
    "history_ctr",
    "infer",
    "k_core",
    "list_datasets",
    "load",
    "load_interactions",
    "load_table",
    "locate",
    "open_shards",
    "split",
    "statistics",
    "synthetic_criteo",
    "to_implicit",
    "write_examples",
    "write_shards",
]
