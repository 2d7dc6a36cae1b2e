"""Bad input, as a new user would give it: every case exits non-zero with one
line that names the problem, no traceback, and the user's files unchanged."""

import bz2
import gzip
import io
import os
import zipfile

import numpy as np
import pytest

from reczoo import cli, datasets


def clicks(users=40, per_user=8, items=120, time=True, sep=",", seed=0):
    rng = np.random.default_rng(seed)
    lines = [sep.join(["uid", "sku", "ts"] if time else ["uid", "sku"])]
    for u in range(users):
        for t, i in enumerate(rng.choice(items, size=per_user, replace=False)):
            row = [f"u{u}", f"i{(i + u) % items}"] + ([str(1000 + t)] if time else [])
            lines.append(sep.join(row))
    return "\n".join(lines) + "\n"


def zipped(**members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in members.items():
            z.writestr(name, text)
    return buffer.getvalue()


GOOD = clicks()
TRAIN = ["reczoo", "train", "--model=mlp", "--data_file=clicks.csv", "--user_col=uid",
         "--item_col=sku", "--time_col=ts"]  # fmt: skip

# (case, files written before, argv, what the one line must say)
CASES = [
    (
        "unknown model",
        {"clicks.csv": GOOD},
        [*TRAIN[:2], "--model=nope", *TRAIN[3:]],
        "Unknown model 'nope'",
    ),
    (
        "epochs 0",
        {"clicks.csv": GOOD},
        [*TRAIN, "--epochs=0"],
        "`epochs` must be a positive integer",
    ),
    ("epochs -1", {"clicks.csv": GOOD}, [*TRAIN, "--epochs=-1"], "`epochs` must be a positive"),
    ("batch size 0", {"clicks.csv": GOOD}, [*TRAIN, "--set=batch_size=0"], "`batch_size` must be"),
    (
        "output is a file",
        {"clicks.csv": GOOD, "out": "mine"},
        [*TRAIN, "--output=out"],
        "exists and is not a folder",
    ),
    (
        "output folder not empty",
        {"clicks.csv": GOOD, "out/keep.txt": "mine"},
        [*TRAIN, "--output=out"],
        "not empty. Pass --overwrite",
    ),
    (
        "no user has 3 interactions (ncf)",
        {"clicks.csv": clicks(per_user=2)},
        [*TRAIN, "--protocol=ncf"],
        "no user of 'clicks' has that many",
    ),
    (
        "no user has 3 interactions (loo_full)",
        {"clicks.csv": clicks(per_user=2)},
        [*TRAIN, "--protocol=loo_full"],
        "no user of 'clicks' has that many",
    ),
    (
        "timestamp nan",
        {"clicks.csv": "uid,sku,ts\na,b,1\na,c,nan\n"},
        TRAIN,
        "line 3: column 'ts' should be a whole number",
    ),
    (
        "timestamp 1e23",
        {"clicks.csv": "uid,sku,ts\na,b,1e23\n"},
        TRAIN,
        "line 2: column 'ts' should be a whole number",
    ),
    (
        "malformed line",
        {"clicks.csv": "uid,sku,ts\na,b,1\na,c,2,9\n"},
        TRAIN,
        "line 3: expected 3 fields",
    ),
    (
        "missing column",
        {"clicks.csv": GOOD},
        [*TRAIN[:4], "--user_col=user", *TRAIN[5:]],
        "has no user column 'user'",
    ),
    ("empty file", {"clicks.csv": ""}, TRAIN, "is empty"),
    ("not utf-8", {"clicks.csv": b"uid,sku,ts\n\xff\xfe,a,1\n"}, TRAIN, "is not valid utf-8"),
    ("zip of two files", {"clicks.csv": zipped(a=GOOD, b=GOOD)}, TRAIN, "zip archive of 2 files"),
    (
        "a 200,000-character field",
        {"clicks.csv": f'uid,sku,ts\na,"{"x" * 200_000}",1\n'},
        TRAIN,
        "line 2: unreadable CSV",
    ),
    ("--set without =", {"clicks.csv": GOOD}, [*TRAIN, "--set=oops"], "--set takes KEY=VALUE"),
    (
        "unknown setting",
        {"clicks.csv": GOOD},
        [*TRAIN, "--set=hiden_units=[8]"],
        "has no setting 'hiden_units'",
    ),
    (
        "unknown protocol",
        {"clicks.csv": GOOD},
        [*TRAIN, "--protocol=nope"],
        "Unknown protocol 'nope'",
    ),
    (
        "next-item model on a row split",
        {"clicks.csv": GOOD},
        [*TRAIN[:2], "--model=sasrec", *TRAIN[3:], "--protocol=random_split"],
        "leave-last-out",
    ),
    (
        "unknown dataset",
        {},
        ["reczoo", "train", "--model=mlp", "--dataset=nope"],
        "Unknown dataset 'nope'",
    ),
    (
        "dataset and file",
        {"clicks.csv": GOOD},
        [*TRAIN, "--dataset=movielens-100k"],
        "exactly one of --dataset",
    ),
    ("unknown recipe", {"clicks.csv": GOOD}, [*TRAIN, "--recipe=mlp/nope"], "Unknown recipe"),
    ("no such file", {}, TRAIN, "No such data file"),
    ("data file is a folder", {"clicks.csv/a.csv": GOOD}, TRAIN, "is a folder, not a data file"),
    (
        "rating beyond float32",
        {"clicks.csv": "uid,sku,r\na,b,4\na,c,1e39\n"},
        [*TRAIN[:-1], "--rating_col=r"],
        "line 3: column 'r' should be a finite number (within float32's range)",
    ),
    (
        "latin-1 file",
        {"clicks.csv": "uid,sku,ts\nJosé,a,1\n".encode("latin-1")},
        TRAIN,
        "--encoding=latin-1 on the command line",
    ),
    (
        "user column is the item column",
        {"clicks.csv": GOOD},
        [*TRAIN[:5], "--item_col=uid", TRAIN[6]],
        "The user and item columns of clicks.csv are both 'uid'",
    ),
    (
        "list setting cut short",
        {"clicks.csv": GOOD},
        [*TRAIN, "--set=hidden_units=[64,32"],
        "--set=hidden_units=[64,32: the value is not valid JSON",
    ),
    (
        "negative learning rate",
        {"clicks.csv": GOOD},
        [*TRAIN, "--set=learning_rate=-0.01"],
        "`learning_rate` must be a positive finite number",
    ),
    (
        "diverged run saves nothing",
        {"clicks.csv": GOOD},
        [*TRAIN, "--set=learning_rate=1e30", "--epochs=3", "--output=out"],
        "the run diverged and nothing was saved",
    ),
    (
        "output is the folder above",
        {"clicks.csv": GOOD},
        [*TRAIN, "--output=..", "--overwrite"],
        "is the folder you are in, or holds it",
    ),
    (
        "output on a pseudo filesystem",
        {"clicks.csv": GOOD},
        [*TRAIN, "--output=/proc/reczoo-preset"],
        "nothing can be made in /proc",
    ),
    (
        "shard ratios that are no numbers",
        {"log.txt": "1\t5\ta\n"},
        ["reczoo", "shards", "--input=log.txt", "--output=s", "--ratios=a,b,c"],
        "--ratios takes three fractions",
    ),
    (
        "zero cpu devices",
        {"clicks.csv": GOOD},
        [*TRAIN, "--strategy=mirrored", "--cpu_devices=0"],
        "--cpu_devices must be 1 or more",
    ),
    (
        "a split of rows of interactions without ratings",
        {"clicks.csv": GOOD},
        [*TRAIN, "--protocol=random_split", "--epochs=1"],
        "every row of the interactions 'clicks' is a positive",
    ),
    (
        "regression without ratings",
        {"clicks.csv": GOOD},
        [*TRAIN, "--protocol=random_split", "--epochs=1", "--set=objective=regression"],
        "objective=regression predicts ratings, and 'clicks' has none",
    ),
]


def snapshot(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "keras_home" not in p.parts
    }


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path


@pytest.mark.parametrize("case,files,argv,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gets_one_line_and_changes_nothing(case, files, argv, message, workdir, capsys):
    for name, content in files.items():
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = snapshot(workdir)
    code = cli.main(argv)
    err = capsys.readouterr().err.strip()
    assert code != 0, case
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    assert err.startswith(f"reczoo {argv[1]}: error: "), err
    assert message in err, err
    assert snapshot(workdir) == before, "the user's files changed"


def test_compressed_files_read_as_plain_text(tmp_path):
    plain = tmp_path / "clicks.csv"
    plain.write_text(GOOD)
    (tmp_path / "clicks.csv.gz").write_bytes(gzip.compress(GOOD.encode()))
    (tmp_path / "clicks.csv.bz2").write_bytes(bz2.compress(GOOD.encode()))
    (tmp_path / "clicks.zip").write_bytes(zipped(**{"clicks.csv": GOOD}))
    reference = datasets.load_interactions(plain, user="uid", item="sku", time="ts")
    for name in ("clicks.csv.gz", "clicks.csv.bz2", "clicks.zip"):
        data = datasets.load_interactions(tmp_path / name, user="uid", item="sku", time="ts")
        assert data.name == "clicks"
        np.testing.assert_array_equal(data.items, reference.items)


def test_bom_headerless_and_tab_separated_dat_files(tmp_path):
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeff".encode() + GOOD.encode())
    assert datasets.load_interactions(bom, user="uid", item="sku").num_interactions == 320
    # A tab-separated file whose name ends in .dat: the content decides.
    tabbed = tmp_path / "ratings.dat"
    tabbed.write_text(clicks(sep="\t"))
    assert datasets.load_interactions(tabbed, user="uid", item="sku").num_users == 40
    headerless = tmp_path / "plain.csv"
    headerless.write_text("".join(GOOD.splitlines(keepends=True)[1:]))
    data = datasets.load_interactions(headerless, user=0, item=1, time=2, header=False)
    assert data.num_interactions == 320


def test_headerless_file_and_number_lists_from_the_cli(workdir, capsys):
    (workdir / "plain.csv").write_text("".join(GOOD.splitlines(keepends=True)[1:]))
    code = cli.main(
        ["reczoo", "train", "--model=mlp", "--data_file=plain.csv", "--noheader",
         "--user_col=0", "--item_col=1", "--time_col=2", "--epochs=1",
         "--set=hidden_units=16,8", "--quiet"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    row = capsys.readouterr().out.strip().splitlines()[-1]
    assert '"hidden_units": [16, 8]' in row


def test_timestamps_keep_nanoseconds(tmp_path):
    # float64 holds 53 bits: these three times would collapse to one.
    path = tmp_path / "ns.csv"
    path.write_text(
        "uid,sku,ts\na,x,1700000000000000003\na,y,1700000000000000001\na,z,1700000000000000002\n"
    )
    data = datasets.load_interactions(path, user="uid", item="sku", time="ts")
    assert data.timestamps.tolist() == [
        1700000000000000003,
        1700000000000000001,
        1700000000000000002,
    ]
    order = data.vocabularies["item"].decode(data.histories()[1])
    assert order == ["y", "z", "x"]


def test_an_edited_file_of_the_same_name_gets_its_own_split(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    path = tmp_path / "clicks.csv"
    path.write_text(GOOD)
    first = datasets.load_interactions(path, user="uid", item="sku", time="ts")
    path.write_text(clicks(seed=1))
    second = datasets.load_interactions(path, user="uid", item="sku", time="ts")
    assert first.sha256 != second.sha256 and first.name == second.name
    protocol = datasets.Protocol("t", "loo_sampled", num_negatives=10)
    a = datasets.split(first, protocol)
    b = datasets.split(second, protocol)
    for split, data in ((a, first), (b, second)):
        histories = data.histories()
        for user, negatives in zip(split.test_users, split.test_negatives, strict=True):
            assert not set(negatives.tolist()) & set(histories[user].tolist())
    assert datasets.protocols.split_path(first, protocol) != datasets.protocols.split_path(
        second, protocol
    )
    assert first.files["clicks.csv"]["lines"] == 321


def test_nan_and_non_integer_ids_are_named_by_check_inputs():
    import reczoo

    spec = reczoo.FeatureSpec([reczoo.Categorical("item", 5, 2), reczoo.Numerical("price")])
    with pytest.raises(
        ValueError, match=r"Feature 'price' holds a value that is not a finite number at row 1"
    ):
        spec.check_inputs({"item": np.array([1, 2]), "price": np.array([0.5, np.nan])})
    with pytest.raises(ValueError, match=r"Feature 'item' holds integer ids.*row 0: 1.7"):
        spec.check_inputs({"item": np.array([1.7, 2.0]), "price": np.array([1.0, 2.0])})
    with pytest.raises(ValueError, match="differ in length"):
        spec.check_inputs({"item": np.array([1, 2, 3]), "price": np.array([1.0, 2.0])})
    with pytest.raises(ValueError, match="hold no rows"):
        spec.check_inputs({"item": np.array([], "int64"), "price": np.array([])})
    out = spec.check_inputs({"item": np.array([[1.0], [2.0]]), "price": np.array([[1.0], [2.0]])})
    assert out["item"].tolist() == [1, 2] and out["item"].dtype.kind == "i"


def test_a_model_takes_column_inputs_and_refuses_nan_labels():
    import reczoo

    spec = reczoo.FeatureSpec([reczoo.Categorical("user", 5, 2), reczoo.Categorical("item", 5, 2)])
    model = reczoo.get_model("fm", feature_spec=spec)
    features = {"user": np.array([[1], [2]]), "item": np.array([[3], [4]])}
    model.fit(features, np.array([1.0, 0.0]), verbose=0)
    assert model.predict(features, verbose=0).shape == (2, 1)
    with pytest.raises(
        ValueError, match="labels hold a value that is not a finite number at row 1"
    ):
        model.fit(features, np.array([1.0, np.nan]), verbose=0)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 1\]: row 1 holds 5.0"):
        model.fit(features, np.array([1.0, 5.0]), verbose=0)


def test_truncated_movielens_1m_ratings_are_refused(data_dir, tmp_path, monkeypatch):
    import shutil

    folder = tmp_path / "data" / "ml-1m"
    folder.mkdir(parents=True)
    for name in ("users.dat", "movies.dat"):
        shutil.copy(data_dir / "ml-1m" / name, folder / name)
    (folder / "ratings.dat").write_text("1::1193::5::978300760\n1::661::3::978302109\n")
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    with pytest.raises(datasets.DatasetError, match=r"interactions 2 \(published: 1,000,209\)"):
        datasets.load("movielens-1m", download=False)
    # A float id is refused, not truncated to 1.
    (folder / "ratings.dat").write_text("1.7::1193::5::978300760\n")
    with pytest.raises(datasets.DatasetError, match=r"line 1: column '0' should be a whole number"):
        datasets.load("movielens-1m", download=False)


def test_the_folder_one_stands_in_is_never_the_output(workdir, capsys):
    (workdir / "clicks.csv").write_text(GOOD)
    (workdir / "notes.txt").write_text("mine")
    before = snapshot(workdir)
    assert cli.main([*TRAIN, f"--output={workdir}", "--overwrite"]) == 1
    assert "is the folder you are in" in capsys.readouterr().err
    assert snapshot(workdir) == before


def test_the_reproducing_command_reads_the_file_as_it_was_read(workdir, capsys):
    import json
    import shlex

    rows = [f"u{u};i{(u * 7 + t) % 30};{t}" for u in range(30) for t in range(6)]
    (workdir / "log.txt").write_text("\n".join(rows) + "\n")
    argv = ["reczoo", "train", "--model=pop", "--data_file=log.txt", "--noheader", "--sep=;",
            "--user_col=0", "--item_col=1", "--time_col=2", "--protocol=loo_full", "--quiet"]  # fmt: skip
    assert cli.main(argv) == 0
    first = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "--noheader" in first["command"] and "--sep=;" in shlex.split(first["command"])
    assert cli.main([*shlex.split(first["command"]), "--quiet"]) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again["metrics"] == first["metrics"]


def test_a_cut_short_checkpoint_is_named(workdir, capsys):
    (workdir / "clicks.csv").write_text(GOOD)
    argv = [*TRAIN, "--epochs=1", "--checkpoint_dir=ck", "--quiet"]
    assert cli.main(argv) == 0
    (arrays,) = (workdir / "ck").glob("checkpoint-*.npz")
    arrays.write_bytes(arrays.read_bytes()[:100])
    capsys.readouterr()
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "is damaged or cut short (BadZipFile" in err, err


@pytest.mark.parametrize("action", ["build", "evaluate", "index"])
def test_unknown_zoo_names_are_named_by_every_action(action, capsys):
    assert cli.main(["reczoo", "zoo", action, "no_such_preset"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Unknown" in err and "no_such_preset" in err, err
    assert "KeyError" not in err


def test_datasets_lists_a_failing_dataset_with_its_reason(tmp_path, monkeypatch, capsys):
    # A local copy that fails its count check is one row of the listing, not
    # the end of it; the command exits 1 naming it.
    folder = tmp_path / "data" / "ml-latest-small"
    folder.mkdir(parents=True)
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,964982703\n")
    (folder / "movies.csv").write_text("movieId,title,genres\n1,Toy Story (1995),Comedy\n")
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    assert cli.main(["reczoo", "datasets"]) == 1
    captured = capsys.readouterr()
    rows = {line.split()[0]: line for line in captured.out.splitlines()[2:]}
    assert len(rows) == len(datasets.list_datasets())
    assert (
        "FAILING: " in rows["movielens-latest"] and "published: 100,836" in rows["movielens-latest"]
    )
    assert "published: interactions=100,000" in rows["movielens-100k"]
    assert "movielens-latest" in captured.err and len(captured.err.strip().splitlines()) == 1


def test_dataset_statistics_are_counted_once_per_version_of_the_files(tmp_path, monkeypatch):
    folder = tmp_path / "data" / "ml-latest-small"
    folder.mkdir(parents=True)
    (folder / "movies.csv").write_text("movieId,title,genres\n1,A (1995),Comedy\n")
    ratings = folder / "ratings.csv"
    ratings.write_text("userId,movieId,rating,timestamp\n1,1,4.0,10\n2,1,3.0,11\n")
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    loads = []

    class Counted:
        def statistics(self):
            return {"interactions": np.int64(len(ratings.read_text().splitlines()) - 1)}

    monkeypatch.setattr(
        datasets, "load", lambda name, download=True: loads.append(name) or Counted()
    )
    assert datasets.statistics("movielens-latest") == {"interactions": 2}
    assert datasets.statistics("movielens-latest") == {"interactions": 2}
    assert loads == ["movielens-latest"]  # the second listing read the cache
    ratings.write_text(ratings.read_text() + "2,1,5.0,12\n")  # another version of the file
    assert datasets.statistics("movielens-latest") == {"interactions": 3} and len(loads) == 2


def test_sigterm_while_the_preset_is_written_leaves_nothing(workdir, capsys, monkeypatch):
    import os
    import signal

    import reczoo

    (workdir / "clicks.csv").write_text(GOOD)
    real = reczoo.Task.save_weights

    def terminated_while_saving(self, *args, **kwargs):
        real(self, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # as `kill PID` would, mid-way through the preset

    monkeypatch.setattr(reczoo.Task, "save_weights", terminated_while_saving)
    before = snapshot(workdir)
    code = cli.main([*TRAIN, "--epochs=1", "--output=out", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 130 and "interrupted" in err and "Traceback" not in err
    assert snapshot(workdir) == before
    assert not [p.name for p in workdir.iterdir() if p.name.startswith(".out")]
    assert not (workdir / "out").exists()


def test_an_unexpected_error_is_one_line_with_its_type(workdir, capsys, monkeypatch):
    import importlib

    run_module = importlib.import_module("reczoo.training.runner")

    (workdir / "clicks.csv").write_text(GOOD)

    def broken(*args, **kwargs):
        raise IndexError("index 7 is out of bounds for axis 0 with size 3")

    monkeypatch.setattr(run_module, "_fit", broken)
    assert cli.main([*TRAIN, "--epochs=1"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "IndexError: index 7 is out of bounds" in err and "RECZOO_TRACEBACK=1" in err


def test_an_empty_batch_is_named_before_keras_sees_it():
    import reczoo

    spec = reczoo.FeatureSpec([reczoo.Categorical("user", 5, 2), reczoo.Categorical("item", 5, 2)])
    model = reczoo.get_model("fm", feature_spec=spec)
    empty = {"user": np.array([], "int64"), "item": np.array([], "int64")}
    with pytest.raises(ValueError, match="hold no rows"):
        model.fit(empty, np.array([]), verbose=0)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_output_folder_is_refused_first(workdir, capsys):
    (workdir / "clicks.csv").write_text(GOOD)
    locked = workdir / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert cli.main([*TRAIN, "--output=locked/preset"]) == 1
        assert "is not writable" in capsys.readouterr().err
    finally:
        locked.chmod(0o755)


def test_the_tests_never_write_the_users_keras_home():
    from pathlib import Path

    assert Path(os.environ["KERAS_HOME"]).resolve() != (Path.home() / ".keras").resolve()


def test_the_printed_row_is_standard_json():
    from reczoo.cli import _finite

    row = {"metrics": {"auc": float("nan"), "hr@10": 0.5}, "history": [{"loss": float("inf")}]}
    assert _finite(row) == {"metrics": {"auc": None, "hr@10": 0.5}, "history": [{"loss": None}]}
