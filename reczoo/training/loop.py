"""Training with Keras `fit` and callbacks: evaluation, early stopping, LR on plateau.

Each Keras epoch of a run is one evaluation period (`settings.schedule`):
the plan's endless stream feeds `fit(epochs=periods, steps_per_epoch=...)`,
`Evaluation` scores the validation split after each period and puts the
metrics in the logs as `val_<metric>`, where Keras' own `EarlyStopping`
(restoring the best weights) and `ReduceLROnPlateau` read them. A period's
steps run several to a compiled call (`execution_steps`), the same steps
as one at a time.
"""

import contextlib
import dataclasses
import math
import sys
import time
import warnings

import keras

from reczoo import provenance
from reczoo.training.checkpoint import Checkpoint
from reczoo.training.fused import fuse_steps

_SHOWN = ("hr@10", "ndcg@10", "auc", "logloss", "rmse", "mae")


class Timer(keras.callbacks.Callback):
    """Seconds spent in training steps, evaluation excluded (it runs in later
    callbacks' `on_epoch_end`, so this callback must come first)."""

    def __init__(self):
        super().__init__()
        self.seconds = 0.0
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self._start


class TrainingDiverged(ValueError):
    """The training loss became NaN or infinite."""


class DivergenceGuard(keras.callbacks.Callback):
    """Stops a run whose loss is no longer a finite number, naming the step.

    Keras reads each step's logs in a thread beside training when every
    batch callback says it may (`async_safe`): checking the loss there
    costs the training loop nothing. The error reaches `fit` a step later,
    before any later period is evaluated or checkpointed.
    """

    async_safe = True

    def __init__(self, steps_per_period):
        super().__init__()
        self.steps_per_period = steps_per_period
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            step = self._epoch * self.steps_per_period + batch + 1
            raise TrainingDiverged(
                f"The training loss became {float(loss)} by step {step}: the run diverged and "
                "nothing was saved. Lower the learning rate (--set=learning_rate=...), or "
                "look for extreme values in the data."
            )

    def on_epoch_end(self, epoch, logs=None):
        self.on_train_batch_end(self.steps_per_period - 1, logs)


class TimeBudget(keras.callbacks.Callback):
    """Stops training at the end of the period after which another would
    run past `minutes` (training and evaluation counted, from the start of
    `fit` in this process: a resumed run has the budget anew), judging a
    period's length by the mean of those done. Early stopping, before it in
    the callbacks, still restores the best weights.
    """

    def __init__(self, minutes):
        super().__init__()
        self.seconds = minutes * 60.0
        self.stopped = False
        self._start = None
        self._periods = 0

    def on_train_begin(self, logs=None):
        self._start = time.perf_counter()

    def ends_after(self, epoch):
        """Whether the budget will stop training after period `epoch` (asked
        before this period's evaluation, which it then counts as one more
        period's length)."""
        elapsed = time.perf_counter() - self._start
        periods = self._periods + 1
        return elapsed + 2 * elapsed / periods > self.seconds

    def on_epoch_end(self, epoch, logs=None):
        self._periods += 1
        elapsed = time.perf_counter() - self._start
        if self.model.stop_training or epoch + 1 >= self.params["epochs"]:
            return  # stopped for another reason, or at its end anyway
        if elapsed + elapsed / self._periods > self.seconds:
            self.model.stop_training = self.stopped = True


class Evaluation(keras.callbacks.Callback):
    """Scores the plan's validation split after every period.

    Adds `val_<metric>` to the epoch logs and keeps a history row per
    period: `{"epoch": data epochs or None, "step", "loss", **metrics}`,
    with `train_seconds` (training so far, evaluation excluded) when given
    the run's `Timer`: the time a run took to reach a validation score.
    """

    def __init__(
        self, plan, steps_per_period, epochs_per_period=None, verbose=0, timer=None, share=None,
        budget=None,
    ):  # fmt: skip
        super().__init__()
        self.plan = plan
        self.timer = timer
        self.steps_per_period = steps_per_period
        self.epochs_per_period = epochs_per_period
        self.verbose = verbose
        self.share = share if timer is not None else None
        self.budget = budget
        self.rows = []
        self.seconds = 0.0  # spent evaluating, in this process
        self._last = 0.0

    def due(self, epoch):
        """Whether period `epoch` is evaluated: always without a `share`;
        with one, the first and last periods (the time budget's included)
        and every one whose evaluation keeps evaluation within that share of
        the time (training seconds from the run's `Timer`)."""
        last = (self.params or {}).get("epochs")
        if self.share is None or not self._last or last is None or epoch + 1 >= last:
            return True
        if self.budget is not None and self.budget.ends_after(epoch):
            return True
        spent = self.seconds + self._last
        return spent * (1.0 - self.share) <= self.share * self.timer.seconds

    def on_epoch_end(self, epoch, logs=None):
        if not self.due(epoch):
            return  # no val_ metric: early stopping and the LR schedule wait for one
        start = time.perf_counter()
        metrics, _, _ = self.plan.evaluate(self.model, "valid")
        self._last = time.perf_counter() - start
        self.seconds += self._last
        logs.update({f"val_{k}": v for k, v in metrics.items()})
        row = {
            "epoch": (epoch + 1) * self.epochs_per_period if self.epochs_per_period else None,
            "step": (epoch + 1) * self.steps_per_period,
            "loss": float(logs["loss"]),
            **metrics,
        }
        if self.timer is not None:
            row["train_seconds"] = round(self.timer.seconds, 3)
        self.rows.append(row)
        if self.verbose:
            where = f"epoch {row['epoch']}" if row["epoch"] else f"step {row['step']}"
            shown = ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if k in _SHOWN)
            print(f"{where}: loss={row['loss']:.4f} valid {shown}", flush=True)


# The most training steps one compiled call runs when the model does not
# set `steps_per_execution` itself (see `execution_steps`).
MOST_STEPS_PER_CALL = 32


def execution_steps(steps_per_period, most=MOST_STEPS_PER_CALL):
    """Steps per compiled call for a period of `steps_per_period` steps: the
    largest divisor of it up to `most`. Keras runs whole calls, so a call
    that crossed a period's end would train on the next period's batches;
    with a divisor every period runs exactly its steps, and a run trains as
    it would one step per call (the same batches, updates and numbers),
    without a call from Python for every step."""
    return max(d for d in range(1, min(most, steps_per_period) + 1) if steps_per_period % d == 0)


# Fewer training steps than this, and a model that compiles with XLA by
# default (GMF, MLP, NeuMF, MF-BPR) trains op by op: XLA's compilation costs
# more than its faster steps save. On MovieLens-100K (2 cores here) it added
# 1.0-3.2 s to a run's first epoch and saved 0.7-5 ms a step, which pays
# off after 500 (NeuMF) to 3,000 (MF-BPR) steps. A `jit_compile` the user
# or a recipe sets is kept.
XLA_MIN_STEPS = 1_000


# Rankers that train faster compiled with XLA than op by op on an x86 CPU
# with AVX2 but not AVX-512 (the 2-core AMD EPYC issue 26 names), where
# TensorFlow's oneDNN kernels run them slowly: a steady epoch of their
# frappe-x1 recipe (`reczoo train --model=M --dataset=frappe-x1 --epochs=3`
# against the same with `--set=jit_compile=true`, Dec 6, 2026, one run each,
# alone) took DeepFM 9.6 s against 5.8 s, DCN-v2 13.1 s against 8.4 s and
# xDeepFM 17.3 s against 9.8 s, at the same validation AUC to the third
# decimal; measured the same way later that day, IPNN 12.6-13.9 s against
# 7.5-7.8 s, OPNN 9.2-9.5 s against 6.2-6.4 s, AutoInt 30.0-32.2 s against
# 20.5-20.7 s, AutoInt+ 147-150 s against 103-114 s and FinalMLP 7.0-7.8 s
# against 4.5-4.9 s (validation AUC within 0.0005). FM gained 0.3 s an
# epoch (0.7 s against 0.4 s) for 10.7 s of compilation, and FinalNet none
# (29.1-31.9 s against 28.8-31.3 s): they stay op by op.
# With AVX-512 XLA was slower for DCN-v2 (0.64x, results/throughput)
# and gained DeepFM 1.17x, so there they keep Keras' default (op by op), as
# on any CPU not measured. Runs shorter than `XLA_MIN_STEPS`, and runs under
# a distribution strategy, stay op by op.
XLA_ON_AVX2 = frozenset(
    {"deepfm", "dcnv2", "xdeepfm", "ipnn", "opnn", "autoint", "autoint_plus", "finalmlp"}
)


def compiles_by_default(model, steps):
    """Whether a run of `steps` steps trains `model` compiled with XLA on
    this machine where neither its registration, its recipe nor the user
    asks for it: a ranker of `XLA_ON_AVX2` on a TensorFlow CPU with AVX2 and
    without AVX-512."""
    if model not in XLA_ON_AVX2 or steps < XLA_MIN_STEPS or keras.backend.backend() != "tensorflow":
        return False
    flags = provenance.cpu_flags()
    if "avx2" not in flags or "avx512f" in flags:
        return False
    import tensorflow as tf

    return not tf.config.list_logical_devices("GPU")


def _choose_compilation(task, settings, strategy, steps):
    """Sets whether `task` trains compiled with XLA for a run of `steps`
    steps (the row's `jit` says which): its default unless the run is too
    short to pay for the compilation, or `compiles_by_default` on one device."""
    if not _compile_pays_off(task, settings, steps):
        task.jit_compile = False
    elif (
        "jit_compile" not in settings.model_settings
        and settings.strategy == "default"
        and not _replicated(strategy)
        and compiles_by_default(settings.model, steps)
    ):
        # One device only: several replicas or sharded tables were measured op by op.
        task.jit_compile = True


def _compile_pays_off(task, settings, steps):
    """Whether `task` keeps its XLA default for a run of `steps` steps."""
    return (
        steps >= XLA_MIN_STEPS
        or "jit_compile" in settings.model_settings
        or keras.backend.backend() != "tensorflow"  # JAX compiles every step
        or task.jit_compile is not True
    )


@dataclasses.dataclass
class TrainingLog:
    """What a training run did: periods, steps, the best period, timings,
    history, and what stopped it (`"patience"`, `"time budget"`, or None
    when it ran every period)."""

    periods: int
    steps: int
    steps_per_period: int
    best_period: int
    seconds: float
    history: list
    stopped_by: str | None = None


def train(
    task, plan, settings, verbose=0, checkpoint_dir=None, identity=None, strategy=None,
    tensorboard_dir=None,
):  # fmt: skip
    """Trains `task` on `plan` under `settings` (a `RunSettings`); returns a
    `TrainingLog`.

    With a validation split, stops after `patience` evaluations without a
    gain in the plan's monitored metric and restores the best weights; with
    `reduce_lr`, multiplies the learning rate by it at each evaluation
    without a gain (FuxiCTR's procedure). Without one, trains every period
    and keeps the last weights. With `checkpoint_dir`, saves the whole
    training state after every period and resumes from it
    (`reczoo.training.checkpoint`). With `tensorboard_dir`, Keras'
    `TensorBoard` callback writes the loss, the learning rate and the
    validation metrics of every period there. Under a `MultiWorkerMirroredStrategy`
    the same callbacks are driven by `reczoo.distribute.fit_loop` instead of
    `fit`; each worker but the chief keeps its checkpoint in a subfolder.
    """
    from reczoo import distribute

    multi_worker = strategy is not None and distribute.is_multi_worker(strategy)
    steps_per_period, periods = settings.schedule(plan.steps_per_epoch)
    epochs_per_period = settings.eval_every if settings.epochs else None
    timer = Timer()
    evaluation, stopping, reduce_lr, budget = _watchers(
        plan, settings, steps_per_period, epochs_per_period, verbose, timer
    )
    watching = [c for c in (evaluation, stopping, reduce_lr, budget) if c is not None]
    callbacks = [timer, DivergenceGuard(steps_per_period), *_ema_swap(task), *watching]
    if tensorboard_dir is not None:
        # After the evaluation, whose val_ metrics it writes.
        callbacks.append(keras.callbacks.TensorBoard(str(tensorboard_dir), write_graph=False))
    with contextlib.ExitStack() as held:
        done = 0
        if checkpoint_dir is not None:
            if multi_worker and distribute.worker_index(strategy) > 0:
                checkpoint_dir = f"{checkpoint_dir}/worker-{distribute.worker_index(strategy)}"
            # One process at a time trains into a checkpoint folder.
            held.enter_context(provenance.folder_lock(checkpoint_dir, wait=False))
            checkpoint = Checkpoint(
                checkpoint_dir, identity, stopping, reduce_lr, evaluation, timer
            )
            callbacks.append(checkpoint)  # last: it restores the others' state
            done = checkpoint.periods_done
            if checkpoint.finished:
                periods = done
        # The stream starts where the finished periods left it.
        steps = done * steps_per_period
        first, skip = steps // plan.steps_per_epoch + 1, steps % plan.steps_per_epoch
        if multi_worker:
            fitted = distribute.fit_loop(
                task, strategy, plan.stream_function(first, skip), callbacks, done, periods,
                steps_per_period,
            )  # fmt: skip
            return _log(fitted, done, steps_per_period, (evaluation, stopping, budget), timer)
        # A period trained through unevaluated (`eval_share`) has no val_
        # metric: early stopping and the LR schedule wait for the next one.
        held.enter_context(warnings.catch_warnings())
        warnings.filterwarnings("ignore", message=r".*conditioned on metric .* not available")
        stream = plan.stream(first).skip(skip)
        _choose_compilation(task, settings, strategy, (periods - done) * steps_per_period)
        if "steps_per_execution" not in settings.model_settings and not _replicated(strategy):
            # Several steps per call (the preset keeps Keras' default of one).
            held.callback(_restore_steps_per_call, task, task.steps_per_execution)
            _set_steps_per_call(task, execution_steps(steps_per_period), strategy)
        fitted = task.fit(
            stream,
            initial_epoch=done,
            epochs=periods,
            steps_per_epoch=steps_per_period,
            callbacks=callbacks,
            # Keras' own progress inside each evaluation period at verbose 2: a
            # live bar in a terminal, a line per period in a log file.
            verbose=(1 if sys.stdout.isatty() else 2) if verbose >= 2 else 0,
            shuffle=False,  # the stream is shuffled by the plan
        )
        return _log(fitted, done, steps_per_period, (evaluation, stopping, budget), timer)


class AveragedWeights(keras.callbacks.SwapEMAWeights):
    """With an optimizer that keeps moving averages of the weights
    (`use_ema`), puts the averages in the model at the end of each period,
    before the evaluation, early stopping and the checkpoint read it, and the
    weights back at the start of the next: the averages are what is scored,
    kept as the best and returned."""

    def __init__(self):
        super().__init__(swap_on_epoch=True)
        self._first_period = True

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_period and epoch > 0:
            # Resumed from a checkpoint, which was saved with the averages in
            # the model (and the weights in the optimizer's average slots):
            # Keras' own flag makes the swap below put the weights back.
            self._ema_weights_in_model = True
        self._first_period = False
        super().on_epoch_begin(epoch, logs)


def _ema_swap(task):
    return [AveragedWeights()] if getattr(task.optimizer, "use_ema", False) else []


def _watchers(plan, settings, steps_per_period, epochs_per_period, verbose, timer=None):
    """`(evaluation, early stopping, LR on plateau, time budget)`, each
    None where the run has none, in the order they must run."""
    evaluation = stopping = reduce_lr = None
    budget = TimeBudget(settings.max_minutes) if settings.max_minutes else None
    if plan.has_validation():
        metric, mode = plan.monitor
        evaluation = Evaluation(
            plan, steps_per_period, epochs_per_period, verbose, timer, settings.eval_share, budget
        )
        stopping = keras.callbacks.EarlyStopping(
            monitor=f"val_{metric}", mode=mode, patience=settings.patience,
            restore_best_weights=True,
        )  # fmt: skip
        if settings.reduce_lr:
            reduce_lr = keras.callbacks.ReduceLROnPlateau(
                monitor=f"val_{metric}", mode=mode, factor=settings.reduce_lr, patience=1,
                min_delta=0.0, min_lr=1e-6,
            )  # fmt: skip
    return evaluation, stopping, reduce_lr, budget


def _replicated(strategy):
    """Whether `strategy` trains several replicas: there Keras' multi-step
    loop over a distributed iterator fails ("You must feed a value for
    placeholder tensor ... while/cond", Keras 3.15 / TF 2.21 under
    MirroredStrategy), so such runs keep one step per call."""
    return strategy is not None and strategy.num_replicas_in_sync > 1


def _set_steps_per_call(task, steps, strategy):
    # Compiled models run a call's steps as one XLA loop (fused.py).
    if not fuse_steps(task, steps, strategy):
        task.steps_per_execution = steps
        task.train_function = None


def _restore_steps_per_call(task, steps):
    task.steps_per_execution = steps
    task.train_function = None


def _log(fitted, done, steps_per_period, callbacks, timer):
    evaluation, stopping, budget = callbacks
    run = done + len(fitted.epoch)
    if evaluation is None:
        history = [
            {"epoch": None, "step": (done + i + 1) * steps_per_period, "loss": float(loss)}
            for i, loss in enumerate(fitted.history.get("loss", []))
        ]
        best = run - 1
    else:
        history, best = evaluation.rows, stopping.best_epoch
    stopped_by = None
    if stopping is not None and stopping.stopped_epoch > 0:
        stopped_by = "patience"
    elif budget is not None and budget.stopped:
        stopped_by = "time budget"
    return TrainingLog(run, run * steps_per_period, steps_per_period, best, timer.seconds, history,
                       stopped_by)  # fmt: skip
