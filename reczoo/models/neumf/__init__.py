"""NeuMF (NCF's fusion of GMF and an MLP): registration."""

from reczoo.registry import register_model

register_model(
    "neumf",
    backbone="reczoo.models.neumf.neumf_backbone:NeuMFBackbone",
    task="Ranker",
    family="ncf",
    paper="He et al. Neural Collaborative Filtering. WWW 2017.",
    tags=("collaborative-filtering", "matrix-factorization", "implicit", "dnn"),
    description="GMF and an MLP on their own user and item embeddings, fused by one unit.",
    initializer="reczoo.models.neumf.pretraining:initialize",
    init_settings=("pretrained_gmf", "pretrained_mlp", "pretrain_alpha"),
    pretraining="reczoo.models.neumf.pretraining:pretraining_runs",
)
