"""A built-in click-log dataset is read once and kept as read
(`reczoo.datasets.read_cache`)."""

import dataclasses

import numpy as np
import pytest

from reczoo import datasets
from reczoo.datasets import catalog, loaders, read_cache
from reczoo.datasets.base import CTRDataset, Vocabulary
from reczoo.datasets.sources import RemoteFile, Source


def _assert_same(got, want):
    for field in dataclasses.fields(want):
        a, b = getattr(got, field.name), getattr(want, field.name)
        if field.name == "vocabularies":
            assert list(a) == list(b)
            for column in b:
                assert (a[column].name, a[column].values) == (b[column].name, b[column].values)
        elif isinstance(b, np.ndarray):
            assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), field.name
        elif isinstance(b, dict) and any(isinstance(v, np.ndarray) for v in b.values()):
            assert list(a) == list(b), field.name
            for key in b:
                assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key], True), key
        else:
            assert a == b, field.name


@pytest.fixture
def click_log(tmp_path, monkeypatch):
    """A Criteo-format log registered as a dataset read by reczoo's Criteo
    reader, counting its reads; the cache in a folder of this test."""
    datasets.synthetic_criteo(tmp_path / "data" / "clicks" / "log.txt", rows=300)
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    reads = []

    def reader(folder, sha256):
        reads.append(sha256)
        return loaders.read_criteo(folder / "log.txt", "clicks", sha256)

    source = Source("clicks", (RemoteFile("log.txt", None),))
    monkeypatch.setitem(catalog.SOURCES, "clicks", source)
    info = catalog.DatasetInfo("clicks", "clicks", reader, "random_split", "a test log", {})
    monkeypatch.setitem(catalog.DATASETS, "clicks", info)
    # The reader is this test's; the cache takes it as it takes reczoo's own.
    monkeypatch.setattr(read_cache, "cacheable", lambda reader: True)
    return reads, tmp_path / "home" / "datasets" / "reczoo" / "read"


def test_a_second_load_reads_the_kept_arrays(click_log, monkeypatch):
    reads, folder = click_log
    first = datasets.load("clicks", download=False)
    second = datasets.load("clicks", download=False)
    assert len(reads) == 1
    _assert_same(second, first)
    assert second.files == first.files and second.files["log.txt"]["lines"] == 300
    assert second.categorical is not first.categorical  # a dataset of its own
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 2 and kept[0].endswith(".json") and kept[1].endswith(".npz")

    # A file cut short is read around, and written again whole.
    npz = folder / kept[1]
    npz.write_bytes(npz.read_bytes()[:100])
    _assert_same(datasets.load("clicks", download=False), first)
    assert len(reads) == 2
    datasets.load("clicks", download=False)
    assert len(reads) == 2

    # Changed reader code is another key: read again, the old file removed.
    monkeypatch.setattr(read_cache, "_code_digest", lambda: "f" * 64)
    _assert_same(datasets.load("clicks", download=False), first)
    assert len(reads) == 3
    assert sorted(p.name for p in folder.iterdir()) == [
        n.replace(n.split("-")[-1].split(".")[0], "f" * 12) for n in kept
    ]


def test_a_changed_file_is_read_again(click_log, tmp_path):
    reads, _ = click_log
    datasets.load("clicks", download=False)
    datasets.synthetic_criteo(tmp_path / "data" / "clicks" / "log.txt", rows=200)
    assert datasets.load("clicks", download=False).num_interactions == 200
    assert len(reads) == 2 and reads[0] != reads[1]


def test_only_reczoo_readers_are_kept():
    assert read_cache.cacheable(datasets.DATASETS["frappe-x1"].reader)
    assert read_cache.cacheable(datasets.DATASETS["criteo-sample"].reader)

    def yours(folder, sha256):
        return loaders.read_criteo(folder / "log.txt", "yours", sha256)

    # Yours, or reczoo's wrapper around yours: its code is not in the key.
    assert not read_cache.cacheable(yours)
    assert not read_cache.cacheable(catalog.reader(yours))
    assert not read_cache.cacheable(lambda folder, sha256: yours(folder, sha256))


def test_without_the_readers_sources_nothing_is_kept(monkeypatch):
    # Compiled files only: no source to key the cache by, so no cache.
    monkeypatch.setattr(read_cache, "_code_digest", lambda: None)
    assert not read_cache.cacheable(datasets.DATASETS["frappe-x1"].reader)


def _table(**changes):
    fields = {
        "name": "t",
        "labels": np.array([1, 0, 1], "float32"),
        "categorical": {"user": np.array([1, 2, 1], "int32"), "item": np.array([2, 1, 3], "int32")},
        "numerical": {"price": np.array([0.5, 1.5, np.nan], "float32")},
        "vocabularies": {
            "user": Vocabulary("user", ["a", "b"]),
            "item": Vocabulary("item", [10, 20, 2.5]),
        },
        "user_column": "user",
        "item_column": "item",
        "sha256": "0" * 64,
        "fixed_split": {"train": np.array([0, 1]), "valid": np.array([2]), "test": np.array([2])},
        "notes": ["a note"],
    }
    return CTRDataset(**{**fields, **changes})


def test_a_table_comes_back_as_it_was_kept_or_is_not_kept(tmp_path):
    file = tmp_path / "t-0123456789abcdef-0123456789ab.npz"
    assert read_cache.read(file) is None
    assert read_cache.write(file, _table())
    got = read_cache.read(file)
    _assert_same(got, _table())
    assert [type(v) for v in got.vocabularies["item"].values[1:]] == [int, int, float]
    # What JSON or an npz without pickles would not give back whole: not kept.
    tuples = Vocabulary("item", [(1, 2)])
    for changes in (
        {"multi_hot": {"tags": np.zeros((3, 2), "int32")}},
        {"vocabularies": {"item": tuples}},
        {"categorical": {"user": np.array(["a", "b", "a"], dtype=object)}},
    ):
        assert not read_cache.write(tmp_path / "other.npz", _table(**changes)), changes
    assert not (tmp_path / "other.npz").exists()
