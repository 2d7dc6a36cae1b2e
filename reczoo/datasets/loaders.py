"""Parsers of the public datasets, and the generic interactions loader."""

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from reczoo.datasets.base import CTRDataset, Vocabulary, remap, side_bags
from reczoo.datasets.preprocessing import build_interactions, side_table
from reczoo.datasets.sampling import context_negatives
from reczoo.datasets.sources import DatasetError
from reczoo.datasets.tables import column_index, parse_numbers, read_table
from reczoo.provenance import sha256_of


def load_interactions(
    path,
    user="user_id",
    item="item_id",
    rating=None,
    time=None,
    sep=None,
    header=True,
    encoding="utf-8",
    name=None,
):
    """Loads your own interactions from a CSV, TSV or `::`-separated file.

    Args:
        path: the file.
        user: the user column: a header name, or a position (0, 1, ...) for
            a file without a header.
        item: the item column, as `user`.
        rating: the rating column, if any.
        time: the timestamp column (numbers), if any; without it file order is
            the time order.
        sep: the separator; sniffed from the first lines when None.
        header: whether the first line names the columns.
        encoding: the text encoding.
        name: the dataset's name (default: the file name).

    Returns:
        An `InteractionDataset`, ids remapped to `1..N`, with the raw ids in
        its vocabularies.

    Raises:
        reczoo.datasets.DatasetError: a missing file, or a line without a user or
            item id (the error names the line).
        ValueError: one column given two roles.

    Example:
        ```python
        reczoo.datasets.write_examples()
        data = reczoo.datasets.load_interactions("ratings.csv", user="userId", item="movieId")
        data.num_users, data.num_items, data.num_interactions
        ```
    """
    path = Path(path)
    roles = {"user": user, "item": item, "rating": rating, "time": time}
    given = [(role, column) for role, column in roles.items() if column is not None]
    for k, (role, column) in enumerate(given):
        other = next((r for r, c in given[k + 1 :] if c == column), None)
        if other is not None:
            raise ValueError(
                f"The {role} and {other} columns of {path} are both {column!r}: each role "
                "needs a column of its own."
            )
    names, columns, sep = read_table(path, sep=sep, header=header, encoding=encoding)
    first = 2 if header else 1
    u = columns[column_index(names, user, path, "user")]
    i = columns[column_index(names, item, path, "item")]
    ratings = timestamps = None
    if rating is not None:
        ratings = parse_numbers(
            columns[column_index(names, rating, path, "rating")], path, rating, "float32", first
        )
    if time is not None:
        timestamps = parse_numbers(
            columns[column_index(names, time, path, "time")], path, time, "int64", first
        )
    for role, values in (("user", u), ("item", i)):
        empty = next((k for k, v in enumerate(values) if not v.strip()), None)
        if empty is not None:
            raise DatasetError(f"{path}, line {first + empty}: empty {role} id.")
    # Content-addressed: the file's bytes and how they were read name the
    # dataset in every cache key and result row, not the file's name.
    digest = sha256_of(path)
    choices = json.dumps([digest, user, item, rating, time, sep, header, encoding])
    data = build_interactions(
        name or _stem(path),
        np.asarray(u),
        np.asarray(i),
        ratings,
        timestamps,
        hashlib.sha256(choices.encode()).hexdigest(),
    )
    data.files = {path.name: {"sha256": digest, "lines": first - 1 + len(u)}}
    return data


def _stem(path):
    """The file's name without its extension, nor a compression one (`clicks.csv.gz`)."""
    base = path.name
    for ext in (".gz", ".bz2", ".zip"):
        base = base.removesuffix(ext)
    return Path(base).stem


# --- MovieLens ---------------------------------------------------------------

_AGE_BUCKETS = (18, 25, 35, 45, 50, 56)


def _age_bucket(age):
    # The ML-1M buckets (1, 18, 25, 35, 45, 50, 56), applied to ML-100K ages too.
    bucket = 1
    for edge in _AGE_BUCKETS:
        if age >= edge:
            bucket = edge
    return bucket


def read_movielens_100k(folder, sha256=""):
    folder = Path(folder)
    data = np.loadtxt(folder / "u.data", dtype="int64", ndmin=2)
    if data.shape[1] != 4:
        raise DatasetError(f"{folder / 'u.data'}: expected 4 tab-separated columns.")
    dataset = build_interactions(
        "movielens-100k", data[:, 0], data[:, 1], data[:, 2], data[:, 3], sha256
    )
    _, users, _ = read_table(folder / "u.user", sep="|", header=False, encoding="latin-1")
    raw_users = np.asarray(users[0], dtype="int64")
    _, items, _ = read_table(folder / "u.item", sep="|", header=False, encoding="latin-1")
    raw_items = np.asarray(items[0], dtype="int64")
    genre_names = [
        "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
        "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
        "Romance", "Sci-Fi", "Thriller", "War", "Western",
    ]  # fmt: skip
    flags = np.asarray(items[5:24], dtype="int64").T
    genres = [[genre_names[g] for g in np.flatnonzero(row)] for row in flags]
    years = [d[-4:] if d else "" for d in items[2]]
    _add_side_features(
        dataset,
        raw_users,
        {
            "age": [_age_bucket(int(a)) for a in users[1]],
            "gender": users[2],
            "occupation": users[3],
            "zip_prefix": [z[:2] for z in users[4]],
        },
        raw_items,
        {"year": years},
        {"genres": genres},
        titles=items[1],
    )
    return dataset


def _add_side_features(dataset, raw_users, user_cols, raw_items, item_cols, item_bags, titles):
    uv, iv = dataset.vocabularies["user"], dataset.vocabularies["item"]
    for name, values in user_cols.items():
        table, vocab = side_table(uv, raw_users, np.asarray(values), name)
        dataset.user_features[name] = table
        dataset.vocabularies[f"user.{name}"] = vocab
    for name, values in item_cols.items():
        table, vocab = side_table(iv, raw_items, np.asarray(values), name)
        dataset.item_features[name] = table
        dataset.vocabularies[f"item.{name}"] = vocab
    for name, bags in item_bags.items():
        table, vocab = side_bags(iv, raw_items, bags, name)
        dataset.item_features[name] = table
        dataset.vocabularies[f"item.{name}"] = vocab
    dataset.titles = dict(zip(iv.encode(raw_items).tolist(), titles, strict=True))
    dataset.titles.pop(0, None)


def read_movielens_1m(folder, sha256=""):
    folder = Path(folder)
    _, ratings, _ = read_table(folder / "ratings.dat", sep="::", header=False, encoding="latin-1")
    cols = [
        parse_numbers(c, folder / "ratings.dat", str(k), "int64", 1) for k, c in enumerate(ratings)
    ]
    if len(cols) != 4:
        raise DatasetError(
            f"{folder / 'ratings.dat'}: expected UserID::MovieID::Rating::Timestamp."
        )
    dataset = build_interactions("movielens-1m", cols[0], cols[1], cols[2], cols[3], sha256)
    _, users, _ = read_table(folder / "users.dat", sep="::", header=False, encoding="latin-1")
    _, movies, _ = read_table(folder / "movies.dat", sep="::", header=False, encoding="latin-1")
    raw_items = np.asarray(movies[0], dtype="int64")
    years = [m.group(1) if (m := re.search(r"\((\d{4})\)\s*$", t)) else "" for t in movies[1]]
    _add_side_features(
        dataset,
        np.asarray(users[0], dtype="int64"),
        {
            "gender": users[1],
            "age": [int(a) for a in users[2]],
            "occupation": users[3],
            "zip_prefix": [z[:2] for z in users[4]],
        },
        raw_items,
        {"year": years},
        {"genres": [g.split("|") if g else [] for g in movies[2]]},
        titles=movies[1],
    )
    return dataset


def read_ncf_test_files(folder, name="ml-1m"):
    """NCF's published test set: `<name>.test.rating` and `<name>.test.negative`.

    He et al. (WWW 2017) hold out each user's latest rating and rank it
    against 99 sampled negatives; their code ships these two files (0-based
    re-indexed ids: user `u` is MovieLens user `u + 1`). Returns a dict of
    arrays: `users`, `items`, `ratings`, `timestamps` (one row per user, in
    file order) and `negatives` (users, 99). Malformed lines are errors naming
    the file and line.
    """
    folder = Path(folder)
    rating_path, negative_path = folder / f"{name}.test.rating", folder / f"{name}.test.negative"
    rows = []
    for number, line in enumerate(_lines(rating_path), 1):
        parts = line.split("\t")
        if len(parts) != 4 or not all(p.strip().lstrip("-").isdigit() for p in parts):
            raise DatasetError(
                f"{rating_path}, line {number}: expected user<TAB>item<TAB>rating<TAB>timestamp "
                f"(integers). Received: {line[:80]!r}"
            )
        rows.append([int(p) for p in parts])
    negatives = []
    for number, line in enumerate(_lines(negative_path), 1):
        head, *rest = line.split("\t")
        if number > len(rows) or head != f"({rows[number - 1][0]},{rows[number - 1][1]})":
            expected = (
                f"({rows[number - 1][0]},{rows[number - 1][1]})" if number <= len(rows) else "none"
            )
            raise DatasetError(
                f"{negative_path}, line {number}: starts with {head!r}; the rating file's "
                f"line {number} is {expected}."
            )
        if not all(r.strip().isdigit() for r in rest):
            raise DatasetError(f"{negative_path}, line {number}: negatives must be item ids.")
        negatives.append([int(r) for r in rest])
    if len(negatives) != len(rows) or len({len(n) for n in negatives}) > 1:
        raise DatasetError(
            f"{negative_path}: expected one line of equally many negatives per rating line "
            f"({len(rows)}); found {len(negatives)} lines."
        )
    table = np.asarray(rows, dtype="int64").reshape(-1, 4)
    return {
        "users": table[:, 0],
        "items": table[:, 1],
        "ratings": table[:, 2],
        "timestamps": table[:, 3],
        "negatives": np.asarray(negatives, dtype="int64"),
    }


def _lines(path):
    if not Path(path).is_file():
        raise DatasetError(f"Missing file {path}.")
    return [line.rstrip("\r\n") for line in open(path, encoding="utf-8") if line.strip()]


def read_movielens_csv(folder, name, sha256=""):
    """`ratings.csv` + `movies.csv` (ml-latest, ml-20m, ml-25m)."""
    folder = Path(folder)
    path = folder / "ratings.csv"
    names, columns, _ = read_table(path, sep=",")
    cols = {
        n: parse_numbers(columns[column_index(names, n, path, n)], path, n, dtype, 2)
        for n, dtype in (("userId", "int64"), ("movieId", "int64"), ("rating", "float32"), ("timestamp", "int64"))
    }  # fmt: skip
    dataset = build_interactions(
        name, cols["userId"], cols["movieId"], cols["rating"], cols["timestamp"], sha256
    )
    names, movies, _ = read_table(folder / "movies.csv", sep=",")
    raw_items = np.asarray(movies[column_index(names, "movieId", folder, "movieId")], dtype="int64")
    titles = movies[column_index(names, "title", folder, "title")]
    genres = movies[column_index(names, "genres", folder, "genres")]
    years = [m.group(1) if (m := re.search(r"\((\d{4})\)\s*$", t)) else "" for t in titles]
    _add_side_features(
        dataset,
        np.zeros(0, dtype="int64"),
        {},
        raw_items,
        {"year": years},
        {"genres": [[] if g == "(no genres listed)" else g.split("|") for g in genres]},
        titles=titles,
    )
    return dataset


# --- Amazon Games (SASRec preprocessing) -------------------------------------


def read_amazon_games(folder, sha256=""):
    """`Video.txt`: `user item` per line, each user's lines in time order."""
    path = Path(folder) / "Video.txt"
    data = np.loadtxt(path, dtype="int64", ndmin=2)
    if data.shape[1] != 2:
        raise DatasetError(f"{path}: expected 'user item' pairs, found {data.shape[1]} columns.")
    # File order is the time order; the position is the timestamp.
    return build_interactions(
        "amazon-games", data[:, 0], data[:, 1], None, np.arange(len(data)), sha256
    )


# --- Frappe --------------------------------------------------------------------

FRAPPE_CONTEXT = (
    "daytime", "weekday", "isweekend", "homework", "cost", "weather", "country", "city",
)  # fmt: skip


def _frappe_table(name, labels, categorical, vocabularies, sha256, **extra):
    return CTRDataset(
        name=name,
        labels=labels,
        categorical=categorical,
        vocabularies=vocabularies,
        user_column="user",
        item_column="item",
        sha256=sha256,
        **extra,
    )


def read_frappe(folder, sha256="", negatives=2, seed=2017):
    """The raw Frappe log rebuilt as in the NFM paper.

    Each log (user, item, context) is a positive; for each, `negatives`
    negatives keep the user and context and take a random item that user
    never used in that context, drawn with `seed`. 96,203 logs give 288,609
    rows. The `cnt` column is dropped, as NFM did.
    """
    path = Path(folder) / "raw" / "frappe.csv"
    names, columns, _ = read_table(path, sep="\t")
    table = {
        n: np.asarray(columns[column_index(names, n, path, n)])
        for n in ("user", "item", *FRAPPE_CONTEXT)
    }
    n = len(table["user"])
    item_vocab, item_ids = remap("item", table["item"])
    context_key = np.unique(
        np.stack([table[c] for c in ("user", *FRAPPE_CONTEXT)], axis=1), axis=0, return_inverse=True
    )[1].reshape(-1)
    used = set(zip(context_key.tolist(), item_ids.tolist(), strict=True))
    rng = np.random.default_rng(seed)
    neg_items = np.asarray(
        context_negatives(context_key.tolist(), used, range(1, len(item_vocab)), negatives, rng),
        dtype="int32",
    ).reshape(n, negatives)
    rows = np.concatenate([np.arange(n)] + [np.arange(n)] * negatives)
    items = np.concatenate([item_ids] + [neg_items[:, j] for j in range(negatives)])
    labels = np.concatenate([np.ones(n), np.zeros(n * negatives)]).astype("float32")
    categorical, vocabularies = {}, {}
    for column in ("user", "item", *FRAPPE_CONTEXT):
        if column == "item":
            categorical[column], vocabularies[column] = items, item_vocab
        else:
            vocab, ids = remap(column, table[column])
            categorical[column], vocabularies[column] = ids[rows], vocab
    return _frappe_table("frappe", labels, categorical, vocabularies, sha256)


def read_frappe_nfm(folder, sha256=""):
    """The NFM libFM validation and test files as published (86,582 rows).

    Each line is `label f:1` for 10 one-hot fields (user, item, 8 context
    fields). The training file (202,027 rows) is not published with them;
    `frappe-x1` (`read_frappe_x1`) rebuilds one around these rows.
    """
    field_names = ("user", "item", *FRAPPE_CONTEXT)
    parts = [
        _read_libfm(Path(folder) / f"frappe.{split}.libfm", len(field_names))
        for split in ("validation", "test")
    ]
    fields = np.concatenate([f for _, f in parts])
    categorical, vocabularies = {}, {}
    for k, column in enumerate(field_names):
        vocabularies[column], categorical[column] = remap(column, fields[:, k])
    labels = np.concatenate([lab for lab, _ in parts])
    return _frappe_table("frappe-nfm", labels, categorical, vocabularies, sha256)


def _first_seen(values):
    """Each value's rank in order of first appearance."""
    order = {}
    for v in values.tolist():
        order.setdefault(v, len(order))
    return order


def _read_libfm(path, num_fields):
    labels, fields = [], []
    with open(path) as f:
        for number, line in enumerate(f, start=1):
            parts = line.split()
            if len(parts) != num_fields + 1:
                raise DatasetError(
                    f"{path}, line {number}: expected a label and {num_fields} 'index:1' "
                    f"fields, found {len(parts)} tokens."
                )
            labels.append(1.0 if float(parts[0]) > 0 else 0.0)
            fields.append([int(p.split(":", 1)[0]) for p in parts[1:]])
    return np.asarray(labels, dtype="float32"), np.asarray(fields, dtype="int64")


def _decode_nfm_files(folder, raw, field_names):
    """NFM's validation and test files as raw values: `[(labels, rows), ...]`.

    NFM numbered each field's values in the order they first occur in the raw
    log, field after field; an index outside its field is refused.
    """
    field_of, value_of = [], []
    for k in range(len(field_names)):
        seen = list(_first_seen(raw[:, k]))
        field_of += [k] * len(seen)
        value_of += seen
    field_of, value_of = np.asarray(field_of), np.asarray(value_of, dtype=object)
    held_out = []
    for split in ("validation", "test"):
        labels, fields = _read_libfm(Path(folder) / f"frappe.{split}.libfm", len(field_names))
        known = fields < len(field_of)
        wrong = ~known | (field_of[np.where(known, fields, 0)] != np.arange(len(field_names)))
        if wrong.any():
            r, k = np.argwhere(wrong)[0]
            raise DatasetError(
                f"frappe.{split}.libfm, line {r + 1}: index {fields[r, k]} is not a value of "
                f"field {field_names[k]!r} in the raw log; the file and frappe.csv do not match."
            )
        held_out.append((labels, value_of[fields]))
    return held_out


def _logs_not_held_out(raw, held_out):
    """The raw log's rows less one per held-out positive: the training positives.

    Every held-out positive must be a log, or the files do not match.
    """
    logs = {}
    for row in map(tuple, raw.tolist()):
        logs[row] = logs.get(row, 0) + 1
    for split, (labels, decoded) in zip(("validation", "test"), held_out, strict=True):
        for r in np.flatnonzero(labels == 1):
            key = tuple(decoded[r])
            if not logs.get(key):
                raise DatasetError(
                    f"frappe.{split}.libfm, line {r + 1}: a positive that is not a log of "
                    "frappe.csv (or is held out twice); the files do not match."
                )
            logs[key] -= 1
    return np.asarray([row for row, n in logs.items() for _ in range(n)], dtype=object)


def read_frappe_x1(folder, sha256="", raw_folder=None, negatives=2, seed=2017):
    """BARS' Frappe_x1: NFM's validation and test files, with training rebuilt.

    NFM's libFM files number each field's values in the order they first
    occur in the raw log (user 0-956, item 957-5038, ..., city 5149-5381),
    so every validation and test line maps back to raw values; every
    positive line must be a log, or the files are refused. The training
    split (202,027 rows, not published) is rebuilt as NFM built it: the 67,604
    logs not in validation or test, each with `negatives` negatives that keep
    the user and context and take an item that user never used in that
    context, drawn with `seed`. Validation and test are exactly BARS'.
    """
    from reczoo.datasets import catalog, sources

    field_names = ("user", "item", *FRAPPE_CONTEXT)
    raw_folder = Path(raw_folder) if raw_folder else sources.locate(catalog.SOURCES["frappe"])
    path = raw_folder / "raw" / "frappe.csv"
    names, columns, _ = read_table(path, sep="\t")
    raw = np.stack(
        [np.asarray(columns[column_index(names, n, path, n)]) for n in field_names], axis=1
    )
    held_out = _decode_nfm_files(folder, raw, field_names)
    train_pos = _logs_not_held_out(raw, held_out)

    # Negatives as NFM drew them: same user and context, an item never used there.
    def context(rows):  # (user, context fields) of each row
        return list(map(tuple, np.delete(rows, 1, axis=1).tolist()))

    used = set(zip(context(raw), raw[:, 1].tolist(), strict=True))
    items = list(_first_seen(raw[:, 1]))
    drawn = context_negatives(
        context(train_pos), used, items, negatives, np.random.default_rng(seed)
    )
    train_neg = []
    for row, negative_items in zip(train_pos, drawn, strict=True):
        for item in negative_items:
            neg = row.copy()
            neg[1] = item
            train_neg.append(neg)
    table = np.concatenate(
        [train_pos, np.asarray(train_neg, dtype=object)] + [d for _, d in held_out]
    )
    labels = np.concatenate(
        [np.ones(len(train_pos)), np.zeros(len(train_neg))] + [lab for lab, _ in held_out]
    ).astype("float32")
    n_train, n_valid = len(train_pos) + len(train_neg), len(held_out[0][0])
    rows = np.arange(len(labels))
    categorical, vocabularies = {}, {}
    for k, column in enumerate(field_names):
        vocabularies[column], categorical[column] = remap(column, table[:, k].astype(str))
    return _frappe_table(
        "frappe-x1",
        labels,
        categorical,
        vocabularies,
        sha256,
        fixed_split={
            "train": rows[:n_train],
            "valid": rows[n_train : n_train + n_valid],
            "test": rows[n_train + n_valid :],
        },
    )


# --- Criteo --------------------------------------------------------------------

CRITEO_INTEGER = tuple(f"I{i}" for i in range(1, 14))
CRITEO_CATEGORICAL = tuple(f"C{i}" for i in range(1, 27))


def read_criteo(path, name="criteo", sha256="", min_count=1, max_rows=None):
    """Criteo display-ads data: Kaggle's tab-separated `train.txt` (no header)
    or DeepCTR's CSV sample (with a `label,I1..I13,C1..C26` header).

    Integer columns become `log(1 + x)` for x > 0 (0 when missing or
    negative); categorical values seen fewer than `min_count` times, and
    empty ones, become id 0.
    """
    path = Path(path)
    with open(path) as f:
        first = f.readline()
    if first.startswith("label,"):
        names, columns, _ = read_table(path, sep=",", header=True, max_rows=max_rows)
        expected = ["label", *CRITEO_INTEGER, *CRITEO_CATEGORICAL]
        if names != expected:
            raise DatasetError(f"{path}: expected the columns {expected}. Found: {names}")
    else:
        names, columns, _ = read_table(path, sep="\t", header=False, max_rows=max_rows)
        if len(names) != 40:
            raise DatasetError(
                f"{path}: expected 40 tab-separated fields (label, 13 integer, 26 categorical), "
                f"found {len(names)}."
            )
    labels = parse_numbers(columns[0], path, "label", "float32", 1)
    numerical = {}
    for k, column in enumerate(CRITEO_INTEGER, start=1):
        raw = np.asarray([float(v) if v else 0.0 for v in columns[k]], dtype="float64")
        numerical[column] = np.log1p(np.maximum(raw, 0.0)).astype("float32")
    categorical, vocabularies = {}, {}
    for k, column in enumerate(CRITEO_CATEGORICAL, start=14):
        raw = np.asarray(columns[k])
        values, counts = np.unique(raw, return_counts=True)
        keep = [
            v for v, c in zip(values.tolist(), counts.tolist(), strict=True) if v and c >= min_count
        ]
        vocab = Vocabulary(column, keep)
        categorical[column] = vocab.encode(raw)
        vocabularies[column] = vocab
    return CTRDataset(
        name=name,
        labels=labels,
        categorical=categorical,
        numerical=numerical,
        vocabularies=vocabularies,
        sha256=sha256,
    )
