"""ConvNCF (outer-product neural collaborative filtering): registration."""

from reczoo.models.procedures import (
    NCF_ML100K_PROTOCOLS,
    NCF_ML100K_SOURCE,
    NCF_ML100K_TRAINING,
)
from reczoo.registry import Recipe, register_model, register_recipe

register_model(
    "convncf",
    backbone="reczoo.models.convncf.convncf_backbone:ConvNCFBackbone",
    task="Ranker",
    family="ncf",
    paper="He et al. Outer Product-based Neural Collaborative Filtering. IJCAI 2018.",
    tags=("collaborative-filtering", "convolutional", "implicit", "bpr"),
    description="Convolutions over the outer product of user and item embeddings, on BPR.",
    task_defaults={"objective": "bpr"},
)

for _suffix, _protocol in NCF_ML100K_PROTOCOLS:
    register_recipe(
        Recipe(
            f"convncf/{_suffix}", "convncf", "movielens-100k", _protocol,
            model_settings={"channels": 32, "learning_rate": 1e-3},
            training={**NCF_ML100K_TRAINING, "batch_size": 256, "embedding_dim": 32, "epochs": 20},
            source=NCF_ML100K_SOURCE,
        )
    )  # fmt: skip
