"""DeepFM: registration and recipes."""

from reczoo.models import spaces
from reczoo.models.procedures import BARS_DNN, BARS_EMBEDDING_L2, BARS_SOURCE, BARS_TRAINING
from reczoo.registry import (
    Preset,
    Recipe,
    register_model,
    register_preset,
    register_recipe,
    register_search_space,
)

register_model(
    "deepfm",
    backbone="reczoo.models.deepfm.deepfm_backbone:DeepFMBackbone",
    task="Ranker",
    family="factorization",
    paper="Guo et al. DeepFM: A Factorization-Machine based Neural Network for CTR Prediction. IJCAI 2017.",
    tags=("ctr", "factorization-machine", "dnn"),
    description="FM and a DNN on shared field embeddings, logits summed.",
)

# Dropout 0.1 tied with BARS' 0.2 on frappe-x1 validation (benchmarks/TUNING.md).
for _dataset, _protocol in (("frappe", "bars_ctr"), ("frappe-x1", "bars_x1")):
    register_recipe(
        Recipe(
            f"deepfm/{_dataset}", "deepfm", _dataset, _protocol,
            model_settings={**BARS_DNN, "embeddings_regularizer": BARS_EMBEDDING_L2},
            training=BARS_TRAINING, source=BARS_SOURCE,
        )
    )  # fmt: skip

# The built-in preset (`reczoo zoo build`), trained by the recipe above.
register_preset(
    Preset("deepfm_frappe", "deepfm", "frappe-x1", "bars_x1", "deepfm/frappe-x1", "auc",
           "DeepFM click-through model for Frappe app usage (BARS Frappe-x1).")
)  # fmt: skip

# What `reczoo tune --model=deepfm` searches (reczoo.models.spaces).
register_search_space(
    "deepfm", {**spaces.RANKING, **spaces.DNN, "batch_norm": ("choice", [True, False])}
)
