"""The model and preset registry: one dict each, filled at import."""

import dataclasses
import difflib
import fnmatch
import inspect

_MODELS = {}
_PRESETS = {}

_COMPILE_KEYS = ("optimizer", "loss", "metrics", "learning_rate", "jit_compile")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    """What the registry knows of one model.

    `defaults` are backbone arguments and `task_defaults` task arguments,
    both overridable by `get_model`.
    """

    name: str
    backbone: type
    task: type
    family: str
    paper: str
    tags: tuple = ()
    description: str = ""
    defaults: dict = dataclasses.field(default_factory=dict)
    task_defaults: dict = dataclasses.field(default_factory=dict)
    compile_defaults: dict = dataclasses.field(default_factory=dict)
    run_defaults: dict = dataclasses.field(default_factory=dict)

    @property
    def task_name(self):
        return self.task.__name__


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
):
    """Registers a model under `name`; a name can be registered once.

    `run_defaults` are `reczoo.run` settings (epochs, batch size, embedding
    width, history length) that reproduce the model's paper configuration.
    """
    if name in _MODELS:
        raise ValueError(f"A model named {name!r} is already registered.")
    _MODELS[name] = ModelEntry(
        name=name,
        backbone=backbone,
        task=task,
        family=family,
        paper=paper,
        tags=tuple(tags),
        description=description,
        defaults=dict(defaults or {}),
        task_defaults=dict(task_defaults or {}),
        compile_defaults=dict(compile_defaults or {}),
        run_defaults=dict(run_defaults or {}),
    )
    return _MODELS[name]


def list_models(pattern="*"):
    """Sorted names of registered models whose name or a tag matches `pattern`.

    `pattern` is a shell wildcard (`*`, `?`, `[...]`), case-insensitive.

    Example:

    ```python
    reczoo.list_models("*fm*")   # ['fm', ...]
    reczoo.list_models("ctr")    # models tagged 'ctr'
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
    """The `ModelEntry` of a registered model."""
    entry = _MODELS.get(name)
    if entry is None:
        close = difflib.get_close_matches(name, list(_MODELS), n=3, cutoff=0.5)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        raise ValueError(f"Unknown model {name!r}.{hint} Registered models: {sorted(_MODELS)}")
    return entry


def _parameters(fn):
    return {
        p.name
        for p in inspect.signature(fn).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
    }


def get_model(name, feature_spec, compile=True, **overrides):
    """Builds the registered model `name` on `feature_spec`, compiled.

    Each override goes where its name belongs: backbone arguments
    (`hidden_units`, `dropout`, ...), task arguments (`objective`) or compile
    arguments (`learning_rate`, `optimizer`, `loss`, `metrics`,
    `jit_compile`). An unknown name is an error listing the accepted ones.

    Example:

    ```python
    model = reczoo.get_model("mlp", feature_spec=spec, hidden_units=[64, 32])
    model.fit(features, labels)
    ```
    """
    from reczoo.features import FeatureSpec

    entry = model_info(name)
    spec = feature_spec if isinstance(feature_spec, FeatureSpec) else FeatureSpec(feature_spec)
    backbone_keys = _parameters(entry.backbone.__init__) - {"feature_spec"}
    task_keys = _parameters(entry.task.__init__) - {"backbone"}
    backbone_args = dict(entry.defaults)
    task_args = dict(entry.task_defaults)
    compile_args = dict(entry.compile_defaults)
    for key, value in overrides.items():
        if key in backbone_keys:
            backbone_args[key] = value
        elif key in task_keys:
            task_args[key] = value
        elif key in _COMPILE_KEYS:
            compile_args[key] = value
        else:
            accepted = sorted(backbone_keys | task_keys | set(_COMPILE_KEYS))
            raise TypeError(
                f"Model {name!r} has no setting {key!r}. Received: {key}={value!r}. "
                f"Accepted: {accepted}"
            )
    backbone = entry.backbone(spec, **backbone_args)
    model = entry.task(backbone, **task_args)
    if compile:
        model.compile(**compile_args)
    return model


def register_presets(presets):
    """Registers built-in presets: `{name: {"url", "sha256", "model", "description"}}`."""
    for name, info in presets.items():
        missing = {"url", "sha256", "model"} - set(info)
        if missing:
            raise ValueError(f"Preset {name!r} lacks {sorted(missing)}. Received: {info}")
        if name in _PRESETS:
            raise ValueError(f"A preset named {name!r} is already registered.")
        _PRESETS[name] = dict(info)


def list_presets(pattern="*"):
    """Sorted names of built-in presets matching `pattern`."""
    return sorted(n for n in _PRESETS if fnmatch.fnmatchcase(n, pattern))


def preset_info(name):
    return _PRESETS.get(name)
