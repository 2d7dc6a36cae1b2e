"""The model, recipe and preset registries: one dict each, filled at import.

Each model folder under `reczoo/models/` registers itself when the
`reczoo.models` package is imported, which `import reczoo` does; the
registry imports no model.

Cheap to import: nothing here imports Keras or TensorFlow. A model entry
names its backbone and task classes as `"module:Class"` strings, and they are
imported only when a model is built (`get_model`), so `reczoo models` and
`reczoo recipes` answer without loading TensorFlow.
"""

import dataclasses
import difflib
import fnmatch
import importlib
import inspect
import json
from pathlib import Path

_MODELS = {}
_RECIPES = {}
_PRESETS = {}

_COMPILE_KEYS = (
    "optimizer", "loss", "metrics", "learning_rate", "jit_compile", "steps_per_execution",
)  # fmt: skip
_TASKS = {
    "Ranker": "reczoo.models.ranker:Ranker",
    "NextItem": "reczoo.models.next_item:NextItem",
    "Retriever": "reczoo.models.retrieval:Retriever",
}


def _lookup(table, name, what, known):
    """`table[name]`, or an error suggesting close names and listing all."""
    found = table.get(name)
    if found is None:
        close = difflib.get_close_matches(str(name), list(table), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(f"Unknown {what} {name!r}.{hint} {known}: {sorted(table)}")
    return found


def _import(path):
    """`module:Class`, imported with Python's and numpy's global random
    states left as they were: importing keras-rs draws from them, and a model
    built after `keras.utils.set_random_seed` must get the same weights
    whether or not its module was imported before."""
    import random

    import numpy as np

    module, _, name = path.partition(":")
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        return getattr(importlib.import_module(module), name)
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """What the registry knows of one model.

    `defaults` are backbone arguments and `task_defaults` task arguments,
    both overridable by `get_model`. `run_defaults` are run settings that
    belong to the model itself (Caser's window of 5 items), applied where no
    recipe fits; a `recent_weight` among them only to the default run (no
    epochs given) under a leave-last-out protocol. `initializer`
    (`"module:function"`) sets a built task's weights from the settings it
    names (`init_settings`), such as NeuMF's trained GMF and MLP;
    `pretraining` (`"module:function"`) names the runs that train those
    first (`reczoo train --set=pretrain=true`).
    """

    name: str
    backbone_path: str
    task_name: str
    family: str
    paper: str
    tags: tuple = ()
    description: str = ""
    defaults: dict = dataclasses.field(default_factory=dict)
    task_defaults: dict = dataclasses.field(default_factory=dict)
    compile_defaults: dict = dataclasses.field(default_factory=dict)
    run_defaults: dict = dataclasses.field(default_factory=dict)
    initializer: str = ""
    init_settings: tuple = ()
    pretraining: str = ""

    @property
    def backbone(self):
        """The backbone class (imports it, and so Keras)."""
        return _import(self.backbone_path)

    @property
    def task(self):
        """The task class (imports it, and so Keras)."""
        return _import(_TASKS[self.task_name])

    @property
    def kind(self):
        """`"ranking"`, `"next_item"` or `"retrieval"`: which training plan fits the task."""
        return {"Ranker": "ranking", "NextItem": "next_item", "Retriever": "retrieval"}[
            self.task_name
        ]


def register_model(
    name,
    *,
    backbone,
    task,
    family,
    paper,
    tags=(),
    description="",
    defaults=None,
    task_defaults=None,
    compile_defaults=None,
    run_defaults=None,
    initializer="",
    init_settings=(),
    pretraining="",
):
    """Registers a model under `name`; a name can be registered once.

    Args:
        name: the registry name (`reczoo.get_model(name, ...)`).
        backbone: the backbone class as `"module:Class"`, imported when the
            model is first built.
        task: `"Ranker"`, `"NextItem"` or `"Retriever"`.
        family: the family `reczoo models` groups it in.
        paper: the paper it reproduces.
        tags: words `list_models` patterns also match.
        description: one line for `reczoo models`.
        defaults: arguments of the backbone.
        task_defaults: arguments of the task.
        compile_defaults: arguments of `compile`.
        run_defaults: run settings intrinsic to the architecture.
        initializer: `"module:function"` called as `function(task,
            **init_args)` on a built task, with the `init_settings` given.
        init_settings: settings that go to `initializer`.
        pretraining: `"module:function"` giving, for `(run settings, model
            settings)`, the runs `[(init setting, model, overrides)]` whose
            presets the initializer reads.

    Returns:
        The new `ModelEntry`.

    Raises:
        ValueError: the name is taken, `task` is unknown, or `backbone` is
            not a `"module:Class"` string.

    Example:
        ```python
        reczoo.register_model(
            "my_deepfm",
            backbone="reczoo.models.deepfm.deepfm_backbone:DeepFMBackbone",
            task="Ranker",
            family="factorization",
            paper="Guo et al. DeepFM. IJCAI 2017.",
            defaults={"hidden_units": (64, 64)},
        )
        assert "my_deepfm" in reczoo.list_models("my_*")
        ```
    """
    if name in _MODELS:
        raise ValueError(f"A model named {name!r} is already registered.")
    if task not in _TASKS:
        raise ValueError(f"`task` must be one of {sorted(_TASKS)}. Received: task={task!r}")
    if not isinstance(backbone, str) or ":" not in backbone:
        raise ValueError(
            f"`backbone` is the class as 'module:Class', imported lazily. Received: {backbone!r}"
        )
    _MODELS[name] = ModelEntry(
        name=name,
        backbone_path=backbone,
        task_name=task,
        family=family,
        paper=paper,
        tags=tuple(tags),
        description=description,
        defaults=dict(defaults or {}),
        task_defaults=dict(task_defaults or {}),
        compile_defaults=dict(compile_defaults or {}),
        run_defaults=dict(run_defaults or {}),
        initializer=initializer,
        init_settings=tuple(init_settings),
        pretraining=pretraining,
    )
    return _MODELS[name]


def list_models(pattern="*"):
    """Sorted names of registered models whose name, family or a tag matches `pattern`.

    Args:
        pattern: a shell wildcard (`*`, `?`, `[...]`), case-insensitive.

    Returns:
        A sorted list of model names.

    Example:
        ```python
        reczoo.list_models("*fm*")   # ['deepfm', 'fm', 'xdeepfm']
        reczoo.list_models("ctr")    # the models tagged 'ctr'
        ```
    """
    pattern = pattern.lower()
    return sorted(
        name
        for name, entry in _MODELS.items()
        if fnmatch.fnmatchcase(name.lower(), pattern)
        or any(fnmatch.fnmatchcase(t.lower(), pattern) for t in (entry.family, *entry.tags))
    )


def model_info(name):
    """What the registry knows of a registered model.

    Args:
        name: a registered model name.

    Returns:
        Its `ModelEntry`: `family`, `paper`, `tags`, `description`,
        `task_name`, `backbone_path` and default arguments.

    Raises:
        ValueError: `name` is not registered.

    Example:
        ```python
        info = reczoo.model_info("sasrec")
        print(info.family, info.task_name, info.paper)
        ```
    """
    return _lookup(_MODELS, name, "model", "Registered models")


def backbone_class(class_name):
    """A registered backbone class by its class name (`"DeepFMBackbone"`), or None."""
    for entry in _MODELS.values():
        if entry.backbone_path.rpartition(":")[2] == class_name:
            return entry.backbone
    return None


def load_backbones():
    """Imports every registered backbone and task class, so that Keras can
    deserialize any of them (presets, `keras.saving.load_model`)."""
    for entry in _MODELS.values():
        _ = entry.backbone
    for path in _TASKS.values():
        _import(path)


def _parameters(fn):
    return {
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
    }


def route_settings(name, overrides):
    """Splits `overrides` into backbone, task, compile and initializer
    arguments of model `name`.

    An unknown name is an error listing the accepted ones.
    """
    entry = model_info(name)
    backbone_keys = _parameters(entry.backbone.__init__) - {"feature_spec"}
    task_keys = _parameters(entry.task.__init__) - {"backbone"}
    backbone_args = dict(entry.defaults)
    task_args = dict(entry.task_defaults)
    compile_args = dict(entry.compile_defaults)
    init_args = {}
    for key, value in overrides.items():
        if key in backbone_keys:
            backbone_args[key] = value
        elif key in task_keys:
            task_args[key] = value
        elif key in _COMPILE_KEYS:
            compile_args[key] = value
        elif key in entry.init_settings:
            init_args[key] = value
        else:
            accepted = sorted(
                backbone_keys | task_keys | set(_COMPILE_KEYS) | set(entry.init_settings)
            )
            raise TypeError(
                f"Model {name!r} has no setting {key!r}. Received: {key}={value!r}. "
                f"Accepted: {accepted}"
            )
    return backbone_args, task_args, compile_args, init_args


def get_model(name, feature_spec, compile=True, **overrides):
    """Builds the registered model `name` on `feature_spec`, compiled.

    Each override goes where its name belongs: backbone arguments
    (`hidden_units`, `dropout`, `dtype`, ...), task arguments (`objective`,
    `loss`) or compile arguments (`learning_rate`, `optimizer`, `loss`,
    `metrics`, `jit_compile`).

    Args:
        name: a registered model name (`reczoo.list_models()`).
        feature_spec: a `reczoo.FeatureSpec`, or a list of features.
        compile: compile the task with its default loss, metrics and
            optimizer (and the compile overrides).
        **overrides: backbone, task, compile and initializer arguments.

    Returns:
        The task (`Ranker`, `NextItem` or `Retriever`) around the backbone: a
        `keras.Model` ready to `fit`.

    Raises:
        ValueError: `name` is not registered (the error lists close names).
        TypeError: an override that no part of the model takes (the error
            lists the accepted ones).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=8),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=8),
        ])
        model = reczoo.get_model("deepfm", feature_spec=spec, hidden_units=[32, 16])
        features = {"user": np.array([[1], [2]]), "item": np.array([[3], [4]])}
        model.fit(features, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
        ```
    """
    from reczoo.features import FeatureSpec

    entry = model_info(name)
    spec = feature_spec if isinstance(feature_spec, FeatureSpec) else FeatureSpec(feature_spec)
    backbone_args, task_args, compile_args, init_args = route_settings(name, overrides)
    backbone = entry.backbone(spec, **backbone_args)
    model = entry.task(backbone, **task_args)
    if init_args:
        _import(entry.initializer)(model, **init_args)
    if compile:
        model.compile(**compile_args)
    return model


# --- recipes -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Recipe:
    """The settings and training procedure behind one published result row.

    Attributes:
        name: unique, such as `"deepfm/frappe-x1"`; a variant adds a suffix
            (`"sasrec-ce/amazon-games"`).
        model: the registered model it trains.
        dataset: the dataset it trains on.
        protocol: the split and evaluation (`reczoo.datasets.get_protocol`).
        model_settings: backbone, task and compile arguments (`hidden_units`,
            `loss`, `optimizer`, ...).
        training: run settings (`batch_size`, `embedding_dim`, `epochs`,
            `eval_every`, `patience`, `reduce_lr`, `max_length`, ...).
        source: where the settings come from (a paper, BARS, a tuning run).
        default: whether `reczoo train --model --dataset --protocol` picks it
            when no recipe is named; one default per (model, dataset,
            protocol).

    Example:
        ```python
        recipe = reczoo.get_recipe("deepfm/frappe-x1")
        print(recipe.source, recipe.settings["batch_size"])
        ```
    """

    name: str
    model: str
    dataset: str
    protocol: str
    model_settings: dict = dataclasses.field(default_factory=dict)
    training: dict = dataclasses.field(default_factory=dict)
    source: str = ""
    default: bool = True

    @property
    def settings(self):
        """Training and model settings in one dict, as `reczoo.run` takes them."""
        return {**self.training, **self.model_settings}

    def to_dict(self):
        return dataclasses.asdict(self)


def register_recipe(recipe):
    """Registers a `Recipe`; names are unique, and so is the default per key.

    Args:
        recipe: the `reczoo.Recipe`.

    Returns:
        The recipe.

    Raises:
        ValueError: its name is taken, or another recipe is already the
            default of its (model, dataset, protocol).

    Example:
        ```python
        recipe = reczoo.Recipe(
            "deepfm-wide/frappe-x1", "deepfm", "frappe-x1", "bars_x1",
            model_settings={"hidden_units": (800, 800)}, training={"batch_size": 4096},
            source="a wider DNN", default=False,
        )
        reczoo.register_recipe(recipe)
        ```
    """
    if recipe.name in _RECIPES:
        raise ValueError(f"A recipe named {recipe.name!r} is already registered.")
    if recipe.default:
        clash = find_recipe(recipe.model, recipe.dataset, recipe.protocol)
        if clash is not None:
            raise ValueError(
                f"Recipes {clash.name!r} and {recipe.name!r} are both the default for "
                f"({recipe.model}, {recipe.dataset}, {recipe.protocol}); mark one default=False."
            )
    _RECIPES[recipe.name] = recipe
    return recipe


def find_recipe(model, dataset, protocol):
    """The default recipe of (model, dataset, protocol), or None.

    Args:
        model: a registered model name.
        dataset: a dataset name.
        protocol: a protocol name.

    Returns:
        The default `Recipe` of that key, or None when none is registered.

    Example:
        ```python
        recipe = reczoo.find_recipe("sasrec", "amazon-games", "sasrec")
        print(recipe.name)  # sasrec/amazon-games
        ```
    """
    for recipe in _RECIPES.values():
        if recipe.default and (recipe.model, recipe.dataset, recipe.protocol) == (
            model,
            dataset,
            protocol,
        ):
            return recipe
    return None


def get_recipe(name):
    """The recipe named `name`.

    Args:
        name: a recipe name (`reczoo.list_recipes()`).

    Returns:
        The `Recipe`.

    Raises:
        ValueError: no recipe has that name (the error lists close names).

    Example:
        ```python
        recipe = reczoo.get_recipe("deepfm/frappe-x1")
        ```
    """
    return _lookup(_RECIPES, name, "recipe", "Recipes")


def recipe_from_file(path):
    """The `Recipe` in a JSON file (`reczoo tune` writes one: `model`,
    `dataset`, `protocol`, `training`, `model_settings`, `source`), named by
    its path, so that a run's command names the file; an error naming what
    is wrong with it."""
    try:
        fields = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        raise ValueError(f"Recipe file {str(path)!r} cannot be read: {error}") from None
    if not isinstance(fields, dict):
        raise ValueError(f"Recipe file {str(path)!r} must hold a JSON object.")
    known = {f.name for f in dataclasses.fields(Recipe)} - {"name", "default"}
    unknown = sorted(set(fields) - known - {"name", "default"})
    missing = sorted({"model", "dataset", "protocol"} - set(fields))
    problems = [f"unknown fields {unknown}"] if unknown else []
    problems += [f"missing fields {missing}"] if missing else []
    if problems:
        raise ValueError(
            f"Recipe file {str(path)!r}: {'; '.join(problems)}. Its fields: {sorted(known)}."
        )
    return Recipe(name=str(path), default=False, **{k: v for k, v in fields.items() if k in known})


_SEARCH_SPACES = {}


def register_search_space(model, space):
    """Declares what `reczoo tune` searches for `model`: `{setting: how it is
    drawn}` (`reczoo.models.spaces`), beside the model's recipes."""
    if model in _SEARCH_SPACES:
        raise ValueError(f"A search space for {model!r} is already registered.")
    _SEARCH_SPACES[model] = dict(space)


def search_space(model):
    """The search space of `model`: its own, or its task kind's default
    (`reczoo.models.spaces.DEFAULTS`)."""
    from reczoo.models import spaces

    entry = model_info(model)
    return dict(_SEARCH_SPACES.get(model) or spaces.DEFAULTS[entry.kind])


def list_recipes(pattern="*"):
    """Sorted names of recipes whose name, model, dataset or protocol matches `pattern`.

    Args:
        pattern: a shell wildcard, case-insensitive.

    Returns:
        A sorted list of recipe names.

    Example:
        ```python
        reczoo.list_recipes("frappe-x1")  # every recipe on Frappe_x1
        ```
    """
    pattern = pattern.lower()
    return sorted(
        name
        for name, r in _RECIPES.items()
        if any(
            fnmatch.fnmatchcase(v.lower(), pattern) for v in (name, r.model, r.dataset, r.protocol)
        )
    )


# --- presets -----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Preset:
    """How a built-in preset is made; its model folder declares it.

    Attributes:
        name: the preset's name (`reczoo.from_preset(name)`).
        model, dataset, protocol, recipe: what `reczoo.run` trains.
        metric: the test metric the storage choice and `reczoo presets` use.
        description: one line for `reczoo presets` and the zoo page.
        seed: the run's seed.
    """

    name: str
    model: str
    dataset: str
    protocol: str
    recipe: str
    metric: str
    description: str
    seed: int = 0

    @property
    def command(self):
        return f"reczoo zoo build {self.name}"


_BUILT_IN = {}


def register_preset(preset):
    """Declares a built-in preset (a `Preset`): `reczoo zoo build NAME` trains
    it from its recipe into `reczoo/pretrained/`."""
    if preset.name in _BUILT_IN:
        raise ValueError(f"A built-in preset named {preset.name!r} is already declared.")
    if preset.recipe not in _RECIPES:
        raise ValueError(f"Preset {preset.name!r} names an unknown recipe {preset.recipe!r}.")
    _BUILT_IN[preset.name] = preset
    return preset


def built_in_preset(name):
    """The `Preset` declaration of a built-in preset, by name."""
    if name not in _BUILT_IN:
        close = difflib.get_close_matches(name, _BUILT_IN, n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise ValueError(f"Unknown zoo preset {name!r}.{hint} Zoo presets: {sorted(_BUILT_IN)}")
    return _BUILT_IN[name]


def list_built_in_presets():
    """Names of the declared built-in presets."""
    return sorted(_BUILT_IN)


def register_presets(presets):
    """Registers presets by name, so that `from_preset(name)` finds them.

    Args:
        presets: `{name: info}`, where info has `"model"` and either `"url"`
            and `"sha256"` (an archive made by `pack_preset`) or `"path"` and
            `"metadata_sha256"` (a folder, and the sha256 its `metadata.json`
            must have); `"description"` and `"metrics"` are shown by
            `reczoo presets`.

    Raises:
        ValueError: an entry lacks a field, or a name is taken.

    Example:
        ```python
        reczoo.register_presets({
            "shop_ranker": {
                "model": "deepfm",
                "url": "https://example.com/shop_ranker.tar.gz",
                "sha256": "0" * 64,
                "description": "DeepFM on the shop's click log",
            }
        })
        ```
    """
    for name, info in presets.items():
        where = ({"path", "metadata_sha256"} if "path" in info else {"url", "sha256"}) | {"model"}
        missing = where - set(info)
        if missing:
            raise ValueError(f"Preset {name!r} lacks {sorted(missing)}. Received: {info}")
        if name in _PRESETS:
            raise ValueError(f"A preset named {name!r} is already registered.")
        _PRESETS[name] = dict(info)


# The built-in presets live in the package: `reczoo/pretrained/<name>/`,
# listed with their metadata's sha256 in `reczoo/pretrained/index.json`
# (written by `reczoo zoo build`).
PRETRAINED_DIR = Path(__file__).parent / "pretrained"
_BUILTIN_LOADED = False


def _load_builtin_presets():
    global _BUILTIN_LOADED
    if _BUILTIN_LOADED:
        return
    _BUILTIN_LOADED = True
    index = PRETRAINED_DIR / "index.json"
    if not index.is_file():
        return
    for name, info in json.loads(index.read_text()).items():
        if name not in _PRESETS:
            _PRESETS[name] = {**info, "path": str(PRETRAINED_DIR / name), "builtin": True}


def list_presets(pattern="*"):
    """Sorted names of the presets that `from_preset` finds by name.

    Args:
        pattern: a shell wildcard over preset names.

    Returns:
        A sorted list of names: the built-in presets and the registered ones.

    Example:
        ```python
        reczoo.list_presets("*frappe*")  # ['autoint_plus_frappe', 'deepfm_frappe', ...]
        ```
    """
    _load_builtin_presets()
    return sorted(n for n in _PRESETS if fnmatch.fnmatchcase(n, pattern))


def preset_info(name):
    _load_builtin_presets()
    return _PRESETS.get(name)
