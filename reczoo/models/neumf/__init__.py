"""NeuMF (NCF's fusion of GMF and an MLP): registration."""

from reczoo.models.procedures import (
    NCF_ML1M_SOURCE,
    NCF_ML1M_TRAINING,
    NCF_ML100K_SOURCE,
    register_ncf_ml100k,
)
from reczoo.registry import Preset, Recipe, register_model, register_preset, register_recipe

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
    # XLA: with the MLP's dropout hashed (reczoo.layers.HashDropout), a
    # running epoch of MovieLens-100K (ncf, batch 2048) took 0.65-0.68 s
    # compiled against 1.24-1.35 s op by op, at the same loss, on a 2-core
    # AVX-512 EPYC (benchmarks/results/peers has the whole runs).
    # `--set=jit_compile=false` turns it off.
    compile_defaults={"jit_compile": True},
)

register_ncf_ml100k(
    "neumf",
    {"mlp_embedding_dim": 64, "hidden_units": [128, 64], "dropout": 0.1, "learning_rate": 1e-4},
    source=f"{NCF_ML100K_SOURCE}; from the gmf and mlp recipes' models, fine-tuned at 1e-4",
    batch_size=2048,
    embedding_dim=64,
    pretrain=True,
)

register_recipe(
    Recipe(
        "neumf/movielens-1m", "neumf", "movielens-1m", "ncf",
        model_settings={"mlp_embedding_dim": 256, "hidden_units": [256, 128, 64],
                        "learning_rate": 1e-4},
        training={**NCF_ML1M_TRAINING, "pretrain": True},
        source=f"{NCF_ML1M_SOURCE}; GMF and MLP first, fine-tuned at 1e-4 as on MovieLens-100K",
    )
)  # fmt: skip

# The built-in preset (`reczoo zoo build`), trained by the recipe above.
register_preset(
    Preset("neumf_movielens_100k", "neumf", "movielens-100k", "ncf", "neumf/movielens-100k",
           "ndcg@10",
           "NeuMF (GMF + MLP, pre-trained) implicit-feedback model for MovieLens 100K.")
)  # fmt: skip
