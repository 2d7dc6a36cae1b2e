"""Running models on datasets: settings (recipes or adaptive defaults),
training plans, Keras-callback training and the result row; benchmark
suites run into a folder with reports and plots (`run_suite`)."""

from reczoo.benchmark.command import format_command
from reczoo.benchmark.plans import KS, NextItemPlan, RankingPlan
from reczoo.benchmark.run import RunResult, run
from reczoo.benchmark.settings import EPOCH_BASE, RUN_KEYS, resolve
from reczoo.benchmark.suite import run_suite
from reczoo.benchmark.suites import Entry, entries, list_suites
from reczoo.benchmark.training import TrainingLog, train

__all__ = [
    "EPOCH_BASE",
    "KS",
    "RUN_KEYS",
    "Entry",
    "NextItemPlan",
    "RankingPlan",
    "RunResult",
    "TrainingLog",
    "entries",
    "format_command",
    "list_suites",
    "resolve",
    "run",
    "run_suite",
    "train",
]
