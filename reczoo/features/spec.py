"""Feature definitions and the `FeatureSpec` that groups them.

A feature definition says what one model input looks like and how it is
embedded. Definitions are frozen and serializable: they travel inside every
model config and every preset. Id 0 is reserved in every id-valued feature:
it is padding in sequences and bags, and the out-of-vocabulary id everywhere.
"""

import dataclasses
import json
from collections.abc import Iterable, Mapping

import numpy as np

_COMBINERS = ("mean", "sum", "sqrtn", "max")
_HASH_DTYPES = ("string", "int64")


def _check_positive_int(feature, field, value):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(
            f"`{field}` of feature '{feature}' must be a positive integer. "
            f"Received: {field}={value!r}"
        )


def _check_name(value, what="name"):
    if not isinstance(value, str) or not value:
        raise ValueError(f"A feature {what} must be a non-empty string. Received: {value!r}")


@dataclasses.dataclass(frozen=True)
class Feature:
    """Base class of all feature definitions."""

    name: str

    kind = "feature"

    def __post_init__(self):
        _check_name(self.name)

    def get_config(self):
        config = dataclasses.asdict(self)
        config["kind"] = self.kind
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        kind = config.pop("kind", cls.kind)
        target = _KINDS.get(kind)
        if target is None:
            raise ValueError(f"Unknown feature kind {kind!r}; expected one of {sorted(_KINDS)}.")
        if cls is not Feature and target is not cls:
            raise ValueError(f"Config of kind {kind!r} cannot build a {cls.__name__}.")
        return target(**config)


@dataclasses.dataclass(frozen=True)
class _IdFeature(Feature):
    """A feature holding integer ids looked up in an embedding table."""

    vocabulary_size: int | None = None
    embedding_dim: int = 16
    table: str | None = dataclasses.field(default=None, kw_only=True)

    def __post_init__(self):
        super().__post_init__()
        _check_positive_int(self.name, "embedding_dim", self.embedding_dim)
        if self.table is not None:
            _check_name(self.table, "table name")

    @property
    def table_name(self):
        """The embedding table this feature reads: `table`, else its own name."""
        return self.table or self.name

    @property
    def input_vocabulary_size(self):
        """Rows of the embedding table, padding/OOV row 0 included."""
        return self.vocabulary_size


@dataclasses.dataclass(frozen=True)
class Categorical(_IdFeature):
    """One id per example, such as a user id or a city.

    Args:
        name: input name.
        vocabulary_size: number of rows of the embedding table, row 0 (padding
            and out-of-vocabulary) included, so known ids are
            `1..vocabulary_size - 1`. Leave it `None` and give `hash_bins`
            for an open vocabulary.
        embedding_dim: width of the embedding.
        table: name of a table shared with other features; defaults to `name`.
        hash_bins: hash raw values (strings, or int64 of any range) into this
            many buckets instead of reading ids; bucket 0 stays reserved for
            the empty string (or `0`), so the table has `hash_bins + 1` rows.
        dtype: input dtype when hashing: `"string"` or `"int64"`.

    Example:
        ```python
        user = reczoo.Categorical("user_id", vocabulary_size=944, embedding_dim=32)
        city = reczoo.Categorical("city", embedding_dim=8, hash_bins=1000)
        ```
    """

    hash_bins: int | None = dataclasses.field(default=None, kw_only=True)
    dtype: str = dataclasses.field(default="int64", kw_only=True)

    kind = "categorical"

    def __post_init__(self):
        super().__post_init__()
        if self.hash_bins is None:
            if self.vocabulary_size is None:
                raise ValueError(
                    f"Categorical feature '{self.name}' needs `vocabulary_size` "
                    "or `hash_bins`. Received neither."
                )
            _check_positive_int(self.name, "vocabulary_size", self.vocabulary_size)
            if self.dtype != "int64":
                raise ValueError(
                    f"Categorical feature '{self.name}' without `hash_bins` reads "
                    f"integer ids, so its dtype must be 'int64'. Received: "
                    f"dtype={self.dtype!r}"
                )
        else:
            if self.vocabulary_size is not None:
                raise ValueError(
                    f"Categorical feature '{self.name}' takes `vocabulary_size` or "
                    f"`hash_bins`, not both. Received: vocabulary_size="
                    f"{self.vocabulary_size}, hash_bins={self.hash_bins}"
                )
            _check_positive_int(self.name, "hash_bins", self.hash_bins)
            if self.dtype not in _HASH_DTYPES:
                raise ValueError(
                    f"`dtype` of hashed feature '{self.name}' must be one of "
                    f"{_HASH_DTYPES}. Received: dtype={self.dtype!r}"
                )

    @property
    def input_vocabulary_size(self):
        if self.hash_bins is not None:
            return self.hash_bins + 1
        return self.vocabulary_size

    @property
    def shape(self):
        return ()


@dataclasses.dataclass(frozen=True)
class MultiHot(_IdFeature):
    """A bag of ids per example (genres, tags), padded with 0 to `max_length`.

    The bag's embeddings are pooled by `combiner`: `"mean"`, `"sum"`,
    `"sqrtn"` (sum divided by the square root of the bag size) or `"max"`.
    Padding never contributes; an empty bag embeds to zeros.

    Args:
        name: input name.
        vocabulary_size: rows of the embedding table, row 0 (padding) included.
        embedding_dim: width of the embedding.
        max_length: the most ids in a bag.
        combiner: `"mean"`, `"sum"`, `"sqrtn"` or `"max"`.
        table: name of a table shared with other features; defaults to `name`.

    Raises:
        ValueError: a `vocabulary_size` or `max_length` that is not a
            positive integer, or an unknown `combiner`.

    Example:
        ```python
        genres = reczoo.MultiHot("genres", vocabulary_size=20, embedding_dim=8, max_length=3)
        spec = reczoo.FeatureSpec([genres])
        embedded = reczoo.FeatureEmbedding(spec)({"genres": np.array([[4, 7, 0]])})
        embedded["genres"].shape  # (1, 8): the mean of rows 4 and 7
        ```
    """

    max_length: int = 1
    combiner: str = "mean"

    kind = "multi_hot"

    def __post_init__(self):
        super().__post_init__()
        _check_positive_int(self.name, "vocabulary_size", self.vocabulary_size)
        _check_positive_int(self.name, "max_length", self.max_length)
        if self.combiner not in _COMBINERS:
            raise ValueError(
                f"`combiner` of feature '{self.name}' must be one of {_COMBINERS}. "
                f"Received: combiner={self.combiner!r}"
            )

    @property
    def shape(self):
        return (self.max_length,)


@dataclasses.dataclass(frozen=True)
class Sequence(_IdFeature):
    """An ordered list of ids per example (a user's history), left- or
    right-padded with 0 to `max_length`. Embedded position by position with a
    padding mask.

    Args:
        name: input name.
        vocabulary_size: rows of the embedding table, row 0 (padding) included.
        embedding_dim: width of the embedding.
        max_length: the longest sequence.
        table: name of a table shared with other features (a history shares
            the item table with the item id: `table="item"`); defaults to
            `name`.

    Raises:
        ValueError: a `vocabulary_size` or `max_length` that is not a
            positive integer.

    Example:
        ```python
        history = reczoo.Sequence("history", vocabulary_size=1683, embedding_dim=32,
                                  max_length=50, table="item")
        item = reczoo.Categorical("item_id", vocabulary_size=1683, embedding_dim=32, table="item")
        spec = reczoo.FeatureSpec([history, item])  # one item table, two features
        ```
    """

    max_length: int = 1

    kind = "sequence"

    def __post_init__(self):
        super().__post_init__()
        _check_positive_int(self.name, "vocabulary_size", self.vocabulary_size)
        _check_positive_int(self.name, "max_length", self.max_length)

    @property
    def shape(self):
        return (self.max_length,)


@dataclasses.dataclass(frozen=True)
class Numerical(Feature):
    """Dense float values, `dim` per example (age, price, a pretrained vector).

    Args:
        name: input name.
        dim: values per example.

    Raises:
        ValueError: a `dim` that is not a positive integer.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=8),
            reczoo.Numerical("price"),
        ])
        model = reczoo.get_model("deepfm", feature_spec=spec, hidden_units=[16])
        model.predict({"item": np.array([[3]]), "price": np.array([[9.5]])}, verbose=0)
        ```
    """

    dim: int = 1

    kind = "numerical"

    def __post_init__(self):
        super().__post_init__()
        _check_positive_int(self.name, "dim", self.dim)

    @property
    def shape(self):
        return (self.dim,)


_KINDS = {cls.kind: cls for cls in (Categorical, MultiHot, Sequence, Numerical)}


def _is_whole(values):
    try:
        real = values.astype("float64")
    except (TypeError, ValueError):
        return np.zeros(values.shape, dtype=bool)
    return np.isfinite(real) & (real == np.round(real))


def _first_bad(value, good):
    """(row, value) of the first entry where `good` is false."""
    try:
        ok = good(value)
    except (TypeError, ValueError):
        ok = np.zeros(value.shape, dtype=bool)
    rows = np.argwhere(~ok.reshape(len(value), -1).all(axis=1))
    row = int(rows[0, 0]) if len(rows) else 0
    return row, value[row].tolist()


@dataclasses.dataclass(frozen=True)
class Table:
    """One embedding table as the features sharing it agree on it."""

    name: str
    vocabulary_size: int
    embedding_dim: int
    features: tuple


class FeatureSpec:
    """An ordered, validated collection of feature definitions.

    Features that name the same `table` share one embedding table, so they
    must agree on its size and width.

    Args:
        features: feature definitions, or their configs (dicts with a `kind`).

    Raises:
        TypeError: `features` is not a list of feature definitions.
        ValueError: no features, or two with one name.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=944, embedding_dim=16),
            reczoo.Categorical("item_id", 1683, 16, table="item"),
            reczoo.Sequence("history", 1683, 16, max_length=50, table="item"),
        ])
        ```
    """

    def __init__(self, features):
        if isinstance(features, FeatureSpec):
            features = features.features
        if isinstance(features, Feature | Mapping) or not isinstance(features, Iterable):
            raise TypeError(
                f"FeatureSpec takes a list of features. Received: {type(features).__name__}"
            )
        parsed = []
        for feature in features:
            if isinstance(feature, Mapping):
                feature = Feature.from_config(feature)
            if not isinstance(feature, Feature):
                raise TypeError(
                    "FeatureSpec items must be feature definitions "
                    "(Categorical, MultiHot, Sequence, Numerical). "
                    f"Received: {feature!r}"
                )
            parsed.append(feature)
        if not parsed:
            raise ValueError("A FeatureSpec needs at least one feature. Received none.")
        names = [f.name for f in parsed]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"Feature names must be unique. Received duplicates: {duplicates}")
        self._features = tuple(parsed)
        self._by_name = {f.name: f for f in parsed}
        self._tables = self._resolve_tables()

    def _resolve_tables(self):
        tables = {}
        for feature in self._features:
            if not isinstance(feature, _IdFeature):
                continue
            key = feature.table_name
            size, dim = feature.input_vocabulary_size, feature.embedding_dim
            if key not in tables:
                tables[key] = Table(key, size, dim, (feature.name,))
                continue
            table = tables[key]
            first = table.features[0]
            if table.vocabulary_size != size:
                raise ValueError(
                    f"Features sharing a table must agree on its vocabulary size. "
                    f"Received: table='{key}' with vocabulary_size={table.vocabulary_size} "
                    f"('{first}') and {size} ('{feature.name}')"
                )
            if table.embedding_dim != dim:
                raise ValueError(
                    f"Features sharing a table must agree on its embedding_dim. "
                    f"Received: table='{key}' with embedding_dim={table.embedding_dim} "
                    f"('{first}') and {dim} ('{feature.name}')"
                )
            tables[key] = dataclasses.replace(table, features=(*table.features, feature.name))
        return tables

    @property
    def features(self):
        return self._features

    @property
    def names(self):
        return [f.name for f in self._features]

    @property
    def tables(self):
        """Embedding tables by name, in order of first use."""
        return dict(self._tables)

    def __iter__(self):
        return iter(self._features)

    def __len__(self):
        return len(self._features)

    def __contains__(self, name):
        return name in self._by_name

    def __getitem__(self, name):
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(
                f"No feature named {name!r} in this spec. Features: {self.names}"
            ) from None

    def get(self, name, default=None):
        """The feature named `name`, or `default`."""
        return self._by_name.get(name, default)

    def __eq__(self, other):
        return isinstance(other, FeatureSpec) and self._features == other._features

    def __hash__(self):
        return hash(self._features)

    def __repr__(self):
        inner = ",\n    ".join(repr(f) for f in self._features)
        return f"FeatureSpec([\n    {inner},\n])"

    def select(self, kinds=None, names=None):
        """The features of the given kinds (classes) and/or names, in order."""
        out = []
        for feature in self._features:
            if kinds is not None and not isinstance(feature, tuple(kinds)):
                continue
            if names is not None and feature.name not in names:
                continue
            out.append(feature)
        return out

    def subset(self, names):
        """A new spec with only the named features, in the given order."""
        return FeatureSpec([self[n] for n in names])

    def get_config(self):
        return {"features": [f.get_config() for f in self._features]}

    @classmethod
    def from_config(cls, config):
        return cls(config["features"])

    def to_json(self):
        return json.dumps(self.get_config(), indent=2)

    @classmethod
    def from_json(cls, text):
        return cls.from_config(json.loads(text))

    def keras_inputs(self):
        """A dict of `keras.Input`, one per feature, for a functional model."""
        import keras

        inputs = {}
        for f in self._features:
            if isinstance(f, Numerical):
                dtype = "float32"
            elif isinstance(f, Categorical) and f.hash_bins is not None:
                dtype = f.dtype
            else:
                dtype = "int32"
            # Sequences take any length, so batches can be padded to their own
            # longest history; models read positions from the right.
            shape = (None,) if isinstance(f, Sequence) else f.shape
            inputs[f.name] = keras.Input(shape=shape, dtype=dtype, name=f.name)
        return inputs

    def check_inputs(self, inputs, where="inputs"):
        """Validates a dict of arrays against the spec; returns them ready for a model.

        Raises `ValueError` naming the feature and the bad value when a feature
        is missing, the batch is empty, features differ in length, a feature
        has the wrong trailing shape, an id is not a whole number or lies
        outside its vocabulary, or a numerical value is NaN or infinite.
        Returns the inputs restricted to the spec's features, with (n, 1)
        columns of one-value features as (n,) and whole-number float ids as
        integers.
        """
        if not isinstance(inputs, Mapping):
            raise TypeError(f"{where} must be a dict of arrays. Received: {type(inputs).__name__}")
        missing = [n for n in self.names if n not in inputs]
        if missing:
            raise ValueError(f"{where} lack features {missing}. Received keys: {sorted(inputs)}")
        values = {f.name: np.asarray(inputs[f.name]) for f in self._features}
        lengths = {n: (len(v) if v.ndim else None) for n, v in values.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"The features of {where} differ in length. Received: {lengths}")
        if next(iter(lengths.values())) == 0:
            raise ValueError(f"{where} hold no rows: every feature is empty.")
        return {f.name: self._check_feature(f, values[f.name]) for f in self._features}

    def _check_feature(self, f, value):
        if isinstance(f, Numerical) and f.dim == 1 and value.ndim == 1:
            value = value.reshape(-1, 1)
        column = f.shape == () and value.shape[1:] == (1,)
        shorter = isinstance(f, Sequence) and value.ndim == 2 and value.shape[1] <= f.max_length
        if value.ndim == 0 or (tuple(value.shape[1:]) != f.shape and not column and not shorter):
            raise ValueError(
                f"Feature '{f.name}' expects arrays of shape {(None, *f.shape)}, "
                f"None standing for the batch. Received: shape={value.shape}"
            )
        if column:
            value = value.reshape(-1)
        if isinstance(f, Numerical):
            if not np.issubdtype(value.dtype, np.number) or not np.isfinite(value).all():
                bad = _first_bad(value, lambda v: np.isfinite(v.astype("float64")))
                raise ValueError(
                    f"Feature '{f.name}' holds a value that is not a finite number at row "
                    f"{bad[0]}: {bad[1]!r}. Fill or drop missing values first."
                )
            return value
        if isinstance(f, Categorical) and f.hash_bins is not None:
            return value
        if not np.issubdtype(value.dtype, np.integer):
            whole = np.issubdtype(value.dtype, np.floating) and bool(
                np.isfinite(value).all() and (value == np.round(value)).all()
            )
            if not whole:
                bad = _first_bad(value, _is_whole)
                raise ValueError(
                    f"Feature '{f.name}' holds integer ids. Received a value that is not one "
                    f"at row {bad[0]}: {bad[1]!r} (dtype={value.dtype})."
                )
            value = value.astype("int64")
        if value.size:
            low, high = int(value.min()), int(value.max())
            if low < 0 or high >= f.vocabulary_size:
                bad = low if low < 0 else high
                raise ValueError(
                    f"Feature '{f.name}' has an id outside its vocabulary: "
                    f"{bad} not in [0, {f.vocabulary_size}). Map unknown values "
                    "to 0 (out-of-vocabulary) or enlarge vocabulary_size."
                )
        return value

    def dummy_inputs(self, batch_size=2, seed=0):
        """Random valid inputs for every feature, for tests and tracing."""
        rng = np.random.default_rng(seed)
        out = {}
        for f in self._features:
            shape = (batch_size, *f.shape)
            if isinstance(f, Numerical):
                out[f.name] = rng.normal(size=shape).astype("float32")
            elif isinstance(f, Categorical) and f.hash_bins is not None:
                raw = rng.integers(1, 10_000, size=shape)
                out[f.name] = raw.astype(str).astype(object) if f.dtype == "string" else raw
            else:
                out[f.name] = rng.integers(0, f.vocabulary_size, size=shape).astype("int32")
        return out
