"""GRU4Rec: registration and recipes."""

from reczoo.registry import Preset, Recipe, register_model, register_preset, register_recipe

register_model(
    "gru4rec",
    backbone="reczoo.models.gru4rec.gru4rec_backbone:GRU4RecBackbone",
    task="NextItem",
    family="recurrent",
    paper="Hidasi et al. Session-based Recommendations with Recurrent Neural Networks. ICLR 2016.",
    tags=("sequential", "next-item", "rnn"),
    description="A GRU over the history; each state scores the next item.",
    # One sampled negative trains a GRU far too slowly; full softmax is what
    # GRU4Rec+ and RecBole train it with.
    task_defaults={"loss": "ce"},
)

register_recipe(
    Recipe(
        "gru4rec/amazon-games", "gru4rec", "amazon-games", "sasrec",
        model_settings={"loss": "ce"},
        training={
            "embedding_dim": 50,
            "max_length": 50,
            "batch_size": 128,
            "epochs": 100,
            "patience": 3,
        },
        source="the SASRec paper's protocol and width, full softmax (GRU4Rec+)",
    )
)  # fmt: skip

# The built-in preset (`reczoo zoo build`), trained by the recipe above.
register_preset(
    Preset("gru4rec_amazon_games", "gru4rec", "amazon-games", "sasrec", "gru4rec/amazon-games",
           "ndcg@10", "GRU4Rec next-item model for Amazon video games.")
)  # fmt: skip
