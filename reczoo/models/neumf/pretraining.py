"""NeuMF initialised from trained GMF and MLP models (NCF, Section 3.4.1).

The paper trains GMF and the MLP first, then starts NeuMF from their
weights: GMF's embeddings, the MLP's embeddings and tower, and the fused
output unit `h = [alpha * h_GMF ; (1 - alpha) * h_MLP]` (alpha = 0.5), the
bias likewise `alpha * b_GMF + (1 - alpha) * b_MLP`. Before any training
NeuMF's logit is then `alpha * logit_GMF + (1 - alpha) * logit_MLP`.
"""

import inspect

import numpy as np

# NeuMF's settings that name a trained model, and the registered model each must be.
PRETRAINED = {"pretrained_gmf": "gmf", "pretrained_mlp": "mlp"}


def _load(task_or_preset, setting):
    if isinstance(task_or_preset, str) or hasattr(task_or_preset, "__fspath__"):
        from reczoo.presets import from_preset

        return from_preset(task_or_preset, compile=False)
    if not hasattr(task_or_preset, "backbone"):
        raise TypeError(
            f"`{setting}` is a preset folder or a trained task. Received: "
            f"{type(task_or_preset).__name__}"
        )
    return task_or_preset


def _check(source, expected_class, setting, backbone):
    found = type(source.backbone).__name__
    if found != expected_class:
        raise ValueError(
            f"`{setting}` must be a trained {expected_class[:-8]} model; it holds a {found}."
        )
    if source.objective != "binary":
        raise ValueError(
            f"`{setting}` must be trained with objective='binary' (NeuMF's log loss); "
            f"it was trained with objective={source.objective!r}."
        )
    names = {backbone.user_feature, backbone.item_feature}
    if set(source.feature_spec.names) != names:
        raise ValueError(
            f"`{setting}` must read the ids {sorted(names)} alone, as NeuMF does. "
            f"It reads {source.feature_spec.names}."
        )


def _copy(target, source, what, setting):
    weights = source.get_weights()
    shapes = [w.shape for w in weights]
    wanted = [tuple(v.shape) for v in target.weights]
    if shapes != wanted:
        raise ValueError(
            f"`{setting}`: its {what} has weights of shapes {shapes}, NeuMF's {wanted}. Train "
            "it with NeuMF's sizes (embedding_dim, mlp_embedding_dim, hidden_units) and on "
            "the same data."
        )
    target.set_weights(weights)


def initialize(task, pretrained_gmf=None, pretrained_mlp=None, pretrain_alpha=0.5):
    """Sets a NeuMF task's weights from a trained GMF and a trained MLP.

    Args:
        task: a NeuMF `Ranker`.
        pretrained_gmf: a GMF preset folder (`reczoo train --model=gmf
            --output=DIR`) or a trained GMF task.
        pretrained_mlp: an MLP preset folder or a trained MLP task, with the
            tower and embedding width of NeuMF's MLP part.
        pretrain_alpha: the weight of GMF in the fused output unit.

    Returns:
        The task.
    """
    if pretrained_gmf is None and pretrained_mlp is None:
        return task
    if pretrained_gmf is None or pretrained_mlp is None:
        raise ValueError(
            "NeuMF's pre-training starts from both a trained GMF and a trained MLP: give "
            "both `pretrained_gmf` and `pretrained_mlp`."
        )
    if not 0.0 <= pretrain_alpha <= 1.0:
        raise ValueError(f"`pretrain_alpha` must be in [0, 1]. Received: {pretrain_alpha}")
    backbone = task.backbone
    gmf = _load(pretrained_gmf, "pretrained_gmf")
    mlp = _load(pretrained_mlp, "pretrained_mlp")
    _check(gmf, "GMFBackbone", "pretrained_gmf", backbone)
    _check(mlp, "MLPBackbone", "pretrained_mlp", backbone)
    gmf_tables = gmf.backbone.get_layer("feature_embedding")
    mlp_tables = mlp.backbone.get_layer("feature_embedding")
    for name in (backbone.user_feature, backbone.item_feature):
        table = task.feature_spec[name].table_name
        _copy(
            backbone.get_layer("gmf_embedding").embedding_table(table),
            gmf_tables.embedding_table(gmf.feature_spec[name].table_name),
            f"{name} embedding",
            "pretrained_gmf",
        )
        _copy(
            backbone.get_layer("mlp_embedding").embedding_table(table),
            mlp_tables.embedding_table(mlp.feature_spec[name].table_name),
            f"{name} embedding",
            "pretrained_mlp",
        )
    if mlp.backbone.batch_norm:
        raise ValueError("`pretrained_mlp` has batch normalisation, which NeuMF's tower lacks.")
    _copy(backbone.get_layer("tower"), mlp.backbone.get_layer("tower"), "tower", "pretrained_mlp")
    (h_gmf, b_gmf), (h_mlp, b_mlp) = gmf.head.get_weights(), mlp.head.get_weights()
    kernel = np.concatenate([pretrain_alpha * h_gmf, (1.0 - pretrain_alpha) * h_mlp], axis=0)
    bias = pretrain_alpha * b_gmf + (1.0 - pretrain_alpha) * b_mlp
    if kernel.shape != tuple(task.head.kernel.shape):
        raise ValueError(
            f"The fused output unit would be {kernel.shape}; NeuMF's is "
            f"{tuple(task.head.kernel.shape)}."
        )
    task.head.set_weights([kernel, bias])
    return task


def pretraining_runs(settings, model_settings):
    """The GMF and MLP runs that `pretrain=True` trains before NeuMF, with
    NeuMF's sizes: `[(setting, model, overrides)]`."""
    from reczoo.models.neumf.neumf_backbone import NeuMFBackbone

    defaults = inspect.signature(NeuMFBackbone).parameters
    width = model_settings.get("mlp_embedding_dim") or settings["embedding_dim"]
    hidden = model_settings.get("hidden_units", defaults["hidden_units"].default)
    return [
        ("pretrained_gmf", "gmf", {"embedding_dim": settings["embedding_dim"]}),
        ("pretrained_mlp", "mlp", {"embedding_dim": width, "hidden_units": list(hidden)}),
    ]
