"""GMF (NCF's generalized matrix factorization): registration."""

from reczoo.models.procedures import (
    NCF_ML1M_SOURCE,
    NCF_ML1M_TRAINING,
    NCF_ML100K_PROTOCOLS,
    NCF_ML100K_SOURCE,
    NCF_ML100K_TRAINING,
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
)

for _suffix, _protocol in NCF_ML100K_PROTOCOLS:
    register_recipe(
        Recipe(
            f"gmf/{_suffix}", "gmf", "movielens-100k", _protocol,
            model_settings={"learning_rate": 1e-3},
            training={**NCF_ML100K_TRAINING, "batch_size": 2048, "embedding_dim": 64},
            source=NCF_ML100K_SOURCE,
        )
    )  # fmt: skip

register_recipe(
    Recipe(
        "gmf/movielens-1m", "gmf", "movielens-1m", "ncf",
        model_settings={"learning_rate": 1e-3}, training=NCF_ML1M_TRAINING,
        source=NCF_ML1M_SOURCE,
    )
)  # fmt: skip
