"""Parsers on small fixtures, the generic loader, and bad input."""

import io
import urllib.error
import zipfile

import numpy as np
import pytest

from reczoo import datasets
from reczoo.datasets import loaders, sources


def write(path, text, encoding="utf-8", newline="\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def test_csv_with_header(tmp_path):
    path = write(
        tmp_path / "clicks.csv",
        "uid,sku,stars,ts\nalice,a1,5,100\nbob,a1,3,50\nalice,b2,4,90\n",
    )
    data = datasets.load_interactions(path, user="uid", item="sku", rating="stars", time="ts")
    assert (data.num_users, data.num_items, data.num_interactions) == (2, 2, 3)
    assert data.vocabularies["user"].decode(data.users) == ["alice", "bob", "alice"]
    np.testing.assert_array_equal(data.ratings, [5, 3, 4])
    # alice's history is time-ordered: b2 (t=90) before a1 (t=100).
    alice = data.vocabularies["user"].encode(["alice"])[0]
    assert data.vocabularies["item"].decode(data.histories()[alice]) == ["b2", "a1"]


def test_tsv_without_header_and_crlf(tmp_path):
    path = write(tmp_path / "log.tsv", "1\t10\t4.5\n2\t10\t3\n2\t11\t1\n", newline="\r\n")
    data = datasets.load_interactions(path, user=0, item=1, rating=2, header=False)
    assert (data.num_users, data.num_items, data.num_interactions) == (2, 2, 3)
    np.testing.assert_allclose(data.ratings, [4.5, 3.0, 1.0])


def test_dat_separator_is_sniffed(tmp_path):
    path = write(tmp_path / "ratings.dat", "1::10::5::978300760\n2::11::3::978302109\n")
    data = datasets.load_interactions(path, user=0, item=1, rating=2, time=3, header=False)
    assert data.num_interactions == 2 and data.timestamps.tolist() == [978300760, 978302109]


def test_wrong_column_lists_columns(tmp_path):
    path = write(tmp_path / "x.csv", "user,item\n1,2\n")
    with pytest.raises(
        datasets.DatasetError, match=r"no user column 'user_id'\. Columns found: \['user', 'item'\]"
    ):
        datasets.load_interactions(path)


def test_malformed_line_names_file_and_line(tmp_path):
    path = write(tmp_path / "x.csv", "user_id,item_id,rating\n1,2,5\n3,4\n5,6,1\n")
    with pytest.raises(datasets.DatasetError, match=r"x\.csv, line 3: expected 3 fields"):
        datasets.load_interactions(path, rating="rating")


def test_non_numeric_rating_names_line(tmp_path):
    path = write(tmp_path / "x.csv", "user_id,item_id,rating\n1,2,5\n3,4,five\n")
    with pytest.raises(
        datasets.DatasetError, match=r"x\.csv, line 3: column 'rating' should be a finite number"
    ):
        datasets.load_interactions(path, rating="rating")


def test_empty_and_header_only_files(tmp_path):
    with pytest.raises(datasets.DatasetError, match="is empty"):
        datasets.load_interactions(write(tmp_path / "e.csv", ""))
    with pytest.raises(datasets.DatasetError, match="is empty"):
        datasets.load_interactions(write(tmp_path / "b.csv", "\n\n"))
    with pytest.raises(datasets.DatasetError, match="header but no rows"):
        datasets.load_interactions(write(tmp_path / "h.csv", "user_id,item_id\n"))


def test_movielens_1m_parser(tmp_path):
    write(
        tmp_path / "ratings.dat",
        "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n",
    )
    write(tmp_path / "users.dat", "1::F::1::10::48067\n2::M::56::16::70072\n")
    write(
        tmp_path / "movies.dat",
        "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
        "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
        "2000::Caf\xe9 (1999)::Comedy\n",
        encoding="latin-1",
    )
    data = loaders.read_movielens_1m(tmp_path)
    assert (data.num_users, data.num_items, data.num_interactions) == (2, 2, 3)
    cuckoo = data.vocabularies["item"].encode([1193])[0]
    assert data.vocabularies["item.year"].decode([data.item_features["year"][cuckoo]]) == ["1975"]
    user2 = data.vocabularies["user"].encode([2])[0]
    assert data.vocabularies["user.age"].decode([data.user_features["age"][user2]]) == [56]


def test_movielens_csv_parser_with_quoted_titles(tmp_path):
    write(
        tmp_path / "ratings.csv",
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,4.5,964981247\n",
    )
    write(
        tmp_path / "movies.csv",
        'movieId,title,genres\n1,Toy Story (1995),Adventure|Animation\n3,"Grumpier Old Men, The (1995)",Comedy\n',
    )
    data = loaders.read_movielens_csv(tmp_path, "movielens-latest")
    grumpy = data.vocabularies["item"].encode([3])[0]
    assert data.titles[grumpy] == "Grumpier Old Men, The (1995)"


def test_criteo_tab_format_with_empty_fields(tmp_path):
    ints = ["1", "", "-3", "250"] + [""] * 9
    cats = ["68fd1e64", ""] + ["05db9164"] * 24
    line = "\t".join(["1", *ints, *cats])
    line2 = "\t".join(["0", *([""] * 13), *(["abc"] * 26)])
    data = loaders.read_criteo(write(tmp_path / "train.txt", f"{line}\n{line2}\n"))
    assert data.labels.tolist() == [1.0, 0.0]
    np.testing.assert_allclose(data.numerical["I1"], [np.log(2), 0.0], rtol=1e-6)
    assert data.numerical["I3"][0] == 0.0  # negative values clip to 0
    assert data.categorical["C2"][0] == 0  # empty is id 0
    bad = write(tmp_path / "bad.txt", "1\t2\t3\n")
    with pytest.raises(datasets.DatasetError, match="expected 40 tab-separated fields"):
        loaders.read_criteo(bad)


def _zip_source(tmp_path):
    member = "ml-100k/u.data"
    payload = b"1\t1\t5\t1\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(member, payload)
    archive = tmp_path / "toy.zip"
    archive.write_bytes(buf.getvalue())
    import hashlib

    return sources.Source(
        folder="toy",
        files=(sources.RemoteFile("u.data", hashlib.sha256(payload).hexdigest(), member=member),),
        archive_url=archive.as_uri(),
        archive_sha256=hashlib.sha256(buf.getvalue()).hexdigest(),
    )


def test_download_extracts_and_verifies(tmp_path, monkeypatch):
    monkeypatch.delenv("RECZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    source = _zip_source(tmp_path)
    folder = sources.locate(source)
    assert folder == tmp_path / "home" / "datasets" / "reczoo" / "toy"
    assert (folder / "u.data").read_bytes() == b"1\t1\t5\t1\n"
    # Nothing staged is left; the download's lock file (".toy.lock") stays.
    assert sorted(p.name for p in folder.parent.iterdir()) == [".toy.lock", "toy"]


def test_wrong_archive_hash_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("RECZOO_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    import dataclasses

    source = dataclasses.replace(_zip_source(tmp_path), archive_sha256="0" * 64)
    with pytest.raises(datasets.DatasetError, match="Could not download"):
        sources.locate(source)
    assert not (tmp_path / "home" / "datasets" / "reczoo" / "toy").exists()


def test_offline_error_names_url_and_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr("keras.utils.get_file", offline)
    with pytest.raises(datasets.DatasetError) as info:
        datasets.load("movielens-100k")
    message = str(info.value)
    assert "https://files.grouplens.org/datasets/movielens/ml-100k.zip" in message
    assert str(tmp_path / "home" / "datasets" / "reczoo" / "ml-100k") in message


def test_unpinned_source_is_not_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path))
    with pytest.raises(datasets.DatasetError, match=r"no checksum .*criteo-research-kaggle"):
        datasets.load("criteo")


def test_unknown_dataset_suggests():
    with pytest.raises(ValueError, match="Did you mean: movielens-100k"):
        datasets.load("movielens-100")


_FRAPPE_HEADER = (
    "user\titem\tcnt\tdaytime\tweekday\tisweekend\thomework\tcost\tweather\tcountry\tcity\n"
)
_FRAPPE_LOG = [  # user, item, context (the same context for all but the last)
    ("u1", "a"), ("u1", "b"), ("u2", "a"), ("u2", "c"), ("u3", "b"), ("u3", "d"),
]  # fmt: skip


def _frappe_x1_files(tmp_path, test_line=None):
    rows = [
        f"{u}\t{i}\t1\tmorning\tmonday\tworkday\tunknown\tfree\tsunny\tSpain\t{5 if n < 5 else 7}"
        for n, (u, i) in enumerate(_FRAPPE_LOG)
    ]
    write(tmp_path / "raw" / "frappe.csv", _FRAPPE_HEADER + "\n".join(rows) + "\n")
    # Indices by first appearance: users 0-2, items 3-6, then one value per
    # context field (7-14) and two cities (14, 15).
    context = "7:1 8:1 9:1 10:1 11:1 12:1 13:1"
    write(
        tmp_path / "frappe.validation.libfm",
        f"1 1:1 3:1 {context} 14:1\n-1 1:1 6:1 {context} 14:1\n",
    )
    write(tmp_path / "frappe.test.libfm", (test_line or f"1 2:1 6:1 {context} 15:1") + "\n")
    return tmp_path


def test_frappe_x1_rebuilds_training_around_the_published_rows(tmp_path):
    data = loaders.read_frappe_x1(_frappe_x1_files(tmp_path), raw_folder=tmp_path)
    split = datasets.split(data, "bars_x1")
    train, valid, test = (split.rows(s) for s in ("train", "valid", "test"))
    assert (len(train), len(valid), len(test)) == (4 * 3, 2, 1)

    def pairs(rows):
        users, items = (
            data.vocabularies[c].decode(data.categorical[c][rows]) for c in ("user", "item")
        )
        return list(zip(users, items, strict=True))

    assert pairs(valid) == [("u2", "a"), ("u2", "d")]
    assert pairs(test) == [("u3", "d")]
    positives = train[data.labels[train] == 1]
    assert sorted(pairs(positives)) == [("u1", "a"), ("u1", "b"), ("u2", "c"), ("u3", "b")]
    # A negative keeps its log's user and context and takes an item not used there.
    used = set(pairs(positives)) | {("u2", "a"), ("u3", "d")}
    assert not used & set(pairs(train[data.labels[train] == 0]))


def test_frappe_x1_refuses_files_that_do_not_match_the_log(tmp_path):
    context = "7:1 8:1 9:1 10:1 11:1 12:1 13:1"
    files = _frappe_x1_files(tmp_path, test_line=f"1 2:1 14:1 {context} 15:1")
    with pytest.raises(
        sources.DatasetError,
        match=r"frappe.test.libfm, line 1: index 14 is not a value of field 'item'",
    ):
        loaders.read_frappe_x1(files, raw_folder=tmp_path)
    files = _frappe_x1_files(tmp_path, test_line=f"1 0:1 6:1 {context} 15:1")  # u1 never used d
    with pytest.raises(sources.DatasetError, match="a positive that is not a log"):
        loaders.read_frappe_x1(files, raw_folder=tmp_path)
