"""Hashed vocabularies of millions of ids in every ranking model."""

import numpy as np
import pytest
from testing import tiny_batch

import reczoo

BUCKETS = 2**21  # 2,097,152 ids per table, as `reczoo shards --hash_buckets`

RANKERS = [
    n
    for n in reczoo.list_models()
    if reczoo.model_info(n).kind == "ranking" and reczoo.model_info(n).backbone.fit_by == "fit"
]


def _spec():
    return reczoo.FeatureSpec(
        [
            reczoo.Categorical("user_id", BUCKETS, 4),
            reczoo.Categorical("item_id", BUCKETS, 4, table="item"),
            reczoo.Sequence("history", BUCKETS, 4, max_length=5, table="item"),
            reczoo.MultiHot("genres", 7, 4, max_length=3),
            reczoo.Numerical("age"),
        ]
    )


# One model of each family in the default tier (NeuMF: GMF's and MLP's tables;
# DeepFM: the linear weights beside the embeddings; DIN: the history's); the
# others keep their tables where their family's model does, each step a dense
# update of 2,097,152-row tables (1-2.7 s on a 2-core AVX2 CPU): the slow tier.
DEFAULT_TIER = {"bpr_mf", "neumf", "deepfm", "dcnv2", "autoint", "ipnn", "din"}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=[] if n in DEFAULT_TIER else [pytest.mark.slow]) for n in RANKERS],
)
def test_a_step_on_ids_in_the_millions(name):
    spec = _spec()
    model = reczoo.get_model(name, feature_spec=spec)
    # Eager: one step; tracing would cost more than the step.
    model.compile(run_eagerly=True)
    features, labels = tiny_batch(spec, n=8)
    top = np.arange(BUCKETS - 8, BUCKETS, dtype="int32")
    features["user_id"], features["item_id"] = top, top[::-1].copy()
    features["history"] = np.tile(top[:5], (8, 1))
    if name == "bpr_mf":
        labels = np.tile([1.0, 0.0], 4).reshape(-1, 1).astype("float32")
    # Every table of the hashed features, wherever the backbone keeps it.
    tables = [w for w in model.weights if tuple(w.shape)[:1] == (BUCKETS,)]
    assert tables, name
    before = [np.asarray(w[BUCKETS - 8 :]) for w in tables]
    loss = model.train_on_batch(features, labels)
    loss = loss[0] if isinstance(loss, list) else loss
    assert np.isfinite(loss), (name, loss)
    # The rows of the ids in the batch learnt (those at the end of a table).
    changed = [
        not np.allclose(np.asarray(w[BUCKETS - 8 :]), b)
        for w, b in zip(tables, before, strict=True)
    ]
    assert any(changed), name


def test_the_default_tier_keeps_a_model_of_every_ranking_family():
    families = {reczoo.model_info(n).family for n in RANKERS}
    assert {reczoo.model_info(n).family for n in DEFAULT_TIER} == families
