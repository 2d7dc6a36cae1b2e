"""CL4SRec: registration and recipes."""

from reczoo.registry import Preset, register_model, register_preset

register_model(
    "cl4srec",
    backbone="reczoo.models.cl4srec.cl4srec_backbone:CL4SRecBackbone",
    task="NextItem",
    family="contrastive",
    paper="Xie et al. Contrastive Learning for Sequential Recommendation. ICDE 2022.",
    tags=("sequential", "next-item", "self-attention", "contrastive", "seq"),
    description=(
        "SASRec's encoder trained with the next-item loss plus InfoNCE between two "
        "augmentations (crop, mask, reorder) of each sequence."
    ),
    # InfoNCE on cosine similarity at temperature 0.2 (SimCLR's form), not
    # the dot product at 1: the dot product slowed learning several-fold on
    # Games (benchmarks/TUNING.md), and the default run on MovieLens-100K's
    # u.data (loo_full) ended below popularity (HR@10 0.082 against 0.084;
    # 0.175 on cosine at 0.2).
    task_defaults={"loss": "ce", "contrastive_weight": 0.1, "contrastive_similarity": "cos",
                   "contrastive_temperature": 0.2},
)  # fmt: skip

from reczoo.models.procedures import ADAM_BETA2_098, SASREC_GAMES_TRAINING  # noqa: E402
from reczoo.registry import Recipe, register_recipe  # noqa: E402

# sasrec-ce's procedure (SASRec's Games configuration with the full softmax,
# evaluation every 2 epochs, at most 30), plus CL4SRec's contrastive term at
# the paper's weight 0.1 and the usual augmentation ratios, on cosine
# similarity at temperature 0.2: dot products at temperature 1 slowed
# learning several-fold on a Games subset (benchmarks/TUNING.md).
register_recipe(
    Recipe(
        "cl4srec/amazon-games", "cl4srec", "amazon-games", "sasrec",
        model_settings={"optimizer": ADAM_BETA2_098, "loss": "ce", "contrastive_weight": 0.1,
                        "contrastive_similarity": "cos", "contrastive_temperature": 0.2},
        training={**SASREC_GAMES_TRAINING, "epochs": 30, "eval_every": 2},
        source="CL4SRec's objective on SASRec's Games configuration (full softmax)",
    )
)  # fmt: skip

# The built-in preset (`reczoo zoo build`), trained by the recipe above.
register_preset(
    Preset("cl4srec_amazon_games", "cl4srec", "amazon-games", "sasrec",
           "cl4srec/amazon-games", "ndcg@10",
           "CL4SRec (SASRec with sequence contrast) next-item model for Amazon video games.")
)  # fmt: skip
