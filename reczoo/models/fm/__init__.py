"""FM: registration and recipes."""

from reczoo.models.procedures import BARS_SOURCE, BARS_TRAINING, RECENT_DEFAULTS, l2
from reczoo.registry import Recipe, register_model, register_recipe

register_model(
    "fm",
    backbone="reczoo.models.fm.fm_backbone:FMBackbone",
    task="Ranker",
    family="factorization",
    paper="Rendle. Factorization Machines. ICDM 2010.",
    tags=("ctr", "rating", "factorization-machine"),
    description="Bias, linear term and pairwise factorized interactions of all fields.",
    run_defaults=RECENT_DEFAULTS,  # its default run under leave-last-out
)

# BARS' FM_frappe_x1 regularisation (FuxiCTR 5e-6 on both terms).
_FRAPPE = {"embeddings_regularizer": l2(2.5e-6), "linear_regularizer": l2(2.5e-6)}
for _dataset, _protocol in (("frappe", "bars_ctr"), ("frappe-x1", "bars_x1")):
    register_recipe(
        Recipe(
            f"fm/{_dataset}", "fm", _dataset, _protocol,
            model_settings=_FRAPPE, training=BARS_TRAINING, source=BARS_SOURCE,
        )
    )  # fmt: skip
