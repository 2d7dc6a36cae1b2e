"""Synthetic click logs in Criteo's format, with a signal a model can learn.

For tests, examples and memory measurements where the real `train.txt`
(45 million rows, 11 GB) is not at hand: the same layout (label, 13 integer
and 26 categorical hex fields, tab-separated, empty when missing), heavy-
tailed value frequencies, and labels drawn from a logistic model over the
values, so that AUC measures something.
"""

from pathlib import Path

import numpy as np

from reczoo.datasets.shards import CRITEO_CATEGORICAL, CRITEO_INTEGER

# Distinct values per categorical column: a few large columns, many small.
DEFAULT_CARDINALITY = (
    1_000, 500, 20_000, 10_000, 200, 20, 5_000, 500, 3, 10_000, 3_000, 20_000, 2_000,
    20, 5_000, 20_000, 10, 2_000, 1_000, 4, 20_000, 10, 15, 10_000, 50, 5_000,
)  # fmt: skip


def synthetic_criteo(path, rows, seed=0, cardinality=DEFAULT_CARDINALITY, chunk_rows=100_000):
    """Writes `rows` lines of a Criteo-format click log to `path`.

    The model behind the labels (its weights drawn from `seed`) is the same
    for every `rows`, and the first `n` rows of a longer file are the rows of
    a file of `n` rows: files of 10x the rows grow the same data.

    Args:
        path: the file to write (Criteo's `train.txt` layout).
        rows: how many lines.
        seed: draws the value tables, the weights and the rows.
        cardinality: distinct values of each of the 26 categorical columns.
        chunk_rows: lines generated at once (memory stays bounded).

    Returns:
        The `Path` written.
    """
    if len(cardinality) != len(CRITEO_CATEGORICAL):
        raise ValueError(
            f"cardinality needs one size per categorical column ({len(CRITEO_CATEGORICAL)}). "
            f"Received: {len(cardinality)}"
        )
    model = np.random.default_rng([seed, 0])
    # Each column's values: distinct 8-digit hex strings, as Criteo's hashes.
    tables = []
    for size in cardinality:
        codes = model.choice(2**32, size=size, replace=False)
        tables.append(np.array([f"{c:08x}" for c in codes], dtype=object))
    weights = [model.normal(0.0, 0.35, size) for size in cardinality]
    slopes = model.normal(0.0, 0.3, len(CRITEO_INTEGER))
    scales = model.uniform(1.0, 300.0, len(CRITEO_INTEGER))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for k, start in enumerate(range(0, rows, chunk_rows)):
            # Whole chunks are drawn, the last one cut: a longer file holds
            # the shorter one's rows.
            n, keep = chunk_rows, min(chunk_rows, rows - start)
            draw = np.random.default_rng([seed, 1, k])
            logit = np.full(n, -1.6)
            fields = []
            for j in range(len(CRITEO_INTEGER)):
                x = np.floor(draw.exponential(scales[j], n)).astype("int64")
                logit += slopes[j] * (np.log1p(x) - np.log1p(scales[j]))
                text = x.astype(str).astype(object)
                text[draw.random(n) < 0.1] = ""
                fields.append(text)
            for size, table, w in zip(cardinality, tables, weights, strict=True):
                # Zipf-like frequencies: low ranks are the common values.
                ids = np.minimum(np.floor(size ** draw.random(n)).astype("int64") - 1, size - 1)
                logit += w[ids]
                text = table[ids]
                text[draw.random(n) < 0.04] = ""
                fields.append(text)
            labels = (draw.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int).astype(str)
            lines = [
                "\t".join(r) for r in zip(labels[:keep], *(f[:keep] for f in fields), strict=True)
            ]
            f.write("\n".join(lines) + "\n")
    return path


# The schema `synthetic_long_tail` files are converted under (`reczoo shards --schema`).
LONG_TAIL_SCHEMA = {
    "columns": {
        "clicked": "label",
        "user": {"role": "categorical", "min_count": 5},
        "item": {"role": "categorical", "min_count": 5},
        "query": {"role": "categorical", "min_count": 5},
        "category": "categorical",
        "price": "numerical",
        "views": {"role": "numerical", "transform": "log1p"},
    }
}


def synthetic_long_tail(path, rows, seed=0, chunk_rows=1_000_000):
    """Writes a click log whose id columns keep gaining distinct values as it
    grows, for measuring a converter's memory: `clicked` (0/1), `user`,
    `item` and `query` (Zipf-distributed ids over an unbounded range: a
    long tail of values seen once), `category` (200 values), `price` and
    `views` (numbers). CSV with a header; convert it under
    `LONG_TAIL_SCHEMA`. Written by pyarrow, a million rows at a time.

    Args:
        path: the CSV file to write.
        rows: how many rows.
        seed: draws every row.
        chunk_rows: rows generated and written at once.

    Returns:
        The `Path` written.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    types = _long_tail_types()
    options = pacsv.WriteOptions(quoting_style="none")
    with pacsv.CSVWriter(str(path), types, write_options=options) as writer:
        for k, start in enumerate(range(0, rows, chunk_rows)):
            n = min(chunk_rows, rows - start)
            draw = np.random.default_rng([seed, k])
            user, item, query = (draw.zipf(a, n) for a in (1.15, 1.3, 1.1))
            category = draw.integers(0, 200, n)
            logit = 0.3 * np.sin(item % 97) + 0.2 * np.cos(user % 89) - 1.2
            clicked = (draw.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype("int8")
            columns = [
                clicked,
                _prefixed("u", user), _prefixed("i", item), _prefixed("q", query),
                _prefixed("c", category),
                np.round(draw.lognormal(3.0, 1.0, n), 2),
                draw.poisson(30.0, n),
            ]  # fmt: skip
            writer.write_table(pa.Table.from_arrays(columns, schema=types))
    return path


def _prefixed(prefix, ids):
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(prefix, pa.array(ids).cast(pa.string()), "")


def _long_tail_types():
    import pyarrow as pa

    return pa.schema([
        ("clicked", pa.int8()), ("user", pa.string()), ("item", pa.string()),
        ("query", pa.string()), ("category", pa.string()), ("price", pa.float64()),
        ("views", pa.int64()),
    ])  # fmt: skip


# What `write_examples` writes (docs/your_data.md follows along with them).
EXAMPLE_FILES = ("shop_clicks.csv", "ratings.csv", "movies.csv", "clicks_parquet")
GENRES = ("Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Thriller", "Animation")


def write_examples(folder=".", seed=0):
    """Writes small example files of the three shapes your data may have,
    with a signal a model can learn, for following docs/your_data.md
    without data of your own:

    - `shop_clicks.csv`: a click log with a header: `id`, a 0/1 `clicked`
      label, categorical `C1`-`C6`, numerical counts `I1`-`I3` (some empty)
      and a `tags` bag (`a|b`); 4,000 rows.
    - `ratings.csv` (`userId,movieId,rating,timestamp`, 300 users) and
      `movies.csv` (`movieId,title,genres`, genres `Action|Comedy`): ratings
      with an item table, in MovieLens' `ml-latest` layout; users rate
      movies of the genres they like.
    - `clicks_parquet/`: `shop_clicks.csv` as a folder of three parquet parts.

    Files already in `folder` are left as they are. Returns the folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    _write_new(folder / "shop_clicks.csv", _shop_clicks(rng))
    ratings, movies = _ratings(rng)
    _write_new(folder / "ratings.csv", ratings)
    _write_new(folder / "movies.csv", movies)
    parts = folder / "clicks_parquet"
    if not parts.exists():
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        parts.mkdir()
        table = pacsv.read_csv(folder / "shop_clicks.csv")
        step = -(-table.num_rows // 3)
        for k in range(3):
            pq.write_table(table.slice(k * step, step), parts / f"part-{k}.parquet")
    return folder


def _write_new(path, lines):
    if not path.exists():
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _shop_clicks(rng, rows=4_000):
    sizes = (50, 200, 8, 1_000, 30, 4)
    weights = [rng.normal(0, 1.0, size) for size in sizes]
    tag_weight = rng.normal(0, 1.0, 12)
    lines = ["id,clicked," + ",".join(f"C{k}" for k in range(1, 7)) + ",I1,I2,I3,tags"]
    for row in range(rows):
        ids = [int(min(rng.zipf(1.3), s) - 1) for s in sizes]
        counts = rng.poisson([3.0, 40.0, 500.0])
        tags = sorted(set(rng.integers(0, 12, rng.integers(0, 4)).tolist()))
        logit = sum(w[i] for w, i in zip(weights, ids, strict=True)) * 0.8
        logit += sum(tag_weight[t] for t in tags) * 0.5 + 0.3 * np.log1p(counts[0]) - 1.0
        label = int(rng.random() < 1 / (1 + np.exp(-logit)))
        values = [f"{k}{i:x}" for k, i in zip("abcdef", ids, strict=True)]
        numbers = ["" if rng.random() < 0.1 else str(c) for c in counts]
        bag = "|".join(f"t{t}" for t in tags)
        lines.append(f"{row},{label}," + ",".join(values) + "," + ",".join(numbers) + f",{bag}")
    return lines


def _ratings(rng, users=300, movies=400):
    genres = [sorted(set(rng.choice(len(GENRES), rng.integers(1, 4)).tolist()))
              for _ in range(movies)]  # fmt: skip
    movie_lines = ["movieId,title,genres"] + [
        f'{m + 1},"Movie {m + 1}, The ({1970 + m % 50})",' + "|".join(GENRES[g] for g in genres[m])
        for m in range(movies)
    ]
    rating_lines = ["userId,movieId,rating,timestamp"]
    popularity = 1.0 / np.arange(1, movies + 1) ** 0.6
    for user in range(1, users + 1):
        liked = set(rng.choice(len(GENRES), 2, replace=False).tolist())
        match = np.array([1.0 + 6.0 * bool(liked & set(g)) for g in genres])
        p = popularity * match
        seen = rng.choice(movies, size=int(rng.integers(15, 40)), replace=False, p=p / p.sum())
        for t, movie in enumerate(seen):
            stars = 3.5 + 1.5 * bool(liked & set(genres[movie])) - rng.random()
            rating_lines.append(
                f"{user},{movie + 1},{round(stars * 2) / 2},{1_500_000_000 + t * 3600 + user}"
            )
    return rating_lines, movie_lines


def synthetic_bars_x1(folder, name, rows=(4_000, 1_000, 1_000), seed=0):
    """Writes stand-ins for BARS' `criteo-x1` or `avazu-x1` files: `train.csv`,
    `valid.csv` and `test.csv` in `folder/name/`, with the published files'
    header and layout (Criteo_x1: label, I1-I13 as numbers, C1-C26 as integer
    ids; Avazu_x1: label, feat_1-feat_22 as integer ids, each column's ids a
    range of its own, as the AFN indices are) and labels drawn from a
    logistic model over the ids. Their row counts are not the published
    ones, so `reczoo.datasets.load` refuses them: they are for reading the
    files' path end to end (`reczoo.datasets.shards.cached_split`).

    Args:
        folder: the data folder (`$RECZOO_DATA_DIR`).
        name: `"criteo-x1"` or `"avazu-x1"`.
        rows: rows of train, valid and test.
        seed: draws the weights and the rows.

    Returns:
        The `Path` of the dataset's folder.
    """
    from reczoo.datasets.public.bars_x1 import SCHEMAS

    if name not in SCHEMAS:
        raise ValueError(f"name must be one of {sorted(SCHEMAS)}. Received: {name!r}")
    columns = list(SCHEMAS[name]["columns"])
    numerical = [c for c in columns if SCHEMAS[name]["columns"][c]["role"] == "numerical"]
    categorical = [c for c in columns if SCHEMAS[name]["columns"][c]["role"] == "categorical"]
    rng = np.random.default_rng([seed, 0])
    values = 20
    weights = rng.normal(0.0, 0.5, (len(categorical), values))
    slopes = rng.normal(0.0, 1.0, len(numerical))
    target = Path(folder) / name
    target.mkdir(parents=True, exist_ok=True)
    for k, (part, n) in enumerate(zip(("train", "valid", "test"), rows, strict=True)):
        draw = np.random.default_rng([seed, 1, k])
        ids = draw.integers(0, values, (n, len(categorical)))
        x = draw.random((n, len(numerical)))
        logit = weights[np.arange(len(categorical)), ids].sum(axis=1) + x @ slopes
        labels = (draw.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
        table = [labels.astype(str), *(np.char.mod("%.4f", x[:, j]) for j in range(x.shape[1]))]
        table += [(ids[:, j] + values * j + 1).astype(str) for j in range(len(categorical))]
        lines = [",".join(columns)] + [",".join(r) for r in zip(*table, strict=True)]
        (target / f"{part}.csv").write_text("\n".join(lines) + "\n")
    return target
