"""Backbones, tasks, and the registration of every built-in model."""

from reczoo.models.backbone import Backbone
from reczoo.models.fm.fm import FMBackbone
from reczoo.models.mlp.mlp import MLPBackbone
from reczoo.models.pop.pop import PopularityBackbone
from reczoo.models.task import Ranker, Task
from reczoo.registry import register_model

register_model(
    "fm",
    backbone=FMBackbone,
    task=Ranker,
    family="factorization",
    paper="Rendle. Factorization Machines. ICDM 2010.",
    tags=("ctr", "rating", "factorization-machine"),
    description="Bias, linear term and pairwise factorized interactions of all fields.",
)
register_model(
    "mlp",
    backbone=MLPBackbone,
    task=Ranker,
    family="ncf",
    paper="He et al. Neural Collaborative Filtering. WWW 2017.",
    tags=("ctr", "rating", "dnn"),
    description="A dense tower over the concatenated feature embeddings.",
)
register_model(
    "pop",
    backbone=PopularityBackbone,
    task=Ranker,
    family="baseline",
    paper="Cremonesi et al. Performance of Recommender Algorithms on Top-N Tasks. RecSys 2010.",
    tags=("baseline", "popularity"),
    description="Scores items by training-set popularity; set by adapt(), not trained.",
)

__all__ = ["Backbone", "FMBackbone", "MLPBackbone", "PopularityBackbone", "Ranker", "Task"]
