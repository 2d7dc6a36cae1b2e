"""reczoo: a Keras 3 model zoo for recommender systems.

Importing reczoo is cheap: the registry is loaded at once, and Keras and
TensorFlow only when a name that needs them is first used (PEP 562), so
`reczoo models` and `reczoo --help` answer in about a second.
"""

import importlib
import os as _os

# TensorFlow is the backend reczoo is tested on; respect a user's choice.
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from reczoo.registry import (
    Recipe,
    find_recipe,
    get_model,
    get_recipe,
    list_models,
    list_presets,
    list_recipes,
    model_info,
    register_model,
    register_presets,
    register_recipe,
)
from reczoo.version import __version__

# Every model folder registers itself (no Keras is imported).
import reczoo.models  # noqa: F401  isort: skip

_LAZY = {
    "Backbone": "reczoo.models.backbone",
    "RankingBackbone": "reczoo.models.backbone",
    "SequentialBackbone": "reczoo.models.backbone",
    "Task": "reczoo.models.task",
    "Ranker": "reczoo.models.ranker",
    "NextItem": "reczoo.models.next_item",
    "Retriever": "reczoo.models.retrieval",
    "Categorical": "reczoo.features",
    "FeatureEmbedding": "reczoo.features",
    "FeatureSpec": "reczoo.features",
    "MultiHot": "reczoo.features",
    "Numerical": "reczoo.features",
    "Sequence": "reczoo.features",
    "PresetError": "reczoo.presets",
    "from_preset": "reczoo.presets",
    "export": "reczoo.exporting",
    "save_to_preset": "reczoo.presets",
    "run": "reczoo.training",
    "finetune": "reczoo.training",
    "predict": "reczoo.training",
    "tune": "reczoo.training.tuning",
    "RunResult": "reczoo.training",
    "run_suite": "reczoo.benchmark",
}
_SUBMODULES = (
    "benchmark", "datasets", "features", "layers", "losses", "metrics", "models", "optimizers",
    "training",
)  # fmt: skip


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"reczoo.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'reczoo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


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
    "RankingBackbone",
    "Recipe",
    "Retriever",
    "RunResult",
    "Sequence",
    "SequentialBackbone",
    "Task",
    "__version__",
    "benchmark",
    "datasets",
    "export",
    "features",
    "find_recipe",
    "finetune",
    "from_preset",
    "get_model",
    "get_recipe",
    "layers",
    "list_models",
    "list_presets",
    "list_recipes",
    "losses",
    "metrics",
    "model_info",
    "models",
    "predict",
    "register_model",
    "register_presets",
    "register_recipe",
    "run",
    "run_suite",
    "save_to_preset",
    "training",
    "tune",
]
