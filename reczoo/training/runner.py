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
from reczoo.datasets.shards import ShardedDataset
from reczoo.features import Categorical, FeatureSpec, Sequence
from reczoo.features.embedding import model_tables
from reczoo.training.command import format_command
from reczoo.training.loop import train
from reczoo.training.plans import NextItemPlan, RankingPlan, RetrievalPlan, StreamingPlan
from reczoo.training.settings import RunSettings, default_protocol


class RunResult(dict):
    """The result of a training run: the row (this dict) and what made it.

    `str(result)` is the row as JSON, the line `reczoo train` prints.

    Attributes:
        row: the result row: settings, test and validation `metrics`,
            throughput, epochs, provenance and the reproducing `command`.
        model: the trained task.
        data: the dataset it trained on.
        split: the split (train, validation and test parts).
        plan: the training plan, which evaluates the model again
            (`plan.evaluate(model, "test")`).

    Example:
        ```python
        reczoo.datasets.write_examples()
        data = reczoo.datasets.load_interactions("ratings.csv", user="userId", item="movieId")
        result = reczoo.run("pop", data, protocol="loo_full", verbose=0)
        print(result["metrics"]["hr@10"], result["command"])
        again = result.plan.evaluate(result.model, "test")
        ```
    """

    def __init__(self, row, model=None, data=None, split=None, plan=None):
        super().__init__(row)
        self.model, self.data, self.split, self.plan = model, data, split, plan

    @property
    def row(self):
        return dict(self)

    def __str__(self):
        return json.dumps(self)


def _load(dataset):
    if isinstance(dataset, str):
        return datasets.load(dataset)
    return dataset


def _strategy_name(strategy):
    """The name of a strategy given by name or as an object (None: one device)."""
    if strategy is None or isinstance(strategy, str):
        return strategy or "default"
    return "multi_worker" if distribute.is_multi_worker(strategy) else "mirrored"


def _pretrain(settings, data, verbose, folder):
    """Trains the models `settings.model` starts from (NeuMF's GMF and MLP) on
    the same split, saving each as a preset in `folder`. Returns the settings
    naming them and their result rows."""
    rows, named = {}, {}
    model_settings = settings.model_settings
    runs = registry._import(settings.entry.pretraining)(settings.training(), model_settings)
    for key, model, overrides in runs:
        if key in model_settings:
            continue  # given by the user
        if registry.find_recipe(model, data.name, settings.protocol.name) is None:
            # No recipe of its own: it trains as the main run does.
            shared = ("batch_size", "train_negatives", "epochs", "eval_every", "patience",
                      "eval_every_examples", "max_evaluations", "eval_share")  # fmt: skip
            overrides = {
                **{k: getattr(settings, k) for k in shared if getattr(settings, k) is not None},
                **{k: model_settings[k] for k in ("learning_rate",) if k in model_settings},
                **overrides,
            }
        if verbose:
            print(f"pre-training {model} for {key}")
        path = Path(folder) / key
        result = run(model, data, protocol=settings.protocol, seed=settings.seed, output=path,
                     verbose=verbose, **overrides)  # fmt: skip
        named[key] = str(path)
        rows[key] = {k: result[k] for k in ("model", "recipe", "metrics", "valid_metrics",
                                            "epochs", "wall_seconds", "hyperparameters")}  # fmt: skip
    return settings.replace(**named), rows


def _check_pretrained(settings, data):
    """Refuses presets trained on another dataset or split: their training
    data could hold this split's test items."""
    from reczoo.presets import resolve_preset, verify_preset

    protocol, seed = settings.protocol, settings.seed
    for key in settings.entry.init_settings:
        value = settings.model_settings.get(key)
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


def build_task(settings, data, split):
    """The task and its training plan, for complete `settings` (see
    `RunSettings.complete`)."""
    entry, model, model_settings = settings.entry, settings.model, dict(settings.model_settings)
    if entry.kind == "next_item":
        if data.kind != "interactions":
            raise ValueError(f"Next-item models need interactions; {data.name!r} is {data.kind}.")
        dim = settings.embedding_dim
        # Items 1..n after padding 0, and a mask token n + 1 where the model has one.
        rows = data.num_items + 1 + int(entry.backbone.uses_mask_token)
        features = [Sequence("history", rows, dim, settings.max_length, table="item")]
        if entry.backbone.uses_user:
            features.append(Categorical("user_id", data.num_users + 1, dim))
        task = registry.get_model(model, feature_spec=FeatureSpec(features), **model_settings)
        return task, NextItemPlan(data, split, task, settings, settings.seed)
    if entry.kind == "retrieval":
        return _build_retrieval(settings, data, split)
    if getattr(data, "streaming", False):
        if entry.backbone.fit_by == "adapt":
            raise ValueError(
                f"Model {model!r} is fit by counting the training rows; a sharded dataset "
                "streams them. Load the data instead of its shards."
            )
        spec = data.feature_spec(settings.embedding_dim)
        task = registry.get_model(model, feature_spec=spec, **model_settings)
        return task, StreamingPlan(data, split, spec, settings, settings.seed)
    if data.kind == "ctr":
        spec = data.feature_spec(settings.embedding_dim)
    else:
        spec = data.feature_spec(settings.embedding_dim, side_features=settings.side_features)
    spec, history = _history_from_interactions(entry, model_settings, spec, data, settings)
    _check_history(entry, model_settings, spec, data)
    task = registry.get_model(model, feature_spec=spec, **model_settings)
    plan = RankingPlan(
        data, split, spec, model_settings["objective"], settings, settings.seed, history=history
    )
    return task, plan


def _history_from_interactions(entry, model_settings, spec, data, settings):
    """`(spec, history input or None)`: for a ranker that reads the user's
    behaviour with each example (DIN) on interactions, which hold it
    implicitly, the spec gains that input, the last `max_length` earlier
    items sharing the target item's table; the plan fills it."""
    if data.kind != "interactions" or not getattr(entry.backbone, "reads_history", False):
        return spec, None
    name = model_settings.get("history_feature", "history")
    target = model_settings.get("target_feature", "item_id")
    if name in spec or target not in spec:
        return spec, None
    item = spec[target]
    past = Sequence(name, item.vocabulary_size, item.embedding_dim, settings.max_length,
                    table=item.table_name)  # fmt: skip
    return FeatureSpec([*spec, past]), name


def _check_history(entry, model_settings, spec, data):
    """Refuses, naming the way, data whose rows carry no behaviour history
    for a ranker that reads one with each example (DIN)."""
    if not getattr(entry.backbone, "reads_history", False):
        return
    history = model_settings.get("history_feature", "history")
    if history not in spec:
        raise ValueError(
            f"{entry.name} scores each example with the user's behaviour history, and the rows "
            f"of {data.name!r} carry none (no {history!r} column). Train it on a click log whose "
            "rows hold the history (a column with the role 'sequence' in --schema, named by "
            "--set=history_feature=NAME), or, in Python, on rated interactions made into one: "
            "reczoo.datasets.history_ctr(data) (--dataset=movielens-100k-ctr is MovieLens-100K "
            "so made)."
        )


def _build_retrieval(settings, data, split):
    """A retriever: user features in the query tower, item features (title
    words included) in the candidate tower, and what it knows of the data:
    the catalogue, the users, the training frequencies."""
    if data.kind != "interactions":
        raise ValueError(f"Retrieval models need interactions; {data.name!r} is {data.kind}.")
    dim, side = settings.embedding_dim, settings.side_features
    if side:
        data = data.with_title_tokens()
    spec = data.feature_spec(dim, side_features=side)
    query = ["user_id", *(data.user_features if side else ())]
    candidate = ["item_id", *(data.item_features if side else ())]
    features = list(spec)
    if settings.entry.backbone.uses_history:
        features.append(Sequence("history", data.num_items + 1, dim, settings.max_length))
        query.append("history")
    spec = FeatureSpec(features)
    # The towers' features follow the data unless the user named them (then
    # the row records them, as any setting given).
    model_settings = dict(settings.model_settings)
    towers = {"query_features": query, "candidate_features": candidate}
    towers = {k: v for k, v in towers.items() if k not in model_settings}
    task = registry.get_model(
        settings.model, feature_spec=spec, seed=settings.seed, **model_settings, **towers
    )
    every_item = np.arange(data.num_items + 1)
    every_user = np.arange(data.num_users + 1)
    item_spec = spec.subset(task.backbone.candidate_features)
    user_spec = spec.subset([n for n in task.backbone.query_features if n != "history"])
    task.set_candidates(data.features_for(every_user[:1].repeat(len(every_item)), every_item,
                                          item_spec))  # fmt: skip
    if "history" not in task.backbone.query_features:
        task.set_queries(data.features_for(every_user, every_user[:1].repeat(len(every_user)),
                                           user_spec))  # fmt: skip
    plan = RetrievalPlan(data, split, task, settings, settings.seed)
    task.set_candidate_frequencies(plan.train.items, data.num_items + 1)
    return task, plan


def _check_tensorboard():
    """Refuses `tensorboard_dir` before any work where TensorBoard, which
    Keras' callback writes through, is not installed."""
    import importlib.util

    if importlib.util.find_spec("tensorboard") is None:
        raise ValueError(
            "--tensorboard_dir (tensorboard_dir=) writes through TensorBoard, which is not "
            "installed: pip install 'keras-reczoo[tensorboard]'."
        )


def _fit(task, plan, settings, verbose, checkpoint_dir=None, strategy=None, tensorboard_dir=None):
    """Trains (or adapts) the task; returns (training log or None, samples, seconds)."""
    if task.backbone.fit_by == "adapt":
        features, targets = plan.training_set(0)
        start = time.perf_counter()
        task.backbone.adapt(features[task.backbone.item_feature], weights=targets)
        return None, len(targets), time.perf_counter() - start
    identity = {
        "model": settings.model, "dataset_sha256": plan.data.sha256,
        "protocol": settings.protocol.to_dict(), "seed": settings.seed,
        "settings": settings.training(), "model_settings": dict(settings.model_settings),
    }  # fmt: skip
    log = train(task, plan, settings, verbose, checkpoint_dir, identity, strategy, tensorboard_dir)
    samples = round(log.steps * plan.samples_per_epoch / plan.steps_per_epoch)
    return log, samples, log.seconds


def run(
    model, dataset, protocol=None, seed=0, epochs=None, output=None, verbose=1, data_file=None,
    recipe=None, overwrite=False, checkpoint_dir=None, warm_start=None, preset_options=None,
    strategy=None, tensorboard_dir=None, evaluate_test=True, **overrides,
):  # fmt: skip
    """Trains `model` on `dataset` under `protocol`, evaluates, returns a `RunResult`.

    Settings come from the recipe of (model, dataset, protocol) when one
    exists (`reczoo.list_recipes()`), else from defaults that adapt to the
    data (evaluation every so many examples, patience in evaluations, history
    lengths from the data); `overrides` go on top. The row's `recipe` says
    which applied. They are built once (`RunSettings.build`) and checked
    before any data is read.

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
        tensorboard_dir: write Keras' TensorBoard logs here (loss, learning
            rate and validation metrics of every evaluation period).
        evaluate_test: score the test split (the row's `metrics`); False
            leaves it untouched (`metrics` is empty), as `reczoo tune`'s
            trials do.
        data_file: for the command line of a run on your own file:
            `{"path", "user_col", "item_col", "rating_col", "time_col"}`.
        recipe: a recipe name (or a recipe file, `reczoo tune`'s) to use
            instead of the default one, or `"none"` for the adaptive defaults.
        **overrides: run settings (`batch_size`, `embedding_dim`,
            `train_negatives`, `patience`, `eval_every`, `max_length`, ...)
            and model settings (`hidden_units`, `learning_rate`, ...).

    Returns:
        A `RunResult`: the row (settings, test and validation metrics,
        throughput, epochs, provenance and the reproducing `command`) with
        `.model`, `.data`, `.split` and `.plan`.

    Raises:
        TypeError: `dataset` is neither a name nor a dataset object.
        ValueError: a setting, protocol or recipe that does not fit (named in
            the message), before any data is read.

    Example:
        ```python
        reczoo.datasets.write_examples()  # small example files in this folder
        data = reczoo.datasets.load_interactions(
            "ratings.csv", user="userId", item="movieId", time="timestamp"
        )
        result = reczoo.run("bpr_mf", data, protocol="loo_full", epochs=2, verbose=0)
        print(result["metrics"])  # {'hr@10': ..., 'ndcg@10': ..., ...}
        ```
    """
    data_types = datasets.InteractionDataset | datasets.CTRDataset | ShardedDataset
    if not isinstance(dataset, str | data_types):
        raise TypeError(
            "dataset must be a dataset name or a dataset object. "
            f"Received: {type(dataset).__name__}"
        )
    name = dataset if isinstance(dataset, str) else dataset.name
    settings = RunSettings.build(
        model, name, protocol or default_protocol(dataset, model=model), overrides, epochs=epochs,
        recipe=recipe, seed=seed, output=output, overwrite=overwrite,
        strategy=_strategy_name(strategy),
    )  # fmt: skip
    return execute(
        settings, dataset, verbose=verbose, data_file=data_file, checkpoint_dir=checkpoint_dir,
        warm_start=warm_start, preset_options=preset_options, strategy=strategy,
        tensorboard_dir=tensorboard_dir, evaluate_test=evaluate_test,
    )  # fmt: skip


def execute(
    settings, dataset, verbose=1, data_file=None, checkpoint_dir=None, warm_start=None,
    preset_options=None, strategy=None, tensorboard_dir=None, evaluate_test=True,
):  # fmt: skip
    """Runs `settings` (a `RunSettings`) on `dataset` (its name or the
    loaded dataset); the arguments are `run`'s. Returns a `RunResult`."""
    wall_start = time.perf_counter()
    if tensorboard_dir is not None:
        _check_tensorboard()
    if strategy is None and settings.strategy != "default":
        strategy = settings.strategy
    strategy = distribute.get_strategy(strategy) if strategy is not None else None
    if isinstance(strategy, distribute.ShardedTables):
        # keras.distribution places variables and batches for as long as
        # its scope is open: building, training, evaluating and saving.
        with strategy.scope():
            return _execute(
                settings, dataset, verbose, data_file, checkpoint_dir, warm_start,
                preset_options, strategy, tensorboard_dir, evaluate_test, wall_start,
            )  # fmt: skip
    return _execute(
        settings, dataset, verbose, data_file, checkpoint_dir, warm_start,
        preset_options, strategy, tensorboard_dir, evaluate_test, wall_start,
    )  # fmt: skip


def _execute(
    settings, dataset, verbose, data_file, checkpoint_dir, warm_start, preset_options,
    strategy, tensorboard_dir, evaluate_test, wall_start,
):  # fmt: skip
    data = _load(dataset)
    if data.name != settings.dataset and not isinstance(dataset, str):
        # A file or a shard folder was named by its path; the row names the data.
        settings = settings.replace(dataset=data.name)
    keras.utils.set_random_seed(settings.seed)
    split = _split(settings, data)
    if isinstance(split, datasets.RowSplit):
        data = split.dataset  # numerical transforms fitted on its training rows
    with contextlib.ExitStack() as stack:
        pretrained = {}
        if settings.pretrain:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="reczoo-pretrain-"))
            settings, pretrained = _pretrain(settings, data, verbose, folder)
        _check_pretrained(settings, data)
        settings = settings.complete(data, split)
        if strategy is not None:
            stack.enter_context(strategy.scope())
        task, plan = build_task(settings, data, split)
        distribute.check_placement(strategy, model_tables(task), settings.model)
        if warm_start is not None:
            warm_start(task, plan)
    # Presets pre-trained here were temporary: the row keeps what trained them.
    settings = settings.replace(
        **{k: f"pretrained by this run ({row['model']})" for k, row in pretrained.items()}
    )
    log, samples, train_seconds = _fit(
        task, plan, settings, verbose, checkpoint_dir, strategy, tensorboard_dir
    )
    row = _row(settings, data, task, plan, (log, samples, train_seconds), strategy, evaluate_test)
    if pretrained:
        row["pretrained"] = pretrained
    if data.kind == "interactions":
        # What each user saw in training, in time order: `recommend` leaves it out.
        train_part = (
            split.train if split.protocol.leave_one_out else data.select(split.rows("train"))
        )
        order = train_part.order()
        task.set_interactions(train_part.users[order], train_part.items[order])
        if hasattr(task, "set_side_features") and settings.side_features:
            task.set_side_features(data.user_features, data.item_features)
    row["wall_seconds"] = round(time.perf_counter() - wall_start, 2)
    # A public dataset streamed from its cached shards is named as such.
    by_folder = isinstance(data, ShardedDataset) and settings.dataset not in datasets.DATASETS
    row["command"] = format_command(settings, data_file, shards=data.folder if by_folder else None)
    chief = strategy is None or distribute.worker_index(strategy) == 0
    if settings.output is not None and chief:
        task.save_to_preset(
            settings.output,
            metadata={k: row[k] for k in row if k != "history"}
            | {"split": settings.protocol.to_dict()},
            # The plan's data: a retriever's has its title words' vocabulary.
            vocabularies=plan.data.vocabulary_lists(),
            overwrite=settings.overwrite,
            **(preset_options or {}),
        )
        output = Path(settings.output)
        row["preset"] = str(output) if not output.is_absolute() else output.name
    return RunResult(row, model=task, data=data, split=split, plan=plan)


def _split(settings, data):
    if getattr(data, "streaming", False):
        # Shards written from split files hold a fixed split (BARS' x1 files).
        fixed = data.split_files and settings.protocol.kind == "fixed_split"
        if settings.protocol.name != "shards" and not fixed:
            how = (
                "written from its split files" if data.split_files else "drawn when it was written"
            )
            raise ValueError(
                f"{data.name!r} is sharded: its split was {how}. Use protocol 'shards'. "
                f"Received: protocol={settings.protocol.name!r}"
            )
        return data.split(settings.protocol)
    return datasets.split(data, settings.protocol, seed=settings.seed)


def _row(settings, data, task, plan, fitted, strategy, evaluate_test=True):
    """The result row of a trained task: settings, metrics, throughput,
    provenance; without `evaluate_test`, the test split is never scored
    (`metrics` is empty, inference timed on the validation split)."""
    log, samples, train_seconds = fitted
    valid_metrics, scored, infer_seconds = {}, 0, 0.0
    if plan.has_validation():
        valid_metrics, scored, infer_seconds = plan.evaluate(task, "valid")
    test_metrics = {}
    if evaluate_test:
        test_metrics, scored, infer_seconds = plan.evaluate(task, "test")
    found = settings.recipe
    return {
        "model": settings.model,
        "dataset": settings.dataset,
        "protocol": settings.protocol.name,
        "protocol_details": settings.protocol.to_dict(),
        "recipe": found.name if found is not None else None,
        "settings_from": f"recipe {found.name}" if found else "defaults adapted to the data",
        "hyperparameters": {**settings.training(), **_jsonable(dict(settings.model_settings))},
        "metrics": test_metrics,
        "valid_metrics": valid_metrics,
        "monitor": plan.monitor[0],
        "train_samples_per_sec": round(samples / train_seconds, 1) if train_seconds else None,
        "infer_samples_per_sec": round(scored / infer_seconds, 1) if infer_seconds else None,
        **_progress(log, plan, settings),
        "wall_seconds": None,
        "train_seconds": round(train_seconds, 2),
        "params": int(task.count_params()),
        "batch_size": settings.batch_size,
        "precision": task.dtype_policy.name,
        "jit": bool(getattr(task, "jit_compile", False)),
        **distribute.describe(strategy),
        "seed": settings.seed,
        "dataset_sha256": data.sha256,
        "dataset_files": data.files,
        "dataset_statistics": data.statistics(),
        **_schema(data),
        **provenance.run_record(),
    }


def _schema(data):
    """Your data's schema as it was read, and its sha256, for the row."""
    schema = getattr(data, "schema", None)
    if schema is None:
        return {}
    out = {"schema": schema.to_dict(), "schema_sha256": schema.sha256}
    if getattr(data, "transform_state", None):
        out["schema_fitted"] = data.transform_state
    return out


def _progress(log, plan, settings):
    """Epochs, steps, the best epoch and the history of a training log."""
    if log is None:
        return {"epochs": 0, "steps": 0, "max_epochs": settings.epochs, "best_epoch": 0,
                "history": []}  # fmt: skip
    epochs = log.steps / plan.steps_per_epoch
    best_steps = (log.best_period + 1) * log.steps_per_period
    best_epoch = best_steps / plan.steps_per_epoch
    return {
        "epochs": int(epochs) if epochs.is_integer() else round(epochs, 2),
        "steps": log.steps,
        "max_epochs": settings.epochs,
        "best_epoch": int(best_epoch) if best_epoch.is_integer() else round(best_epoch, 2),
        "best_step": best_steps,
        "stopped_by": log.stopped_by,
        "history": log.history,
    }


def _jsonable(values):
    return json.loads(json.dumps(values, default=str))
