"""MF-BPR (matrix factorization trained on Bayesian personalised ranking): registration."""

from reczoo.models.procedures import (
    NCF_ML100K_PROTOCOLS,
    NCF_ML100K_SOURCE,
    NCF_ML100K_TRAINING,
    l2,
)
from reczoo.registry import Recipe, register_model, register_recipe

register_model(
    "bpr_mf",
    backbone="reczoo.models.bpr_mf.bpr_mf_backbone:MFBackbone",
    task="Ranker",
    family="ncf",
    paper="Rendle et al. BPR: Bayesian Personalized Ranking from Implicit Feedback. UAI 2009.",
    tags=("collaborative-filtering", "matrix-factorization", "implicit", "bpr"),
    description="The dot product of user and item embeddings plus an item bias, trained on BPR.",
    task_defaults={"objective": "bpr"},
)

for _suffix, _protocol in NCF_ML100K_PROTOCOLS:
    register_recipe(
        Recipe(
            f"bpr_mf/{_suffix}", "bpr_mf", "movielens-100k", _protocol,
            model_settings={"learning_rate": 1e-3, "embeddings_regularizer": l2(1e-5)},
            training={**NCF_ML100K_TRAINING, "batch_size": 256, "embedding_dim": 64},
            source=NCF_ML100K_SOURCE,
        )
    )  # fmt: skip
