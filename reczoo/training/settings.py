"""Run settings: a recipe's where one fits, else defaults that adapt to the data.

A recipe (`reczoo.registry.Recipe`) reproduces a published row: its
procedure counts epochs, as the paper or benchmark did. Without one, the
defaults must travel to any dataset, so they count what a model has seen:
evaluation every fixed number of examples, patience in evaluations, a step
budget, a constant learning rate, and sequence lengths from the data.
"""

import math

import numpy as np

from reczoo import registry

# Settings of the run itself; every other override goes to the model.
RUN_KEYS = (
    "batch_size",
    "embedding_dim",
    "train_negatives",
    "patience",
    "reduce_lr",
    "side_features",
    "eval_batch_size",
    "max_length",
    "bucket_by_length",
    "epochs",
    "eval_every",
    "eval_every_examples",
    "max_evaluations",
    "pretrain",
    # Next-item models learn only each user's last N training items, the
    # history before them context (fine-tuning on a later window); unset: all.
    "train_last_targets",
    # Rows in the shuffle buffer of a run on shards (memory is bounded by it).
    "shuffle_buffer",
)
# The base of every epoch-counted procedure (a recipe's, or `epochs=N`).
EPOCH_BASE = {
    "batch_size": 256,
    "embedding_dim": 16,
    "train_negatives": 4,
    "patience": 3,
    "reduce_lr": None,
    "side_features": False,
    "eval_batch_size": 8192,
    "max_length": 50,
    "bucket_by_length": True,
    "epochs": 20,
    "eval_every": 1,
}
# What differs by task kind: next-item models are the papers' width 50 at
# batch 128, with the history length taken from the data.
KIND_BASE = {
    "ranking": {},
    "next_item": {"batch_size": 128, "embedding_dim": 50, "max_length": None},
    "retrieval": {"batch_size": 1024, "embedding_dim": 32},
}
# Defaults without a recipe: evaluate every `eval_every_examples` training
# examples (pairs for ranking, histories for next-item), stop after
# `patience` evaluations without a gain or `max_evaluations` in all.
BY_EXAMPLES = {
    "ranking": {"eval_every_examples": 262_144, "max_evaluations": 40},
    "next_item": {"eval_every_examples": 32_768, "max_evaluations": 40},
    "retrieval": {"eval_every_examples": 262_144, "max_evaluations": 40},
}


def history_length(split, quantile=0.9, low=10, high=200):
    """A history length from the data: the `quantile` of the training
    histories' lengths, rounded up to a multiple of 10, within [low, high]."""
    lengths = np.array([len(h) for h in split.train.histories()[1:] if len(h)])
    if not len(lengths):
        return low
    value = math.ceil(np.quantile(lengths, quantile) / 10) * 10
    return int(min(high, max(low, value)))


def resolve(model, dataset_name, protocol, overrides, epochs=None, recipe=None):
    """The run settings, the model settings and the recipe that applied.

    Args:
        model: a registered model name.
        dataset_name, protocol: what the run trains on (names).
        overrides: settings given by the user (`--set`), run and model ones.
        epochs: epochs given by the user; counts the run in epochs.
        recipe: a recipe name, `"none"` to use no recipe, or None for the
            default recipe of (model, dataset, protocol), if any.

    Returns:
        `(settings, model_settings, recipe)`: run settings (with
        `max_length` possibly None, to be taken from the data), backbone /
        task / compile settings, and the `Recipe` or None.
    """
    entry = registry.model_info(model)
    if recipe == "none":
        found = None
    elif recipe is not None:
        found = registry.get_recipe(recipe)
        if found.model != model:
            raise ValueError(
                f"Recipe {found.name!r} is for model {found.model!r}. Received: model={model!r}"
            )
    else:
        found = registry.find_recipe(model, dataset_name, protocol)
    if found is not None:
        settings = {**EPOCH_BASE, **found.training}
        model_settings = dict(found.model_settings)
    else:
        settings = {**EPOCH_BASE, **KIND_BASE[entry.kind], **entry.run_defaults}
        if epochs is None and "epochs" not in overrides:
            settings.update(epochs=None, eval_every=None, **BY_EXAMPLES[entry.kind])
        model_settings = {}
    for key, value in overrides.items():
        (settings if key in RUN_KEYS else model_settings)[key] = value
    if epochs is not None:
        settings["epochs"] = epochs
    if settings.get("epochs") is not None:
        # A period longer than the run would train past the epochs asked for.
        settings["eval_every"] = min(settings.get("eval_every") or 1, settings["epochs"])
        settings.pop("eval_every_examples", None)
        settings.pop("max_evaluations", None)
    validate(settings)
    return settings, model_settings, found


def validate(settings):
    """Refuses settings that cannot train: named, before any data is read."""
    for key in ("batch_size", "epochs", "eval_every", "eval_every_examples", "max_evaluations"):
        value = settings.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{key}` must be a positive integer. Received: {key}={value!r}")
    if settings.get("pretrain") not in (None, True, False):
        raise ValueError(
            f"`pretrain` must be true or false. Received: pretrain={settings['pretrain']!r}"
        )
    if settings.get("patience") is not None and settings["patience"] < 1:
        raise ValueError(
            f"`patience` must be at least 1. Received: patience={settings['patience']}"
        )


def schedule(settings, steps_per_epoch):
    """`(steps per evaluation, evaluations at most)` for Keras `fit`.

    Each Keras epoch of the run is one evaluation period: `eval_every` data
    epochs under an epoch-counted procedure (the run's epochs rounded up to
    a multiple of it), else `eval_every_examples` examples.
    """
    if settings.get("epochs") is not None:
        every = settings["eval_every"]
        return every * steps_per_epoch, math.ceil(settings["epochs"] / every)
    steps = max(1, math.ceil(settings["eval_every_examples"] / settings["batch_size"]))
    return steps, settings["max_evaluations"]
