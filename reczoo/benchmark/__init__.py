"""Running models on datasets: settings (recipes or adaptive defaults),
training plans, Keras-callback training and the result row."""

from reczoo.benchmark.command import format_command
from reczoo.benchmark.plans import KS, NextItemPlan, RankingPlan
from reczoo.benchmark.run import RunResult, run
from reczoo.benchmark.settings import EPOCH_BASE, RUN_KEYS, resolve
from reczoo.benchmark.training import TrainingLog, train

__all__ = [
    "EPOCH_BASE",
    "KS",
    "RUN_KEYS",
    "NextItemPlan",
    "RankingPlan",
    "RunResult",
    "TrainingLog",
    "format_command",
    "resolve",
    "run",
    "train",
]
