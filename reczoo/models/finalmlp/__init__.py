"""FinalMLP: registration and recipes."""

from reczoo.models.procedures import BARS_TRAINING, l2
from reczoo.registry import Recipe, register_model, register_recipe

register_model(
    "finalmlp",
    backbone="reczoo.models.finalmlp.finalmlp_backbone:FinalMLPBackbone",
    task="Ranker",
    family="cross",
    paper="Mao et al. FinalMLP: An Enhanced Two-Stream MLP Model for CTR Prediction. AAAI 2023.",
    tags=("ctr", "two-stream", "feature-gating", "bilinear-fusion", "dnn"),
    description="Two MLP streams on gated embeddings, fused by multi-head bilinear heads.",
)

# BARS FinalMLP_frappe_x1 (FuxiCTR 2.0.1, FinalMLP_frappe_x1_tuner_config_16,
# experiment 004): gates on the user (stream 1) and the item (stream 2) with
# one hidden layer of 400, streams [400] and [100] with batch norm and
# dropout 0.4, 5 fusion heads, embedding_regularizer 0.05; and FuxiCTR's
# embedding initialiser, normal with std 1e-4 (validation AUC 0.98545
# against 0.98320 with the zoo's uniform one; benchmarks/TUNING.md).
FRAPPE_X1 = {
    "stream1_units": [400],
    "stream2_units": [100],
    "stream1_dropout": 0.4,
    "stream2_dropout": 0.4,
    "batch_norm": True,
    "feature_selection": True,
    "selection_units": [400],
    "stream1_context": ["user"],
    "stream2_context": ["item"],
    "num_heads": 5,
    "embeddings_regularizer": l2(0.025),
    "embeddings_initializer": {"class_name": "RandomNormal", "config": {"stddev": 1e-4}},
}
register_recipe(
    Recipe(
        "finalmlp/frappe-x1", "finalmlp", "frappe-x1", "bars_x1",
        model_settings=FRAPPE_X1, training=BARS_TRAINING,
        source="BARS FinalMLP_frappe_x1 (FinalMLP_frappe_x1_tuner_config_16, 004); "
        "FuxiCTR's embedding initialiser, chosen on validation",
    )
)  # fmt: skip

# BARS' published FinalMLP runs on Criteo_x1 and Avazu_x1 (FuxiCTR 2.0.1;
# FinalMLP_criteo_x1_tuner_config_07, experiment 004, test AUC 0.814902;
# FinalMLP_avazu_x1_tuner_config_03, experiment 018, 0.766566), as their
# logs list the parameters, with FuxiCTR's embedding initialiser and its
# embedding of numbers (Criteo's I1-I13, each a vector times its value, in
# the streams and in stream 1's gate context). Not run here: the files are
# not on this machine (docs/guide.md).
_FUXICTR_INIT = FRAPPE_X1["embeddings_initializer"]
CRITEO_X1 = {
    "stream1_units": [400, 400, 400],
    "stream2_units": [1000],
    "stream1_dropout": 0.2,
    "stream2_dropout": 0.3,
    "batch_norm": True,
    "feature_selection": True,
    "selection_units": [800],
    "stream1_context": [f"I{i}" for i in range(1, 14)],
    "stream2_context": ["C6"],
    "num_heads": 200,
    "numerical_embedding": True,
    "embeddings_regularizer": l2(5e-6),
    "embeddings_initializer": _FUXICTR_INIT,
}
AVAZU_X1 = {
    "stream1_units": [400, 400, 400],
    "stream2_units": [800],
    "stream1_dropout": 0.3,
    "stream2_dropout": 0.3,
    "batch_norm": True,
    "feature_selection": True,
    "selection_units": [800],
    "stream1_context": [],
    "stream2_context": [],
    "num_heads": 10,
    "embeddings_regularizer": l2(0.025),
    "embeddings_initializer": _FUXICTR_INIT,
}
for _dataset, _settings, _config in (
    ("criteo-x1", CRITEO_X1, "FinalMLP_criteo_x1_tuner_config_07, 004"),
    ("avazu-x1", AVAZU_X1, "FinalMLP_avazu_x1_tuner_config_03, 018"),
):
    register_recipe(
        Recipe(
            f"finalmlp/{_dataset}", "finalmlp", _dataset, "bars_x1",
            model_settings=_settings, training=BARS_TRAINING,
            source=f"BARS FinalMLP_{_dataset.replace('-', '_')} ({_config}), as published",
        )
    )  # fmt: skip
