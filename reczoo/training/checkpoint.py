"""Resumable runs: the whole training state after every evaluation period.

A killed `reczoo train --checkpoint_dir=DIR` resumes from its last finished
period and ends with the same result as a run never interrupted: the state
saved is everything training reads, not only the weights.

- every variable of the task, random seed states of dropout and negative
  sampling included (`task.variables`), and of the optimizer;
- early stopping's and the learning-rate schedule's counters, best value and
  best weights;
- the evaluation history and the training seconds so far;
- where the stream of training batches stands (it is a pure function of the
  seed, so the run starts it again at that batch).

Files are replaced atomically, so a kill while saving leaves the previous
checkpoint whole. A checkpoint of another run (other settings, data or seed)
is refused, never overwritten.
"""

import json
import zipfile
from pathlib import Path

import keras
import numpy as np

from reczoo.provenance import write_atomically

STATE_FILE = "checkpoint.json"


class CheckpointError(ValueError):
    """A checkpoint folder that holds another run, or a damaged checkpoint."""


class Checkpoint(keras.callbacks.Callback):
    """Saves the run's state after each period and restores it at the start.

    Place it after every callback whose state it keeps: Keras calls
    `on_train_begin` in order, and early stopping resets itself there.

    Args:
        directory: the checkpoint folder.
        identity: what makes two runs the same run (settings, data hash,
            seed); a checkpoint of another identity is refused.
        stopping, reduce_lr, evaluation, timer: the callbacks whose state
            it saves (any may be None).
    """

    def __init__(
        self, directory, identity, stopping=None, reduce_lr=None, evaluation=None, timer=None
    ):
        super().__init__()
        self.directory = Path(directory)
        self.identity = json.loads(json.dumps(identity, sort_keys=True, default=str))
        self.stopping, self.reduce_lr = stopping, reduce_lr
        self.evaluation, self.timer = evaluation, timer
        self.saved = self._read()

    @property
    def periods_done(self):
        """Evaluation periods the saved state has finished (0 without one)."""
        return self.saved["periods"] if self.saved else 0

    @property
    def finished(self):
        return bool(self.saved and self.saved["finished"])

    def _read(self):
        state_path = self.directory / STATE_FILE
        if self.directory.exists() and not self.directory.is_dir():
            raise CheckpointError(f"--checkpoint_dir {str(self.directory)!r} is a file.")
        if not state_path.is_file():
            return None
        try:
            state = json.loads(state_path.read_text())
        except json.JSONDecodeError as e:
            raise CheckpointError(
                f"{state_path} is damaged ({e}); remove the folder to start over."
            ) from None
        if state.get("identity") != self.identity:
            raise CheckpointError(
                f"{str(self.directory)!r} holds the checkpoint of another run (other settings, "
                "data or seed); give another --checkpoint_dir, or remove it to start over."
            )
        return state

    def restore_model(self):
        """Puts the saved variables back into the task and its optimizer."""
        path = self.directory / self.saved["arrays"]
        try:
            with np.load(path) as arrays:
                task_values = [arrays[f"task_{i}"] for i in range(self.saved["task_variables"])]
                optimizer_values = [
                    arrays[f"optimizer_{i}"] for i in range(self.saved["optimizer_variables"])
                ]
                best = [arrays[f"best_{i}"] for i in range(self.saved["best_weights"])]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError) as e:
            raise CheckpointError(
                f"{path} is damaged or cut short ({type(e).__name__}: {e}); remove "
                f"{str(self.directory)!r} to start the run over."
            ) from None
        _assign(self.model.variables, task_values, "task")
        optimizer = self.model.optimizer
        if not optimizer.built:
            optimizer.build(self.model.trainable_variables)
        _assign(optimizer.variables, optimizer_values, "optimizer")
        return best or None

    def on_train_begin(self, logs=None):
        if not self.saved:
            return
        best = self.restore_model()
        s = self.saved
        if self.stopping is not None:
            self.stopping.wait = s["stopping"]["wait"]
            self.stopping.best = s["stopping"]["best"]
            self.stopping.best_epoch = s["stopping"]["best_epoch"]
            self.stopping.best_weights = best
        if self.reduce_lr is not None:
            self.reduce_lr.wait = s["reduce_lr"]["wait"]
            self.reduce_lr.best = s["reduce_lr"]["best"]
            self.reduce_lr.cooldown_counter = s["reduce_lr"]["cooldown_counter"]
        if self.evaluation is not None:
            self.evaluation.rows = list(s["history"])
        if self.timer is not None:
            self.timer.seconds = s["seconds"]

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch + 1, finished=bool(self.model.stop_training))

    def save(self, periods, finished):
        self.directory.mkdir(parents=True, exist_ok=True)
        best = (self.stopping.best_weights if self.stopping is not None else None) or []
        arrays = {f"task_{i}": np.asarray(v) for i, v in enumerate(self.model.variables)}
        arrays |= {
            f"optimizer_{i}": np.asarray(v) for i, v in enumerate(self.model.optimizer.variables)
        }
        arrays |= {f"best_{i}": np.asarray(w) for i, w in enumerate(best)}
        name = f"checkpoint-{periods:05d}.npz"
        state = {
            "identity": self.identity,
            "arrays": name,
            "periods": periods,
            "finished": finished,
            "task_variables": len(self.model.variables),
            "optimizer_variables": len(self.model.optimizer.variables),
            "best_weights": len(best),
            "stopping": None if self.stopping is None else {
                "wait": self.stopping.wait,
                "best": _float(self.stopping.best),
                "best_epoch": self.stopping.best_epoch,
            },
            "reduce_lr": None if self.reduce_lr is None else {
                "wait": self.reduce_lr.wait,
                "best": _float(self.reduce_lr.best),
                "cooldown_counter": self.reduce_lr.cooldown_counter,
            },
            "history": self.evaluation.rows if self.evaluation is not None else [],
            "seconds": self.timer.seconds if self.timer is not None else 0.0,
        }  # fmt: skip
        # This period's arrays under a name of their own, then the state that
        # names them: a kill in between leaves the previous state and arrays.
        write_atomically(self.directory / name, lambda t: np.savez(t, **arrays), durable=True)
        write_atomically(
            self.directory / STATE_FILE, lambda t: t.write_text(json.dumps(state)), durable=True
        )
        for old in self.directory.glob("checkpoint-*.npz"):
            if old.name != name:
                old.unlink()
        self.saved = state


def _assign(variables, values, what):
    if len(variables) != len(values):
        raise CheckpointError(
            f"The checkpoint holds {len(values)} {what} variables; this run has {len(variables)}."
        )
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def _float(value):
    return None if value is None else float(value)
