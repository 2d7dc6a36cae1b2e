"""The public API that the site's reference documents, page by page.

One list serves the site's generator (`gen_pages.py`, through mkdocs-gen-files)
and the test that holds every name to the docstring style
(`tests/test_api_docs.py`). Each entry is the name a user calls; `defining`
finds the module that defines it (what mkdocstrings reads). Registered
backbones come from the registry, so a new model folder gets its section
without an edit here.
"""

import importlib

from reczoo.registry import list_models, model_info

TOP_LEVEL = (
    "get_model", "list_models", "model_info", "register_model", "Recipe", "get_recipe",
    "find_recipe", "list_recipes", "register_recipe", "run", "RunResult", "finetune", "predict",
    "tune", "from_preset", "save_to_preset", "list_presets", "register_presets", "PresetError",
    "export", "run_suite",
)  # fmt: skip
DATASETS = (
    "load", "list_datasets", "dataset_info", "load_interactions", "load_table", "infer",
    "Schema", "InteractionDataset", "CTRDataset", "split", "get_protocol", "DatasetError",
    "SchemaError",
)  # fmt: skip

# page -> (title, introduction, public names)
PAGES = {
    "reczoo": (
        "reczoo",
        "Models by name, training runs, presets and export: `import reczoo`.",
        [f"reczoo.{name}" for name in TOP_LEVEL],
    ),
    "features": (
        "reczoo.features",
        "The feature spec every model is built on, and the one embedding layer they share.",
        [
            f"reczoo.features.{name}"
            for name in (
                "FeatureSpec",
                "Categorical",
                "MultiHot",
                "Sequence",
                "Numerical",
                "FeatureEmbedding",
            )
        ],
    ),
    "tasks": (
        "Tasks",
        "A task wraps a backbone and owns its loss, metrics and `compile`; a backbone maps "
        "features to representations (the registered ones are on the "
        "[backbones](backbones.md) page).",
        [
            f"reczoo.{name}"
            for name in (
                "Ranker",
                "NextItem",
                "Retriever",
                "Task",
                "Backbone",
                "RankingBackbone",
                "SequentialBackbone",
            )
        ],
    ),
    "layers": ("reczoo.layers", "Interaction blocks the models share; each a Keras layer.", None),
    "losses": ("reczoo.losses", "The tasks' losses: Keras losses and functions.", None),
    "optimizers": (
        "reczoo.optimizers",
        "Optimizers for large embedding tables, beside Keras' own.",
        None,
    ),
    "metrics": (
        "reczoo.metrics",
        "Exact metrics on NumPy arrays, as the benchmark computes them.",
        None,
    ),
    "datasets": (
        "reczoo.datasets",
        "Public datasets by name, your own files, schemas and splits.",
        [f"reczoo.datasets.{name}" for name in DATASETS],
    ),
}


def entries(page):
    """The public names of one page (a package's `__all__` where none are listed)."""
    title, _, names = PAGES[page]
    if names is None:
        module = importlib.import_module(title)
        names = [f"{title}.{name}" for name in module.__all__]
    return names


def backbones():
    """{backbone class path: [models using it]} of the registry, in name order."""
    seen = {}
    for name in list_models():
        seen.setdefault(model_info(name).backbone_path.replace(":", "."), []).append(name)
    return seen


def resolve(public):
    """The object a public name (`reczoo.get_model`) gives."""
    module, _, attr = public.rpartition(".")
    return getattr(importlib.import_module(module), attr)


def defining(public):
    """The path where `public` is defined (`reczoo.registry.get_model`)."""
    obj = resolve(public)
    return f"{obj.__module__}.{obj.__qualname__}"


def public_names():
    """Every documented public name."""
    return [name for page in PAGES for name in entries(page)] + list(backbones())
