"""A ratings file shaped like MovieLens latest-small, made from MovieLens-100K.

    python benchmarks/latest_small_shape.py --output=ratings.csv
    reczoo benchmark --suite=ranking --models=pop,sasrec,gru4rec \
        --data_file=ratings.csv --user_col=userId --item_col=movieId \
        --rating_col=rating --time_col=timestamp --output=benchmarks/results/defaults

Issue 26 asks that every model's default run on a public 100,000-rating
file with long histories (MovieLens latest-small: 610 users, 9,742 movies,
100,836 ratings, one user with 2,698) return within 5 minutes, above
popularity. latest-small is not in the shared data folder, and a file of
random ids would time the runs but say nothing of their accuracy. This one
keeps MovieLens-100K's ratings, timestamps and tastes, regrouped into
latest-small's shape:

- users: the four most active (737, 685, 636 and 540 ratings) become one
  user, as latest-small's heaviest has thousands; the other 939 are dealt
  at random into 609 users (one or two each, their histories interleaved
  by time): 610 users;
- movies: each of the 1,682 is split into `ceil(0.9 * sqrt(n))` variants
  (n: its ratings), each rating going to one of them with weights
  1, 1/2, 1/3, ... (so the popular movies' first variants stay popular):
  about 10,000 movies, from one rating to 159 each;
- a user who rated two movies that fell into one variant keeps the later
  rating, as latest-small holds one rating per user and movie.

Nothing of the source is written but this file, into `--output`; the
source's licence forbids redistributing either (DATASETS.md).

Most of its users are two people, as latest-small's are not. With
`--users=single` every MovieLens-100K user but the four heaviest stays one
user (940 users), the movies split exactly as in the paired file: what the
pairing costs a model that does not read a user's order can be told apart
from what the movies' split does (benchmarks/README.md).
"""

import argparse
import os
from pathlib import Path

import numpy as np


def shaped(ratings, seed=0, paired=True):
    """`(user, movie, rating, timestamp)` rows of MovieLens-100K's `u.data`
    (an int array of 4 columns), regrouped as the module says; `paired=False`
    keeps each user but the four heaviest one user, the movies as with it."""
    rng = np.random.default_rng(seed)
    users, movies, stars, times = ratings.T
    # Users: the four heaviest as one, the rest dealt into 609 groups.
    ids, counts = np.unique(users, return_counts=True)
    if len(ids) < 613:
        raise ValueError(f"610 users are made from at least 613; the ratings have {len(ids)}.")
    order = ids[np.argsort(-counts, kind="stable")]
    group = {int(u): 0 for u in order[:4]}
    rest = rng.permutation(order[4:])
    slots = np.concatenate([np.arange(1, 610), rng.integers(1, 610, len(rest) - 609)])
    slots = rng.permutation(slots)  # drawn either way: the movies' split stays the same
    if not paired:
        slots = np.arange(1, len(rest) + 1)
    group.update({int(u): int(s) for u, s in zip(rest, slots, strict=True)})
    new_users = np.array([group[int(u)] for u in users]) + 1
    # Movies: ceil(0.9 sqrt(n)) variants each, weighted 1, 1/2, 1/3, ...
    movie_ids, movie_counts = np.unique(movies, return_counts=True)
    variants = np.ceil(0.9 * np.sqrt(movie_counts)).astype(int)
    first = np.concatenate([[0], np.cumsum(variants)[:-1]])
    slot = {int(m): i for i, m in enumerate(movie_ids)}
    new_movies = np.empty(len(movies), dtype=np.int64)
    for row, m in enumerate(movies):
        i = slot[int(m)]
        weights = 1.0 / np.arange(1, variants[i] + 1)
        new_movies[row] = first[i] + rng.choice(variants[i], p=weights / weights.sum())
    new_movies += 1
    # One rating per (user, movie): the latest.
    latest = np.lexsort((-times, new_movies, new_users))
    keep = np.ones(len(latest), dtype=bool)
    same = (np.diff(new_users[latest]) == 0) & (np.diff(new_movies[latest]) == 0)
    keep[1:] = ~same
    rows = latest[keep]
    out = np.stack([new_users[rows], new_movies[rows], stars[rows], times[rows]], axis=1)
    return out[np.lexsort((out[:, 3], out[:, 0]))]


def write(rows, path):
    """`rows` of `shaped` as latest-small's `ratings.csv` is laid out."""
    with open(path, "w") as f:
        f.write("userId,movieId,rating,timestamp\n")
        f.writelines(f"{u},{m},{r}.0,{t}\n" for u, m, r, t in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("RECZOO_DATA_DIR", "data")) / "ml-100k" / "u.data"
    parser.add_argument("--source", default=str(default), help="MovieLens-100K's u.data")
    parser.add_argument("--output", default="ratings.csv")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--users", choices=("paired", "single"), default="paired",
        help="paired: 610 users, most of them two of MovieLens-100K's (latest-small's "
        "count); single: each of them one user but the four heaviest (940)",
    )  # fmt: skip
    args = parser.parse_args()
    source = Path(args.source)
    if not source.exists():
        raise SystemExit(f"No MovieLens-100K u.data at {source} (--source, or RECZOO_DATA_DIR).")
    rows = shaped(np.loadtxt(source, dtype=np.int64), seed=args.seed, paired=args.users == "paired")
    write(rows, args.output)
    per_user = np.bincount(rows[:, 0])[1:]
    per_movie = np.bincount(rows[:, 1])
    per_movie = per_movie[per_movie > 0]  # variants no rating fell into are not movies
    print(
        f"{args.output}: {len(rows):,} ratings, {len(per_user):,} users "
        f"(ratings each {per_user.min()} to {per_user.max():,}, median {np.median(per_user):.0f}), "
        f"{len(per_movie):,} movies (ratings each {per_movie.min()} to {per_movie.max():,}, "
        f"{(per_movie == 1).sum():,} with one)"
    )


if __name__ == "__main__":
    main()
