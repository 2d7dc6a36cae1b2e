"""The loaders reproduce the published statistics on the shared data."""

import numpy as np
import pytest

from reczoo import datasets


def test_movielens_100k(data_dir):
    data = datasets.load("movielens-100k", download=False)
    assert (data.num_interactions, data.num_users, data.num_items) == (100_000, 943, 1_682)
    assert np.bincount(data.ratings.astype(int))[1:].tolist() == [6110, 11370, 27145, 34174, 21201]
    assert data.user_features["gender"].shape == (944,)
    # Toy Story (raw id 1) is Animation, Children's and Comedy.
    toy_story = data.vocabularies["item"].encode([1])[0]
    genres = data.vocabularies["item.genres"].decode(data.item_features["genres"][toy_story])
    assert [g for g in genres if g != "[PAD]"] == ["Animation", "Children's", "Comedy"]
    assert data.titles[toy_story] == "Toy Story (1995)"
    assert len(data.sha256) == 64


def test_amazon_games(data_dir):
    data = datasets.load("amazon-games", download=False)
    assert (data.num_interactions, data.num_users, data.num_items) == (287_107, 31_013, 23_715)
    histories = data.histories()
    assert round(np.mean([len(h) for h in histories[1:]]), 2) == 9.26


def test_frappe_rebuilt_as_in_nfm(data_dir):
    data = datasets.load("frappe", download=False)
    assert data.num_interactions == 288_609
    assert int(data.labels.sum()) == 96_203
    assert (data.num_users, data.num_items) == (957, 4_082)
    assert list(data.categorical) == ["user", "item", *datasets.loaders.FRAPPE_CONTEXT]
    # Negatives keep the user and context of their log and change the item.
    n = 96_203
    for column in ("user", "city", "weather"):
        np.testing.assert_array_equal(
            data.categorical[column][n : 2 * n], data.categorical[column][:n]
        )
    assert (data.categorical["item"][n : 2 * n] != data.categorical["item"][:n]).all()
    # Seeded: the same rows every time.
    again = datasets.load("frappe", download=False)
    np.testing.assert_array_equal(again.categorical["item"], data.categorical["item"])


def test_frappe_nfm_files(data_dir):
    data = datasets.load("frappe-nfm", download=False)
    assert data.num_interactions == 57_722 + 28_860
    assert int(data.labels.sum()) == 19_063 + 9_536


def test_criteo_sample(data_dir):
    data = datasets.load("criteo-sample", download=False)
    assert data.num_interactions == 200 and int(data.labels.sum()) == 49
    assert len(data.categorical) == 26 and len(data.numerical) == 13
    spec = data.feature_spec(4)
    spec.check_inputs(data.features(slice(0, 10)))


def test_modified_local_file_is_refused(tmp_path, monkeypatch, data_dir):
    folder = tmp_path / "amazon-games"
    folder.mkdir()
    text = (data_dir / "amazon-games" / "Video.txt").read_text()
    (folder / "Video.txt").write_text(text[:-20])
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path))
    with pytest.raises(datasets.DatasetError, match="does not match its pinned sha256"):
        datasets.load("amazon-games", download=False)


def test_frappe_x1_holds_out_the_nfm_rows(data_dir):
    data = datasets.load("frappe-x1", download=False)
    split = datasets.split(data, "bars_x1")
    nfm = datasets.load("frappe-nfm", download=False)
    sizes = [len(split.rows(s)) for s in ("train", "valid", "test")]
    assert sizes == [67_604 * 3, 57_722, 28_860]
    assert [int(data.labels[split.rows(s)].sum()) for s in ("train", "valid", "test")] == [
        67_604, 19_063, 9_536,
    ]  # fmt: skip
    # Validation and test are NFM's lines, in order, decoded to raw values.
    held = np.concatenate([split.rows("valid"), split.rows("test")])
    np.testing.assert_array_equal(data.labels[held], nfm.labels)
    for column in ("user", "item", "city"):
        ours = data.vocabularies[column].decode(data.categorical[column][held])
        theirs = nfm.vocabularies[column].decode(nfm.categorical[column])
        # One raw value per NFM index and back: a bijection between the codes.
        pairs = set(zip(ours, theirs, strict=True))
        assert len(pairs) == len({a for a, _ in pairs}) == len({b for _, b in pairs})


def test_ncf_test_files_of_movielens_1m(data_dir):
    folder = data_dir / "ml-1m"
    ncf = datasets.loaders.read_ncf_test_files(folder)
    users = ncf["users"]
    # One held-out rating per user, the users of users.dat (NCF's user u is u + 1).
    assert users.tolist() == list(range(6040))
    lines = (folder / "users.dat").read_bytes().decode("latin-1").splitlines()
    raw_users = [int(line.split("::")[0]) for line in lines if line]
    assert sorted(raw_users) == (users + 1).tolist()
    assert ncf["negatives"].shape == (6040, 99)
    # NCF drew negatives among the items a user never rated in training, so
    # for 156 users the held-out item is also among its own "negatives".
    assert (ncf["negatives"] == ncf["items"][:, None]).any(axis=1).sum() == 156
    assert all(len(set(row)) == 99 for row in ncf["negatives"].tolist())
    assert set(np.unique(ncf["ratings"]).tolist()) <= {1, 2, 3, 4, 5}


def test_the_ncf_split_of_movielens_1m_holds_out_what_ncf_did(data_dir):
    """With a user's ratings.dat: each user's test rating under `ncf` has the
    timestamp and rating of NCF's held-out one."""
    folder = data_dir / "ml-1m"
    if not (folder / "ratings.dat").is_file():
        pytest.skip("ratings.dat of MovieLens-1M is not in the data folder (DATASETS.md)")
    ncf = datasets.loaders.read_ncf_test_files(folder)
    data = datasets.load("movielens-1m", download=False)
    split = datasets.split(data, "ncf", seed=0)
    rated = {(int(u), int(i)): (int(t), int(r)) for u, i, t, r in
             zip(data.users, data.items, data.timestamps, data.ratings, strict=True)}  # fmt: skip
    raw_users = np.asarray(data.vocabularies["user"].to_list()[1:], dtype="int64")
    ours = {int(raw_users[u - 1]) - 1: rated[int(u), int(i)]
            for u, i in zip(split.test_users, split.test_items, strict=True)}  # fmt: skip
    theirs = dict(zip(ncf["users"].tolist(), zip(ncf["timestamps"].tolist(),
                                                 ncf["ratings"].tolist(), strict=True), strict=True))  # fmt: skip
    assert ours == theirs


@pytest.mark.xdist_group("dataset-statistics")
def test_datasets_command(data_dir, capsys):
    # In the test session's KERAS_HOME, beside the README's `reczoo datasets`
    # (one worker): one of them counts, the other reads the cached statistics.
    from reczoo import cli

    assert cli.main(["reczoo", "datasets"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("movielens-100k"))
    assert "yes" in line and "interactions=100000" in line and "users=943" in line
    assert next(line for line in out.splitlines() if line.startswith("movielens-1m"))


def test_each_public_dataset_registers_itself_from_its_own_module():
    import importlib
    import pkgutil

    from reczoo.datasets import catalog, public

    modules = [m.name for m in pkgutil.iter_modules(public.__path__)]
    assert {"movielens", "amazon_games", "frappe", "criteo"} <= set(modules)
    by_module = {}
    for name, info in catalog.DATASETS.items():
        assert info.source in catalog.SOURCES, name
        module = importlib.import_module(info.reader.__module__)
        by_module.setdefault(module.__name__, []).append(name)
    # Readers defined in a dataset's module, or the shared parsers it names.
    assert all(m.startswith("reczoo.datasets.") for m in by_module)
    # Registering twice under one name with other files is refused.
    with pytest.raises(ValueError, match="already registered"):
        catalog.register_dataset(
            catalog.DatasetInfo(
                "movielens-100k", "movielens-100k", lambda f, s: None, "ncf", "another", {}
            )
        )


def test_reczoo_datasets_lists_without_starting_tensorflow():
    import subprocess
    import sys

    code = ("import sys; from reczoo import cli; code = cli.main(['reczoo', 'datasets', "
            "'--nostats']); assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'; "
            "sys.exit(code)")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "movielens-100k" in done.stdout and "criteo-sample" in done.stdout
