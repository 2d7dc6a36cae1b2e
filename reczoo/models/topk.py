"""Top-k recommendation around a trained task: who saw what, raw ids, the top of a score matrix.

Numpy only. A task records its users' training interactions
(`Task.set_interactions`, kept in presets) so that `recommend` can leave out
what a user has seen and answer for a user id alone; presets carry the raw
id vocabularies, so ids go in and come out as the data had them.
"""

import collections

import numpy as np

Recommendations = collections.namedtuple("Recommendations", ["items", "scores"])
Recommendations.__doc__ = """Top-k item ids (batch, k), best first, and their scores (batch, k).

Unpacks as `items, scores = task.recommend(...)`."""


class Interactions:
    """Each user's items, in the order given (time order for histories).

    Stored compressed: users sorted stably, their items one array, and the
    offset of each user's first item.
    """

    def __init__(self, users, items, num_users=None):
        users = np.asarray(users, dtype="int64").reshape(-1)
        items = np.asarray(items, dtype="int32").reshape(-1)
        if len(users) != len(items):
            raise ValueError(
                f"`users` and `items` must have one entry per interaction. Received "
                f"{len(users)} users and {len(items)} items."
            )
        if len(users) and users.min() < 0:
            raise ValueError(f"User ids must be non-negative. Received: {int(users.min())}")
        size = max(int(num_users or 0), int(users.max()) + 1 if len(users) else 0)
        order = np.argsort(users, kind="stable")
        self.items = items[order]
        self.offsets = np.concatenate([[0], np.cumsum(np.bincount(users, minlength=size))])

    @classmethod
    def from_arrays(cls, offsets, items):
        out = cls.__new__(cls)
        out.offsets, out.items = np.asarray(offsets, "int64"), np.asarray(items, "int32")
        return out

    @property
    def num_users(self):
        return len(self.offsets) - 1

    def of(self, user):
        """The items of `user`, in order; empty for a user never seen."""
        if not 0 <= user < self.num_users:
            return self.items[:0]
        return self.items[self.offsets[user] : self.offsets[user + 1]]


def top_k(scores, k, ids=None):
    """`Recommendations` of the `k` highest scores of each row, best first.

    `ids[j]` is the item of column `j` (default: `j`). Masked entries (`-inf`)
    are never returned: a row with fewer than `k` others ends with item 0
    (no item) at score `-inf`.
    """
    k = min(int(k), scores.shape[1])
    top = np.argpartition(-scores, kth=k - 1, axis=1)[:, :k]
    values = np.take_along_axis(scores, top, axis=1)
    order = np.argsort(-values, axis=1, kind="stable")
    top, values = np.take_along_axis(top, order, axis=1), np.take_along_axis(values, order, axis=1)
    items = top if ids is None else np.asarray(ids)[top]
    return Recommendations(np.where(np.isneginf(values), 0, items), values)


def joined(task, parts, k, raw_ids=False):
    """`Recommendations` of per-batch `parts` (each a `Recommendations`) in
    order; item ids decoded to raw ids through `task`'s vocabularies with
    `raw_ids`."""
    items = np.concatenate([p.items for p in parts]) if parts else np.zeros((0, k), "int32")
    scores = np.concatenate([p.scores for p in parts]) if parts else np.zeros((0, k))
    if raw_ids:
        items = decode(task, "item", items)
    return Recommendations(items, scores)


def check_k(k):
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"`k` must be a positive integer. Received: k={k!r}")


def encode(task, kind, raw):
    """Ids of raw `kind` ("user" or "item") values by the task's vocabularies;
    an error naming the first unknown one."""
    vocabulary = _vocabulary(task, kind)
    index = {str(v): i for i, v in enumerate(vocabulary) if i > 0}
    ids = []
    for value in raw:
        found = index.get(str(value))
        if found is None:
            sample = ", ".join(map(str, vocabulary[1:4]))
            raise ValueError(
                f"Unknown {kind} {str(value)!r}: not in the vocabulary this model was trained "
                f"with ({len(vocabulary) - 1} {kind}s, such as {sample})."
            )
        ids.append(found)
    return np.asarray(ids, dtype="int32")


def decode(task, kind, ids):
    """Raw values of `kind` ids, as an object array of the ids' shape; None
    for id 0 (no item)."""
    vocabulary = np.asarray([None, *_vocabulary(task, kind)[1:]], dtype=object)
    return vocabulary[np.asarray(ids)]


def _vocabulary(task, kind):
    vocabularies = getattr(task, "vocabularies", None) or {}
    if kind not in vocabularies:
        raise ValueError(
            f"raw_ids=True needs the model's {kind} vocabulary, which presets saved by "
            f"`reczoo train --output` carry; this model has {sorted(vocabularies) or 'none'}. "
            "Pass the integer ids the model was trained on instead."
        )
    return vocabularies[kind]
