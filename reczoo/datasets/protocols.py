"""Evaluation protocols and the splits they produce.

A protocol is a named, frozen description recorded with every result. Its
split is a pure function of the dataset, the protocol and the seed:
evaluation negatives are drawn once from the seed, saved with the split, and
never redrawn per epoch.
"""

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np

from reczoo.datasets.pipelines import left_pad
from reczoo.datasets.sampling import evaluation_negatives
from reczoo.datasets.sources import DatasetError, cache_dir
from reczoo.provenance import write_atomically

_KINDS = ("loo_sampled", "loo_full", "random_split", "temporal_split", "user_split",
          "fixed_split")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Protocol:
    """How a dataset is split and evaluated.

    Args:
        name: the protocol's name.
        kind: `"loo_sampled"` (leave-last-out, ranked against sampled
            negatives), `"loo_full"` (leave-last-out, ranked against every
            item, history masked), `"random_split"` (seeded row split) or
            `"temporal_split"` (global time cuts at the ratios' quantiles),
            `"user_split"` (each user's rows in one part, users drawn at the
            ratios: test users are new to the model) or `"fixed_split"` (the
            rows a dataset publishes as its split, or your split files).
        num_negatives: negatives per evaluated user (`loo_sampled`).
        sampling: `"uniform"` or `"popularity"` (by training count).
        ratios: train/validation/test fractions (`random_split`,
            `temporal_split`).
        seed: a fixed split seed that overrides the run's seed (as in the
            TFRS tutorial's `seed=42`); None to use the run's seed.
        min_interactions: users with fewer interactions keep them all in
            training and are not evaluated (leave-last-out), as in SASRec.
        eval_users: evaluate a seeded sample of this many users (SASRec's
            code used 10,000); None for every user.
    """

    name: str
    kind: str
    num_negatives: int = 0
    sampling: str = "uniform"
    ratios: tuple = (0.8, 0.1, 0.1)
    seed: int | None = None
    min_interactions: int = 3
    eval_users: int | None = None

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"Protocol kind must be one of {_KINDS}. Received: kind={self.kind!r}")
        if self.sampling not in ("uniform", "popularity"):
            raise ValueError(f"Unknown negative sampling {self.sampling!r}.")
        if abs(sum(self.ratios) - 1.0) > 1e-6:
            raise ValueError(f"Split ratios must sum to 1. Received: ratios={self.ratios}")

    @property
    def leave_one_out(self):
        return self.kind in ("loo_sampled", "loo_full")

    def to_dict(self):
        return dataclasses.asdict(self)


PROTOCOLS = {
    p.name: p
    for p in (
        Protocol("sasrec", "loo_sampled", num_negatives=100),
        Protocol("sasrec_10k", "loo_sampled", num_negatives=100, eval_users=10_000),
        Protocol("ncf", "loo_sampled", num_negatives=99),
        Protocol("loo_sampled", "loo_sampled", num_negatives=100),
        Protocol("loo_popularity", "loo_sampled", num_negatives=100, sampling="popularity"),
        Protocol("loo_full", "loo_full"),
        Protocol("bars_ctr", "random_split", ratios=(0.7, 0.2, 0.1)),
        Protocol("bars_x1", "fixed_split"),
        # The parts a sharded dataset was written with (`reczoo shards`).
        Protocol("shards", "fixed_split"),
        Protocol("random_split", "random_split", ratios=(0.8, 0.1, 0.1)),
        Protocol("tfrs_retrieval", "random_split", ratios=(0.8, 0.0, 0.2), seed=42),
        # The same 20% test rows (same seed, same permutation), a tenth of
        # the rows before them for validation: where tfrs_retrieval recipes
        # are tuned.
        Protocol("tfrs_retrieval_tuning", "random_split", ratios=(0.7, 0.1, 0.2), seed=42),
        Protocol("temporal_split", "temporal_split", ratios=(0.8, 0.1, 0.1)),
        Protocol("user_split", "user_split", ratios=(0.8, 0.1, 0.1)),
        # Your own split files (--train_file, --valid_file, --test_file).
        Protocol("fixed_split", "fixed_split"),
    )
}


# Protocols made for one kind of task only (what a model is evaluated on
# under them would mean nothing for another): the kind that fits each.
TASK_OF = {"tfrs_retrieval": "retrieval", "tfrs_retrieval_tuning": "retrieval"}
_FITS = {
    "ranking": "loo_sampled, loo_full, random_split, temporal_split, user_split or fixed_split "
    "protocols",
    "next_item": "leave-last-out protocols (sasrec, ncf, loo_full, ...)",
    "retrieval": "row splits (tfrs_retrieval, random_split, temporal_split, user_split) or "
    "leave-last-out protocols (ncf, loo_full, ...)",
}


def check_fits(protocol, kind, model="this model"):
    """Refuses a protocol whose task does not fit a model's task `kind`
    (`"ranking"`, `"next_item"` or `"retrieval"`), naming both."""
    protocol = get_protocol(protocol)
    made_for = TASK_OF.get(protocol.name)
    if kind == "next_item":
        fits = protocol.leave_one_out
    elif kind == "retrieval":
        # Under a leave-last-out protocol a retriever ranks each held-out
        # item as a ranker does (HR@10 beside theirs); row splits give
        # top-K accuracy over held-out rows.
        fits = protocol.leave_one_out or protocol.kind in (
            "random_split",
            "temporal_split",
            "user_split",
        )
    else:
        fits = True
    if made_for is not None and made_for != kind:
        fits = False
    if not fits:
        about = f" (made for {made_for} models)" if made_for else ""
        raise ValueError(
            f"Protocol {protocol.name!r}{about} is a {protocol.kind} and does not fit "
            f"{model!r}, a {kind.replace('_', '-')} model evaluated under {_FITS[kind]}."
        )


def with_ratios(protocol, ratios):
    """`protocol` (a name or `Protocol`) with other train/validation/test
    fractions (`"0.7,0.15,0.15"` or a sequence): for row splits only."""
    protocol = get_protocol(protocol)
    if isinstance(ratios, str):
        try:
            ratios = [float(r) for r in ratios.split(",")]
        except ValueError:
            raise ValueError(f"--ratios takes three fractions such as 0.8,0.1,0.1. Received: "
                             f"{ratios!r}") from None  # fmt: skip
    ratios = tuple(float(r) for r in ratios)
    if protocol.kind not in ("random_split", "temporal_split", "user_split"):
        raise ValueError(
            f"Protocol {protocol.name!r} ({protocol.kind}) has no fractions to set: --ratios is "
            "for random_split, temporal_split and user_split."
        )
    if len(ratios) != 3 or min(ratios) < 0 or ratios[0] <= 0 or ratios[2] <= 0:
        raise ValueError(f"--ratios takes three fractions (train, validation, test; train and "
                         f"test above 0) summing to 1. Received: {ratios}")  # fmt: skip
    return dataclasses.replace(protocol, ratios=ratios)


def get_protocol(protocol):
    """A protocol by name: how a dataset is split and evaluated.

    Args:
        protocol: a protocol name (`reczoo.datasets.PROTOCOLS`), or a
            `Protocol`, returned as it is.

    Returns:
        The `Protocol`.

    Raises:
        ValueError: an unknown name (the error lists the known ones).

    Example:
        ```python
        ncf = reczoo.datasets.get_protocol("ncf")
        print(ncf.kind, ncf.num_negatives)  # leave-last-out, 99 sampled negatives
        ```
    """
    if isinstance(protocol, Protocol):
        return protocol
    found = PROTOCOLS.get(protocol)
    if found is None:
        raise ValueError(f"Unknown protocol {protocol!r}. Known protocols: {sorted(PROTOCOLS)}")
    return found


@dataclasses.dataclass
class LeaveOneOutSplit:
    """Last interaction of each user for test, second-to-last for validation.

    Attributes:
        train: the training interactions (an `InteractionDataset`).
        valid_users, valid_items, test_users, test_items: held-out pairs.
        valid_negatives, test_negatives: (users, num_negatives) sampled item
            ids, or None under `loo_full`.
        histories: each user's time-ordered items, all of them.
    """

    dataset: object
    protocol: Protocol
    seed: int
    train: object
    valid_users: np.ndarray
    valid_items: np.ndarray
    test_users: np.ndarray
    test_items: np.ndarray
    valid_negatives: np.ndarray | None
    test_negatives: np.ndarray | None
    histories: list

    def held_out(self, stage):
        if stage == "valid":
            return self.valid_users, self.valid_items, self.valid_negatives
        if stage == "test":
            return self.test_users, self.test_items, self.test_negatives
        raise ValueError(f"stage must be 'valid' or 'test'. Received: {stage!r}")

    def candidates(self, stage):
        """(users, items (n, 1 + N), labels (n, 1 + N)); the positive first."""
        users, items, negatives = self.held_out(stage)
        if negatives is None:
            raise ValueError(f"Protocol {self.protocol.name!r} ranks all items; no candidates.")
        candidates = np.concatenate([items[:, None], negatives], axis=1)
        labels = np.zeros(candidates.shape, dtype="float32")
        labels[:, 0] = 1.0
        return users, candidates, labels

    def seen_before(self, stage):
        """Per evaluated user, the items seen before the held-out one."""
        users, _, _ = self.held_out(stage)
        cut = 2 if stage == "valid" else 1
        return [self.histories[u][:-cut] for u in users]

    def evaluation_inputs(self, stage, spec):
        """Model inputs for ranking each held-out item against its negatives.

        Returns `(features, labels)`: features for every (user, candidate)
        pair, the held-out item first in each user's row of
        `1 + num_negatives` candidates, and (users, candidates) labels, 1 for
        the held-out item. Score the features, reshape the scores like the
        labels, and pass both to `reczoo.metrics.ranking_metrics`.
        """
        users, candidates, labels = self.candidates(stage)
        flat_users = np.repeat(users, candidates.shape[1])
        features = self.dataset.features_for(flat_users, candidates.reshape(-1), spec)
        return features, labels

    def histories_before(self, stage, max_length):
        """Each evaluated user's items before the held-out one, the last
        `max_length` of them, left-padded with 0: next-item model inputs."""
        return left_pad(self.seen_before(stage), max_length)

    def save(self, path):
        np.savez_compressed(
            path,
            valid_users=self.valid_users,
            valid_items=self.valid_items,
            test_users=self.test_users,
            test_items=self.test_items,
            valid_negatives=_or_empty(self.valid_negatives),
            test_negatives=_or_empty(self.test_negatives),
            protocol=json.dumps(self.protocol.to_dict()),
            seed=self.seed,
            dataset_sha256=self.dataset.sha256,
        )


def _or_empty(a):
    return np.zeros((0, 0), dtype="int32") if a is None else a


@dataclasses.dataclass
class RowSplit:
    """Row indices of train, validation and test."""

    dataset: object
    protocol: Protocol
    seed: int
    train_rows: np.ndarray
    valid_rows: np.ndarray
    test_rows: np.ndarray

    def rows(self, stage):
        return {"train": self.train_rows, "valid": self.valid_rows, "test": self.test_rows}[stage]


def split(dataset, protocol, seed=0, cache=True):
    """Splits `dataset` under `protocol` (a name or a `Protocol`).

    Leave-last-out splits save their sampled negatives under the reczoo cache
    and reuse them for the same dataset, protocol and seed.

    Args:
        dataset: an `InteractionDataset` or a `CTRDataset`.
        protocol: a protocol name or a `Protocol` (`get_protocol`).
        seed: seeds the split and its sampled negatives (a protocol with its
            own seed keeps it).
        cache: save and reuse a leave-last-out split under the reczoo cache.

    Returns:
        A `LeaveOneOutSplit` (train interactions, then each user's validation
        and test item with their candidates) or a `RowSplit` (train,
        validation and test row indices).

    Raises:
        ValueError: a protocol the data cannot take: leave-last-out on a
            click log, a fixed split on data without one, a temporal split
            without times.

    Example:
        ```python
        reczoo.datasets.write_examples()
        data = reczoo.datasets.load_interactions("ratings.csv", user="userId", item="movieId",
                                                 time="timestamp")
        parts = reczoo.datasets.split(data, "loo_full", seed=0, cache=False)
        ```
    """
    protocol = get_protocol(protocol)
    seed = protocol.seed if protocol.seed is not None else seed
    if protocol.leave_one_out:
        if dataset.kind != "interactions":
            raise ValueError(
                f"Protocol {protocol.name!r} needs user-item interactions; "
                f"{dataset.name!r} is a {dataset.kind} dataset."
            )
        return _leave_one_out(dataset, protocol, seed, cache)
    if protocol.kind == "fixed_split":
        fixed = getattr(dataset, "fixed_split", None)
        if fixed is None:
            raise ValueError(
                f"Protocol {protocol.name!r} uses the split a dataset comes with; "
                f"{dataset.name!r} has none. Use bars_ctr or random_split; frappe-x1 has one, "
                "and your own data has one when read from split files (--train_file, "
                "--valid_file, --test_file)."
            )
        return _row_split(dataset, protocol, seed, fixed["train"], fixed["valid"], fixed["test"])
    n = dataset.num_interactions
    if protocol.kind == "user_split":
        return _user_split(dataset, protocol, seed)
    if protocol.kind == "random_split":
        order = np.random.default_rng(seed).permutation(n)
    else:
        if getattr(dataset, "timestamps", None) is None:
            raise ValueError(
                f"temporal_split needs timestamps; {dataset.name!r} has none (give your data's "
                "time column: --time_col, or the role 'time' in a schema)."
            )
        order = np.argsort(dataset.timestamps, kind="stable")
    a = round(protocol.ratios[0] * n)
    b = a + round(protocol.ratios[1] * n)
    return _row_split(dataset, protocol, seed, order[:a], order[a:b], order[b:])


def _row_split(dataset, protocol, seed, train, valid, test):
    """A `RowSplit` whose data has its numerical transforms (standardize,
    bucketize) fitted on the training rows only."""
    from reczoo.datasets.click_logs import fit_transforms

    return RowSplit(fit_transforms(dataset, train), protocol, seed, train, valid, test)


def _user_split(dataset, protocol, seed):
    """Users drawn (seeded) into train, validation and test at the ratios;
    each user's rows go to the user's part."""
    if dataset.kind == "interactions":
        users = dataset.users
    elif getattr(dataset, "user_column", None) is not None:
        users = dataset.categorical[dataset.user_column]
    else:
        raise ValueError(
            f"user_split needs a user column; {dataset.name!r} has none (give one: --user_col, "
            "or the role 'user' in a schema)."
        )
    present = np.unique(users)
    order = np.random.default_rng(seed).permutation(present)
    a = round(protocol.ratios[0] * len(order))
    b = a + round(protocol.ratios[1] * len(order))
    part = np.zeros(int(present.max(initial=0)) + 1, dtype="int8")
    part[order[a:b]], part[order[b:]] = 1, 2
    rows = part[users]
    train, valid, test = (np.flatnonzero(rows == k) for k in range(3))
    return _row_split(dataset, protocol, seed, train, valid, test)


def _cache_path(dataset, protocol, seed):
    key = json.dumps([dataset.name, dataset.sha256, protocol.to_dict(), seed], sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / "splits" / f"{dataset.name}-{protocol.name}-seed{seed}-{digest}.npz"


def _leave_one_out(dataset, protocol, seed, cache):
    histories = dataset.histories()
    lengths = np.array([len(h) for h in histories])
    eligible = np.flatnonzero(lengths >= protocol.min_interactions)
    eligible = eligible[eligible > 0]
    if not len(eligible):
        raise DatasetError(
            f"Protocol {protocol.name!r} holds out each user's last two interactions and "
            f"evaluates users with at least {protocol.min_interactions}; no user of "
            f"{dataset.name!r} has that many (the most is {int(lengths.max(initial=0))}). "
            "Use a row split such as random_split, or more data per user."
        )
    from_end, counts = dataset.from_end()
    held_out = (counts >= protocol.min_interactions) & (from_end < 2)
    train = dataset.select(~held_out)
    valid_items = np.array([histories[u][-2] for u in eligible], dtype="int32")
    test_items = np.array([histories[u][-1] for u in eligible], dtype="int32")
    users = eligible.astype("int32")

    path = _cache_path(dataset, protocol, seed) if cache else None
    valid_neg = test_neg = None
    if protocol.kind == "loo_sampled":
        if path is not None and path.is_file():
            with np.load(path) as saved:
                valid_neg, test_neg = saved["valid_negatives"], saved["test_negatives"]
                if not np.array_equal(saved["test_users"], users):
                    valid_neg = test_neg = None
        if valid_neg is None:
            rng = np.random.default_rng(seed)
            weights = None
            if protocol.sampling == "popularity":
                counts = np.bincount(train.items, minlength=dataset.num_items + 1).astype("float64")
                counts[0] = 0
                weights = counts / counts.sum()
            n = protocol.num_negatives
            valid_neg = evaluation_negatives(histories, users, dataset.num_items, n, rng, weights)
            test_neg = evaluation_negatives(histories, users, dataset.num_items, n, rng, weights)
    result = LeaveOneOutSplit(
        dataset, protocol, seed, train,
        users, valid_items, users.copy(), test_items,
        valid_neg, test_neg, histories,
    )  # fmt: skip
    if protocol.eval_users is not None and len(users) > protocol.eval_users:
        chosen = np.sort(
            np.random.default_rng(seed + 1).choice(len(users), protocol.eval_users, replace=False)
        )
        for attr in ("valid_users", "valid_items", "test_users", "test_items"):
            setattr(result, attr, getattr(result, attr)[chosen])
        if valid_neg is not None:
            result.valid_negatives, result.test_negatives = valid_neg[chosen], test_neg[chosen]
    if path is not None and protocol.kind == "loo_sampled" and not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        full = dataclasses.replace(
            result, valid_users=users, test_users=users, valid_items=valid_items,
            test_items=test_items, valid_negatives=valid_neg, test_negatives=test_neg,
        )  # fmt: skip
        # Two runs drawing the same split at once each write it whole; the
        # last rename wins.
        write_atomically(path, full.save)
    return result


def split_path(dataset, protocol, seed=0):
    """Where the split of `dataset` under `protocol` and `seed` is cached."""
    protocol = get_protocol(protocol)
    return Path(
        _cache_path(dataset, protocol, protocol.seed if protocol.seed is not None else seed)
    )
