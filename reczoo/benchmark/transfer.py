"""Does fine-tuning a preset beat training from scratch on a later period?

`temporal_finetune` splits a dataset in time: a model is pre-trained on the
first period and saved as a preset; on the next period (with users and items
the first never saw) the preset is fine-tuned, and the same model is trained
from scratch with the same settings, epochs and batch size; both are tested
on the last period.

- Data with timestamps (MovieLens): global time cuts. The first 80% of
  interactions pre-train (a random tenth of them validates); the last 20%,
  a dataset of its own, is split in time in halves: the next 10% train, the
  last 10% test (protocol `finetune_window`).
- Data in per-user time order only (Amazon Games as SASRec preprocessed it
  has no timestamps): each user's interactions but the last three pre-train;
  then the third-to-last item of each user is the one training target
  (`train_last_targets=1`; the earlier items are context), the second-to-last
  validates and the last tests (the `sasrec` protocol).
"""

import tempfile
from pathlib import Path

import numpy as np

from reczoo import datasets, registry
from reczoo.datasets.protocols import Protocol

# The later period: its first half in time trains, its second half tests.
WINDOW = Protocol("finetune_window", "temporal_split", ratios=(0.5, 0.0, 0.5))
PRETRAIN_SHARE = 0.8


def periods(data, seed=0):
    """`(first period, later period, pre-training protocol, fine-tuning
    protocol, run settings of the later period)` of `data`."""
    if data.timestamps is not None and data.name not in _ORDER_ONLY:
        order = np.argsort(data.timestamps, kind="stable")
        cut = round(PRETRAIN_SHARE * len(order))
        first = np.zeros(len(order), dtype=bool)
        first[order[:cut]] = True
        pretrain = Protocol("pretrain_split", "random_split", ratios=(0.9, 0.05, 0.05), seed=seed)
        return (
            data.restricted(first, f"{data.name}-first-80pct"),
            data.restricted(~first, f"{data.name}-last-20pct"),
            pretrain,
            WINDOW,
            {},
        )
    # Per-user time order: position from the end of each user's history.
    order = data.order()
    users = data.users[order]
    ends = np.searchsorted(users, users, side="right")
    from_end = np.empty(len(order), dtype="int64")
    from_end[order] = ends - 1 - np.arange(len(order))
    first = from_end >= 3
    return (
        data.restricted(first, f"{data.name}-all-but-last-3"),
        data,
        datasets.get_protocol("sasrec"),
        datasets.get_protocol("sasrec"),
        {"train_last_targets": 1},
    )


# Datasets whose timestamps are positions in the file, not times.
_ORDER_ONLY = ("amazon-games",)


def temporal_finetune(model, dataset, recipe, seed=0, budgets=None, pretrain_epochs=None,
                      verbose=0, **finetune_options):  # fmt: skip
    """Pre-trains once, then for each epoch budget fine-tunes the preset and
    trains from scratch; returns the rows (labels `<model>-pretrain`, and
    `<model>-scratch` and `<model>-finetune` per budget, which `transfer`
    records).

    Args:
        budgets: epoch budgets of the later period (the same for both);
            default: the recipe's epochs.
        pretrain_epochs: caps the pre-training's epochs (default: the
            recipe's).
        **finetune_options: `learning_rate`, `freeze`, ... of `finetune`.
    """
    from reczoo.training.finetuning import aligned, finetune
    from reczoo.training.runner import run

    data = datasets.load(dataset) if isinstance(dataset, str) else dataset
    first, later, pre_protocol, protocol, settings = periods(data, seed)
    budgets = budgets or (registry.get_recipe(recipe).training.get("epochs"),)
    about = {
        "pretrain_data": first.statistics(),
        "later_data": later.statistics(),
        "split": "global time" if protocol is WINDOW else "per-user time order",
        "finetune_options": finetune_options,
    }
    rows = []

    def keep(result, label, budget=None):
        row = {k: v for k, v in dict(result).items() if k != "history"}
        row.update(label=f"{model}-{label}", dataset=data.name,
                   transfer={**about, "budget_epochs": budget})  # fmt: skip
        rows.append(row)

    with tempfile.TemporaryDirectory(prefix="reczoo-transfer-") as folder:
        preset = Path(folder) / "pretrained"
        pre = run(model, first, protocol=pre_protocol, seed=seed, recipe=recipe,
                  epochs=pretrain_epochs, output=preset, verbose=verbose)  # fmt: skip
        keep(pre, "pretrain")
        # From scratch on the same ids as the fine-tuned model: the same catalogue.
        same_ids, _ = aligned(later, pre.plan.data.vocabulary_lists(), model,
                              pre["hyperparameters"])  # fmt: skip
        for budget in budgets:
            scratch = run(model, same_ids, protocol=protocol, seed=seed, recipe=recipe,
                          epochs=budget, verbose=verbose, **settings)  # fmt: skip
            keep(scratch, "scratch", budget)
            tuned = finetune(preset, later, protocol=protocol, epochs=budget, seed=seed,
                             verbose=verbose, **settings, **finetune_options)  # fmt: skip
            about["vocabulary_growth"] = tuned["vocabulary_growth"]
            keep(tuned, "finetune", budget)
    return rows
