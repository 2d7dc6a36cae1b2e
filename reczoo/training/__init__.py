"""The trainer: run settings (recipes or adaptive defaults), training plans
per task kind, the Keras loop and its callbacks, checkpoints and resume, the
command that reproduces a run, and fine-tuning.

`reczoo.run` and `reczoo.finetune` are the public entry points; the
benchmark harness (`reczoo.benchmark`) runs suites on top of them.
"""

from reczoo.training.command import format_command
from reczoo.training.finetuning import finetune
from reczoo.training.loop import TrainingLog, train
from reczoo.training.plans import KS, NextItemPlan, RankingPlan, RetrievalPlan, StreamingPlan
from reczoo.training.runner import RunResult, build_task, execute, run
from reczoo.training.scoring import Predictions, predict
from reczoo.training.settings import EPOCH_BASE, RUN_KEYS, RunSettings, default_protocol

__all__ = [
    "EPOCH_BASE",
    "KS",
    "RUN_KEYS",
    "NextItemPlan",
    "Predictions",
    "RankingPlan",
    "RetrievalPlan",
    "RunResult",
    "RunSettings",
    "StreamingPlan",
    "TrainingLog",
    "build_task",
    "default_protocol",
    "execute",
    "finetune",
    "format_command",
    "predict",
    "run",
    "train",
]
