"""Backbones and tasks. Each model folder below registers itself on import.

Adding a model touches no shared file: a new folder `reczoo/models/<name>/`
with `<name>_backbone.py` and an `__init__.py` that calls `register_model`
(and `register_recipe`) is imported here, and registers itself. Folders
import no Keras, so this stays cheap. Classes are loaded lazily:
`reczoo.models.DeepFMBackbone` imports its module on first use.
"""

import importlib
import pkgutil

for _folder in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _folder.ispkg:
        importlib.import_module(f"{__name__}.{_folder.name}")

_CLASSES = {
    "Backbone": "reczoo.models.backbone",
    "RankingBackbone": "reczoo.models.backbone",
    "SequentialBackbone": "reczoo.models.backbone",
    "Task": "reczoo.models.task",
    "Ranker": "reczoo.models.ranker",
    "NextItem": "reczoo.models.next_item",
    "BPRLoss": "reczoo.losses",
    "Retriever": "reczoo.models.retrieval",
    "CandidateIndex": "reczoo.models.retrieval",
    "Recommendations": "reczoo.models.topk",
}


def __getattr__(name):
    module = _CLASSES.get(name)
    if module is not None:
        return getattr(importlib.import_module(module), name)
    # A registered backbone class, by its class name.
    from reczoo import registry

    found = registry.backbone_class(name)
    if found is None:
        raise AttributeError(f"module 'reczoo.models' has no attribute {name!r}")
    return found
