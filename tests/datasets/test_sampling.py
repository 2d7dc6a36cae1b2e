import numpy as np

from reczoo.datasets.sampling import training_negatives


def _reference(users, items, num_items, k, rng):
    # The plain statement of the sampler: redraw every negative that is one
    # of its user's items, with np.isin, until none is.
    stride = num_items + 1
    known = set((np.asarray(users).astype("int64") * stride + items).tolist())
    neg_users = np.repeat(users, k)
    neg_items = rng.integers(1, num_items + 1, size=len(neg_users)).astype("int32")
    bad = np.isin(neg_users.astype("int64") * stride + neg_items, list(known))
    while bad.any():
        neg_items[bad] = rng.integers(1, num_items + 1, size=int(bad.sum()))
        keys = neg_users[bad].astype("int64") * stride + neg_items[bad]
        bad[bad] = np.isin(keys, list(known))
    return neg_users, neg_items


def test_training_negatives_are_unseen_uniform_and_the_reference_draws():
    # Dense users (90% of 50 items seen) force many redraw rounds.
    rng = np.random.default_rng(0)
    users, items = [], []
    for user in range(1, 41):
        seen = rng.choice(np.arange(1, 51), size=45 if user % 2 else 10, replace=False)
        users += [user] * len(seen)
        items += seen.tolist()
    users, items = np.array(users, "int32"), np.array(items, "int32")
    neg_users, neg_items = training_negatives(users, items, 50, 4, np.random.default_rng(7))
    want_users, want_items = _reference(users, items, 50, 4, np.random.default_rng(7))
    np.testing.assert_array_equal(neg_users, want_users)
    np.testing.assert_array_equal(neg_items, want_items)
    seen = set(zip(users.tolist(), items.tolist(), strict=True))
    assert not any(
        pair in seen for pair in zip(neg_users.tolist(), neg_items.tolist(), strict=True)
    )
    assert neg_items.min() >= 1 and neg_items.max() <= 50
    # A dense user's negatives spread over its 5 unseen items.
    dense = neg_items[neg_users == 1]
    assert len(set(dense.tolist())) == 5
