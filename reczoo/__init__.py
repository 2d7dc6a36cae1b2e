"""reczoo: a Keras 3 model zoo for recommender systems."""

import os as _os

# TensorFlow is the backend reczoo is tested on; respect a user's choice.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from reczoo import datasets, layers, metrics, models
from reczoo.features import (
    Categorical,
    FeatureEmbedding,
    FeatureSpec,
    MultiHot,
    Numerical,
    Sequence,
)
from reczoo.models import Backbone, NextItem, Ranker, Task
from reczoo.presets import PresetError, from_preset, save_to_preset
from reczoo.registry import (
    get_model,
    list_models,
    list_presets,
    model_info,
    register_model,
    register_presets,
)
from reczoo.runner import run
from reczoo.version import __version__

__all__ = [
    "Backbone",
    "Categorical",
    "FeatureEmbedding",
    "FeatureSpec",
    "MultiHot",
    "NextItem",
    "Numerical",
    "PresetError",
    "Ranker",
    "Sequence",
    "Task",
    "__version__",
    "datasets",
    "from_preset",
    "get_model",
    "layers",
    "list_models",
    "list_presets",
    "metrics",
    "model_info",
    "models",
    "register_model",
    "register_presets",
    "run",
    "save_to_preset",
]
