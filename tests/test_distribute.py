"""Training beyond one device: `mirrored` through Keras `fit`, `multi_worker`
through reczoo's loop on `strategy.run`, and streaming from shards.

Strategies must be made before TensorFlow's runtime starts, so each run is a
`reczoo train` process of its own; two workers are two processes on
localhost with `TF_CONFIG` (`reczoo.distribute.local_cluster`).
"""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import reczoo
from reczoo import datasets, distribute
from reczoo.datasets import loaders
from reczoo.datasets.synthetic import DEFAULT_CARDINALITY
from reczoo.training import RunSettings

# One worker runs them all: two of them at once start four TensorFlow
# processes on two cores, and the multi-process runs time out.
pytestmark = [
    pytest.mark.xdist_group("test_distribute"),
    # tf.distribute replicates TensorFlow variables; under JAX it is refused
    # (test_jax_backend.py).
    pytest.mark.skipif(
        os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
        reason="tf.distribute runs on the TensorFlow backend",
    ),
]

TRAIN = [sys.executable, "-m", "reczoo.cli", "train", "--model=deepfm", "--quiet"]
# `reczoo train --dataset=criteo` on a synthetic train.txt: the real file's
# published row count (45,840,617), its only check, is lifted.
CRITEO = [
    sys.executable, "-c",
    "import dataclasses, sys; from reczoo import cli, datasets; "
    "info = datasets.DATASETS['criteo']; "
    "datasets.DATASETS['criteo'] = dataclasses.replace(info, published={}); "
    "sys.exit(cli.main(['reczoo', *sys.argv[1:]]))",
    "train", "--model=deepfm", "--quiet", "--dataset=criteo",
]  # fmt: skip
ROOT = Path(__file__).resolve().parents[1]


def _shards(folder, rows, cap, seed=0):
    """A Criteo-shaped synthetic log (each column's values capped at `cap`),
    loaded in memory and written into shards with its random split."""
    cardinality = tuple(min(c, cap) for c in DEFAULT_CARDINALITY)
    log = datasets.synthetic_criteo(folder / "train.txt", rows, seed=seed, cardinality=cardinality)
    data = loaders.read_criteo(log, "synthetic-criteo")
    split = datasets.split(data, "random_split", seed=0)
    written = datasets.write_shards(data, folder / "shards", split=split, rows_per_shard=rows // 20)
    return data, written


def _row(stdout):
    return json.loads(stdout.strip().splitlines()[-1])


def _env(**more):
    # The `reczoo` script beside this interpreter, as after `pip install`.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": path, **more}
    env.pop("TF_CONFIG", None)
    return env


def _train(args, timeout=600, command=TRAIN, env=None):
    done = subprocess.run(
        command + args, capture_output=True, text=True, env=env or _env(), timeout=timeout
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return _row(done.stdout)


def _workers(args, workers=2, timeout=900, command=TRAIN, env=None):
    """`reczoo train ARGS --strategy=multi_worker` as `workers` local processes."""
    procs = [
        subprocess.Popen(
            [*command, *args, "--strategy=multi_worker"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**(env or _env()), "TF_CONFIG": config},
        )
        for config in distribute.local_cluster(workers)
    ]
    rows = []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        assert p.returncode == 0, err[-3000:]
        rows.append(_row(out))
    return rows


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _shards(tmp_path_factory.mktemp("small"), 8_000, cap=20)


@pytest.fixture(scope="module")
def two_workers(small, tmp_path_factory):
    _, shards = small
    checkpoints = tmp_path_factory.mktemp("run") / "checkpoints"
    args = [f"--shards={shards.folder}", "--epochs=1", "--set=batch_size=256",
            f"--checkpoint_dir={checkpoints}"]  # fmt: skip
    return args, checkpoints, _workers(args)


# Two worker processes with gRPC collectives take about a minute of the two
# cores: the slow tier. The default tier keeps the refusals (test_strategy_errors_are_named).
@pytest.mark.slow
def test_two_local_workers_train_one_model(two_workers):
    _, checkpoints, rows = two_workers
    for row in rows:
        assert (row["strategy"], row["replicas"], row["workers"]) == ("multi_worker", 2, 2)
        assert row["epochs"] == 1 and len(row["history"]) == 1
        assert "--strategy=multi_worker" in row["command"]
    # Mirrored weights: both workers score the test rows alike.
    assert rows[0]["metrics"]["auc"] == pytest.approx(rows[1]["metrics"]["auc"], abs=1e-6)
    assert rows[0]["metrics"]["auc"] > 0.55
    # The chief's checkpoint in the folder, the other worker's beside it.
    assert (checkpoints / "checkpoint.json").is_file()
    assert (checkpoints / "worker-1" / "checkpoint.json").is_file()


@pytest.mark.slow
def test_two_workers_resume_from_their_checkpoints(two_workers):
    # The same command again resumes the finished run and ends with its result.
    args, _, rows = two_workers
    again = _workers(args)
    assert again[0]["metrics"] == rows[0]["metrics"]
    assert again[0]["history"] == rows[0]["history"]


@pytest.mark.slow
def test_mirrored_over_two_cpu_devices(small):
    _, shards = small
    row = _train([f"--shards={shards.folder}", "--epochs=1", "--set=batch_size=256",
                  "--strategy=mirrored", "--cpu_devices=2"])  # fmt: skip
    assert (row["strategy"], row["replicas"], row["workers"]) == ("mirrored", 2, 1)
    assert row["embedding"] == "keras Embedding tables, mirrored on each of 2 replicas"
    assert row["metrics"]["auc"] > 0.55 and row["valid_metrics"]["auc"] > 0.55


def test_strategy_errors_are_named(monkeypatch):
    from reczoo import cli

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.get_strategy("multi_worker")
    with pytest.raises(ValueError, match="Unknown strategy 'ring'"):
        distribute.get_strategy("ring")
    with pytest.raises(ValueError, match="ranking models for now; 'sasrec' is a next-item"):
        RunSettings.build("sasrec", "amazon-games", "sasrec", strategy="mirrored")
    assert (
        cli.main(["reczoo", "train", "--model=deepfm", "--dataset=frappe", "--cpu_devices=2"]) != 0
    )


@pytest.mark.slow
def test_criteo_by_name_streams_from_cached_shards(tmp_path, monkeypatch):
    # `--dataset=criteo` converts train.txt once into the cache and streams it.
    log = datasets.synthetic_criteo(tmp_path / "data" / "criteo" / "train.txt", 3_000)
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    # The real file's published row count is the check on it; this one is smaller.
    info = dataclasses.replace(datasets.DATASETS["criteo"], published={})
    monkeypatch.setitem(datasets.DATASETS, "criteo", info)
    data = datasets.load("criteo")
    assert data.streaming and data.statistics()["rows"] == 3_000
    assert str(data.folder).startswith(str(tmp_path / "home"))
    assert data.vocabulary("C1")[0] == "[PAD]"
    assert data.manifest["source"]["sha256"] == datasets.sources.sha256_of(log)
    assert datasets.load("criteo").folder == data.folder  # converted once
    result = reczoo.run("deepfm", "criteo", epochs=1, batch_size=512, verbose=0)
    assert result["protocol"] == "shards" and result["dataset"] == "criteo"
    assert 0 < result["metrics"]["auc"] < 1 and result["steps"] == 5  # 2,400 rows / 512
    assert result["command"].startswith("reczoo train --model=deepfm --dataset=criteo")


@pytest.mark.slow
def test_shards_train_as_memory_does(tmp_path):
    # The same rows, split and seed, in memory and streamed from shards.
    data, shards = _shards(tmp_path, 200_000, cap=30)
    settings = {"epochs": 1, "batch_size": 1024, "verbose": 0}
    memory = reczoo.run("deepfm", data, protocol="random_split", **settings)
    streamed = reczoo.run("deepfm", shards, **settings)
    for stage in ("valid_metrics", "metrics"):
        assert streamed[stage]["auc"] == pytest.approx(memory[stage]["auc"], abs=0.002)


@pytest.mark.slow
def test_two_workers_reach_one_process_auc(tmp_path):
    # The check: `reczoo train --model=deepfm --dataset=criteo`, two
    # worker processes on localhost against one process, on the same
    # Criteo-shaped data and seed (train.txt converted once into the cache).
    cardinality = tuple(min(c, 30) for c in DEFAULT_CARDINALITY)
    datasets.synthetic_criteo(tmp_path / "data" / "criteo" / "train.txt", 200_000,
                              cardinality=cardinality)  # fmt: skip
    env = _env(RECZOO_DATA_DIR=str(tmp_path / "data"), KERAS_HOME=str(tmp_path / "home"))
    args = ["--epochs=1", "--set=batch_size=1024"]
    one = _train(args, command=CRITEO, env=env)
    two = _workers(args, command=CRITEO, env=env)
    assert two[0]["valid_metrics"]["auc"] == pytest.approx(one["valid_metrics"]["auc"], abs=0.002)
    assert (two[0]["replicas"], one["replicas"]) == (2, 1)
    assert two[0]["dataset"] == "criteo" and "--dataset=criteo" in two[0]["command"]


@pytest.mark.slow
def test_the_documented_two_worker_launch_runs(tmp_path):
    import re

    from reczoo import cli

    page = (ROOT / "docs" / "distributed.md").read_text()
    fences = re.findall(r"^```(\w*)\n(.*?)^```", page, re.S | re.M)
    block = next(body for lang, body in fences if lang == "bash" and "multi_worker" in body)
    datasets.synthetic_criteo(tmp_path / "click_log.txt", 10_000)
    argv = ["reczoo", "shards", f"--input={tmp_path / 'click_log.txt'}",
            f"--output={tmp_path / 'click_shards'}", "--min_count=2"]  # fmt: skip
    assert cli.main(argv) == 0
    done = subprocess.run(["bash", "-c", block], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, (done.stderr, (tmp_path / "worker1.log").read_text()[-2000:])
    row = _row(done.stdout)
    assert (row["strategy"], row["replicas"], row["workers"]) == ("multi_worker", 2, 2)
    assert (tmp_path / "deepfm_two_workers" / "metadata.json").is_file()
