"""SASRec: registration and recipes."""

from reczoo.models import spaces
from reczoo.models.procedures import ADAM_BETA2_098, SASREC_GAMES_TRAINING
from reczoo.registry import (
    Preset,
    Recipe,
    register_model,
    register_preset,
    register_recipe,
    register_search_space,
)

register_model(
    "sasrec",
    backbone="reczoo.models.sasrec.sasrec_backbone:SASRecBackbone",
    task="NextItem",
    family="attention",
    paper="Kang & McAuley. Self-Attentive Sequential Recommendation. ICDM 2018.",
    tags=("sequential", "next-item", "self-attention", "transformer"),
    description="Causal self-attention blocks over the history, tied item embeddings.",
)

register_recipe(
    Recipe(
        "sasrec/amazon-games", "sasrec", "amazon-games", "sasrec",
        model_settings={"optimizer": ADAM_BETA2_098},
        training=SASREC_GAMES_TRAINING,
        source="the SASRec paper's Games configuration and code (BCE, one negative)",
    )
)  # fmt: skip
# Full softmax over the catalogue (Klenitskiy & Vasilev, RecSys 2023).
register_recipe(
    Recipe(
        "sasrec-ce/amazon-games", "sasrec", "amazon-games", "sasrec",
        model_settings={"optimizer": ADAM_BETA2_098, "loss": "ce"},
        training={**SASREC_GAMES_TRAINING, "epochs": 30, "eval_every": 2},
        source="SASRec's configuration with full-softmax cross-entropy",
        default=False,
    )
)  # fmt: skip

# gSASRec's generalised BCE (Petrov & Macdonald, RecSys 2023): 256 negatives
# per history, calibration 0.75 (the paper's), dropout 0.6, the optimizer's
# weight averages scored and kept; chosen on validation NDCG@10 among the
# sampled-softmax, gBCE and schedule variants in benchmarks/TUNING.md.
register_recipe(
    Recipe(
        "sasrec-gbce/amazon-games", "sasrec", "amazon-games", "sasrec",
        model_settings={
            "optimizer": {"class_name": "Adam", "config": {
                **ADAM_BETA2_098["config"], "use_ema": True, "ema_momentum": 0.999}},
            "loss": "gbce", "num_negatives": 256, "gbce_calibration": 0.75, "dropout": 0.6,
        },
        training={**SASREC_GAMES_TRAINING, "eval_every": 2},
        source="SASRec with gSASRec's gBCE (256 negatives a history, t=0.75), dropout 0.6 and "
        "weight averages, tuned on validation (benchmarks/TUNING.md)",
        default=False,
    )
)  # fmt: skip

# The built-in preset (`reczoo zoo build`), trained by the recipe above.
register_preset(
    Preset("sasrec_amazon_games", "sasrec", "amazon-games", "sasrec", "sasrec/amazon-games",
           "ndcg@10", "SASRec next-item model for Amazon video games (SASRec's preprocessing).")
)  # fmt: skip

# What `reczoo tune --model=sasrec` searches (reczoo.models.spaces).
register_search_space(
    "sasrec",
    {**spaces.NEXT_ITEM, "num_blocks": ("choice", [1, 2, 3]), "loss": ("choice", ["bce", "ce"])},
)
