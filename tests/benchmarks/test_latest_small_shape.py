"""benchmarks/latest_small_shape.py: MovieLens-100K regrouped into latest-small's shape."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from latest_small_shape import shaped, write

ROOT = Path(__file__).resolve().parents[2]


def _ratings(users=943, movies=300, rows=30_000, seed=0):
    rng = np.random.default_rng(seed)
    # Long-tailed users and movies, every user and movie rated at least once.
    user = np.concatenate([np.arange(1, users + 1), 1 + rng.zipf(1.3, rows) % users])
    movie = np.concatenate([1 + np.arange(users) % movies, 1 + rng.zipf(1.2, rows) % movies])
    table = np.unique(np.stack([user, movie], axis=1), axis=0)
    stars = rng.integers(1, 6, len(table))
    times = rng.integers(8.7e8, 8.9e8, len(table))
    return np.column_stack([table, stars, times])


def test_users_movies_and_one_rating_per_pair():
    source = _ratings()
    out = shaped(source)
    users, movies = out[:, 0], out[:, 1]
    assert np.unique(users).tolist() == list(range(1, 611))
    # The four heaviest source users are one user, the heaviest here.
    counts = np.bincount(source[:, 0])
    heaviest = np.bincount(users).argmax()
    assert np.bincount(users)[heaviest] > np.sort(counts)[-1]
    assert len(np.unique(out[:, :2], axis=0)) == len(out)
    # Each source movie becomes at most ceil(0.9 sqrt(n)) movies.
    n = np.bincount(source[:, 1])[1:]
    assert len(np.unique(movies)) <= np.ceil(0.9 * np.sqrt(n[n > 0])).sum()
    assert len(np.unique(movies)) > len(n[n > 0])
    # Rows by user, then time; ratings and times are the source's.
    assert np.all(np.diff(users) >= 0)
    same_user = np.diff(users) == 0
    assert np.all(np.diff(out[:, 3])[same_user] >= 0)
    assert set(out[:, 2]) <= set(source[:, 2]) and set(out[:, 3]) <= set(source[:, 3])
    assert np.array_equal(shaped(source), out)  # seeded


def test_single_users_keep_each_source_user_and_the_same_movies():
    from collections import Counter

    source = _ratings()
    paired, single = shaped(source), shaped(source, paired=False)
    # 939 users alone and the four heaviest as one (user 1): no two people
    # share any other user, so none of their ratings is merged away.
    assert np.unique(single[:, 0]).tolist() == list(range(1, 941))
    counts = np.bincount(source[:, 0])
    heaviest = np.argsort(-counts, kind="stable")[:4]
    assert (single[:, 0] != 1).sum() == (~np.isin(source[:, 0], heaviest)).sum()
    # Every rating the paired file keeps went to the same movie in both.
    kept = Counter(map(tuple, paired[:, 1:].tolist()))
    every = Counter(map(tuple, single[:, 1:].tolist()))
    assert not kept - every
    assert np.array_equal(shaped(source, paired=False), single)  # seeded


def test_too_few_users_is_an_error():
    with pytest.raises(ValueError, match="at least 613; the ratings have 500"):
        shaped(_ratings(users=500))


@pytest.mark.skipif(not os.environ.get("RECZOO_DATA_DIR"), reason="needs RECZOO_DATA_DIR")
def test_movielens_100k_takes_latest_small_shape_and_is_the_committed_rows_file(tmp_path):
    source = Path(os.environ["RECZOO_DATA_DIR"]) / "ml-100k" / "u.data"
    out = shaped(np.loadtxt(source, dtype=np.int64))
    per_user = np.bincount(out[:, 0])[1:]
    assert len(out) == 98_581 and len(per_user) == 610 and per_user.max() == 2_259
    assert len(np.unique(out[:, 1])) == 9_972
    # benchmarks/results/defaults ran on this very file.
    write(out, tmp_path / "ratings.csv")
    digest = hashlib.sha256((tmp_path / "ratings.csv").read_bytes()).hexdigest()
    committed = ROOT / "benchmarks/results/defaults/results.jsonl"
    rows = [json.loads(line) for line in committed.read_text().splitlines()]
    on_it = [r for r in rows if r["dataset"] == "ratings"]
    files = [r["dataset_files"] for r in on_it]
    # One row a model: the eighteen of benchmarks/README.md.
    assert len(files) == len({r["model"] for r in on_it}) == 18
    assert all(f == {"ratings.csv": {"lines": 98_582, "sha256": digest}} for f in files)
    # And the rows on its single-user twin (--users=single) on that one.
    single = shaped(np.loadtxt(source, dtype=np.int64), paired=False)
    assert len(single) == 99_661 and len(np.unique(single[:, 0])) == 940
    write(single, tmp_path / "ratings_single.csv")
    digest = hashlib.sha256((tmp_path / "ratings_single.csv").read_bytes()).hexdigest()
    on_single = [r for r in rows if r["dataset"] == "ratings_single"]
    assert len(on_single) == len({r["model"] for r in on_single}) == 18
    expected = {"ratings_single.csv": {"lines": 99_662, "sha256": digest}}
    assert all(r["dataset_files"] == expected for r in on_single)
