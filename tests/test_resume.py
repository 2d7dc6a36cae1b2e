"""A killed `reczoo train --checkpoint_dir` resumes to the uninterrupted result."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest


def _clicks(path, users=200, per_user=20, items=600):
    rng = np.random.default_rng(0)
    lines = ["uid,sku,ts"]
    for u in range(users):
        for t, i in enumerate(rng.choice(items, size=per_user, replace=False)):
            lines.append(f"u{u},i{(i + 3 * u) % items},{t}")
    path.write_text("\n".join(lines) + "\n")


COMMAND = [
    sys.executable, "-m", "reczoo.cli", "train", "--model=mlp", "--data_file=clicks.csv",
    "--user_col=uid", "--item_col=sku", "--time_col=ts", "--protocol=ncf", "--epochs=10",
    "--set=patience=10", "--set=hidden_units=[64, 32]", "--set=batch_size=64",
    "--set=dropout=0.2", "--quiet",
]  # fmt: skip


@pytest.fixture
def workdir(tmp_path):
    _clicks(tmp_path / "clicks.csv")
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "keras_home"), TF_CPP_MIN_LOG_LEVEL="3")
    return tmp_path, env


def _row(done):
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _periods(state):
    try:
        return json.loads(state.read_text())["periods"]
    except (OSError, ValueError, KeyError):
        return 0


def _planned_periods(command):
    """The evaluation periods `command` runs at most: its epochs, or its
    `max_evaluations` where it counts examples."""
    for flag in ("--epochs=", "--set=max_evaluations="):
        found = [a for a in command if a.startswith(flag)]
        if found:
            return int(found[-1].split("=")[-1])
    raise AssertionError(f"no --epochs or max_evaluations in {command}")


# Epoch-counted, and counted in examples (periods of 313 batches end inside
# epochs of 297: the resumed stream starts mid-epoch).
BY_EXAMPLES = [
    *COMMAND[:10], "--set=eval_every_examples=20000", "--set=max_evaluations=10", *COMMAND[11:],
]  # fmt: skip


# A next-item model: its negative sampler's seed state must come back too.
NEXT_ITEM = [
    *COMMAND[:4], "--model=sasrec", *COMMAND[5:9], "--protocol=sasrec", "--epochs=6",
    "--set=patience=6", "--set=embedding_dim=16", "--set=max_length=20", "--set=batch_size=32",
    "--quiet",
]  # fmt: skip


# Killed processes resume in the slow tier; the default tier resumes a
# next-item run interrupted in process (below).
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(COMMAND, marks=pytest.mark.slow),
        pytest.param(BY_EXAMPLES, marks=pytest.mark.slow),
        pytest.param(NEXT_ITEM, marks=pytest.mark.slow),
    ],
    ids=["epochs", "examples", "next-item"],
)
def test_a_killed_run_resumes_to_the_same_result(command, workdir):
    folder, env = workdir
    whole = _row(subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True))

    resumable = [*command, "--checkpoint_dir=ckpt"]
    state = folder / "ckpt" / "checkpoint.json"
    process = subprocess.Popen(
        resumable, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    periods = _planned_periods(command)
    while _periods(state) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    killed_at = _periods(state)
    assert 2 <= killed_at < periods, f"the run was not killed mid-way (at period {killed_at})"

    resumed = _row(subprocess.run(resumable, cwd=folder, env=env, capture_output=True, text=True))
    assert resumed["metrics"] == whole["metrics"]
    assert resumed["valid_metrics"] == whole["valid_metrics"]
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in whole["history"]]
    assert resumed["steps"] == whole["steps"]

    # Started again once finished, the same command gives the same result
    # from the checkpoint, without training.
    again = _row(subprocess.run(resumable, cwd=folder, env=env, capture_output=True, text=True))
    assert again["metrics"] == whole["metrics"]


@pytest.mark.slow
def test_a_checkpoint_of_another_run_is_refused(workdir):
    folder, env = workdir
    first = [*COMMAND[:10], "--epochs=1", *COMMAND[11:], "--checkpoint_dir=ckpt"]
    _row(subprocess.run(first, cwd=folder, env=env, capture_output=True, text=True))
    saved = {p.name: p.read_bytes() for p in (folder / "ckpt").iterdir()}
    other = [*first, "--seed=1"]
    done = subprocess.run(other, cwd=folder, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert "holds the checkpoint of another run" in done.stderr
    assert {p.name: p.read_bytes() for p in (folder / "ckpt").iterdir()} == saved


class _Stop(Exception):
    """Raised right after a checkpoint is written, as a kill there would."""


@pytest.mark.parametrize("averaged", [False, True], ids=["weights", "weight_averages"])
def test_an_interrupted_run_resumes_in_process_to_the_same_result(tmp_path, monkeypatch, averaged):
    # The default tier's check of resumption (the killed processes above are
    # slow): a next-item run, whose sampler's seed state must come back too,
    # stopped after its second period, then run again with the same arguments.
    from reczoo import datasets
    from reczoo.training import checkpoint, run

    _clicks(tmp_path / "clicks.csv", users=120, per_user=15)
    data = datasets.load_interactions(tmp_path / "clicks.csv", user="uid", item="sku", time="ts")
    # GRU4Rec (SASRec's graph takes longer to trace) under BCE with one
    # sampled negative per position, as SASRec trains.
    settings = {"protocol": "sasrec", "epochs": 4, "patience": 4, "embedding_dim": 16,
                "max_length": 20, "batch_size": 32, "loss": "bce", "verbose": 0}  # fmt: skip
    if averaged:
        # The checkpoint holds the averages in the model (`use_ema`), which
        # the resumed run must swap back before training on.
        config = {"learning_rate": 0.01, "use_ema": True, "ema_momentum": 0.5}
        settings["optimizer"] = {"class_name": "Adam", "config": config}
    whole = run("gru4rec", data, **settings)

    saved = checkpoint.Checkpoint.on_epoch_end

    def stop_after_two(self, epoch, logs=None):
        saved(self, epoch, logs)
        if epoch == 1:
            raise _Stop

    monkeypatch.setattr(checkpoint.Checkpoint, "on_epoch_end", stop_after_two)
    with pytest.raises(_Stop):
        run("gru4rec", data, checkpoint_dir=tmp_path / "ckpt", **settings)
    monkeypatch.setattr(checkpoint.Checkpoint, "on_epoch_end", saved)
    assert json.loads((tmp_path / "ckpt" / "checkpoint.json").read_text())["periods"] == 2
    resumed = run("gru4rec", data, checkpoint_dir=tmp_path / "ckpt", **settings)
    assert resumed["metrics"] == whole["metrics"]
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in whole["history"]]
    assert resumed["steps"] == whole["steps"]
