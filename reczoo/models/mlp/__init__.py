"""MLP (NCF's MLP, the CTR benchmarks' DNN): registration and recipes."""

from reczoo.models.procedures import (
    BARS_DNN,
    BARS_EMBEDDING_L2,
    BARS_SOURCE,
    BARS_TRAINING,
    NCF_ML1M_SOURCE,
    NCF_ML1M_TRAINING,
    register_ncf_ml100k,
)
from reczoo.registry import Recipe, register_model, register_recipe

register_model(
    "mlp",
    backbone="reczoo.models.mlp.mlp_backbone:MLPBackbone",
    task="Ranker",
    family="ncf",
    paper="He et al. Neural Collaborative Filtering. WWW 2017.",
    tags=("ctr", "rating", "dnn"),
    description="A dense tower over the concatenated feature embeddings.",
    # XLA: with its dropout hashed (reczoo.layers.HashDropout), a running
    # epoch of MovieLens-100K (ncf, batch 2048) took 0.54 s compiled against
    # 1.15 s op by op on a 2-core AVX-512 EPYC, same loss.
    compile_defaults={"jit_compile": True},
)

for _dataset, _protocol in (("frappe", "bars_ctr"), ("frappe-x1", "bars_x1")):
    register_recipe(
        Recipe(
            f"mlp/{_dataset}", "mlp", _dataset, _protocol,
            model_settings={**BARS_DNN, "embeddings_regularizer": BARS_EMBEDDING_L2},
            training=BARS_TRAINING, source=BARS_SOURCE,
        )
    )  # fmt: skip

# The DNN that DIN is compared with on MovieLens-100K as CTR (the din recipe).
register_recipe(
    Recipe(
        "mlp/movielens-100k-ctr", "mlp", "movielens-100k-ctr", "random_split",
        model_settings={"hidden_units": [200, 80]},
        training={"batch_size": 1024, "epochs": 20},
        source="the DIN comparison's DNN: DIN's tower, history mean-pooled",
    )
)  # fmt: skip

register_ncf_ml100k(
    "mlp",
    {"hidden_units": [128, 64], "dropout": 0.1, "learning_rate": 1e-3},
    batch_size=2048,
    embedding_dim=64,
)

register_recipe(
    Recipe(
        "mlp/movielens-1m", "mlp", "movielens-1m", "ncf",
        model_settings={"hidden_units": [256, 128, 64], "learning_rate": 1e-3},
        training={**NCF_ML1M_TRAINING, "embedding_dim": 256}, source=NCF_ML1M_SOURCE,
    )
)  # fmt: skip
