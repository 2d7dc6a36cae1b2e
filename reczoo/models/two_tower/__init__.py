"""Two-tower retrieval with an in-batch softmax: registration and recipes."""

from reczoo.registry import register_model

register_model(
    "two_tower",
    backbone="reczoo.models.two_tower.two_tower_backbone:TwoTowerBackbone",
    task="Retriever",
    family="contrastive",
    paper=(
        "Yi et al. Sampling-Bias-Corrected Neural Modeling for Large Corpus Item "
        "Recommendations. RecSys 2019."
    ),
    tags=("retrieval", "two-tower", "in-batch-softmax", "contrastive"),
    description=(
        "A query tower over user features and a candidate tower over item features, "
        "trained with an in-batch softmax (logQ correction, accidental hits removed)."
    ),
    defaults={"hidden_units": [64], "output_dim": 32, "normalize": True},
    task_defaults={"temperature": 0.1, "logq_correction": True, "remove_accidental_hits": True},
    run_defaults={"batch_size": 1024, "embedding_dim": 32, "side_features": True},
)
