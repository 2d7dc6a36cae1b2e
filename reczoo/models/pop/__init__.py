"""The most-popular baseline: registration."""

from reczoo.registry import register_model

register_model(
    "pop",
    backbone="reczoo.models.pop.pop_backbone:PopularityBackbone",
    task="Ranker",
    family="baseline",
    paper="Cremonesi et al. Performance of Recommender Algorithms on Top-N Tasks. RecSys 2010.",
    tags=("baseline", "popularity"),
    description="Scores items by training-set popularity; set by adapt(), not trained.",
)
