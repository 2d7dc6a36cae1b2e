"""Single runs: train a registered model on a dataset under a protocol.

`run` returns a `RunResult`: the result row (a dict: metrics, throughput,
settings, provenance and the `reczoo train` command that reproduces it) with
the trained model, the data and the split as attributes.
"""

import contextlib
import json
import tempfile
import time
from pathlib import Path

import keras
import numpy as np

from reczoo import datasets, distribute, provenance, registry
from reczoo.benchmark import settings as run_settings
from reczoo.benchmark.command import format_command
from reczoo.benchmark.plans import NextItemPlan, RankingPlan, RetrievalPlan, StreamingPlan
from reczoo.benchmark.training import train
from reczoo.datasets.protocols import check_fits, get_protocol
from reczoo.datasets.shards import ShardedDataset
from reczoo.features import Categorical, FeatureSpec, Sequence
from reczoo.presets import check_output


class RunResult(dict):
    """A result row (this dict) with the trained `model`, `data`, `split` and
    the training `plan` (which evaluates the model again: `plan.evaluate(model,
    "test")`).

    `str(result)` is the row as JSON, the line `reczoo train` prints.
    """

    def __init__(self, row, model=None, data=None, split=None, plan=None):
        super().__init__(row)
        self.model, self.data, self.split, self.plan = model, data, split, plan

    @property
    def row(self):
        return dict(self)

    def __str__(self):
        return json.dumps(self)


def _resolve_dataset(dataset):
    if isinstance(dataset, str):
        return datasets.load(dataset), dataset
    return dataset, dataset.name


def _default_protocol(dataset):
    """The dataset's own protocol, known before its files are read."""
    if isinstance(dataset, str):
        return datasets.dataset_info(dataset).default_protocol
    if getattr(dataset, "streaming", False):
        return "shards"
    if dataset.name in datasets.DATASETS:
        return datasets.dataset_info(dataset.name).default_protocol
    return "bars_ctr" if dataset.kind == "ctr" else "ncf"


def check_run(
    model, dataset_name, protocol, overrides, epochs=None, recipe=None, output=None,
    overwrite=False, strategy=None,
):  # fmt: skip
    """Everything a run can be refused for, checked before any data is read:
    the model, the protocol and whether it fits the model, the recipe, every
    setting's name and value, and the output location.

    Returns `(entry, protocol, settings, model_settings, recipe)`.
    """
    entry = registry.model_info(model)
    if strategy not in (None, "default") and entry.kind != "ranking":
        raise ValueError(
            f"Training on several devices is for ranking models for now; {model!r} is a "
            f"{entry.kind.replace('_', '-')} model. Drop --strategy."
        )
    check_output(output, overwrite=overwrite)
    protocol = get_protocol(protocol)
    check_fits(protocol, entry.kind, model)
    settings, model_settings, found = run_settings.resolve(
        model, dataset_name, protocol.name, overrides, epochs=epochs, recipe=recipe
    )
    registry.route_settings(model, model_settings)
    if settings.get("train_last_targets") is not None and entry.kind != "next_item":
        raise ValueError(
            f"train_last_targets is for next-item models; {model!r} is a "
            f"{entry.kind.replace('_', '-')} model."
        )
    if settings.get("pretrain") and not entry.pretraining:
        raise ValueError(f"Model {model!r} has no pre-training; drop pretrain=true.")
    return entry, protocol, settings, model_settings, found


def _pretrain(entry, data, protocol, seed, settings, model_settings, verbose, folder):
    """Trains the models `entry` starts from (NeuMF's GMF and MLP) on the same
    split, saving each as a preset in `folder`; sets the model settings that
    name them and returns their result rows."""
    rows = {}
    for key, model, overrides in registry._import(entry.pretraining)(settings, model_settings):
        if key in model_settings:
            continue  # given by the user
        if registry.find_recipe(model, data.name, protocol.name) is None:
            # No recipe of its own: it trains as the main run does.
            shared = ("batch_size", "train_negatives", "epochs", "eval_every", "patience",
                      "eval_every_examples", "max_evaluations")  # fmt: skip
            overrides = {
                **{k: settings[k] for k in shared if settings.get(k) is not None},
                **{k: model_settings[k] for k in ("learning_rate",) if k in model_settings},
                **overrides,
            }
        if verbose:
            print(f"pre-training {model} for {key}")
        path = Path(folder) / key
        result = run(model, data, protocol=protocol, seed=seed, output=path, verbose=verbose,
                     **overrides)  # fmt: skip
        model_settings[key] = str(path)
        rows[key] = {k: result[k] for k in ("model", "recipe", "metrics", "valid_metrics",
                                            "epochs", "wall_seconds", "hyperparameters")}  # fmt: skip
    return rows


def _check_pretrained(entry, data, protocol, seed, model_settings):
    """Refuses presets trained on another dataset or split: their training
    data could hold this split's test items."""
    from reczoo.presets import resolve_preset, verify_preset

    for key in entry.init_settings:
        value = model_settings.get(key)
        if not isinstance(value, str | Path):
            continue
        meta = verify_preset(resolve_preset(value))
        same = (
            meta.get("dataset_sha256") == data.sha256
            and meta.get("split") == _jsonable(protocol.to_dict())
            and meta.get("seed") == seed
        )
        if not same:
            raise ValueError(
                f"`{key}` was trained on dataset {meta.get('dataset')!r} (sha256 "
                f"{str(meta.get('dataset_sha256'))[:12]}), protocol "
                f"{(meta.get('split') or {}).get('name')!r}, seed {meta.get('seed')}; this run "
                f"is {data.name!r} ({data.sha256[:12]}), {protocol.name!r}, seed {seed}. "
                "Pre-train on the same split, or its training data may hold this split's "
                "test items."
            )


def _build(entry, model, data, split, settings, model_settings, seed):
    """The task and its training plan."""
    if entry.kind == "next_item":
        if data.kind != "interactions":
            raise ValueError(f"Next-item models need interactions; {data.name!r} is {data.kind}.")
        if settings["max_length"] is None:
            settings["max_length"] = run_settings.history_length(split)
        dim = settings["embedding_dim"]
        # Items 1..n after padding 0, and a mask token n + 1 where the model has one.
        rows = data.num_items + 1 + int(entry.backbone.uses_mask_token)
        features = [Sequence("history", rows, dim, settings["max_length"], table="item")]
        if entry.backbone.uses_user:
            features.append(Categorical("user_id", data.num_users + 1, dim))
        task = registry.get_model(model, feature_spec=FeatureSpec(features), **model_settings)
        return task, NextItemPlan(data, split, task, settings, seed)
    if entry.kind == "retrieval":
        return _build_retrieval(entry, model, data, split, settings, model_settings, seed)
    if getattr(data, "streaming", False):
        if entry.backbone.fit_by == "adapt":
            raise ValueError(
                f"Model {model!r} is fit by counting the training rows; a sharded dataset "
                "streams them. Load the data instead of its shards."
            )
        spec = data.feature_spec(settings["embedding_dim"])
        settings.setdefault("shuffle_buffer", 100_000)
        model_settings.setdefault("objective", "binary")
        task = registry.get_model(model, feature_spec=spec, **model_settings)
        return task, StreamingPlan(data, split, spec, settings, seed)
    if data.kind == "ctr":
        spec = data.feature_spec(settings["embedding_dim"])
        objective = "binary"
    else:
        spec = data.feature_spec(settings["embedding_dim"], side_features=settings["side_features"])
        rated = data.ratings is not None and not split.protocol.leave_one_out
        objective = "regression" if rated else "binary"
    model_settings.setdefault("objective", entry.task_defaults.get("objective", objective))
    if entry.backbone.fit_by == "adapt":
        item = data.item_column if data.kind == "ctr" else "item_id"
        model_settings.setdefault("item_feature", item)
    task = registry.get_model(model, feature_spec=spec, **model_settings)
    return task, RankingPlan(data, split, spec, model_settings["objective"], settings, seed)


def _build_retrieval(entry, model, data, split, settings, model_settings, seed):
    """A retriever: user features in the query tower, item features (title
    words included) in the candidate tower, and what it knows of the data:
    the catalogue, the users, the training frequencies."""
    if data.kind != "interactions":
        raise ValueError(f"Retrieval models need interactions; {data.name!r} is {data.kind}.")
    dim = settings["embedding_dim"]
    if settings["side_features"]:
        data = data.with_title_tokens()
    spec = data.feature_spec(dim, side_features=settings["side_features"])
    query = ["user_id", *(data.user_features if settings["side_features"] else ())]
    candidate = ["item_id", *(data.item_features if settings["side_features"] else ())]
    features = list(spec)
    if entry.backbone.uses_history:
        length = settings["max_length"] or 50
        settings["max_length"] = length
        features.append(Sequence("history", data.num_items + 1, dim, length))
        query.append("history")
    spec = FeatureSpec(features)
    # The towers' features follow the data unless the user named them (then
    # the row records them, as any setting given).
    towers = {"query_features": query, "candidate_features": candidate}
    towers = {k: v for k, v in towers.items() if k not in model_settings}
    task = registry.get_model(model, feature_spec=spec, seed=seed, **model_settings, **towers)
    every_item = np.arange(data.num_items + 1)
    every_user = np.arange(data.num_users + 1)
    item_spec = spec.subset(task.backbone.candidate_features)
    user_spec = spec.subset([n for n in task.backbone.query_features if n != "history"])
    task.set_candidates(data.features_for(every_user[:1].repeat(len(every_item)), every_item,
                                          item_spec))  # fmt: skip
    if "history" not in task.backbone.query_features:
        task.set_queries(data.features_for(every_user, every_user[:1].repeat(len(every_user)),
                                           user_spec))  # fmt: skip
    train_items = data.items[split.rows("train")]
    task.set_candidate_frequencies(train_items, data.num_items + 1)
    return task, RetrievalPlan(data, split, task, settings, seed)


def _fit(task, plan, settings, verbose, checkpoint_dir=None, identity=None, strategy=None):
    """Trains (or adapts) the task; returns (training log or None, samples, seconds)."""
    if task.backbone.fit_by == "adapt":
        features, targets = plan.training_set(0)
        start = time.perf_counter()
        task.backbone.adapt(features[task.backbone.item_feature], weights=targets)
        return None, len(targets), time.perf_counter() - start
    log = train(task, plan, settings, verbose, checkpoint_dir, identity, strategy)
    samples = round(log.steps * plan.samples_per_epoch / plan.steps_per_epoch)
    return log, samples, log.seconds


def run(
    model,
    dataset,
    protocol=None,
    seed=0,
    epochs=None,
    output=None,
    verbose=1,
    data_file=None,
    recipe=None,
    overwrite=False,
    checkpoint_dir=None,
    warm_start=None,
    preset_options=None,
    strategy=None,
    **overrides,
):
    """Trains `model` on `dataset` under `protocol`, evaluates, returns a `RunResult`.

    Settings come from the recipe of (model, dataset, protocol) when one
    exists (`reczoo.list_recipes()`), else from defaults that adapt to the
    data (evaluation every so many examples, patience in evaluations, history
    lengths from the data); `overrides` go on top. The row's `recipe` says
    which applied.

    Args:
        model: a registered model name (`reczoo.list_models()`).
        dataset: a dataset name (`reczoo.datasets.list_datasets()`) or a
            dataset object (from `load_interactions`, say).
        protocol: a protocol name or `Protocol`; default: the dataset's own
            (`ncf` for MovieLens, `sasrec` for Amazon Games, `bars_ctr` for
            CTR data).
        seed: seeds the split, the sampling and the initialisation.
        epochs: train at most this many epochs, evaluating each epoch (or
            every `eval_every`); overrides a recipe's.
        output: save the best model as a preset in this directory; checked
            before any data is read.
        overwrite: replace a non-empty `output` folder (once the new preset
            is complete).
        checkpoint_dir: save the training state here after every
            evaluation, and resume from it: a killed run started again with
            the same arguments ends with the uninterrupted run's result.
        verbose: 0 for silence, 1 for a line per evaluation.
        warm_start: a function called with the built task before training
            (`reczoo.finetune` loads a preset's weights with it).
        preset_options: more arguments of `save_to_preset` for `output`
            (`weights_dtype`, `keep_data`).
        strategy: `"mirrored"`, `"multi_worker"` (ranking models), a
            `tf.distribute.Strategy`, or None for one device; see
            `reczoo.distribute`. `batch_size` is the global batch.
        data_file: for the command line of a run on your own file:
            `{"path", "user_col", "item_col", "rating_col", "time_col"}`.
        recipe: a recipe name to use instead of the default one, or `"none"`
            for the adaptive defaults.
        **overrides: run settings (`batch_size`, `embedding_dim`,
            `train_negatives`, `patience`, `eval_every`, `max_length`, ...)
            and model settings (`hidden_units`, `learning_rate`, ...).

    Returns:
        A `RunResult`: the row (model, dataset, protocol, recipe,
        hyperparameters, metrics (test), valid_metrics, train_samples_per_sec,
        infer_samples_per_sec, epochs, steps, best_epoch, wall_seconds,
        params, device, precision, jit, seed, versions, git_commit,
        dataset_sha256, date, command) with `.model`, `.data` and `.split`.
    """
    wall_start = time.perf_counter()
    data_types = datasets.InteractionDataset | datasets.CTRDataset | ShardedDataset
    if not isinstance(dataset, str | data_types):
        raise TypeError(
            "dataset must be a dataset name or a dataset object. "
            f"Received: {type(dataset).__name__}"
        )
    name = dataset if isinstance(dataset, str) else dataset.name
    entry, protocol, settings, model_settings, found = check_run(
        model, name, protocol or _default_protocol(dataset), overrides, epochs, recipe,
        output, overwrite, strategy,
    )  # fmt: skip
    strategy = distribute.get_strategy(strategy) if strategy is not None else None
    data, dataset_name = _resolve_dataset(dataset)
    keras.utils.set_random_seed(seed)
    if getattr(data, "streaming", False):
        if protocol.name != "shards":
            raise ValueError(
                f"{data.name!r} is sharded: its split was drawn when it was written. Use "
                f"protocol 'shards'. Received: protocol={protocol.name!r}"
            )
        split = data.split(protocol)
    else:
        split = datasets.split(data, protocol, seed=seed)
    pretrained = {}
    with contextlib.ExitStack() as stack:
        if settings.get("pretrain"):
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="reczoo-pretrain-"))
            pretrained = _pretrain(
                entry, data, protocol, seed, settings, model_settings, verbose, folder
            )
        _check_pretrained(entry, data, protocol, seed, model_settings)
        if strategy is not None:
            stack.enter_context(strategy.scope())
        task, plan = _build(entry, model, data, split, settings, model_settings, seed)
        if warm_start is not None:
            warm_start(task, plan)
    # Presets pre-trained here were temporary: the row keeps what trained them.
    for key in pretrained:
        model_settings[key] = f"pretrained by this run ({pretrained[key]['model']})"
    identity = {
        "model": model, "dataset_sha256": data.sha256, "protocol": protocol.to_dict(),
        "seed": seed, "settings": settings, "model_settings": model_settings,
    }  # fmt: skip
    log, samples, train_seconds = _fit(
        task, plan, settings, verbose, checkpoint_dir, identity, strategy
    )
    valid_metrics = plan.evaluate(task, "valid")[0] if plan.has_validation() else {}
    test_metrics, scored, infer_seconds = plan.evaluate(task, "test")
    if data.kind == "interactions":
        # What each user saw in training, in time order: `recommend` leaves it out.
        train = split.train if split.protocol.leave_one_out else data.select(split.rows("train"))
        order = train.order()
        task.set_interactions(train.users[order], train.items[order])
    named = found.name if found is not None and (recipe is not None or not found.default) else None
    row = {
        "model": model,
        "dataset": dataset_name,
        "protocol": protocol.name,
        "protocol_details": protocol.to_dict(),
        "recipe": found.name if found is not None else None,
        "settings_from": f"recipe {found.name}" if found else "defaults adapted to the data",
        "hyperparameters": {**settings, **_jsonable(model_settings)},
        "metrics": test_metrics,
        "valid_metrics": valid_metrics,
        **({"pretrained": pretrained} if pretrained else {}),
        "monitor": plan.monitor[0],
        "train_samples_per_sec": round(samples / train_seconds, 1) if train_seconds else None,
        "infer_samples_per_sec": round(scored / infer_seconds, 1) if infer_seconds else None,
        **_progress(log, plan, settings),
        "wall_seconds": round(time.perf_counter() - wall_start, 2),
        "train_seconds": round(train_seconds, 2),
        "params": int(task.count_params()),
        "batch_size": settings["batch_size"],
        "precision": task.dtype_policy.name,
        "jit": bool(getattr(task, "jit_compile", False)),
        **distribute.describe(strategy),
        "seed": seed,
        "dataset_sha256": data.sha256,
        "dataset_files": data.files,
        "dataset_statistics": data.statistics(),
        **provenance.run_record(),
    }
    row["command"] = format_command(
        model, dataset_name, protocol.name, seed, overrides, epochs, named, data_file,
        shards=getattr(data, "folder", None) if isinstance(dataset, ShardedDataset) else None,
        strategy=row["strategy"],
    )  # fmt: skip
    chief = strategy is None or distribute.worker_index(strategy) == 0
    if output is not None and chief:
        task.save_to_preset(
            output,
            metadata={k: row[k] for k in row if k != "history"} | {"split": protocol.to_dict()},
            # The plan's data: a retriever's has its title words' vocabulary.
            vocabularies=plan.data.vocabulary_lists(),
            overwrite=overwrite,
            **(preset_options or {}),
        )
        row["preset"] = str(output) if not Path(output).is_absolute() else Path(output).name
    return RunResult(row, model=task, data=data, split=split, plan=plan)


def _progress(log, plan, settings):
    """Epochs, steps, the best epoch and the history of a training log."""
    if log is None:
        return {"epochs": 0, "steps": 0, "max_epochs": settings.get("epochs"), "best_epoch": 0,
                "history": []}  # fmt: skip
    epochs = log.steps / plan.steps_per_epoch
    best_steps = (log.best_period + 1) * log.steps_per_period
    best_epoch = best_steps / plan.steps_per_epoch
    return {
        "epochs": int(epochs) if epochs.is_integer() else round(epochs, 2),
        "steps": log.steps,
        "max_epochs": settings.get("epochs"),
        "best_epoch": int(best_epoch) if best_epoch.is_integer() else round(best_epoch, 2),
        "best_step": best_steps,
        "history": log.history,
    }


def _jsonable(values):
    return json.loads(json.dumps(values, default=str))
