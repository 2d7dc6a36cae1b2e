"""Your own click log with features, from Python and from the shell."""

import json
import shlex

import numpy as np
import pytest
from testing import click_log

from reczoo import cli, datasets
from reczoo.datasets.click_logs import column_list


def test_column_ranges():
    assert column_list("C1-C3,I2, tag") == ["C1", "C2", "C3", "I2", "tag"]
    assert column_list("x-y") == ["x-y"] and column_list(None) == []


def test_a_click_log_reads_every_role(tmp_path):
    path = click_log(tmp_path / "clicks.csv")
    data = datasets.load_table(path, label="Label", categorical=["C1", "C2", "C3"],
                               numerical=["I1", "I2"], multi={"genres": "|"}, drop=["Id"],
                               numerical_transform="log1p", min_count=2)  # fmt: skip
    assert data.num_interactions == 400 and set(np.unique(data.labels)) == {0.0, 1.0}
    assert set(data.categorical) == {"C1", "C2", "C3"} and len(data.vocabularies["C1"]) == 9
    assert data.numerical["I1"].dtype == np.float32 and data.numerical["I1"].min() >= 0
    assert data.numerical["I2"][0] == 0.0  # an empty number is 0
    bags = data.multi_hot["genres"]
    assert bags.shape == (400, 2) and data.vocabularies["genres"].to_list()[1:] == list("abcd")
    spec = data.feature_spec(embedding_dim=4)
    assert {f.name for f in spec} == {"C1", "C2", "C3", "I1", "I2", "genres"}
    assert set(data.features(slice(0, 3))) == {f.name for f in spec}
    # min_count=2: values seen once share id 0 with empty ones.
    ids, counts = np.unique(data.categorical["C2"], return_counts=True)
    assert (counts[ids != 0] >= 2).all()


@pytest.mark.parametrize(
    "change,message",
    [
        ({"label": "Lbl"}, "has no label column 'Lbl'. Columns found: ['Id', 'Label'"),
        ({"drop": []}, "Columns ['Id'] of"),
        ({"numerical": ["I1", "I2", "C1"]}, "Column 'C1' of"),
        ({"categorical": [], "numerical": [], "multi": {}}, "no feature columns"),
    ],
)
def test_columns_without_a_role_or_with_two_are_refused(tmp_path, change, message):
    path = click_log(tmp_path / "clicks.csv", rows=20)
    args = {"label": "Label", "categorical": ["C1", "C2", "C3"], "numerical": ["I1", "I2"],
            "multi": {"genres": "|"}, "drop": ["Id"], **change}  # fmt: skip
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        datasets.load_table(path, **args)


def test_a_label_other_than_0_or_1_is_named_with_its_line(tmp_path):
    path = tmp_path / "clicks.csv"
    path.write_text("Label,C1\n1,a\n0,b\n2,c\n")
    with pytest.raises(datasets.DatasetError, match=r"line 4: label column 'Label' should be 0"):
        datasets.load_table(path, label="Label", categorical=["C1"])


def test_reczoo_train_takes_a_click_log_by_flags_and_records_them(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    click_log(tmp_path / "clicks.csv")
    argv = ["reczoo", "train", "--model=fm", "--data_file=clicks.csv", "--label_col=Label",
            "--categorical_cols=C1-C3", "--numerical_cols=I1-I2", "--multi_cols=genres:|",
            "--drop_cols=Id", "--numerical_transform=log1p", "--epochs=1", "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert row["protocol"] == "random_split" and 0.0 <= row["metrics"]["auc"] <= 1.0
    assert row["dataset_files"]["clicks.csv"]["lines"] == 401
    # The recorded command reads the file the same way and gives the same row.
    assert cli.main([*shlex.split(row["command"]), "--quiet"]) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["metrics"] == row["metrics"] and again["dataset_sha256"] == row["dataset_sha256"]
