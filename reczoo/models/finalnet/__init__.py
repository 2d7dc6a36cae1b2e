"""FinalNet (FINAL): registration and recipes."""

from reczoo.models.procedures import BARS_TRAINING, l2
from reczoo.registry import Recipe, register_model, register_recipe

register_model(
    "finalnet",
    backbone="reczoo.models.finalnet.finalnet_backbone:FinalNetBackbone",
    task="Ranker",
    family="cross",
    paper="Zhu et al. FINAL: Factorized Interaction Layer for CTR Prediction. SIGIR 2023.",
    tags=("ctr", "factorized-interaction", "field-gate", "distillation"),
    description="Factorized interaction blocks; two blocks averaged and distilled into each other.",
)

# BARS FINAL_2B_frappe_x1 (FuxiCTR 2.0.2, FINAL_2B_frappe_x1_tuner_config_02,
# experiment 003): two blocks, [400, 400] behind a field gate and [400],
# dropout 0.1, batch norm, ReLU, embedding_regularizer 0.1; with the
# factorized layers' "sum" residual, h2 + h1 * h2, where the published run
# kept FuxiCTR's default "concat": validation AUC 0.98618 and 0.98590 at
# seeds 0 and 1 against 0.98573 and 0.98382 (benchmarks/TUNING.md).
FRAPPE_X1 = {
    "num_blocks": 2,
    "block1_units": [400, 400],
    "block2_units": [400],
    "block1_dropout": 0.1,
    "block2_dropout": 0.1,
    "batch_norm": True,
    "field_gate": True,
    "residual": "sum",
    "embeddings_regularizer": l2(0.05),
}
register_recipe(
    Recipe(
        "finalnet/frappe-x1", "finalnet", "frappe-x1", "bars_x1",
        model_settings=FRAPPE_X1, training=BARS_TRAINING,
        source="BARS FINAL_2B_frappe_x1 (FINAL_2B_frappe_x1_tuner_config_02, 003); "
        "the sum residual, chosen on validation",
    )
)  # fmt: skip
