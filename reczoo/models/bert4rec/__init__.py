"""BERT4Rec: registration and recipes."""

from reczoo.registry import register_model

register_model(
    "bert4rec",
    backbone="reczoo.models.bert4rec.bert4rec_backbone:BERT4RecBackbone",
    task="NextItem",
    family="attention",
    paper=(
        "Sun et al. BERT4Rec: Sequential Recommendation with Bidirectional Encoder "
        "Representations from Transformer. CIKM 2019."
    ),
    tags=("sequential", "next-item", "self-attention", "transformer", "bidirectional", "seq"),
    description="A bidirectional transformer trained to fill masked items of the history.",
    task_defaults={"loss": "ce"},
)

from reczoo.models.procedures import SASREC_GAMES_TRAINING  # noqa: E402
from reczoo.registry import Recipe, register_recipe  # noqa: E402

# The paper's shape (width 64, 2 blocks of 2 heads, dropout 0.1, history 50,
# batch 256, mask probability 0.6 as for Beauty, the closest of its datasets
# to Games) on SASRec's evaluation; Adam at 1e-3 instead of the paper's 1e-4
# over 400k steps, out of reach on 2 CPU cores.
register_recipe(
    Recipe(
        "bert4rec/amazon-games", "bert4rec", "amazon-games", "sasrec",
        model_settings={"loss": "ce", "dropout": 0.1, "mask_probability": 0.6,
                        "learning_rate": 1e-3},
        training={**SASREC_GAMES_TRAINING, "embedding_dim": 64, "batch_size": 256,
                  "epochs": 30, "eval_every": 2},
        source="the BERT4Rec paper's Beauty configuration on SASRec's Games protocol",
    )
)  # fmt: skip
