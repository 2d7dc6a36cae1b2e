"""Schemas: declared by flags or a file, inferred, and read from any layout."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from testing import click_log

from reczoo import cli, datasets
from reczoo.datasets.schema import Schema, SchemaError, infer

DATA = Path(os.environ.get("RECZOO_DATA_DIR", "/nonexistent"))
CRITEO = DATA / "criteo-sample" / "criteo_sample.txt"
ML100K = DATA / "ml-100k"
COLUMNS = {"label": "Label", "categorical": ["C1", "C2", "C3"], "numerical": ["I1", "I2"],
           "multi": {"genres": "|"}, "drop": ["Id"]}  # fmt: skip


def last_row(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_a_schema_file_reads_as_the_flags_do(tmp_path):
    path = click_log(tmp_path / "clicks.csv", rows=120)
    by_args = datasets.load_table(path, **COLUMNS)
    by_args.schema.save(tmp_path / "schema.json")
    by_file = datasets.load_table(path, schema=tmp_path / "schema.json")
    assert by_file.sha256 == by_args.sha256 and by_file.schema.sha256 == by_args.schema.sha256
    np.testing.assert_array_equal(by_file.categorical["C2"], by_args.categorical["C2"])
    config = json.loads((tmp_path / "schema.json").read_text())
    assert config["columns"]["genres"] == {"role": "multi", "separator": "|"}
    assert config["format"]["sep"] == ","  # the sniffed separator is written down


@pytest.mark.parametrize(
    "columns,message",
    [
        ({"Label": {"role": "target"}}, "unknown role 'target'"),
        ({"Label": "label", "C1": {"role": "categorical", "transform": "log1p"}},
         "column 'C1' (categorical) takes no transform"),
        ({"Label": "label", "I1": {"role": "numerical", "transform": "cube"}},
         "transform must be one of none, log1p, standardize, bucketize"),
        ({"Label": "label", "g": {"role": "multi"}}, "needs its separator"),
        ({"Label": "label", "C1": {"role": "categorical", "min_count": 0}},
         "min_count must be a positive integer"),
        ({"Label": "label", "C1": {"role": "categorical", "buckets": 10}},
         "column 'C1' has unknown options ['buckets']"),
        ({"Label": "label"}, "no feature columns"),
        ({"u": "user"}, "no item column"),
    ],
)  # fmt: skip
def test_a_schema_that_cannot_be_read_says_where(columns, message):
    with pytest.raises(SchemaError, match=re.escape(message)):
        Schema.from_dict({"columns": columns})


def test_a_schema_file_that_is_not_json_names_the_line(tmp_path):
    path = tmp_path / "schema.json"
    path.write_text('{\n  "columns": {\n    "Label": "label",,\n  }\n}\n')
    with pytest.raises(SchemaError, match=r"schema.json, line 3: not valid JSON"):
        Schema.load(path)


def test_a_schema_naming_a_missing_column_lists_the_columns(tmp_path):
    path = click_log(tmp_path / "clicks.csv", rows=20)
    with pytest.raises(datasets.DatasetError, match=r"no numerical column 'I9'. Columns found: \["):
        datasets.load_table(path, **{**COLUMNS, "numerical": ["I1", "I2", "I9"]})


def test_a_bad_number_names_the_part_and_its_line(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "part-0.csv").write_text("Label,C1,I1\n1,a,3\n0,b,4\n")
    (folder / "part-1.csv").write_text("Label,C1,I1\n1,a,5\n0,b,seven\n")
    with pytest.raises(datasets.DatasetError,
                       match=r"part-1.csv, line 3: numerical column 'I1' should be a number. "
                             r"Received: 'seven'"):  # fmt: skip
        datasets.load_table(folder, label="Label", categorical=["C1"], numerical=["I1"])


def test_infer_proposes_roles_from_the_content(tmp_path):
    path = click_log(tmp_path / "clicks.csv", rows=150)
    config = infer(path)
    roles = {name: c["role"] for name, c in config["columns"].items()}
    assert roles == {"Id": "drop", "Label": "label", "C1": "categorical",
                     "C2": "categorical", "C3": "categorical", "I1": "numerical",
                     "I2": "numerical", "genres": "multi"}  # fmt: skip
    assert "distinct" in config["columns"]["C2"]["about"]
    assert "a distinct value on every row" in config["columns"]["Id"]["about"]
    assert "empty" in config["columns"]["I2"]["about"]
    # The guess loads as it is (the "about" notes are for the reader).
    assert datasets.load_table(path, schema=config).kind == "ctr"


@pytest.mark.skipif(not CRITEO.exists(), reason="needs RECZOO_DATA_DIR with criteo-sample")
def test_infer_on_the_criteo_sample_finds_label_26_categorical_13_numerical():
    roles = [c["role"] for c in infer(CRITEO)["columns"].values()]
    assert (roles.count("label"), roles.count("categorical"), roles.count("numerical")) == (
        1, 26, 13,
    )  # fmt: skip


def test_standardize_and_bucketize_are_fitted_on_training_rows_only(tmp_path):
    path = click_log(tmp_path / "clicks.csv", rows=300)
    data = datasets.load_table(path, **{**COLUMNS, "numerical_transform": "standardize"})
    assert data.pending and data.numerical["I1"].max() > 10  # not yet fitted
    split = datasets.split(data, "random_split", seed=0)
    fitted = split.dataset
    train, test = fitted.numerical["I1"][split.train_rows], fitted.numerical["I1"][split.test_rows]
    assert abs(train.mean()) < 1e-5 and abs(train.std() - 1) < 1e-4
    assert abs(test.mean()) > 1e-3  # fitted on training rows, not on these
    assert fitted.transform_state["I1"]["transform"] == "standardize"
    data = datasets.load_table(path, **{**COLUMNS, "numerical_transform": "bucketize"})
    fitted = datasets.split(data, "random_split", seed=0).dataset
    assert "I1" not in fitted.numerical and fitted.categorical["I1"].min() >= 1
    assert fitted.categorical["I1"].max() <= 10 and len(fitted.vocabularies["I1"]) <= 11
    assert {f.name: f.kind for f in fitted.feature_spec()}["I1"] == "categorical"


def test_hash_buckets_and_embedding_dims_per_column(tmp_path):
    path = click_log(tmp_path / "clicks.csv", rows=100)
    config = {"columns": {"Id": "drop", "Label": "label", "C3": "drop", "I1": "numerical",
                          "I2": "drop", "genres": {"role": "multi", "separator": "|"},
                          "C1": {"role": "categorical", "hash_buckets": 7},
                          "C2": {"role": "categorical", "embedding_dim": 3}}}  # fmt: skip
    data = datasets.load_table(path, schema=config)
    ids = data.categorical["C1"]
    assert ids.min() >= 1 and ids.max() <= 7
    assert (datasets.base.hash_ids(["u3"], 7) == data.vocabularies["C1"].encode(["u3"])).all()
    dims = {
        f.name: f.embedding_dim for f in data.feature_spec(embedding_dim=8) if f.kind != "numerical"
    }
    assert dims == {"C1": 8, "C2": 3, "genres": 8}


def test_columns_that_cannot_help_are_noted(tmp_path):
    lines = ["Label,C1,key,const,empty"] + [f"{i % 2},c{i % 5},k{i},x," for i in range(120)]
    (tmp_path / "log.csv").write_text("\n".join(lines) + "\n")
    data = datasets.load_table(tmp_path / "log.csv", label="Label",
                               categorical=["C1", "key", "const", "empty"])  # fmt: skip
    notes = " ".join(data.notes)
    assert "'key' has a distinct value on every row" in notes and "hash it" in notes
    assert "'const' holds one value" in notes and "'empty' is empty on every row" in notes


def test_parquet_a_folder_of_parts_and_a_glob_read_as_one_csv(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = click_log(tmp_path / "clicks.csv", rows=200)
    one = datasets.load_table(path, **COLUMNS)
    lines = path.read_text().splitlines()
    folder = tmp_path / "parts"
    folder.mkdir()
    for k, start in enumerate(range(1, 201, 80)):
        (folder / f"part-{k}.csv").write_text(
            "\n".join([lines[0], *lines[start : start + 80]]) + "\n"
        )
    (folder / "_SUCCESS").write_text("")
    names, columns, _, _ = datasets.tables.read_columns(path)
    typed = {n: pa.array(v) for n, v in zip(names, columns, strict=True)}
    typed["Label"] = pa.array([int(v) for v in typed["Label"].to_pylist()])
    typed["I1"] = pa.array([int(v) for v in typed["I1"].to_pylist()])
    typed["I2"] = pa.array([float(v) if v else None for v in typed["I2"].to_pylist()])
    pq.write_table(pa.table(typed), tmp_path / "clicks.parquet")
    for other in (folder, str(folder / "part-*.csv"), tmp_path / "clicks.parquet"):
        data = datasets.load_table(other, **COLUMNS)
        np.testing.assert_array_equal(data.labels, one.labels)
        for column in ("C1", "C2", "C3"):
            np.testing.assert_array_equal(data.categorical[column], one.categorical[column])
        np.testing.assert_array_equal(data.numerical["I2"], one.numerical["I2"])
        np.testing.assert_array_equal(data.multi_hot["genres"], one.multi_hot["genres"])
    assert sorted(datasets.load_table(folder, **COLUMNS).files) == [
        "parts/part-0.csv", "parts/part-1.csv", "parts/part-2.csv",
    ]  # fmt: skip


def test_split_files_are_the_split(tmp_path):
    path = click_log(tmp_path / "clicks.csv", rows=100)
    lines = path.read_text().splitlines()
    for stage, rows in (("train", lines[1:71]), ("valid", lines[71:81]), ("test", lines[81:])):
        (tmp_path / f"{stage}.csv").write_text("\n".join([lines[0], *rows]) + "\n")
    files = {s: tmp_path / f"{s}.csv" for s in ("train", "valid", "test")}
    data = datasets.load_table(files, **COLUMNS)
    split = datasets.split(data, "fixed_split")
    assert (len(split.train_rows), len(split.valid_rows), len(split.test_rows)) == (70, 10, 20)
    assert split.test_rows[0] == 80 and sorted(data.files) == ["test.csv", "train.csv", "valid.csv"]


def test_user_split_keeps_each_user_in_one_part_and_time_orders_a_temporal_split(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["label,user,ad,ts"] + [
        f"{rng.integers(0, 2)},u{rng.integers(0, 40)},a{rng.integers(0, 9)},{1000 + 7 * i}"
        for i in range(400)
    ]
    (tmp_path / "log.csv").write_text("\n".join(lines) + "\n")
    data = datasets.load_table(tmp_path / "log.csv", label="label", user="user",
                               categorical=["ad"], time="ts")  # fmt: skip
    split = datasets.split(data, "user_split", seed=3)
    users = data.categorical["user"]
    parts = [set(users[split.rows(s)].tolist()) for s in ("train", "valid", "test")]
    assert not (parts[0] & parts[2]) and not (parts[0] & parts[1]) and parts[2]
    temporal = datasets.split(data, "temporal_split")
    assert data.timestamps[temporal.train_rows].max() < data.timestamps[temporal.test_rows].min()


def test_an_item_table_joins_item_features_and_negatives_carry_their_own(tmp_path):
    (tmp_path / "ratings.csv").write_text(
        "user,item,rating\n"
        + "".join(f"u{u},i{(u * 3 + k) % 12},4\n" for u in range(10) for k in range(4))
    )
    genres = ["Action|Comedy", "Drama", "", "Comedy"]
    (tmp_path / "items.csv").write_text(
        "id,genres,year\n" + "".join(f"i{i},{genres[i % 4]},{1990 + i}\n" for i in range(11))
    )
    data = datasets.load_table(
        tmp_path / "ratings.csv", user="user", item="item", rating="rating",
        item_table={"path": tmp_path / "items.csv", "key": "id", "multi": {"genres": "|"},
                    "categorical": ["year"]},
    )  # fmt: skip
    assert data.declared_features and set(data.item_features) == {"genres", "year"}
    assert any("1 of 12 items are not in items.csv" in n for n in data.notes)  # i11
    spec = data.feature_spec(side_features=True)
    features, labels = data.training_pairs(negatives=3, seed=1, spec=spec)
    items = features["item_id"]
    np.testing.assert_array_equal(features["genres"], data.item_features["genres"][items])
    negatives = labels == 0
    assert negatives.sum() == 120
    vocab = data.vocabularies["item"]
    for item, bag in zip(items[negatives][:20], features["genres"][negatives][:20], strict=True):
        raw = vocab.values[item]
        expected = genres[int(raw[1:]) % 4].split("|") if raw != "i11" else []
        assert sorted(data.vocabularies["item.genres"].decode(bag[bag > 0])) == sorted(
            g for g in expected if g
        )


def test_a_side_table_with_a_key_twice_is_refused(tmp_path):
    (tmp_path / "r.csv").write_text("user,item\nu1,i1\nu2,i2\n")
    (tmp_path / "items.csv").write_text("id,year\ni1,1990\ni1,1991\n")
    with pytest.raises(datasets.DatasetError, match="key 'id' holds 'i1' on more than one line"):
        datasets.load_table(tmp_path / "r.csv", user="user", item="item",
                            item_table={"path": tmp_path / "items.csv", "key": "id",
                                        "categorical": ["year"]})  # fmt: skip


def test_features_in_an_interactions_file_go_to_their_item_or_user(tmp_path):
    (tmp_path / "r.csv").write_text(
        "user,item,genres,city,mood\nu1,i1,a|b,x,1\nu1,i2,b,x,2\nu2,i1,a|b,y,3\n"
    )
    data = datasets.load_table(tmp_path / "r.csv", user="user", item="item",
                               multi={"genres": "|"}, categorical=["city"], drop=["mood"])  # fmt: skip
    assert set(data.item_features) == {"genres"} and set(data.user_features) == {"city"}
    with pytest.raises(SchemaError, match=r"'mood' .* takes more than one value for an item"):
        datasets.load_table(tmp_path / "r.csv", user="user", item="item",
                            multi={"genres": "|"}, categorical=["city", "mood"])  # fmt: skip


def test_schema_infer_writes_a_new_file_and_never_over_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    click_log(tmp_path / "clicks.csv", rows=120)
    assert cli.main(["reczoo", "schema", "infer", "--data_file=clicks.csv",
                     "--output=schema.json"]) == 0  # fmt: skip
    assert "1 label" in capsys.readouterr().out
    before = (tmp_path / "schema.json").read_text()
    assert cli.main(["reczoo", "schema", "infer", "--data_file=clicks.csv",
                     "--output=schema.json"]) == 1  # fmt: skip
    assert "schema.json exists" in capsys.readouterr().err
    assert (tmp_path / "schema.json").read_text() == before


def test_train_through_a_schema_file_gives_the_flags_row(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    click_log(tmp_path / "clicks.csv", rows=300)
    flags = ["--label_col=Label", "--categorical_cols=C1-C3", "--numerical_cols=I1-I2",
             "--multi_cols=genres:|", "--drop_cols=Id", "--numerical_transform=standardize"]  # fmt: skip
    base = ["reczoo", "train", "--model=fm", "--data_file=clicks.csv", "--epochs=1", "--quiet"]
    assert cli.main([*base, *flags]) == 0
    row = last_row(capsys)
    assert row["schema"]["columns"]["I1"] == {"role": "numerical", "transform": "standardize"}
    assert set(row["schema_fitted"]) == {"I1", "I2"}
    Path("schema.json").write_text(json.dumps(row["schema"]))
    assert cli.main([*base, "--schema=schema.json"]) == 0
    again = last_row(capsys)
    assert again["metrics"] == row["metrics"] and again["schema_sha256"] == row["schema_sha256"]
    assert "--schema=schema.json" in again["command"]
    # Column flags beside a schema are refused by name.
    assert cli.main([*base, "--schema=schema.json", "--label_col=Label"]) == 1
    assert "leave out --label_col" in capsys.readouterr().err
    # (That the recorded command reproduces a click-log row: test_click_logs.py.)


def test_a_click_log_preset_fine_tunes_on_a_second_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    click_log(tmp_path / "a.csv", rows=300, seed=0)
    click_log(tmp_path / "b.csv", rows=200, seed=1)
    lines = (tmp_path / "b.csv").read_text().splitlines()
    rows = [lines[0] + ",C4"]
    for k, line in enumerate(lines[1:]):
        parts = line.split(",")
        parts[3] = parts[3].replace("s", "t")  # C2: values the preset never saw
        rows.append(",".join(parts) + f",z{k % 3}")
    (tmp_path / "b.csv").write_text("\n".join(rows) + "\n")
    columns = ["--label_col=Label", "--categorical_cols=C1-C3", "--numerical_cols=I1-I2",
               "--multi_cols=genres:|", "--numerical_transform=standardize"]  # fmt: skip
    assert cli.main(["reczoo", "train", "--model=deepfm", "--data_file=a.csv", *columns,
                     "--drop_cols=Id", "--epochs=1", "--output=p1", "--quiet"]) == 0  # fmt: skip
    fitted = last_row(capsys)["schema_fitted"]
    tune = ["reczoo", "finetune", "--preset=p1", "--data_file=b.csv", *columns, "--epochs=1",
            "--output=p2", "--quiet"]  # fmt: skip
    # C4 given a role: a column the preset never read.
    assert cli.main([*tune, "--categorical_cols=C1-C4", "--drop_cols=Id"]) == 1
    err = capsys.readouterr().err
    assert "Column 'C4' of the new data is not in the preset" in err and "--drop_cols=C4" in err
    assert not (tmp_path / "p2").exists()
    assert cli.main([*tune, "--drop_cols=Id,C4"]) == 0
    row = last_row(capsys)
    assert row["vocabulary_growth"]["C2"]["grown"] > row["vocabulary_growth"]["C2"]["known"]
    assert row["vocabulary_growth"]["C1"]["grown"] == row["vocabulary_growth"]["C1"]["known"]
    assert row["schema_fitted"] == fitted  # the preset's scaling, not refitted
    assert row["parent"]["preset"] == "p1" and 0.0 <= row["metrics"]["auc"] <= 1.0


@pytest.mark.parametrize(
    "models",
    [
        "fm,mlp",  # the default tier: the folder, the rows and their commands
        pytest.param("fm,mlp,deepfm,dcnv2,ipnn", marks=pytest.mark.slow),  # issue 25's five
    ],
)
def test_the_ranking_suite_compares_models_on_your_click_log(tmp_path, monkeypatch, models):
    monkeypatch.chdir(tmp_path)
    # Not what is checked: the suite times this machine first (a DeepFM),
    # which took more of the test than its two runs.
    monkeypatch.setattr("reczoo.benchmark.suite.calibrate", lambda: (1.0, "timed"))
    click_log(tmp_path / "clicks.csv", rows=400)
    argv = ["reczoo", "benchmark", "--suite=ranking", f"--models={models}",
            "--data_file=clicks.csv", "--label_col=Label", "--categorical_cols=C1-C3",
            "--numerical_cols=I1-I2", "--multi_cols=genres:|", "--drop_cols=Id",
            "--output=out", "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    rows = [
        json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()
    ]
    assert sorted(r["model"] for r in rows) == sorted(models.split(","))
    assert all(r["status"] == "ok" and r["protocol"] == "random_split" for r in rows)
    assert {r["dataset"] for r in rows} == {"clicks"}
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## clicks · random_split" in report
    assert (tmp_path / "out" / "plots" / "clicks-random_split.png").exists()
    # Each entry's command runs it alone, reading the file the same way.
    command = rows[0]["suite_command"]
    assert "--data_file=clicks.csv" in command and "--label_col=Label" in command
    assert "--suite=ranking" in command and "--protocol=random_split" in command


def test_shards_under_a_schema_match_the_table_read_in_memory(tmp_path):
    path = click_log(tmp_path / "clicks.csv", rows=500)
    config = {"columns": {"Id": "drop", "Label": "label", "genres": "drop",
                          "C1": {"role": "categorical", "min_count": 2},
                          "C2": {"role": "categorical", "hash_buckets": 16}, "C3": "categorical",
                          "I1": {"role": "numerical", "transform": "log1p"},
                          "I2": "numerical"}}  # fmt: skip
    shards = datasets.convert_table(path, tmp_path / "shards", config, block_rows=64,
                                    rows_per_shard=128, seed=1)  # fmt: skip
    stats = shards.statistics()
    assert stats["rows"] == 500 and stats["shards"] > 3
    assert stats["positives"] == int(datasets.load_table(path, schema=config).labels.sum())
    # The vocabulary counts the whole file, as the in-memory table does.
    data = datasets.load_table(path, schema=config)
    assert shards.vocabulary("C1") == data.vocabularies["C1"].to_list()
    assert shards.encoding["C2"] == {"kind": "hash", "size": 17}
    # Hashed when read, to the ids the table read in memory gives.
    import tensorflow as tf

    values = ["s0", "s3", "s17", ""]
    by_shards = shards._encoders()["C2"](tf.constant(values)).numpy()
    np.testing.assert_array_equal(by_shards, datasets.base.hash_ids(values, 16))
    features, labels = next(iter(shards.dataset("train", batch_size=1000)))
    assert features["C1"].shape[0] == labels.shape[0] == stats["train_rows"]
    assert float(features["I1"].numpy().max()) <= np.log1p(49) + 1e-5
    assert shards.manifest["source"]["schema"]["columns"]["C2"]["hash_buckets"] == 16
    # A folder of parquet parts converts to the same rows.
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    (tmp_path / "parts").mkdir()
    table = pacsv.read_csv(path)
    for k in range(2):
        pq.write_table(table.slice(k * 250, 250), tmp_path / "parts" / f"p{k}.parquet")
    again = datasets.convert_table(tmp_path / "parts", tmp_path / "shards2", config,
                                   block_rows=64, rows_per_shard=128, seed=1)  # fmt: skip
    assert again.statistics() == stats and again.vocabulary("C1") == shards.vocabulary("C1")


def test_shards_refuse_what_they_cannot_hold_and_name_bad_lines(tmp_path):
    path = click_log(tmp_path / "clicks.csv", rows=50)
    with pytest.raises(ValueError, match=r"drop or change genres \(multi\)"):
        datasets.convert_table(path, tmp_path / "s", {**_config_of(COLUMNS)})
    bad = tmp_path / "bad.csv"
    bad.write_text("Label,C1\n1,a\n0,b\n3,c\n")
    with pytest.raises(datasets.DatasetError, match=r"bad.csv, line 4: label column 'Label'"):
        datasets.convert_table(
            bad, tmp_path / "s", {"columns": {"Label": "label", "C1": "categorical"}}
        )
    assert not (tmp_path / "s").exists()  # nothing half-written


def _config_of(columns):
    return Schema.from_options(**columns).to_dict()


def test_reczoo_shards_takes_a_schema(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    click_log(tmp_path / "clicks.csv", rows=200)
    config = {"columns": {"Id": "drop", "Label": "label", "genres": "drop", "C1": "categorical",
                          "C2": "categorical", "C3": "categorical", "I1": "numerical",
                          "I2": "numerical"}}  # fmt: skip
    (tmp_path / "schema.json").write_text(json.dumps(config))
    argv = ["reczoo", "shards", "--input=clicks.csv", "--schema=schema.json", "--output=sh"]
    assert cli.main([*argv, "--min_count=3"]) == 1
    assert "leave out --min_count" in capsys.readouterr().err
    assert cli.main(argv) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["rows"] == 200


def test_predict_scores_raw_rows_as_the_trained_model_does(tmp_path, monkeypatch, capsys):
    import reczoo

    monkeypatch.chdir(tmp_path)
    path = click_log(tmp_path / "clicks.csv", rows=300)
    columns = {**COLUMNS, "numerical_transform": "bucketize"}
    data = datasets.load_table(path, **columns)
    result = reczoo.run("deepfm", data, epochs=1, verbose=0, output=tmp_path / "p")
    fitted = result.data  # the transforms fitted on its training rows
    expected = result.model.score(fitted.features())
    found = reczoo.predict(tmp_path / "p", path)
    np.testing.assert_allclose(found.scores, expected, rtol=1e-5, atol=1e-6)
    assert set(found.metrics) == {"auc", "logloss"} and found.unknown == {}
    # Without the label, with a value never seen and a column the preset does not read.
    lines = path.read_text().splitlines()
    rows = [",".join(p for k, p in enumerate(line.split(",")) if k != 1) + ",x"
            for line in lines[:6]]  # fmt: skip
    rows[1] = rows[1].replace(rows[1].split(",")[1], "never-seen", 1)
    (tmp_path / "new.csv").write_text("\n".join(rows) + "\n")
    assert cli.main(["reczoo", "predict", f"--preset={tmp_path / 'p'}", "--data_file=new.csv",
                     "--keep_cols=Id", "--output=scores.csv"]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (
        summary["rows"] == 5 and summary["metrics"] == {} and summary["unknown_values"] == {"C1": 1}
    )
    written = (tmp_path / "scores.csv").read_text().splitlines()
    assert written[0] == "Id,score" and len(written) == 6
    np.testing.assert_allclose(
        [float(r.split(",")[1]) for r in written[2:]], expected[1:5], rtol=1e-4
    )
    # A missing file is named.
    argv = ["reczoo", "predict", f"--preset={tmp_path / 'p'}", "--data_file=missing.csv"]
    assert cli.main(argv) == 1
    assert "No such data file" in capsys.readouterr().err


def test_a_ranker_with_item_features_recommends_from_its_preset(tmp_path, monkeypatch, capsys):
    import reczoo

    monkeypatch.chdir(tmp_path)
    datasets.write_examples(tmp_path)
    data = datasets.load_table(
        "ratings.csv", user="userId", item="movieId", rating="rating", time="timestamp",
        item_table={"path": "movies.csv", "key": "movieId", "multi": {"genres": "|"},
                    "drop": ["title"]},
    )  # fmt: skip
    result = reczoo.run("deepfm", data, protocol="ncf", epochs=1, verbose=0, output="p")
    assert result["hyperparameters"]["side_features"] is True  # declared, so used
    model = result.model
    lookup = lambda u, i: result.data.features_for(u, i, model.feature_spec)  # noqa: E731
    expected = model.recommend([1, 2], k=5, features=lookup)
    loaded = reczoo.from_preset("p")
    found = loaded.recommend([1, 2], k=5)  # the preset keeps the items' genres
    np.testing.assert_array_equal(found.items, expected.items)
    assert cli.main(["reczoo", "recommend", "--preset=p", "--user=1", "--k=3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["items"]


def test_a_click_log_ranker_exports_a_savedmodel_scoring_raw_values(tmp_path, monkeypatch, capsys):
    import tensorflow as tf

    import reczoo

    monkeypatch.chdir(tmp_path)
    path = click_log(tmp_path / "clicks.csv", rows=300)
    config = {"columns": {"Id": "drop", "Label": "label",
                          "C1": {"role": "categorical", "min_count": 2},
                          "C2": {"role": "categorical", "hash_buckets": 20}, "C3": "categorical",
                          "I1": {"role": "numerical", "transform": "bucketize", "bins": 4},
                          "I2": {"role": "numerical", "transform": "standardize"},
                          "genres": {"role": "multi", "separator": "|"}}}  # fmt: skip
    reczoo.run("deepfm", datasets.load_table(path, schema=config), epochs=1, verbose=0,
               output="p")  # fmt: skip
    assert cli.main(["reczoo", "export", "--preset=p", "--output=saved"]) == 0
    assert "signature score(" in capsys.readouterr().out
    served = tf.saved_model.load(str(tmp_path / "saved"))
    names, columns, _, _ = datasets.tables.read_columns(path)
    raw = {n: columns[names.index(n)] for n in ("C1", "C2", "C3", "genres")}
    raw["C1"][0] = "never-seen"
    numbers = {n: [float(v) if v else 0.0 for v in columns[names.index(n)]] for n in ("I1", "I2")}
    scores = served.score(
        **{n: tf.constant(v) for n, v in raw.items()},
        **{n: tf.constant(v, tf.float32) for n, v in numbers.items()},
    )["score"].numpy()
    lines = path.read_text().splitlines()
    first = lines[1].split(",")
    first[2] = "never-seen"  # C1 of the first row, as given to the SavedModel
    lines[1] = ",".join(first)
    (tmp_path / "changed.csv").write_text("\n".join(lines) + "\n")
    expected = reczoo.predict("p", tmp_path / "changed.csv").scores
    np.testing.assert_allclose(scores, expected, atol=1e-5)


@pytest.mark.slow
@pytest.mark.skipif(not CRITEO.exists(), reason="needs RECZOO_DATA_DIR with criteo-sample")
def test_the_criteo_sample_trains_by_flags_and_by_schema_alike(tmp_path, monkeypatch, capsys):
    """Issue 25's check on the shared Criteo sample: DeepFM, DCN-v2 and
    xDeepFM from flags alone; the same run through a schema file gives the
    same row."""
    monkeypatch.chdir(tmp_path)
    flags = [f"--data_file={CRITEO}", "--label_col=label", "--categorical_cols=C1-C26",
             "--numerical_cols=I1-I13", "--numerical_transform=log1p"]  # fmt: skip
    rows = {}
    for model in ("deepfm", "dcnv2", "xdeepfm"):
        assert cli.main(["reczoo", "train", f"--model={model}", *flags, "--epochs=3",
                         "--quiet"]) == 0  # fmt: skip
        rows[model] = last_row(capsys)
        assert rows[model]["dataset_statistics"]["rows"] == 200
        assert 0.0 <= rows[model]["metrics"]["auc"] <= 1.0
    Path("schema.json").write_text(json.dumps(rows["deepfm"]["schema"]))
    assert cli.main(["reczoo", "train", "--model=deepfm", f"--data_file={CRITEO}",
                     "--schema=schema.json", "--epochs=3", "--quiet"]) == 0  # fmt: skip
    again = last_row(capsys)
    assert again["metrics"] == rows["deepfm"]["metrics"]
    assert again["schema_sha256"] == rows["deepfm"]["schema_sha256"]


def test_ratios_set_a_row_split_and_are_recorded(tmp_path, monkeypatch, capsys):
    from reczoo.datasets.protocols import with_ratios

    monkeypatch.chdir(tmp_path)
    click_log(tmp_path / "clicks.csv", rows=200)
    base = ["reczoo", "train", "--model=fm", "--data_file=clicks.csv", "--label_col=Label",
            "--categorical_cols=C1-C3", "--numerical_cols=I1-I2", "--multi_cols=genres:|",
            "--drop_cols=Id", "--epochs=1", "--quiet"]  # fmt: skip
    assert cli.main([*base, "--ratios=0.6,0.2,0.2"]) == 0
    row = last_row(capsys)
    assert row["protocol_details"]["ratios"] == [0.6, 0.2, 0.2]
    assert "--protocol=random_split --ratios=0.6,0.2,0.2" in row["command"]
    data = datasets.load_table(tmp_path / "clicks.csv", **COLUMNS)
    split = datasets.split(data, with_ratios("random_split", "0.6,0.2,0.2"))
    assert (len(split.train_rows), len(split.valid_rows), len(split.test_rows)) == (120, 40, 40)
    assert cli.main([*base, "--protocol=ncf", "--ratios=0.6,0.2,0.2"]) == 1
    assert "has no fractions to set" in capsys.readouterr().err
    assert cli.main([*base, "--ratios=0.6,0.6"]) == 1
    assert "three fractions" in capsys.readouterr().err
