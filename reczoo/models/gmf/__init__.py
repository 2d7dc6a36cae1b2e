"""GMF (NCF's generalized matrix factorization): registration."""

from reczoo.registry import register_model

register_model(
    "gmf",
    backbone="reczoo.models.gmf.gmf_backbone:GMFBackbone",
    task="Ranker",
    family="ncf",
    paper="He et al. Neural Collaborative Filtering. WWW 2017.",
    tags=("collaborative-filtering", "matrix-factorization", "implicit"),
    description="The element-wise product of user and item embeddings, weighted by one unit.",
)
