"""Preprocessing of interaction datasets: implicit feedback, k-core, remapping."""

import dataclasses

import numpy as np

from reczoo.datasets.base import CTRDataset, InteractionDataset, Vocabulary, remap


def to_implicit(dataset, threshold):
    """Keeps interactions rated at least `threshold`, as implicit positives."""
    if dataset.ratings is None:
        raise ValueError(f"Dataset {dataset.name!r} has no ratings to threshold.")
    kept = dataset.select(dataset.ratings >= threshold)
    return dataclasses.replace(kept, ratings=None)


def k_core(dataset, k=5, user_k=None, item_k=None):
    """Repeatedly drops users and items with fewer than k interactions.

    Ids are re-compacted afterwards so that they stay `1..N`.
    """
    user_k = k if user_k is None else user_k
    item_k = k if item_k is None else item_k
    mask = np.ones(dataset.num_interactions, dtype=bool)
    while True:
        users, items = dataset.users[mask], dataset.items[mask]
        user_counts = np.bincount(users, minlength=dataset.num_users + 1)
        item_counts = np.bincount(items, minlength=dataset.num_items + 1)
        keep = (user_counts[dataset.users] >= user_k) & (item_counts[dataset.items] >= item_k)
        keep &= mask
        if keep.sum() == mask.sum():
            break
        mask = keep
    return compact(dataset.select(mask))


def compact(dataset):
    """Renumbers users and items to `1..N` over the ids still in use."""
    out = dataset
    for key, attr, side in (("user", "users", "user_features"), ("item", "items", "item_features")):
        ids = getattr(out, attr)
        used = np.unique(ids)
        new_of_old = np.zeros(len(out.vocabularies[key]), dtype="int32")
        new_of_old[used] = np.arange(1, len(used) + 1, dtype="int32")
        old_values = out.vocabularies[key].values
        vocab = Vocabulary(key, [old_values[i] for i in used])
        tables = {
            name: values[np.concatenate([[0], used])] for name, values in getattr(out, side).items()
        }
        out = dataclasses.replace(
            out,
            **{attr: new_of_old[ids], side: tables},
            vocabularies={**out.vocabularies, key: vocab},
        )
    return out


def build_interactions(name, users, items, ratings=None, timestamps=None, sha256=""):
    """An `InteractionDataset` from raw columns, remapping ids to `1..N`."""
    user_vocab, user_ids = remap("user", users)
    item_vocab, item_ids = remap("item", items)
    return InteractionDataset(
        name=name,
        users=user_ids,
        items=item_ids,
        ratings=None if ratings is None else np.asarray(ratings, dtype="float32"),
        timestamps=None if timestamps is None else np.asarray(timestamps, dtype="int64"),
        vocabularies={"user": user_vocab, "item": item_vocab},
        sha256=sha256,
    )


def side_table(owner_vocab, raw_ids, values, name):
    """A side-feature table indexed by the owner's ids, plus its vocabulary.

    `raw_ids[i]` (a raw user or item id) has the raw value `values[i]`; rows
    of owners without a value stay 0.
    """
    vocab, encoded = remap(name, values) if len(values) else (Vocabulary(name, []), [])
    table = np.zeros(len(owner_vocab), dtype="int32")
    table[owner_vocab.encode(raw_ids)] = encoded
    table[0] = 0
    return table, vocab


def history_ctr(dataset, threshold=4, max_length=50, name=None):
    """A click-through view of rated interactions, with behaviour histories.

    Each interaction becomes a row labelled `rating >= threshold`, with the
    user, the item, the user's earlier items (time order, ties in file order;
    the last `max_length`, left-padded with 0) as `history` sharing the item
    table, and the dataset's user and item side features. This is the
    Deep Interest Network setting on rating data.
    """
    if dataset.ratings is None:
        raise ValueError(f"Dataset {dataset.name!r} has no ratings to label.")
    order = dataset.order()
    users, items = dataset.users[order], dataset.items[order]
    history = np.zeros((len(order), max_length), dtype="int32")
    start = 0
    for row in range(1, len(order) + 1):
        if row == len(order) or users[row] != users[start]:
            for k in range(start, row):
                past = items[max(start, k - max_length) : k]
                if len(past):
                    history[k, max_length - len(past) :] = past
            start = row
    categorical = {"user_id": users, "item_id": items}
    vocabularies = {
        "user_id": dataset.vocabularies["user"],
        "item_id": dataset.vocabularies["item"],
        "history": dataset.vocabularies["item"],
    }
    multi_hot = {}
    for table, ids in ((dataset.user_features, users), (dataset.item_features, items)):
        owner = "user" if table is dataset.user_features else "item"
        for column, values in table.items():
            vocabularies[column] = dataset.vocabularies[f"{owner}.{column}"]
            if values.ndim == 1:
                categorical[column] = values[ids]
            else:
                multi_hot[column] = values[ids]
    return CTRDataset(
        name=name or f"{dataset.name}-ctr",
        labels=(dataset.ratings[order] >= threshold).astype("float32"),
        categorical=categorical,
        vocabularies=vocabularies,
        user_column="user_id",
        item_column="item_id",
        sha256=dataset.sha256,
        multi_hot=multi_hot,
        sequences={"history": history},
        tables={"item_id": "item", "history": "item"},
    )
