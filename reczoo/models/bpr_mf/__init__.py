"""MF-BPR (matrix factorization trained on Bayesian personalised ranking): registration."""

from reczoo.registry import register_model

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
