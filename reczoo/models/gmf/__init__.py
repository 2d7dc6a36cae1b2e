"""GMF (NCF's generalized matrix factorization): registration."""

from reczoo.models.procedures import (
    NCF_ML1M_SOURCE,
    NCF_ML1M_TRAINING,
    RECENT_DEFAULTS,
    register_ncf_ml100k,
)
from reczoo.registry import Recipe, register_model, register_recipe

register_model(
    "gmf",
    backbone="reczoo.models.gmf.gmf_backbone:GMFBackbone",
    task="Ranker",
    family="ncf",
    paper="He et al. Neural Collaborative Filtering. WWW 2017.",
    tags=("collaborative-filtering", "matrix-factorization", "implicit"),
    description="The element-wise product of user and item embeddings, weighted by one unit.",
    # XLA: a running epoch of MovieLens-100K (ncf, batch 2048) took 0.35 s
    # compiled against 0.51 s op by op on a 2-core AVX-512 EPYC, same loss.
    compile_defaults={"jit_compile": True},
    run_defaults=RECENT_DEFAULTS,  # its default run under leave-last-out
)

register_ncf_ml100k("gmf", {"learning_rate": 1e-3}, batch_size=2048, embedding_dim=64)

register_recipe(
    Recipe(
        "gmf/movielens-1m", "gmf", "movielens-1m", "ncf",
        model_settings={"learning_rate": 1e-3}, training=NCF_ML1M_TRAINING,
        source=NCF_ML1M_SOURCE,
    )
)  # fmt: skip
