"""DIN: registration and recipes."""

from reczoo.registry import Recipe, register_model, register_recipe

register_model(
    "din",
    backbone="reczoo.models.din.din_backbone:DINBackbone",
    task="Ranker",
    family="attention",
    paper="Zhou et al. Deep Interest Network for Click-Through Rate Prediction. KDD 2018.",
    tags=("ctr", "target-attention", "sequence"),
    description="Target attention pools the behaviour history for each candidate.",
)

# MovieLens-100K as CTR (rating >= 4), earlier items as the history, random
# 8:1:1 split; the same DNN reading the history mean-pooled is mlp's recipe.
register_recipe(
    Recipe(
        "din/movielens-100k-ctr", "din", "movielens-100k-ctr", "random_split",
        model_settings={"hidden_units": [200, 80]},
        training={"batch_size": 1024, "epochs": 20},
        source="DIN's paper tower (200, 80) on MovieLens-100K as CTR",
    )
)  # fmt: skip
