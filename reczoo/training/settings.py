"""Run settings: a recipe's where one fits, else defaults that adapt to the data.

A recipe (`reczoo.registry.Recipe`) reproduces a published row: its
procedure counts epochs, as the paper or benchmark did. Without one, the
defaults must travel to any dataset, so they count what a model has seen:
evaluation every fixed number of examples, patience in evaluations, a step
budget, a constant learning rate, and sequence lengths from the data.

`RunSettings.build` makes them once, from the recipe, the defaults and the
user's overrides, and refuses what cannot train before any data is read;
`RunSettings.complete` fills in, in one place, what only the data can tell
(a history length, the objective). Both return frozen settings: nothing
downstream changes or re-checks them.
"""

import dataclasses
import math
import types
from pathlib import Path

import numpy as np

from reczoo import registry
from reczoo.datasets.protocols import Protocol, check_fits, get_protocol
from reczoo.distribute import STRATEGIES

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
# Patience is 6, not a recipe's 3: a validation set of a few hundred users
# moves by about 0.01 HR@10 between evaluations from noise alone, and three
# such dips stopped still-rising runs on MovieLens-100K's u.data (loo_full):
# MF-BPR at 0.108 and Caser at 0.110, against 0.137 and 0.158 with 6 (the
# time budget still bounds the run).
DEFAULT_PATIENCE = 6
# Evaluation may take at most this share of a default run's time: a period
# whose evaluation would push it higher is trained through unevaluated.
# Scoring every item for every user costs more than training on a period
# for the larger ranking models: DeepFM spent 145 of its 245 seconds in 20
# evaluations on MovieLens-100K's u.data (loo_full) and stopped on the time
# budget after 11 epochs.
DEFAULT_EVAL_SHARE = 0.25
BY_EXAMPLES = {
    kind: {
        "eval_every_examples": examples,
        "max_evaluations": 40,
        "patience": DEFAULT_PATIENCE,
        "eval_share": DEFAULT_EVAL_SHARE,
    }
    for kind, examples in (("ranking", 262_144), ("next_item", 32_768), ("retrieval", 262_144))
}
# Without a recipe or epochs, training stops after this many minutes, or one
# per DEFAULT_ROWS_PER_MINUTE rows of data if that is more: a default run on a
# file of 100,000 interactions returns its row in minutes whatever the model
# (`--max_minutes` sets another budget, `--epochs` none).
DEFAULT_MAX_MINUTES = 4.0
DEFAULT_ROWS_PER_MINUTE = 50_000
# Without a recipe, a ranker trained on interactions whose items have fewer
# than SPARSE_PER_ITEM interactions each on average gets an L2
# penalty of SPARSE_L2 on its embedding tables (unless it names a
# regularizer). With a few ratings an item, unpenalised embeddings fit them
# within an epoch or two and learn little past popularity: on a file of
# MovieLens latest-small's shape (9,972 movies, 9.9 ratings each;
# benchmarks/latest_small_shape.py) MF-BPR and NeuMF peaked at validation
# HR@10 0.387 and 0.367 against popularity's 0.344. A penalty of 1e-5,
# 2e-5 and 3e-5 gave them 0.387/0.387, 0.398/0.393 and 0.382/0.402
# (2e-5 best on average, chosen on validation); DeepFM went from 0.372
# to 0.397 at 3e-5. MovieLens-100K (59 ratings an item) keeps no penalty.
SPARSE_PER_ITEM = 20
SPARSE_L2 = 2e-5


def is_minutes(value):
    """Whether `value` is a time budget: None, or a positive number."""
    if value is None:
        return True
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def default_max_minutes(rows):
    """The time budget of a run under adaptive defaults on `rows` rows."""
    return max(DEFAULT_MAX_MINUTES, round(rows / DEFAULT_ROWS_PER_MINUTE, 1))


# On small data a period of defaults is one epoch, not `eval_every_examples`,
# but never fewer than these examples: a next-item epoch of a few hundred
# histories is a handful of steps, fewer than scoring every user costs, and
# SASRec stopped after 13 such epochs on MovieLens-100K, below popularity
# (HR@10 0.078 against 0.084 under loo_full; 0.137 with periods of 8,192).
SMALLEST_PERIOD = {"ranking": 0, "next_item": 8_192, "retrieval": 0}

# A next-item model trained with the full softmax (`loss="ce"`: GRU4Rec,
# BERT4Rec and CL4SRec by default) scores every item at each position of a
# history. Without a recipe its history length is also held to this many
# scores a history (positions x items): on a file of 610 users, 9,972 items
# and histories up to 2,259 (`benchmarks/latest_small_shape.py`), cut at 200
# GRU4Rec and CL4SRec trained 4 and 3 evaluation periods in their 4 minutes
# and scored test HR@10 0.3164 and 0.2967 (popularity 0.2951); cut at 50,
# 0.3984 and 0.4000 (benchmarks/results/defaults).
FULL_SOFTMAX_SCORES = 500_000
# `recent_weight` given alone counts this share of each user's latest
# training interactions more.
RECENT_SHARE = 0.2
# The longest history adaptive defaults give a next-item model.
LONGEST_HISTORY = 200

# Rows in the shuffle buffer of a run on shards (memory is bounded by it).
SHUFFLE_BUFFER = 100_000
# A retriever's watch history when neither the recipe nor the user sets one.
RETRIEVAL_HISTORY = 50


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """Everything a run is: what trains on what, and how. Frozen.

    Build with `RunSettings.build(...)`, which validates every value; the
    training fields are the ones `--set` takes besides model settings.

    Attributes:
        model, dataset, protocol, seed: what runs (dataset by name).
        recipe: the `Recipe` that applied, or None for adaptive defaults.
        named_recipe: the recipe the reproducing command must name (a
            variant, or one asked for by name), else None.
        epochs_given: `--epochs`, as the user gave it.
        overrides: the user's `--set` values, as given (for the command).
        output, overwrite: where the trained preset goes.
        strategy: `"default"`, `"mirrored"`, `"multi_worker"` or
            `"model_parallel"`.
        batch_size ... max_minutes: the training procedure.
        model_settings: backbone, task and compile settings.
    """

    model: str
    dataset: str
    protocol: Protocol
    seed: int = 0
    recipe: registry.Recipe | None = None
    named_recipe: str | None = None
    epochs_given: int | None = None
    overrides: types.MappingProxyType = dataclasses.field(
        default_factory=lambda: types.MappingProxyType({})
    )
    output: str | Path | None = None
    overwrite: bool = False
    strategy: str = "default"
    # === The training procedure ===
    batch_size: int = 256
    embedding_dim: int = 16
    train_negatives: int = 4
    patience: int = 3
    reduce_lr: float | None = None
    side_features: bool = False
    eval_batch_size: int = 8192
    max_length: int | None = 50
    bucket_by_length: bool = True
    epochs: int | None = 20
    eval_every: int | None = 1
    eval_every_examples: int | None = None
    max_evaluations: int | None = None
    # The most of the run's time evaluation may take (0 < share <= 1): a
    # period's evaluation is skipped where it would take more, except the
    # first and the last; unset: every period is evaluated.
    eval_share: float | None = None
    pretrain: bool | None = None
    # Next-item models learn only each user's last N training items, the
    # history before them context (fine-tuning on a later window); unset: all.
    train_last_targets: int | None = None
    # Rankers under a leave-last-out protocol: each user's last
    # `recent_share` of training interactions (at least one) counts
    # `recent_weight` times among every epoch's positives, as the held-out
    # items are each user's latest; unset or 1: every interaction once
    # (MF-BPR, GMF and FM default to 3 in their default runs:
    # `reczoo.models.procedures.RECENT_DEFAULTS`).
    recent_weight: int | None = None
    recent_share: float | None = None
    shuffle_buffer: int | None = None
    # Minutes of training (evaluations included) after which a run stops at
    # the end of an evaluation period, keeping its best weights; unset: none.
    max_minutes: float | None = None
    model_settings: types.MappingProxyType = dataclasses.field(
        default_factory=lambda: types.MappingProxyType({})
    )

    @property
    def entry(self):
        """The model's registry entry."""
        return registry.model_info(self.model)

    @property
    def kind(self):
        return self.entry.kind

    @classmethod
    def build(
        cls, model, dataset, protocol, overrides=None, epochs=None, recipe=None, seed=0,
        output=None, overwrite=False, strategy="default",
    ):  # fmt: skip
        """The settings of a run, every value checked before any data is read.

        Args:
            model: a registered model name.
            dataset: the dataset's name (a public one, a file, a shard folder).
            protocol: a protocol name or `Protocol`.
            overrides: settings given by the user (`--set`), run and model ones.
            epochs: epochs given by the user; counts the run in epochs.
            recipe: a recipe name, `"none"` for the adaptive defaults, or
                None for the default recipe of (model, dataset, protocol).
            seed: seeds the split, the sampling and the initialisation.
            output, overwrite: the preset folder, checked here.
            strategy: `"default"`, `"mirrored"`, `"multi_worker"` or
                `"model_parallel"`.

        Raises:
            ValueError: a model, protocol, recipe, setting or strategy that
                cannot run, named.
        """
        from reczoo.presets import check_output

        overrides = dict(overrides or {})
        entry = registry.model_info(model)
        strategy = strategy or "default"
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}. Received: {strategy!r}")
        if strategy == "model_parallel" and entry.kind == "next_item":
            raise ValueError(
                f"--strategy=model_parallel shards the tables of ranking and retrieval models; "
                f"{model!r} is a next-item model, which scores its item table's rows as the "
                "catalogue. Drop --strategy."
            )
        if strategy not in ("default", "model_parallel") and entry.kind != "ranking":
            raise ValueError(
                f"Training on several devices is for ranking models for now; {model!r} is a "
                f"{entry.kind.replace('_', '-')} model. Drop --strategy."
            )
        if "epochs" in overrides and epochs is not None:
            raise ValueError(
                f"Epochs given twice: epochs={epochs} and a setting "
                f"epochs={overrides['epochs']}. Give one."
            )
        check_output(output, overwrite=overwrite)
        protocol = get_protocol(protocol)
        check_fits(protocol, entry.kind, model)
        found = _recipe(model, dataset, protocol.name, recipe)
        training, model_settings = _layered(entry, found, overrides, epochs, protocol)
        registry.route_settings(model, model_settings)
        named = (
            found.name if found is not None and (recipe is not None or not found.default) else None
        )
        settings = cls(
            model=model, dataset=str(dataset), protocol=protocol, seed=seed, recipe=found,
            named_recipe=named, epochs_given=epochs, overrides=types.MappingProxyType(overrides),
            output=output, overwrite=overwrite, strategy=strategy,
            model_settings=types.MappingProxyType(model_settings), **training,
        )  # fmt: skip
        settings._validate()
        return settings

    def _validate(self):
        for key in ("batch_size", "epochs", "eval_every", "eval_every_examples", "max_evaluations"):
            value = getattr(self, key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"`{key}` must be a positive integer. Received: {key}={value!r}")
        if self.epochs is None and (
            self.eval_every_examples is None or self.max_evaluations is None
        ):
            raise ValueError(
                "A run counts epochs (`epochs`) or examples (`eval_every_examples` and "
                "`max_evaluations`); neither was set."
            )
        if not is_minutes(self.max_minutes):
            raise ValueError(
                f"`max_minutes` must be a positive number. Received: max_minutes="
                f"{self.max_minutes!r}"
            )
        share = self.eval_share
        if share is not None and (
            isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1
        ):
            raise ValueError(
                f"`eval_share` must be a number in (0, 1]. Received: eval_share={share!r}"
            )
        if self.pretrain not in (None, True, False):
            raise ValueError(
                f"`pretrain` must be true or false. Received: pretrain={self.pretrain!r}"
            )
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"`patience` must be at least 1. Received: patience={self.patience}")
        if self.train_last_targets is not None and self.kind != "next_item":
            raise ValueError(
                f"train_last_targets is for next-item models; {self.model!r} is a "
                f"{self.kind.replace('_', '-')} model."
            )
        self._validate_recent()
        if self.pretrain and not self.entry.pretraining:
            raise ValueError(f"Model {self.model!r} has no pre-training; drop pretrain=true.")

    def _validate_recent(self):
        weight, share = self.recent_weight, self.recent_share
        if weight is None:
            if share is not None:
                raise ValueError(
                    f"recent_share={share!r} says which interactions recent_weight counts "
                    "more; give recent_weight too (how many times they count: 2, 3, ...)."
                )
            return
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 1:
            raise ValueError(
                f"`recent_weight` must be a positive integer. Received: recent_weight={weight!r}"
            )
        if share is not None and (
            isinstance(share, bool) or not isinstance(share, int | float) or not 0 < share <= 1
        ):
            raise ValueError(
                f"`recent_share` must be a number in (0, 1]. Received: recent_share={share!r}"
            )
        if self.kind != "ranking" or not self.protocol.leave_one_out:
            raise ValueError(
                "recent_weight counts each user's latest training interactions more, for "
                "rankers under a leave-last-out protocol (ncf, loo_full, ...); "
                f"{self.model!r} is a {self.kind.replace('_', '-')} model under "
                f"{self.protocol.name!r}."
            )

    def replace(self, **changes):
        """A copy with `changes` (model settings by name go in `model_settings`)."""
        model = {k: changes.pop(k) for k in list(changes) if k not in _FIELDS}
        if model:
            changes["model_settings"] = types.MappingProxyType({**self.model_settings, **model})
        elif "model_settings" in changes:
            changes["model_settings"] = types.MappingProxyType(dict(changes["model_settings"]))
        return dataclasses.replace(self, **changes)

    def complete(self, data, split):
        """The settings with what the data tells filled in, in one place:
        a next-item model's history length, a retriever's watch history, a
        stream's shuffle buffer, a ranker's objective and counted feature,
        and the time budget of adaptive defaults (`default_max_minutes`)."""
        entry, changes, model = self.entry, {}, {}
        if self.recipe is None and self.epochs is None and self.max_minutes is None:
            changes["max_minutes"] = default_max_minutes(data.num_interactions)
        if self.recent_weight is not None and self.recent_share is None:
            changes["recent_share"] = RECENT_SHARE
        if getattr(data, "declared_features", False) and "side_features" not in self.overrides:
            # Item or user tables given with your data are there to be used.
            changes["side_features"] = True
        if entry.kind == "next_item":
            if self.max_length is None:
                changes["max_length"] = history_length(split, high=self._longest(data))
        elif entry.kind == "retrieval":
            if entry.backbone.uses_history and not self.max_length:
                changes["max_length"] = RETRIEVAL_HISTORY
        elif getattr(data, "streaming", False):
            if self.shuffle_buffer is None:
                changes["shuffle_buffer"] = SHUFFLE_BUFFER
            model["objective"] = "binary"
        else:
            if data.kind == "ctr":
                objective = "binary"
            else:
                rated = data.ratings is not None and not split.protocol.leave_one_out
                objective = "regression" if rated else "binary"
            model["objective"] = entry.task_defaults.get("objective", objective)
            if entry.backbone.fit_by == "adapt":
                model["item_feature"] = data.item_column if data.kind == "ctr" else "item_id"
            elif self.recipe is None and sparse_items(data):
                model["embeddings_regularizer"] = {"class_name": "L2",
                                                   "config": {"l2": SPARSE_L2}}  # fmt: skip
        model = {k: v for k, v in model.items() if k not in self.model_settings}
        return self.replace(**changes, **model) if changes or model else self

    def _longest(self, data):
        """The longest history adaptive defaults give a next-item model:
        `LONGEST_HISTORY`, or for a full softmax without a recipe the
        multiple of 10 within `FULL_SOFTMAX_SCORES` scores a history (at
        least 10)."""
        loss = self.model_settings.get("loss", self.entry.task_defaults.get("loss"))
        if self.recipe is not None or loss != "ce":
            return LONGEST_HISTORY
        within = FULL_SOFTMAX_SCORES // max(data.num_items, 1) // 10 * 10
        return min(LONGEST_HISTORY, max(10, within))

    def training(self):
        """The training procedure as a dict: the row's and the checkpoint's
        view (optional settings only where set)."""
        out = {}
        for key in TRAINING_FIELDS:
            value = getattr(self, key)
            if key in EPOCH_BASE or value is not None:
                out[key] = value
        return out

    def schedule(self, steps_per_epoch):
        """`(steps per evaluation, evaluations at most)` for Keras `fit`.

        Each Keras epoch of the run is one evaluation period: `eval_every`
        data epochs under an epoch-counted procedure (the run's epochs
        rounded up to a multiple of it), else `eval_every_examples` examples,
        or one epoch where an epoch holds fewer (unless `eval_every_examples`
        was given), and no fewer than `SMALLEST_PERIOD` examples: small data
        is evaluated every epoch or few, not every few hundred.
        """
        if self.epochs is not None:
            return self.eval_every * steps_per_epoch, math.ceil(self.epochs / self.eval_every)
        steps = max(1, math.ceil(self.eval_every_examples / self.batch_size))
        if "eval_every_examples" not in self.overrides:
            smallest = math.ceil(SMALLEST_PERIOD[self.kind] / self.batch_size)
            steps = min(steps, max(1, steps_per_epoch, smallest))
        return steps, self.max_evaluations


_FIELDS = {f.name for f in dataclasses.fields(RunSettings)}
_OPTIONAL = ("eval_every_examples", "max_evaluations", "eval_share", "pretrain", "train_last_targets",
             "recent_weight", "recent_share", "shuffle_buffer", "max_minutes")  # fmt: skip
TRAINING_FIELDS = tuple(
    f.name for f in dataclasses.fields(RunSettings) if f.name in EPOCH_BASE or f.name in _OPTIONAL
)
# Settings of the run itself; every other override goes to the model.
RUN_KEYS = TRAINING_FIELDS


def _recipe(model, dataset, protocol, recipe):
    if recipe == "none":
        return None
    if recipe is None:
        return registry.find_recipe(model, dataset, protocol)
    if str(recipe).endswith(".json"):
        found = registry.recipe_from_file(recipe)  # `reczoo tune`'s, or your own
    else:
        found = registry.get_recipe(recipe)
    if found.model != model:
        raise ValueError(
            f"Recipe {found.name!r} is for model {found.model!r}. Received: model={model!r}"
        )
    return found


def _layered(entry, recipe, overrides, epochs, protocol):
    """`(training settings, model settings)`: the recipe's or the defaults,
    then the user's overrides, then `epochs`. A model's `recent_weight` among
    its `run_defaults` is for its default run (no epochs) under a
    leave-last-out `protocol` only."""
    if recipe is not None:
        unknown = sorted(set(recipe.training) - set(TRAINING_FIELDS))
        if unknown:
            raise ValueError(f"Recipe {recipe.name!r} sets unknown training settings {unknown}.")
        training = {**EPOCH_BASE, **recipe.training}
        model_settings = dict(recipe.model_settings)
    else:
        training = {**EPOCH_BASE, **KIND_BASE[entry.kind], **entry.run_defaults}
        adaptive = epochs is None and "epochs" not in overrides
        if adaptive:
            training.update(epochs=None, eval_every=None, **BY_EXAMPLES[entry.kind])
        if not (adaptive and protocol.leave_one_out):
            training.pop("recent_weight", None)
        model_settings = {}
    for key, value in overrides.items():
        (training if key in TRAINING_FIELDS else model_settings)[key] = value
    if epochs is not None:
        training["epochs"] = epochs
    if training.get("epochs") is not None:
        # A period longer than the run would train past the epochs asked for.
        training["eval_every"] = min(training.get("eval_every") or 1, training["epochs"])
        training.pop("eval_every_examples", None)
        training.pop("max_evaluations", None)
        training.pop("eval_share", None)
    return training, model_settings


def history_length(split, quantile=0.9, low=10, high=LONGEST_HISTORY):
    """A history length from the data: the `quantile` of the training
    histories' lengths, rounded up to a multiple of 10, within [low, high]."""
    lengths = np.array([len(h) for h in split.train.histories()[1:] if len(h)])
    if not len(lengths):
        return low
    value = math.ceil(np.quantile(lengths, quantile) / 10) * 10
    return int(min(high, max(low, value)))


def default_protocol(dataset, source="dataset", model=None):
    """The protocol of a run that names none, known before any file is read:
    the public dataset's own, `"ncf"` for your interactions file
    (`source="data_file"`), `"random_split"` for your click log with
    features (`source="click_log"`), `"fixed_split"` for your split files
    (`source="split_files"`) and `"shards"` for a shard folder
    (`source="shards"`). `dataset` is a name or a dataset object.

    With `model`, a protocol that model is evaluated under: where the data's
    own does not fit it, or is leave-last-out for a retriever (which fits
    it when named, ranking held-out items as rankers do), the protocol
    of the model's recipe on this public dataset, or else a split of rows
    with a validation part (`"random_split"`; `"ncf"` for next-item models).
    """
    protocol = _data_protocol(dataset, source)
    kind = registry.model_info(model).kind if model in registry.list_models() else None
    if kind is None or protocol in ("shards", "fixed_split") or _preferred(protocol, kind):
        return protocol  # an unknown model's error, or a fixed split's, comes later
    name = dataset if isinstance(dataset, str) else getattr(dataset, "name", None)
    for recipe in registry.list_recipes(f"{model}/*"):
        recipe = registry.get_recipe(recipe)
        if recipe.default and recipe.dataset == name and recipe.model == model:
            return recipe.protocol
    return "ncf" if kind == "next_item" else "random_split"


def sparse_items(data):
    """Whether `data` is interactions whose items have fewer than
    `SPARSE_PER_ITEM` interactions each on average."""
    if data.kind != "interactions":
        return False
    return data.num_interactions < SPARSE_PER_ITEM * max(1, data.num_items)


def _preferred(protocol, kind):
    """Whether a model of `kind` runs by default under the data's protocol:
    one that fits it, and for a retriever a split of rows (it is trained
    and compared on held-out rows by top-K accuracy; leave-last-out ranking
    is asked for by name)."""
    try:
        check_fits(protocol, kind)
    except ValueError:
        return False
    return kind != "retrieval" or not get_protocol(protocol).leave_one_out


def _data_protocol(dataset, source):
    from reczoo import datasets

    if source == "shards" or getattr(dataset, "streaming", False):
        return "shards"
    if source == "split_files":
        return "fixed_split"
    if source == "data_file":
        return "ncf"
    if source == "click_log":
        return "random_split"
    if isinstance(dataset, str):
        return datasets.dataset_info(dataset).default_protocol
    if dataset.name in datasets.DATASETS:
        return datasets.dataset_info(dataset.name).default_protocol
    if getattr(dataset, "fixed_split", None) is not None:
        return "fixed_split"
    return "bars_ctr" if dataset.kind == "ctr" else "ncf"
