"""xDeepFM: registration and recipes."""

from reczoo.models.procedures import BARS_DNN, BARS_TRAINING, l2
from reczoo.registry import Recipe, register_model, register_recipe

register_model(
    "xdeepfm",
    backbone="reczoo.models.xdeepfm.xdeepfm_backbone:XDeepFMBackbone",
    task="Ranker",
    family="factorization",
    paper="Lian et al. xDeepFM: Combining Explicit and Implicit Feature Interactions. KDD 2018.",
    tags=("ctr", "cin", "dnn"),
    description="Linear term, compressed interaction network and DNN, summed.",
)

# BARS xDeepFM_frappe_x1: one CIN layer of 64, embedding_regularizer 0.1.
for _dataset, _protocol in (("frappe", "bars_ctr"), ("frappe-x1", "bars_x1")):
    register_recipe(
        Recipe(
            f"xdeepfm/{_dataset}", "xdeepfm", _dataset, _protocol,
            model_settings={**BARS_DNN, "cin_layer_sizes": [64], "embeddings_regularizer": l2(0.05)},
            training=BARS_TRAINING, source="BARS xDeepFM_frappe_x1",
        )
    )  # fmt: skip
