"""MF-BPR (matrix factorization trained on Bayesian personalised ranking): registration."""

from reczoo.models.procedures import (
    RECENT_DEFAULTS,
    l2,
    register_ncf_ml100k,
)
from reczoo.registry import Preset, register_model, register_preset

register_model(
    "bpr_mf",
    backbone="reczoo.models.bpr_mf.bpr_mf_backbone:MFBackbone",
    task="Ranker",
    family="ncf",
    paper="Rendle et al. BPR: Bayesian Personalized Ranking from Implicit Feedback. UAI 2009.",
    tags=("collaborative-filtering", "matrix-factorization", "implicit", "bpr"),
    description="The dot product of user and item embeddings plus an item bias, trained on BPR.",
    task_defaults={"objective": "bpr"},
    run_defaults=RECENT_DEFAULTS,  # its default run under leave-last-out
    # XLA: a training step of MF-BPR is a few dozen tiny ops, whose per-op
    # cost XLA's fusion removes. On the 2-core CPU, 5 epochs of MovieLens-100K
    # (ncf, width 64, batch 256) trained 2.6x faster with the same metrics;
    # models with dropout ran up to 10x slower under XLA there (its CPU random
    # numbers), so this is MF-BPR's own default, not the zoo's
    # (`--set=jit_compile=false` turns it off).
    compile_defaults={"jit_compile": True},
)

register_ncf_ml100k(
    "bpr_mf",
    {"learning_rate": 1e-3, "embeddings_regularizer": l2(1e-5)},
    batch_size=256,
    embedding_dim=64,
)

# The built-in preset (`reczoo zoo build`), trained by the recipe above.
register_preset(
    Preset("bpr_mf_movielens_100k", "bpr_mf", "movielens-100k", "ncf", "bpr_mf/movielens-100k",
           "ndcg@10", "BPR matrix factorisation for MovieLens 100K.")
)  # fmt: skip
