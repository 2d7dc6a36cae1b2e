"""AutoInt and AutoInt+: registration and recipes."""

from reczoo.models.procedures import (
    BARS_EMBEDDING_L2,
    BARS_SOURCE,
    BARS_TRAINING,
    l2,
)
from reczoo.registry import Preset, Recipe, register_model, register_preset, register_recipe

_PAPER = (
    "Song et al. AutoInt: Automatic Feature Interaction Learning via Self-Attentive Neural "
    "Networks. CIKM 2019."
)
register_model(
    "autoint",
    backbone="reczoo.models.autoint.autoint_backbone:AutoIntBackbone",
    task="Ranker",
    family="attention",
    paper=_PAPER,
    tags=("ctr", "self-attention"),
    description="Multi-head self-attention across fields with residuals.",
)
register_model(
    "autoint_plus",
    backbone="reczoo.models.autoint.autoint_backbone:AutoIntBackbone",
    task="Ranker",
    family="attention",
    paper=_PAPER,
    tags=("ctr", "self-attention", "dnn"),
    description="AutoInt+: AutoInt with a parallel DNN branch.",
    defaults={"dnn_hidden_units": (400, 400, 400)},
)

# The paper's default size (3 layers, 2 heads of 32): BARS' best Frappe AutoInt
# used 6 layers of width 128, about 2 minutes an epoch on a 2-core CPU.
_PAPER_SIZE = {"attention_dim": 64, "num_layers": 3, "num_heads": 2}
_PLUS_DNN = {"dnn_hidden_units": [400, 400, 400], "batch_norm": True, "dropout": 0.2}
# BARS' published AutoInt+_frappe_x1: 5 attention layers of 128 with 4 heads,
# scaled, layer norm (about 2 minutes an epoch on a 2-core CPU).
_PLUS_BARS = {
    "attention_dim": 128,
    "num_layers": 5,
    "num_heads": 4,
    "use_scale": True,
    "layer_norm": True,
    "dnn_hidden_units": [400, 400, 400],
    "batch_norm": True,
    "dropout": 0.1,
    "embeddings_regularizer": l2(0.05),
}
for _dataset, _protocol in (("frappe", "bars_ctr"), ("frappe-x1", "bars_x1")):
    register_recipe(
        Recipe(
            f"autoint/{_dataset}", "autoint", _dataset, _protocol,
            model_settings={**_PAPER_SIZE, "embeddings_regularizer": BARS_EMBEDDING_L2},
            training=BARS_TRAINING, source=f"{BARS_SOURCE}, at the paper's size",
        )
    )  # fmt: skip
register_recipe(
    Recipe(
        "autoint_plus/frappe", "autoint_plus", "frappe", "bars_ctr",
        model_settings={**_PAPER_SIZE, **_PLUS_DNN, "embeddings_regularizer": BARS_EMBEDDING_L2},
        training=BARS_TRAINING, source=f"{BARS_SOURCE}, attention at the paper's size",
    )
)  # fmt: skip
register_recipe(
    Recipe(
        "autoint_plus/frappe-x1", "autoint_plus", "frappe-x1", "bars_x1",
        model_settings=_PLUS_BARS, training=BARS_TRAINING,
        source="BARS AutoInt+_frappe_x1, as published",
    )
)  # fmt: skip

# The built-in preset (`reczoo zoo build`), trained by the recipe above.
register_preset(
    Preset("autoint_plus_frappe", "autoint_plus", "frappe-x1", "bars_x1",
           "autoint_plus/frappe-x1", "auc",
           "AutoInt+ (self-attention and DNN) click-through model for Frappe (BARS Frappe-x1).")
)  # fmt: skip
