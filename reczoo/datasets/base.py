"""Dataset objects: interactions (user, item, rating, time) and CTR tables.

Ids are remapped to `1..N` in order of first appearance after sorting the
raw values; 0 is reserved for padding and out-of-vocabulary everywhere, so a
vocabulary of N values has N + 1 slots and slot 0 holds no raw value.
"""

import collections
import dataclasses
import re

import numpy as np

from reczoo.features import Categorical, FeatureSpec, MultiHot, Numerical, Sequence

PAD = "[PAD]"


class Vocabulary:
    """Raw values <-> ids `1..N`, id 0 for padding and unknown values."""

    def __init__(self, name, values):
        self.name = name
        self.values = [PAD, *values]
        self._index = {v: i for i, v in enumerate(self.values) if i > 0}

    @classmethod
    def fit(cls, name, raw):
        """Builds a vocabulary of the sorted distinct values of `raw`."""
        values = np.unique(np.asarray(raw))
        return cls(name, [v.item() if hasattr(v, "item") else v for v in values])

    def __len__(self):
        return len(self.values)

    @property
    def size(self):
        """Number of id slots, padding included (an embedding table's rows)."""
        return len(self.values)

    def encode(self, raw, strict=False):
        """Ids of raw values; unknown values give 0, or an error if `strict`."""
        raw = np.asarray(raw)
        out = np.empty(raw.shape, dtype="int32")
        flat = out.reshape(-1)
        for i, value in enumerate(raw.reshape(-1)):
            key = value.item() if hasattr(value, "item") else value
            index = self._index.get(key, 0)
            if strict and index == 0:
                raise ValueError(
                    f"Value {key!r} is not in the vocabulary of '{self.name}' "
                    f"({self.size - 1} known values)."
                )
            flat[i] = index
        return out

    def decode(self, ids):
        return [self.values[int(i)] for i in np.asarray(ids).reshape(-1)]

    def to_list(self):
        return [str(v) for v in self.values]


class HashedVocabulary(Vocabulary):
    """The ids of a hashed column: `buckets` ids by `hash_ids`, and row 0.

    An open vocabulary: a value never seen still gets an id."""

    def __init__(self, name, buckets):
        super().__init__(name, [f"#{k}" for k in range(1, buckets + 1)])
        self.buckets = buckets

    def encode(self, raw, strict=False):
        return hash_ids(raw, self.buckets)


def hash_ids(values, buckets):
    """Ids `1..buckets` of raw values by TensorFlow's stable fingerprint
    (`tf.strings.to_hash_bucket_fast(value, buckets) + 1`); the empty value
    is 0. A value gets the same id in every process, in shards
    (`reczoo shards`, which hash when read) and in an exported SavedModel."""
    import tensorflow as tf

    values = np.asarray(values).astype(str)
    distinct, inverse = np.unique(values, return_inverse=True)
    ids = tf.strings.to_hash_bucket_fast(distinct.tolist() or [""], buckets).numpy() + 1
    ids = np.where(distinct == "", 0, ids[: len(distinct)]).astype("int32")
    return ids[inverse.reshape(-1)].reshape(values.shape)


def grow(vocabularies, own):
    """Each of `own`'s vocabularies (`{name: Vocabulary}`) grown from
    `vocabularies` (`{name: [raw values in id order]}`, such as a preset's):
    the known values keep their ids, values it lacks are appended in `own`'s
    order. Returns `({name: Vocabulary}, {name: int32 map from own ids to
    grown ids})`; a vocabulary `vocabularies` lacks stays as it is."""
    grown, maps = {}, {}
    for name, vocab in own.items():
        values = vocab.to_list()
        known = vocabularies.get(name)
        if known is None:
            grown[name] = vocab
            maps[name] = np.arange(len(values), dtype="int32")
            continue
        index = {v: i for i, v in enumerate(known) if i > 0}
        added = [v for v in dict.fromkeys(values[1:]) if v not in index]
        index.update({v: len(known) + i for i, v in enumerate(added)})
        grown[name] = Vocabulary(name, [*known[1:], *added])
        maps[name] = np.array([0, *(index[v] for v in values[1:])], dtype="int32")
    return grown, maps


def _regrown(table, owner_map, value_map, size):
    """A side-feature table (row = owner id) moved to grown owner ids, its
    values to grown value ids; rows of owners this data lacks are padding."""
    out = np.zeros((size, *table.shape[1:]), dtype=table.dtype)
    out[owner_map] = value_map[table] if value_map is not None else table
    return out


def remap(name, raw):
    """Vocabulary of `raw` and the encoded ids, vectorized."""
    values, inverse = np.unique(np.asarray(raw), return_inverse=True)
    vocab = Vocabulary(name, [v.item() if hasattr(v, "item") else v for v in values])
    return vocab, (inverse.reshape(-1) + 1).astype("int32")


@dataclasses.dataclass
class InteractionDataset:
    """User-item interactions, ids remapped to `1..N` with 0 reserved.

    Made by `reczoo.datasets.load` (public data), `load_interactions` or
    `load_table` (your own files); `split` divides it under a protocol.

    Attributes:
        name: dataset name.
        users: int32 user ids, one per interaction, in file order.
        items: int32 item ids, one per interaction.
        ratings: float32 ratings, or None for implicit data.
        timestamps: int64 times, or None (file order is then the time order).
        vocabularies: `{"user": Vocabulary, "item": Vocabulary, ...}`: the
            raw id of every remapped id.
        user_features: side-feature table of the users, indexed by id (row
            0 is padding): `{name: array}`, 1-D int ids for categorical
            features and 2-D padded ids for multi-hot ones.
        item_features: the same for the items.
        titles: `{item id: title}` where the data names its items.
        sha256: a digest of the raw files it came from (and, for your own
            file, of how it was read): every cache of it is keyed by this.
        files: `{file: {"sha256", "lines"}}` of files no pinned checksum
            covers (your own, or a public file placed by hand), recorded
            with every result.
        fixed_split: `{"train", "valid", "test": row indices}` where the data
            come with their own split, else None.
        schema: the `Schema` it was read with (your own files), else None.
        notes: what was noticed while reading (columns that cannot help,
            keys missing from a side table).
        declared_features: whether its side features were named by you (a
            schema or side tables) rather than found in a public dataset.

    Example:
        ```python
        reczoo.datasets.write_examples()
        data = reczoo.datasets.load_interactions("ratings.csv", user="userId", item="movieId",
                                                 rating="rating", time="timestamp")
        print(data.num_users, data.num_items, data.num_interactions)
        raw_user = data.vocabularies["user"].values[data.users[0]]
        ```
    """

    name: str
    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray | None = None
    timestamps: np.ndarray | None = None
    vocabularies: dict = dataclasses.field(default_factory=dict)
    user_features: dict = dataclasses.field(default_factory=dict)
    item_features: dict = dataclasses.field(default_factory=dict)
    titles: dict = dataclasses.field(default_factory=dict)
    sha256: str = ""
    files: dict = dataclasses.field(default_factory=dict)
    # Your own data: split files, the schema read with, what was noticed,
    # and whether side features were declared (they are then used).
    fixed_split: dict | None = None
    schema: object = None
    notes: list = dataclasses.field(default_factory=list)
    declared_features: bool = False
    kind = "interactions"

    @property
    def num_users(self):
        return len(self.vocabularies["user"]) - 1

    @property
    def num_items(self):
        return len(self.vocabularies["item"]) - 1

    @property
    def num_interactions(self):
        return len(self.users)

    def statistics(self):
        return {
            "interactions": self.num_interactions,
            "users": self.num_users,
            "items": self.num_items,
            "density": round(self.num_interactions / max(1, self.num_users * self.num_items), 6),
        }

    def __repr__(self):
        stats = ", ".join(f"{k}={v}" for k, v in self.statistics().items())
        return f"InteractionDataset(name={self.name!r}, {stats})"

    def order(self):
        """Interaction indices sorted by user, then time, ties by file order."""
        time = self.timestamps if self.timestamps is not None else np.zeros_like(self.users)
        return np.lexsort((np.arange(len(self.users)), time, self.users))

    def histories(self):
        """Each user's time-ordered item ids: a list indexed by user id."""
        order = self.order()
        users, items = self.users[order], self.items[order]
        bounds = np.searchsorted(users, np.arange(self.num_users + 2))
        return [items[bounds[u] : bounds[u + 1]] for u in range(self.num_users + 1)]

    def feature_spec(self, embedding_dim=16, side_features=False, max_tags=None):
        """A spec with `user_id` and `item_id`, plus side features if asked."""
        features = [
            Categorical("user_id", self.num_users + 1, embedding_dim),
            Categorical("item_id", self.num_items + 1, embedding_dim),
        ]
        if side_features:
            for table, owner in ((self.user_features, "user"), (self.item_features, "item")):
                for name, values in table.items():
                    if values.dtype.kind == "f":
                        features.append(Numerical(name))
                        continue
                    size = len(self.vocabularies[f"{owner}.{name}"])
                    if values.ndim == 1:
                        features.append(Categorical(name, size, embedding_dim))
                    else:
                        features.append(MultiHot(name, size, embedding_dim, values.shape[1]))
        return FeatureSpec(features)

    def features_for(self, users, items, spec):
        """Model inputs for (user, item) pairs: ids plus looked-up side features."""
        users = np.asarray(users, dtype="int32")
        items = np.asarray(items, dtype="int32")
        out = {}
        for f in spec:
            if f.name == "user_id":
                out[f.name] = users
            elif f.name == "item_id":
                out[f.name] = items
            elif f.name in self.user_features:
                out[f.name] = _column(self.user_features[f.name][users])
            elif f.name in self.item_features:
                out[f.name] = _column(self.item_features[f.name][items])
            else:
                raise ValueError(f"Dataset {self.name!r} cannot provide feature {f.name!r}.")
        return out

    def training_pairs(self, negatives=4, seed=0, spec=None, pairwise=False):
        """Every interaction as a positive, with `negatives` sampled negatives each.

        Negatives are uniform items the user never interacted with here
        (`reczoo.datasets.sampling.training_negatives`), drawn from `seed`;
        draw new ones each epoch with another seed, as NCF does.

        Args:
            negatives: negatives per positive.
            seed: the sampling seed (an int, or a sequence such as
                `[seed, epoch]`).
            spec: the `FeatureSpec` whose features to give (side features
                are looked up); default `user_id` and `item_id`.
            pairwise: rows in pairs for BPR: each positive (repeated once
                per negative) directly followed by one of its negatives.

        Returns:
            `(features, labels)`: a dict of arrays and float32 0/1 labels,
            positives first (or, with `pairwise`, positive and negative
            alternating).
        """
        from reczoo.datasets.sampling import training_negatives

        rng = np.random.default_rng(seed)
        neg_users, neg_items = training_negatives(
            self.users, self.items, self.num_items, negatives, rng
        )
        if pairwise:
            pos_items = np.repeat(self.items, negatives)
            users = np.stack([neg_users, neg_users], axis=1).reshape(-1)
            items = np.stack([pos_items, neg_items], axis=1).reshape(-1)
            labels = np.tile([1.0, 0.0], len(neg_users))
            spec = spec or self.feature_spec()
            return self.features_for(users, items, spec), labels.astype("float32")
        users = np.concatenate([self.users, neg_users])
        items = np.concatenate([self.items, neg_items])
        labels = np.concatenate([np.ones(len(self.users)), np.zeros(len(neg_users))])
        spec = spec or self.feature_spec()
        return self.features_for(users, items, spec), labels.astype("float32")

    def sequences(self, max_length=50, history_feature="history"):
        """Next-item training inputs: each user's history and the item after
        each position.

        Returns `(inputs, targets)`: `{history_feature: (users, max_length)}`,
        each history but its last item, left-padded with 0, and the
        (users, max_length) next items (0 where there is none); users with
        fewer than two interactions are left out. Fits a `NextItem` model
        directly: `model.fit(inputs, targets)`.
        """
        from reczoo.datasets.pipelines import left_pad

        kept = [h for h in self.histories() if len(h) >= 2]
        inputs = left_pad([h[:-1] for h in kept], max_length)
        targets = left_pad([h[1:] for h in kept], max_length)
        return {history_feature: inputs}, targets

    def select(self, mask, name=None):
        """A dataset with the interactions where `mask` is true (ids unchanged)."""
        return dataclasses.replace(
            self,
            name=name or self.name,
            users=self.users[mask],
            items=self.items[mask],
            ratings=None if self.ratings is None else self.ratings[mask],
            timestamps=None if self.timestamps is None else self.timestamps[mask],
        )

    def restricted(self, mask, name=None):
        """The interactions where `mask` is true, as a dataset of only the
        users and items they hold (ids `1..n` anew, raw ids kept): what a
        shop's log of one period knows, where `select` keeps every id."""
        sub = self.select(mask, name)
        maps, vocabs, kept = {}, {}, {}
        for owner, ids in (("user", sub.users), ("item", sub.items)):
            present = np.unique(ids)
            old = self.vocabularies[owner]
            maps[owner] = np.zeros(len(old), dtype="int32")
            maps[owner][present] = np.arange(1, len(present) + 1, dtype="int32")
            vocabs[owner] = Vocabulary(owner, [old.values[i] for i in present])
            kept[owner] = np.concatenate([[0], present])
        return dataclasses.replace(
            sub,
            users=maps["user"][sub.users],
            items=maps["item"][sub.items],
            vocabularies={**self.vocabularies, **vocabs},
            user_features={k: v[kept["user"]] for k, v in self.user_features.items()},
            item_features={k: v[kept["item"]] for k, v in self.item_features.items()},
            titles={int(maps["item"][i]): t for i, t in self.titles.items() if maps["item"][i]},
        )

    def aligned(self, vocabularies):
        """This data with its ids following `vocabularies` (`{name: [raw
        values in id order]}`, a preset's): known raw ids keep the preset's
        ids, new users, items and feature values get ids after them.

        Fine-tuning reads it, so that a pretrained row serves the same user
        or item. Returns `(dataset, {name: (known size, grown size)})`.
        """
        grown, maps = grow(vocabularies, self.vocabularies)
        users, items = maps["user"][self.users], maps["item"][self.items]
        sides = {}
        for owner, tables in (("user", self.user_features), ("item", self.item_features)):
            size = len(grown[owner])
            sides[owner] = {
                name: _regrown(table, maps[owner], maps.get(f"{owner}.{name}"), size)
                for name, table in tables.items()
            }
        titles = {int(maps["item"][i]): t for i, t in self.titles.items()}
        data = dataclasses.replace(
            self, users=users, items=items, vocabularies=grown, titles=titles,
            user_features=sides["user"], item_features=sides["item"],
        )  # fmt: skip
        return data, _growth(vocabularies, grown)

    def with_title_tokens(self, max_length=8, min_count=2):
        """A copy whose items also have `title_tokens`: a bag of the title's
        lower-cased words (the trailing "(year)" dropped), words seen in at
        least `min_count` titles, the first `max_length` of each title.

        The candidate tower of two-tower retrieval reads it (as the TF
        Recommenders deep retrieval tutorial does), so that an item's vector
        owes something to its title, also for items never trained on.
        """
        if not self.titles or "title_tokens" in self.item_features:
            return self
        words = {
            item: re.findall(r"[a-z0-9]+", re.sub(r"\(\d{4}\)\s*$", "", title.lower()))
            for item, title in self.titles.items()
        }
        counts = collections.Counter(w for bag in words.values() for w in set(bag))
        bags = [[w for w in dict.fromkeys(words.get(i, [])) if counts[w] >= min_count]
                for i in range(1, self.num_items + 1)]  # fmt: skip
        ids = np.arange(1, self.num_items + 1)
        identity = Vocabulary("item", ids.tolist())
        table, vocab = side_bags(identity, ids, bags, "title_tokens", max_length=max_length)
        return dataclasses.replace(
            self,
            item_features={**self.item_features, "title_tokens": table},
            vocabularies={**self.vocabularies, "item.title_tokens": vocab},
        )

    def row_histories(self, max_length):
        """Each interaction's earlier items of its user (time order, ties in
        file order, as `histories`), the last `max_length`, left-padded with
        0: a (interactions, max_length) int32 array in the dataset's row
        order, the behaviour a ranker such as DIN reads with each row."""
        order = self.order()
        users, items = self.users[order], self.items[order]
        starts = np.searchsorted(users, users, side="left")
        out = _windows(items, starts, np.arange(len(order)), max_length)
        rows = np.empty_like(out)
        rows[order] = out
        return rows

    def from_end(self):
        """Each interaction's place in its user's time order counted from the
        latest (0; ties in file order, as `histories`), and its user's count
        of interactions: two int64 arrays in the dataset's row order."""
        order = self.order()
        users = self.users[order]
        starts = np.searchsorted(users, users, side="left")
        ends = np.searchsorted(users, users, side="right")
        places, counts = np.empty(len(order), "int64"), np.empty(len(order), "int64")
        places[order] = ends - 1 - np.arange(len(order))
        counts[order] = ends - starts
        return places, counts

    def recent_rows(self, share, weight):
        """Row indices where each user's latest `share` of interactions (at
        least one; time order, ties in file order, as `histories`) appear
        `weight` times and the others once, in row order: `select` them to
        count a user's recent behaviour more in training."""
        places, counts = self.from_end()
        # 1e-9: 0.2 x 15 is 3.0000000000000004 in floating point, and three are asked.
        recent = places < np.maximum(1, np.ceil(share * counts - 1e-9))
        return np.repeat(np.arange(len(places)), np.where(recent, weight, 1))

    def earlier_items(self, users, times, max_length):
        """Each (user, time)'s items of this dataset strictly before `time`,
        the last `max_length`, left-padded with 0: a watch history per row."""
        users = np.asarray(users, dtype="int64")
        times = np.asarray(times, dtype="int64")
        order = self.order()
        own_times = (
            self.timestamps[order] if self.timestamps is not None else np.zeros(len(order))
        ).astype("int64")
        # One sorted key per interaction, (user, time): a row's history ends
        # where its own key would be inserted.
        low = min(own_times.min(initial=0), times.min(initial=0))
        span = max(own_times.max(initial=0), times.max(initial=0)) - low + 1
        keys = self.users[order].astype("int64") * span + (own_times - low)
        ends = np.searchsorted(keys, users * span + (times - low), side="left")
        starts = np.searchsorted(keys, users * span, side="left")
        return _windows(self.items[order], starts, ends, max_length)

    def vocabulary_lists(self):
        return {k: v.to_list() for k, v in self.vocabularies.items()}


def _windows(items, starts, ends, max_length):
    """Rows of `items[starts[i]:ends[i]]`, the last `max_length` of each,
    left-padded with 0: (len(ends), max_length) int32."""
    out = np.zeros((len(ends), max_length), dtype="int32")
    for j in range(max_length):
        source = ends - max_length + j
        valid = source >= starts
        out[:, j] = np.where(valid, items[np.clip(source, 0, max(len(items) - 1, 0))], 0)
    return out


def _column(values):
    """A numerical side feature as a column, ids as they are."""
    return values.reshape(-1, 1) if values.dtype.kind == "f" and values.ndim == 1 else values


def _growth(known, grown):
    return {n: (len(known[n]), len(v)) for n, v in grown.items() if n in known}


@dataclasses.dataclass
class CTRDataset:
    """A labelled table of categorical and numerical columns (a click log).

    Made by `reczoo.datasets.load` (Criteo, Avazu, Frappe) or `load_table`
    with a `label` column; `feature_spec()` gives the features a ranker reads.

    Attributes:
        name: dataset name.
        labels: float32 0/1 labels.
        categorical: `{column: int32 ids}` (0 = missing or rare).
        numerical: `{column: float32 values}`.
        vocabularies: `{column: Vocabulary}` of every categorical column.
        user_column: the column that identifies users, when the data has one.
        item_column: the column that identifies items, when the data has one.
        sha256: a digest of the raw files it came from (and of how they were
            read): every cache of it is keyed by this.
        multi_hot: `{column: (rows, length) int32 ids}` of bag columns.
        sequences: `{column: (rows, length) int32 ids}` of ordered lists.
        tables: `{column: table}` where columns share an embedding table.
        fixed_split: `{"train", "valid", "test": row indices}` where the
            data come with their own split (protocol kind `fixed_split`, such
            as `bars_x1`), else None.
        files: `{file: {"sha256", "lines"}}` of files no pinned checksum
            covers, recorded with every result.
        timestamps: int64 times of the rows (a `temporal_split`), or None.
        embedding_dims: `{column or table: width}` set by a schema.
        pending: numerical columns whose transform is still to be fitted on
            the training rows (`fit_transforms`).
        transform_state: what those transforms fitted (it travels in presets).
        schema: the `Schema` it was read with, else None.
        notes: what was noticed while reading.

    Example:
        ```python
        reczoo.datasets.write_examples()
        data = reczoo.datasets.load_table(
            "shop_clicks.csv", label="clicked", categorical=["C1", "C2", "C3", "C4", "C5", "C6"],
            numerical=["I1", "I2", "I3"], multi={"tags": "|"}, drop=["id"],
        )
        print(len(data.labels), data.labels.mean(), data.feature_spec().names)
        ```
    """

    name: str
    labels: np.ndarray
    categorical: dict
    numerical: dict = dataclasses.field(default_factory=dict)
    vocabularies: dict = dataclasses.field(default_factory=dict)
    user_column: str | None = None
    item_column: str | None = None
    sha256: str = ""
    multi_hot: dict = dataclasses.field(default_factory=dict)
    sequences: dict = dataclasses.field(default_factory=dict)
    tables: dict = dataclasses.field(default_factory=dict)
    fixed_split: dict | None = None
    files: dict = dataclasses.field(default_factory=dict)
    # Your own data: times (a temporal split), per-column embedding widths,
    # numerical columns still to fit on training rows (`fit_transforms`) and
    # what was fitted, the schema read with, and what was noticed.
    timestamps: np.ndarray | None = None
    embedding_dims: dict = dataclasses.field(default_factory=dict)
    pending: dict = dataclasses.field(default_factory=dict)
    transform_state: dict = dataclasses.field(default_factory=dict)
    schema: object = None
    notes: list = dataclasses.field(default_factory=list)
    kind = "ctr"

    @property
    def num_interactions(self):
        return len(self.labels)

    @property
    def num_users(self):
        if self.user_column is None:
            return None
        return len(np.unique(self.categorical[self.user_column]))

    @property
    def num_items(self):
        if self.item_column is None:
            return None
        return len(np.unique(self.categorical[self.item_column]))

    def statistics(self):
        stats = {
            "rows": self.num_interactions,
            "positives": int(self.labels.sum()),
            "fields": len(self.features(slice(0, 0))),
        }
        if self.user_column:
            stats["users"] = self.num_users
        if self.item_column:
            stats["items"] = self.num_items
        return stats

    def __repr__(self):
        stats = ", ".join(f"{k}={v}" for k, v in self.statistics().items())
        return f"CTRDataset(name={self.name!r}, {stats})"

    def feature_spec(self, embedding_dim=16):
        """One feature per column; columns in `tables` share that table."""
        size = {c: len(v) for c, v in self.vocabularies.items()}
        # A column sharing a table has that table's size and width.
        shared = {c: self.tables.get(c, c) for c in (*self.categorical, *self.multi_hot,
                                                      *self.sequences)}  # fmt: skip
        size.update({c: size[t] for c, t in shared.items() if t in size and c not in size})
        dim = {c: self.embedding_dims.get(t, self.embedding_dims.get(c, embedding_dim))
               for c, t in shared.items()}  # fmt: skip
        features = [
            Categorical(c, size[c], dim[c], table=self.tables.get(c)) for c in self.categorical
        ]
        features += [
            MultiHot(c, size[c], dim[c], v.shape[1], table=self.tables.get(c))
            for c, v in self.multi_hot.items()
        ]
        features += [
            Sequence(c, size[c], dim[c], v.shape[1], table=self.tables.get(c))
            for c, v in self.sequences.items()
        ]
        features += [Numerical(c) for c in self.numerical]
        return FeatureSpec(features)

    def features(self, rows=None):
        rows = slice(None) if rows is None else rows
        out = {c: v[rows] for c, v in self.categorical.items()}
        out.update({c: v[rows] for c, v in self.multi_hot.items()})
        out.update({c: v[rows] for c, v in self.sequences.items()})
        out.update({c: v[rows].reshape(-1, 1) for c, v in self.numerical.items()})
        return out

    def vocabulary_lists(self):
        return {k: v.to_list() for k, v in self.vocabularies.items()}

    def aligned(self, vocabularies):
        """This table with each column's ids following `vocabularies` (a
        preset's), new values appended; see `InteractionDataset.aligned`."""
        grown, maps = grow(vocabularies, self.vocabularies)

        def moved(columns):
            return {c: maps[c][v] if c in maps else v for c, v in columns.items()}

        data = dataclasses.replace(
            self, vocabularies=grown, categorical=moved(self.categorical),
            multi_hot=moved(self.multi_hot), sequences=moved(self.sequences),
        )  # fmt: skip
        return data, _growth(vocabularies, grown)


def side_bags(owner_vocab, raw_ids, bags, name, max_length=None):
    """A multi-hot side table: each owner's bag of values, padded with 0."""
    flat = sorted({v for bag in bags for v in bag})
    vocab = Vocabulary(name, flat)
    width = max_length or max((len(b) for b in bags), default=1) or 1
    table = np.zeros((len(owner_vocab), width), dtype="int32")
    rows = owner_vocab.encode(raw_ids)
    for row, bag in zip(rows, bags, strict=True):
        ids = vocab.encode(list(bag)[:width]) if bag else []
        table[row, : len(ids)] = ids
    table[0] = 0
    return table, vocab
