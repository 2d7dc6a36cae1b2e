"""IPNN and OPNN: registration and recipes."""

from reczoo.models.procedures import BARS_DNN, BARS_EMBEDDING_L2, BARS_SOURCE, BARS_TRAINING
from reczoo.registry import Recipe, register_model, register_recipe

_PAPER = "Qu et al. Product-based Neural Networks for User Response Prediction. ICDM 2016."
register_model(
    "ipnn",
    backbone="reczoo.models.pnn.pnn_backbone:PNNBackbone",
    task="Ranker",
    family="product",
    paper=_PAPER,
    tags=("ctr", "pnn", "product"),
    description="Inner products of all field pairs, with the embeddings, into a DNN.",
    defaults={"product": "inner"},
)
register_model(
    "opnn",
    backbone="reczoo.models.pnn.pnn_backbone:PNNBackbone",
    task="Ranker",
    family="product",
    paper=_PAPER,
    tags=("ctr", "pnn", "product"),
    description="Outer product of the summed field embeddings (superposition form) into a DNN.",
    defaults={"product": "outer"},
)

for _model in ("ipnn", "opnn"):
    for _dataset, _protocol in (("frappe", "bars_ctr"), ("frappe-x1", "bars_x1")):
        register_recipe(
            Recipe(
                f"{_model}/{_dataset}", _model, _dataset, _protocol,
                model_settings={**BARS_DNN, "embeddings_regularizer": BARS_EMBEDDING_L2},
                training=BARS_TRAINING, source=BARS_SOURCE,
            )
        )  # fmt: skip
