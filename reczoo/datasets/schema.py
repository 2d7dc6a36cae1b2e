"""Schemas: what each column of your data is, and how to read the file.

A `Schema` is a `Table` of columns with roles (the log or the interactions)
and, optionally, an item table and a user table joined by a key. It comes
from the command line's flags (`Schema.from_options`) or a JSON file
(`Schema.load("schema.json")`), and `infer(path)` guesses one from a file's
content for you to edit:

```json
{
  "format": {"sep": ",", "header": true, "encoding": "utf-8"},
  "columns": {
    "Label": {"role": "label"},
    "C1": {"role": "categorical", "min_count": 2},
    "C2": {"role": "categorical", "hash_buckets": 100000, "embedding_dim": 8},
    "I1": {"role": "numerical", "transform": "bucketize", "bins": 10},
    "genres": {"role": "multi", "separator": "|"},
    "Id": {"role": "drop"}
  },
  "item_table": {"path": "movies.csv", "key": "movieId", "columns": {...}}
}
```

Without a header, columns are named by position: `"0"`, `"1"`, ...
"""

import dataclasses
import hashlib
import json
import re
from pathlib import Path

ROLES = {
    "label": "the 0/1 target of a click log",
    "categorical": "one id per row (a city, an ad id)",
    "numerical": "a number (empty: 0), with a transform",
    "multi": "a delimited bag of ids (Action|Comedy), pooled",
    "sequence": "an ordered delimited list of ids (a history), oldest first",
    "user": "the user id",
    "item": "the item id",
    "rating": "an explicit rating",
    "time": "a timestamp (integer, or an ISO date)",
    "drop": "left out",
}
TRANSFORMS = ("none", "log1p", "standardize", "bucketize")
ID_ROLES = ("categorical", "multi", "sequence")
# Roles that hold at most one column.
SINGLE = ("label", "user", "item", "rating", "time")
# What a side table's columns may be.
SIDE_ROLES = ("categorical", "multi", "numerical", "drop")


class SchemaError(ValueError):
    """A schema that cannot be read as written (names the place).

    A `ValueError`, raised before any data is read.

    Example:
        ```python
        try:
            reczoo.datasets.Schema.from_dict({"columns": [{"name": "x", "role": "colour"}]})
        except reczoo.datasets.SchemaError as error:
            print(error)  # the schema, column 'x': unknown role 'colour'; roles: ...
        ```
    """


@dataclasses.dataclass(frozen=True)
class Column:
    """One column and its role, with the options its role takes.

    Attributes:
        name: the header's name, or the position (`"3"`) without a header.
        role: one of `ROLES`.
        transform: numerical: `"none"`, `"log1p"` (log(1 + x), x < 0 as 0),
            `"standardize"` ((x - mean) / std) or `"bucketize"` (quantile
            bins, an id each); the last two are fitted on training rows only.
        bins: bucketize: the number of quantile bins.
        min_count: id columns: values seen fewer times share the
            out-of-vocabulary id 0.
        hash_buckets: id columns: hash values into this many buckets
            instead of a vocabulary (an open vocabulary: new values at
            serving time still get a row).
        embedding_dim: id columns: this column's embedding width (default:
            the model's).
        separator: multi and sequence: what separates the values.
        max_length: multi and sequence: values kept per row (sequences keep
            the last ones).
    """

    name: str
    role: str
    transform: str = "none"
    bins: int = 10
    min_count: int = 1
    hash_buckets: int | None = None
    embedding_dim: int | None = None
    separator: str | None = None
    max_length: int | None = None

    def __post_init__(self):
        where = f"column {self.name!r}"
        if self.role not in ROLES:
            raise SchemaError(f"{where}: unknown role {self.role!r}; roles: {', '.join(ROLES)}.")
        if self.transform not in TRANSFORMS:
            raise SchemaError(
                f"{where}: transform must be one of {', '.join(TRANSFORMS)}. "
                f"Received: {self.transform!r}"
            )
        given = {f.name for f in dataclasses.fields(self)
                 if getattr(self, f.name) != f.default and f.name not in ("name", "role")}  # fmt: skip
        allowed = {
            "numerical": {"transform", "bins"},
            "categorical": {"min_count", "hash_buckets", "embedding_dim"},
            "multi": {"min_count", "hash_buckets", "embedding_dim", "separator", "max_length"},
            "sequence": {"min_count", "embedding_dim", "separator", "max_length"},
        }.get(self.role, set())
        if given - allowed:
            raise SchemaError(
                f"{where} ({self.role}) takes no {', '.join(sorted(given - allowed))}; "
                f"a {self.role} column takes {', '.join(sorted(allowed)) or 'no options'}."
            )
        for key in ("bins", "min_count", "hash_buckets", "embedding_dim", "max_length"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                      or value < 1):  # fmt: skip
                raise SchemaError(f"{where}: {key} must be a positive integer. Received: {value!r}")
        if self.transform == "bucketize" and self.bins < 2:
            raise SchemaError(f"{where}: bucketize needs bins >= 2. Received: {self.bins}")
        if self.hash_buckets is not None and self.min_count != 1:
            raise SchemaError(f"{where}: give min_count or hash_buckets, not both.")
        if self.role in ("multi", "sequence") and not self.separator:
            raise SchemaError(f"{where}: a {self.role} column needs its separator (such as '|').")

    def to_dict(self):
        out = {"role": self.role}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name not in ("name", "role") and value != f.default:
                out[f.name] = value
        return out


@dataclasses.dataclass(frozen=True)
class Table:
    """A file's columns and how to read it.

    Attributes:
        columns: the `Column`s, in the file's order where known.
        sep: the separator (sniffed when None).
        header: whether the first line names the columns.
        encoding: the text encoding.
        path: a side table's file (relative to the schema file's folder when
            read from one); None for the main table (`--data_file`).
        key: a side table's key column (the item or user id).
    """

    columns: tuple = ()
    sep: str | None = None
    header: bool = True
    encoding: str = "utf-8"
    path: str | None = None
    key: str | None = None

    def named(self, role):
        """The names of the columns with `role`, in order."""
        return [c.name for c in self.columns if c.role == role]

    def one(self, role):
        """The column with `role` (a role held once), or None."""
        found = [c for c in self.columns if c.role == role]
        return found[0] if found else None

    def get(self, name):
        return next((c for c in self.columns if c.name == name), None)

    def with_format(self, sep, header, encoding):
        return dataclasses.replace(self, sep=sep, header=header, encoding=encoding)

    def to_dict(self):
        out = {}
        if self.path is not None:
            out["path"] = self.path
        if self.key is not None:
            out["key"] = self.key
        out["format"] = {"sep": self.sep, "header": self.header, "encoding": self.encoding}
        out["columns"] = {c.name: c.to_dict() for c in self.columns}
        return out


@dataclasses.dataclass(frozen=True)
class Schema:
    """The main table's columns and, optionally, item and user tables.

    With a `label` column the data is a click log (`CTRDataset`); without
    one it is interactions (`user` and `item` columns, `InteractionDataset`).
    `Schema.load(path)` reads a schema file, `Schema.from_dict` its content,
    and `to_dict` writes it back.

    Args:
        table: the main table (`Table`: its columns and how to read it).
        item_table: a table of item attributes joined on its key, or None.
        user_table: a table of user attributes joined on its key, or None.

    Raises:
        reczoo.datasets.SchemaError: roles that do not fit together (two
            labels, a side table without a key, ...), naming the place.

    Example:
        ```python
        reczoo.datasets.write_examples()
        schema = reczoo.datasets.Schema.from_dict(reczoo.datasets.infer("shop_clicks.csv"))
        data = reczoo.datasets.load_table("shop_clicks.csv", schema=schema)
        ```
    """

    table: Table
    item_table: Table | None = None
    user_table: Table | None = None

    def __post_init__(self):
        _check_table(self.table, "the data file")
        kinds = {role: self.table.named(role) for role in ROLES}
        if not kinds["label"]:
            missing = [r for r in ("user", "item") if not kinds[r]]
            if missing:
                raise SchemaError(
                    "A schema needs a label column (a click log) or user and item columns "
                    f"(interactions); it has no {' and no '.join(missing)} column."
                )
            seq = self.table.named("sequence")
            if seq:
                raise SchemaError(
                    f"Sequence columns {seq} belong to a click log (give a label column); "
                    "interactions make their histories from the user's items in time order."
                )
        elif not any(kinds[r] for r in (*ID_ROLES, "numerical", "user", "item")):
            raise SchemaError(
                "The click log has no feature columns: give categorical, numerical or multi ones."
            )
        for owner, side in (("item", self.item_table), ("user", self.user_table)):
            if side is None:
                continue
            if not kinds[owner]:
                raise SchemaError(
                    f"An {owner} table is joined on the {owner} column: the data file needs "
                    f"a column with role {owner!r}."
                )
            if side.path is None or side.key is None:
                raise SchemaError(f"The {owner} table needs its path and its key column.")
            _check_table(side, f"the {owner} table", side_table=True)

    @property
    def kind(self):
        return "ctr" if self.table.one("label") else "interactions"

    # --- the two ways to declare one ------------------------------------------

    @classmethod
    def from_options(
        cls, label=None, categorical=(), numerical=(), multi=None, drop=(), user=None,
        item=None, rating=None, time=None, min_count=1, numerical_transform="none",
        sep=None, header=True, encoding="utf-8", item_table=None, user_table=None,
    ):  # fmt: skip
        """A schema from `load_table`'s arguments and the command line's flags.

        `item_table` and `user_table` are dicts of `side_table`'s arguments.
        """
        columns = []
        if label is not None:
            columns.append(Column(str(label), "label"))
        for role, name in (("user", user), ("item", item), ("rating", rating), ("time", time)):
            if name is not None:
                columns.append(Column(str(name), role))
        columns += [Column(str(c), "categorical", min_count=min_count) for c in categorical]
        columns += [Column(str(c), "numerical", transform=numerical_transform) for c in numerical]
        columns += [Column(str(c), "multi", separator=s) for c, s in (multi or {}).items()]
        columns += [Column(str(c), "drop") for c in drop]
        table = Table(tuple(columns), sep=sep, header=header, encoding=encoding)
        sides = {}
        for owner, given in (("item", item_table), ("user", user_table)):
            if given:
                sides[owner] = side_table(**{"sep": sep, "header": header,
                                             "encoding": encoding, **given})  # fmt: skip
        return cls(table, sides.get("item"), sides.get("user"))

    @classmethod
    def from_dict(cls, config, where="the schema"):
        if not isinstance(config, dict):
            raise SchemaError(f"{where} must be a JSON object with 'columns'.")
        unknown = set(config) - {"format", "columns", "item_table", "user_table", "about"}
        if unknown:
            raise SchemaError(
                f"{where} has unknown keys {sorted(unknown)}; it takes format, columns, "
                "item_table and user_table."
            )
        table = _table(config, where)
        sides = {}
        for owner in ("item", "user"):
            if config.get(f"{owner}_table") is not None:
                sides[owner] = _table(config[f"{owner}_table"], f"{where}: {owner}_table", True)
        return cls(table, sides.get("item"), sides.get("user"))

    @classmethod
    def load(cls, path):
        """Reads a schema file (JSON); side tables' paths are taken relative
        to the schema file's folder."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SchemaError(f"No such schema file: {path}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise SchemaError(f"Cannot read the schema file {path}: {e}") from None
        try:
            config = json.loads(text)
        except json.JSONDecodeError as e:
            raise SchemaError(
                f"{path}, line {e.lineno}: not valid JSON ({e.msg}, column {e.colno})."
            ) from None
        schema = cls.from_dict(config, where=str(path))
        return schema.relative_to(path.parent)

    def relative_to(self, folder):
        """Side tables' relative paths taken from `folder`."""
        sides = {}
        for owner in ("item_table", "user_table"):
            side = getattr(self, owner)
            if side is not None and not Path(side.path).is_absolute():
                side = dataclasses.replace(side, path=str(Path(folder) / side.path))
            sides[owner] = side
        return dataclasses.replace(self, **sides)

    def to_dict(self):
        out = self.table.to_dict()
        for owner in ("item_table", "user_table"):
            if getattr(self, owner) is not None:
                out[owner] = getattr(self, owner).to_dict()
        return out

    def dumps(self):
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def save(self, path):
        Path(path).write_text(self.dumps(), encoding="utf-8")

    @property
    def sha256(self):
        """A digest of what the schema says (not of how it is spelled)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()


def side_table(path, key, categorical=(), numerical=(), multi=None, drop=(), sep=None,
               header=True, encoding="utf-8", min_count=1, numerical_transform="none"):  # fmt: skip
    """An item or user table: `key` joins it to the data file's item (or
    user) column; the other columns are its features (every column of a
    file with a header needs a role, or `drop`)."""
    columns = [Column(str(c), "categorical", min_count=min_count) for c in categorical]
    columns += [Column(str(c), "numerical", transform=numerical_transform) for c in numerical]
    columns += [Column(str(c), "multi", separator=s) for c, s in (multi or {}).items()]
    columns += [Column(str(c), "drop") for c in drop]
    return Table(tuple(columns), sep=sep, header=header, encoding=encoding, path=str(path),
                 key=str(key))  # fmt: skip


def column_list(text):
    """`"C1-C26,I3,tag"` to `["C1", ..., "C26", "I3", "tag"]`: a range is a
    prefix with two numbers (`C1-C26`, or positions `5-23`); any other item
    is one column."""
    out = []
    for part in [p.strip() for p in (text or "").split(",") if p.strip()]:
        found = re.fullmatch(r"([^\d,-]*)(\d+)-\1?(\d+)", part)
        if found and int(found[2]) <= int(found[3]):
            prefix, first, last = found[1], int(found[2]), int(found[3])
            out += [f"{prefix}{k}" for k in range(first, last + 1)]
        else:
            out.append(part)
    return out


def multi_list(text, flag="--multi_cols"):
    """`"genres:|,tags:;"` to `{"genres": "|", "tags": ";"}`."""
    out = {}
    for part in [p for p in (text or "").split(",") if p.strip()]:
        column, colon, separator = part.rpartition(":")
        if not colon or not column or not separator:
            raise SchemaError(f"{flag} takes COLUMN:SEPARATOR items such as genres:|. "
                              f"Received: {part!r}")  # fmt: skip
        out[column] = separator
    return out


def _check_table(table, where, side_table=False):
    seen = set()
    for column in table.columns:
        if column.name in seen:
            roles = [c.role for c in table.columns if c.name == column.name]
            raise SchemaError(f"Column {column.name!r} of {where} is given two roles: "
                              f"{roles[0]} and {roles[1]}.")  # fmt: skip
        seen.add(column.name)
    if side_table:
        bad = [c.name for c in table.columns if c.role not in SIDE_ROLES]
        if bad:
            raise SchemaError(f"Columns {bad} of {where}: a side table's columns are "
                              f"{', '.join(SIDE_ROLES)} (and its key).")  # fmt: skip
        if table.key in seen:
            raise SchemaError(f"{where}: the key {table.key!r} is also given a role.")
        return
    for role in SINGLE:
        named = table.named(role)
        if len(named) > 1:
            raise SchemaError(f"{where} has {len(named)} {role} columns {named}; give one.")


def _table(config, where, side=False):
    if not isinstance(config, dict):
        raise SchemaError(f"{where} must be a JSON object.")
    allowed = {"format", "columns"} | ({"path", "key"} if side else set())
    if side:
        unknown = set(config) - allowed
        if unknown:
            raise SchemaError(f"{where} has unknown keys {sorted(unknown)}; it takes "
                              f"{', '.join(sorted(allowed))}.")  # fmt: skip
    form = config.get("format") or {}
    unknown = set(form) - {"sep", "header", "encoding"}
    if unknown:
        raise SchemaError(f"{where}: format takes sep, header and encoding; "
                          f"unknown: {sorted(unknown)}.")  # fmt: skip
    columns = config.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise SchemaError(f"{where} needs 'columns': an object of column name to its role.")
    built = []
    for name, options in columns.items():
        if isinstance(options, str):
            options = {"role": options}
        if not isinstance(options, dict) or "role" not in options:
            raise SchemaError(f"{where}: column {name!r} needs a role, such as "
                              '{"role": "categorical"}.')  # fmt: skip
        # `about`: what `infer` saw, for the reader; not an option.
        options = {k: v for k, v in options.items() if k != "about"}
        fields = {f.name for f in dataclasses.fields(Column)} - {"name"}
        unknown = set(options) - fields
        if unknown:
            raise SchemaError(f"{where}: column {name!r} has unknown options {sorted(unknown)}; "
                              f"options: {', '.join(sorted(fields))}.")  # fmt: skip
        built.append(Column(str(name), **options))
    header = form.get("header", True)
    if not isinstance(header, bool):
        raise SchemaError(f"{where}: format.header must be true or false. Received: {header!r}")
    return Table(
        tuple(built), sep=form.get("sep"), header=header,
        encoding=form.get("encoding") or "utf-8",
        path=config.get("path") if side else None,
        key=None if config.get("key") is None else str(config["key"]),
    )  # fmt: skip


def position(name, header):
    """A column's place for the reader: its name, or an int position when
    the file has no header."""
    if not header and isinstance(name, str) and name.isdigit():
        return int(name)
    return name


# Names that say what a column is, for `infer` (lower-cased, "_" and "-" removed).
_LABELS = ("label", "click", "clicked", "target", "y", "isclick", "converted")
_USERS = ("user", "userid", "uid", "customerid", "visitorid")
_ITEMS = ("item", "itemid", "iid", "movieid", "productid", "sku", "asin", "articleid")
_TIMES = ("time", "timestamp", "ts", "date", "datetime", "eventtime")
_RATINGS = ("rating", "score", "stars")
_BAG_SEPARATORS = ("|", ";", "^")


def infer(path, sep=None, header=True, encoding="utf-8", max_rows=200_000):
    """A schema guessed from a file's content, for you to read and edit.

    Numbers become numerical columns (log1p when they look like counts),
    text becomes categorical, delimited text (`a|b`) a multi column; a 0/1
    column named like a label (label, click, target, ...) or the first
    column's 0/1 values the label; id, time and rating columns by their
    names. Each column's `about` says what was seen (distinct values, the
    share of empty ones, an example), and why a column was dropped.

    Args:
        path: the file (CSV, TSV or parquet), a folder or a glob of parts.
        sep: the separator; sniffed when None.
        header: whether the first line names the columns.
        encoding: the text encoding.
        max_rows: read at most this many rows to decide.

    Returns:
        A dict in the schema file's layout (`Schema.from_dict` reads it).

    Example:
        ```python
        import json
        reczoo.datasets.write_examples()
        guessed = reczoo.datasets.infer("shop_clicks.csv")
        print(json.dumps(guessed, indent=1)[:400])
        ```
    """
    from reczoo.datasets.tables import read_columns

    names, columns, sep, _ = read_columns(path, sep=sep, header=header, encoding=encoding)
    rows = len(columns[0])
    found = {}
    label_at = None
    keyed = {n: re.sub(r"[_\-\s]", "", n.lower()) for n in names}
    for at, (name, values) in enumerate(zip(names, columns, strict=True)):
        sample = values[:max_rows]
        found[name] = _guess(name, keyed[name], sample)
        if found[name]["role"] == "label" and label_at is None:
            label_at = at
        elif found[name]["role"] == "label":
            found[name]["role"] = "categorical"
    if label_at is None and names and _binary(columns[0][:max_rows]) and header is not False:
        first = names[0]
        found[first] = {"role": "label", "about": found[first]["about"]}
    for role in ("user", "item", "rating", "time"):
        # A role held once: later candidates stay features.
        holders = [n for n in names if found[n]["role"] == role]
        for name in holders[1:]:
            found[name]["role"] = "categorical"
    config = {"format": {"sep": sep, "header": header, "encoding": encoding},
              "columns": found}  # fmt: skip
    config["about"] = f"inferred from {rows:,} rows of {Path(path).name}" + (
        f" (the first {max_rows:,} read for the guesses)" if rows > max_rows else ""
    )
    return config


def _guess(name, key, values):
    filled = [v for v in values if v.strip()]
    missing = 1 - len(filled) / max(1, len(values))
    distinct = len(set(filled))
    example = filled[0] if filled else ""
    about = f"{distinct:,} distinct, {missing:.1%} empty, e.g. {example[:30]!r}"
    numbers = _as_numbers(filled)
    if key in _TIMES:
        return {"role": "time", "about": about}
    if numbers is not None:
        if key in _LABELS and _binary(values):
            return {"role": "label", "about": about}
        if key in _USERS or key.endswith(("userid", "uid")):
            return {"role": "user", "about": about}
        if key in _ITEMS or key.endswith(("itemid", "movieid", "productid")):
            return {"role": "item", "about": about}
        if key in _RATINGS:
            return {"role": "rating", "about": about}
        if distinct == len(values) and len(values) >= 100 and float(max(numbers)).is_integer():
            return {"role": "drop", "about": about + "; a distinct value on every row (a row "
                    "id?): nothing to learn"}  # fmt: skip
        if key.endswith("id"):
            return {"role": "categorical", "about": about + "; an id by its name"}
        if distinct <= 1:
            return {"role": "drop", "about": about + "; one value on every row"}
        counts = all(float(v).is_integer() for v in filled[:10_000]) and min(numbers) >= 0
        if counts and max(numbers) > 100:
            return {"role": "numerical", "transform": "log1p",
                    "about": about + "; counts: log1p"}  # fmt: skip
        return {"role": "numerical", "about": about}
    if key in _USERS or key.endswith(("userid", "uid")):
        return {"role": "user", "about": about}
    if key in _ITEMS or key.endswith(("itemid", "movieid", "productid")):
        return {"role": "item", "about": about}
    for separator in _BAG_SEPARATORS:
        bagged = sum(separator in v for v in filled)
        if filled and bagged >= 0.1 * len(filled):
            tokens = {t for v in filled for t in v.split(separator) if t}
            return {"role": "multi", "separator": separator,
                    "about": about + f"; {len(tokens):,} distinct values in the bags"}  # fmt: skip
    if not filled:
        return {"role": "drop", "about": about + "; empty on every row"}
    if distinct <= 1:
        return {"role": "drop", "about": about + "; one value on every row"}
    if distinct == len(values) and len(values) >= 100:
        return {"role": "drop", "about": about + "; a distinct value on every row (an id?): "
                "nothing to learn; hash it (hash_buckets) or keep it dropped"}  # fmt: skip
    return {"role": "categorical", "about": about}


def _as_numbers(values):
    out = []
    for value in values[:50_000]:
        try:
            number = float(value)
        except ValueError:
            return None
        if number != number or number in (float("inf"), float("-inf")):
            return None
        out.append(number)
    return out or None


def _binary(values):
    filled = {v.strip() for v in values if v.strip()}
    return bool(filled) and filled <= {"0", "1", "0.0", "1.0"}
