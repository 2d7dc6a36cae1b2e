"""ConvNCF (outer-product neural collaborative filtering): registration."""

from reczoo.models.procedures import register_ncf_ml100k
from reczoo.registry import register_model

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

register_ncf_ml100k(
    "convncf",
    {"channels": 32, "learning_rate": 1e-3},
    batch_size=256,
    embedding_dim=32,
    epochs=20,
)
