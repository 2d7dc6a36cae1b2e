"""Sharded datasets: conversion, reading back, per-worker sharding, errors."""

import json

import numpy as np
import pytest

from reczoo import datasets
from reczoo.datasets import loaders, shards
from reczoo.datasets.sources import DatasetError


class Context:
    """What `ShardedDataset.batches` reads of a `tf.distribute.InputContext`."""

    def __init__(self, workers, index):
        self.num_input_pipelines, self.input_pipeline_id = workers, index


def _read_all(data, part, batch_size=10_000, **options):
    features, labels = [], []
    for x, y in data.dataset(part, batch_size, **options):
        features.append({k: v.numpy() for k, v in x.items()})
        labels.append(y.numpy())
    merged = {k: np.concatenate([f[k] for f in features]) for k in features[0]}
    return merged, np.concatenate(labels)


@pytest.fixture(scope="module")
def click_log(tmp_path_factory):
    return datasets.synthetic_criteo(tmp_path_factory.mktemp("log") / "train.txt", 3_000)


def test_criteo_conversion_reads_as_the_loader_does(click_log, tmp_path):
    # One pass, vocabularies of every value (min_count=1), every row in train:
    # the ids, values and labels are the in-memory loader's, row for row.
    loaded = loaders.read_criteo(click_log, "synthetic")
    converted = datasets.convert_criteo(
        click_log, tmp_path / "s", min_count=1, ratios=(1, 0, 0), rows_per_shard=700,
        block_rows=256,
    )  # fmt: skip
    assert converted.statistics()["shards"] == 4  # files end on whole blocks: 3 x 256 rows
    features, labels = _read_all(converted, "train")
    np.testing.assert_array_equal(labels, loaded.labels)
    for c in loaded.categorical:
        np.testing.assert_array_equal(features[c], loaded.categorical[c])
        assert converted.vocabulary(c) == loaded.vocabularies[c].to_list()
    for c in loaded.numerical:
        np.testing.assert_allclose(features[c][:, 0], loaded.numerical[c], rtol=1e-6)
    assert converted.feature_spec(8)["C3"].vocabulary_size == len(loaded.vocabularies["C3"])


def test_deepctr_sample_converts(data_dir, tmp_path):
    path = data_dir / "criteo-sample" / "criteo_sample.txt"
    if not path.is_file():
        pytest.skip("criteo-sample is not under RECZOO_DATA_DIR")
    loaded = loaders.read_criteo(path, "criteo-sample")
    converted = datasets.convert_criteo(path, tmp_path / "s", min_count=1, ratios=(1, 0, 0))
    features, labels = _read_all(converted, "train")
    np.testing.assert_array_equal(labels, loaded.labels)
    np.testing.assert_array_equal(features["C7"], loaded.categorical["C7"])


def test_min_count_and_split(click_log, tmp_path):
    data = datasets.convert_criteo(click_log, tmp_path / "s", min_count=5, seed=3)
    parts = data.manifest["parts"]
    assert sum(p["rows"] for p in parts.values()) == 3_000
    assert 2_200 < parts["train"]["rows"] < 2_600 and parts["valid"]["rows"] > 200
    counts = {}
    for line in click_log.read_text().splitlines():
        value = line.split("\t")[16]  # C3
        counts[value] = counts.get(value, 0) + 1
    kept = sorted(v for v, n in counts.items() if v and n >= 5)
    assert data.vocabulary("C3") == ["[PAD]", *kept]
    # A value seen fewer than 5 times reads as 0.
    features, _ = _read_all(data, "valid")
    assert features["C3"].max() <= len(kept)


def test_hashing_needs_no_vocabulary(click_log, tmp_path):
    data = datasets.convert_criteo(click_log, tmp_path / "s", hash_buckets=2**21)
    assert data.vocabulary_lists() == {}
    assert data.feature_spec()["C1"].vocabulary_size == 2**21
    features, _ = _read_all(data, "train")
    raw = [line.split("\t")[14] for line in click_log.read_text().splitlines()]
    assert features["C1"].min() >= 0 and features["C1"].max() < 2**21
    # Same value, same bucket; missing values are id 0.
    assert (features["C1"] == 0).sum() <= sum(not v for v in raw)
    assert len(np.unique(features["C1"][features["C1"] > 0])) > 100


def test_workers_read_disjoint_rows_that_cover_the_part(click_log, tmp_path):
    data = datasets.convert_criteo(click_log, tmp_path / "s", ratios=(1, 0, 0), min_count=1,
                                   rows_per_shard=400, block_rows=100)  # fmt: skip
    whole, _ = _read_all(data, "train")
    seen = []
    for index in range(2):
        part, _ = _read_all(data, "train", input_context=Context(2, index), seed=1)
        seen.append(part["I1"][:, 0])
    assert abs(len(seen[0]) - len(seen[1])) <= 400
    together = np.sort(np.concatenate(seen))
    np.testing.assert_array_equal(together, np.sort(whole["I1"][:, 0]))


def test_shuffling_is_bounded_and_seeded(click_log, tmp_path):
    data = datasets.convert_criteo(click_log, tmp_path / "s", ratios=(1, 0, 0), min_count=1)
    a, _ = _read_all(data, "train", seed=7, shuffle_buffer=500)
    b, _ = _read_all(data, "train", seed=7, shuffle_buffer=500)
    ordered, _ = _read_all(data, "train")
    np.testing.assert_array_equal(a["C2"], b["C2"])
    assert not np.array_equal(a["I2"], ordered["I2"])
    np.testing.assert_array_equal(np.sort(a["I2"][:, 0]), np.sort(ordered["I2"][:, 0]))


def test_write_shards_keeps_a_split(tmp_path, data_dir):
    path = data_dir / "criteo-sample" / "criteo_sample.txt"
    if not path.is_file():
        pytest.skip("criteo-sample is not under RECZOO_DATA_DIR")
    loaded = loaders.read_criteo(path, "criteo-sample")
    split = datasets.split(loaded, "random_split", seed=0)
    written = datasets.write_shards(loaded, tmp_path / "s", split=split, block_rows=16)
    for part in shards.PARTS:
        rows = split.rows(part)
        features, labels = _read_all(written, part)
        np.testing.assert_array_equal(labels, loaded.labels[rows])
        np.testing.assert_array_equal(features["C5"], loaded.categorical["C5"][rows])
    assert written.vocabulary_lists()["C5"] == loaded.vocabularies["C5"].to_list()
    assert written.manifest["source"]["sha256"] == loaded.sha256


def test_malformed_lines_are_named(tmp_path):
    good = "\t".join(["1"] + ["3"] * 13 + ["68fd1e64"] * 26)
    bad = "\t".join(["0"] + ["3"] * 13 + ["68fd1e64"] * 25)
    path = tmp_path / "train.txt"
    path.write_text("\n".join([good] * 5 + [bad]) + "\n")
    with pytest.raises(
        DatasetError, match=r"train.txt, line 6: expected 40 fields separated by '\\t', found 39"
    ):
        datasets.convert_criteo(path, tmp_path / "s", block_rows=100)
    assert not (tmp_path / "s").exists() and not list(tmp_path.glob(".s*"))
    path.write_text("label\tI1\n")
    with pytest.raises(DatasetError, match="expected 40 tab-separated fields"):
        datasets.convert_criteo(path, tmp_path / "s")
    path.write_text("\n".join([good.replace("1", "2", 1)]) + "\n")
    with pytest.raises(
        DatasetError,
        match=r"train.txt, line 1: label column 'label' should be 0 or 1. Received: '2'",
    ):
        datasets.convert_criteo(path, tmp_path / "s")


def test_an_existing_folder_is_kept(click_log, tmp_path):
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite"):
        datasets.convert_criteo(click_log, folder)
    assert (folder / "mine.txt").read_text() == "keep me"
    datasets.convert_criteo(click_log, folder, overwrite=True, max_rows=100)
    assert datasets.open_shards(folder).num_interactions == 100


def test_damaged_or_incomplete_folders_are_refused(click_log, tmp_path):
    with pytest.raises(DatasetError, match="not a shard folder"):
        datasets.open_shards(tmp_path)
    data = datasets.convert_criteo(click_log, tmp_path / "s", max_rows=200)
    manifest = json.loads((data.folder / shards.MANIFEST).read_text())
    (data.folder / manifest["parts"]["train"]["files"][0]).unlink()
    with pytest.raises(DatasetError, match="shard files are missing"):
        datasets.open_shards(data.folder)
    manifest["format_version"] = 99
    (data.folder / shards.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(DatasetError, match="format version 99"):
        datasets.open_shards(data.folder)


def test_synthetic_logs_grow_the_same_rows(tmp_path):
    small = datasets.synthetic_criteo(tmp_path / "a.txt", 500, chunk_rows=200)
    large = datasets.synthetic_criteo(tmp_path / "b.txt", 1_200, chunk_rows=200)
    assert large.read_text().splitlines()[:500] == small.read_text().splitlines()


def _split_files(folder):
    """Train, valid and test CSVs: `city` has a value only validation holds."""
    folder.mkdir()
    rows = {"train": ["1,a,1.5", "0,b,2.0", "1,a,0.5", "0,c,1.0"],
            "valid": ["1,z,3.0", "0,a,1.0"], "test": ["1,b,2.5", "0,c,0.0", "1,a,1.0"]}  # fmt: skip
    files = {}
    for part, lines in rows.items():
        files[part] = folder / f"{part}.csv"
        files[part].write_text("clicked,city,price\n" + "\n".join(lines) + "\n")
    return files


SPLIT_SCHEMA = {"columns": {"clicked": "label", "city": "categorical", "price": "numerical"}}


def test_split_files_keep_their_parts_and_count_training_values_only(tmp_path):
    files = _split_files(tmp_path / "csv")
    data = datasets.convert_table(files, tmp_path / "s", SPLIT_SCHEMA)
    assert [data.rows(p) for p in shards.PARTS] == [4, 2, 3]
    assert data.split_files == {"train": "train.csv", "valid": "valid.csv", "test": "test.csv"}
    # Vocabulary from the training rows: `z`, seen only in validation, reads as id 0.
    assert data.vocabulary("city") == ["[PAD]", "a", "b", "c"]
    valid, labels = _read_all(data, "valid")
    np.testing.assert_array_equal(valid["city"].ravel(), [0, 1])
    np.testing.assert_array_equal(labels, [1, 0])
    test, _ = _read_all(data, "test")
    np.testing.assert_array_equal(test["city"].ravel(), [2, 3, 1])
    np.testing.assert_allclose(test["price"].ravel(), [2.5, 0.0, 1.0])
    # `max_rows` counts each part's rows.
    capped = datasets.convert_table(files, tmp_path / "c", SPLIT_SCHEMA, max_rows=2)
    assert [capped.rows(p) for p in shards.PARTS] == [2, 2, 2]


def test_split_files_name_their_parts(tmp_path):
    files = _split_files(tmp_path / "csv")
    with pytest.raises(ValueError, match="train among them"):
        datasets.convert_table({"valid": files["valid"]}, tmp_path / "s", SPLIT_SCHEMA)
    with pytest.raises(ValueError, match=r"Received parts: .*'holdout'"):
        datasets.convert_table({**files, "holdout": files["test"]}, tmp_path / "s", SPLIT_SCHEMA)
    # A part whose columns are not the schema's is refused by name, nothing written.
    files["test"].write_text("clicked,town,price\n1,a,1.0\n")
    with pytest.raises(DatasetError, match=r"test\.csv has no categorical column 'city'"):
        datasets.convert_table(files, tmp_path / "s", SPLIT_SCHEMA)
    assert not (tmp_path / "s").exists()


def test_reczoo_shards_writes_split_files_and_train_reads_their_parts(tmp_path, capsys):
    from reczoo import cli

    files = _split_files(tmp_path / "csv")
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SPLIT_SCHEMA))
    flags = [f"--{part}_file={path}" for part, path in files.items()]
    out = str(tmp_path / "s")
    assert cli.main(["reczoo", "shards", *flags, f"--schema={schema}", f"--output={out}"]) == 0
    written = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (written["train_rows"], written["valid_rows"], written["test_rows"]) == (4, 2, 3)
    argv = ["reczoo", "train", "--model=fm", f"--shards={out}", "--protocol=fixed_split",
            "--epochs=1", "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["protocol"] == "fixed_split" and row["dataset_statistics"]["test_rows"] == 3
    # Split files without a schema, or with a split of their own, are refused.
    assert cli.main(["reczoo", "shards", *flags, f"--output={tmp_path / 'n'}"]) == 1
    assert "--schema=FILE" in capsys.readouterr().err
    argv = ["reczoo", "shards", *flags, f"--schema={schema}", "--ratios=0.5,0.25,0.25",
            f"--output={tmp_path / 'n'}"]  # fmt: skip
    assert cli.main(argv) == 1
    assert "leave out --ratios" in capsys.readouterr().err
