"""ConvNCF (outer-product neural collaborative filtering): registration."""

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
