"""Caser: registration and recipes."""

from reczoo.registry import Preset, Recipe, register_model, register_preset, register_recipe

register_model(
    "caser",
    backbone="reczoo.models.caser.caser_backbone:CaserBackbone",
    task="NextItem",
    family="convolutional",
    paper="Tang & Wang. Personalized Top-N Sequential Recommendation via Convolutional Sequence Embedding. WSDM 2018.",
    tags=("sequential", "next-item", "cnn"),
    description="Horizontal and vertical convolutions over the last L items, with a user embedding.",
    # The paper's window: the last L=5 items, on any data.
    run_defaults={"max_length": 5},
)

register_recipe(
    Recipe(
        "caser/amazon-games", "caser", "amazon-games", "sasrec",
        training={"embedding_dim": 50, "max_length": 5, "batch_size": 512, "epochs": 50},
        source="the Caser paper's d=50, L=5",
    )
)  # fmt: skip

# The built-in preset (`reczoo zoo build`), trained by the recipe above.
register_preset(
    Preset("caser_amazon_games", "caser", "amazon-games", "sasrec", "caser/amazon-games",
           "ndcg@10",
           "Caser (convolutional, with user embeddings) next-item model for Amazon video games.")
)  # fmt: skip
