"""Keras backends side by side: `--backend`, entries of a suite under a named
backend (run in a process of their own), and the backend in rows and reports.
The JAX tier itself (`KERAS_BACKEND=jax python -m pytest -m jax`) is
test_jax_backend.py and the tests marked `jax`."""

import json
import subprocess
import sys

import keras
import pytest

from reczoo import cli
from reczoo.benchmark import report, suites
from reczoo.benchmark.suite import run_suite, suite_command
from reczoo.benchmark.suites import Entry

# Tests that start JAX processes run in the JAX tier (KERAS_BACKEND=jax
# python -m pytest -m jax), keeping the default tier within its 5 minutes.


def test_the_throughput_suite_measures_every_entry_under_both_backends():
    # (The served entries time an exported SavedModel: TensorFlow only.)
    entries = [e for e in suites.entries("throughput") if e.kind == "throughput"]
    pairs = {(e.model, e.dataset): set() for e in entries}
    for e in entries:
        pairs[(e.model, e.dataset)].add(e.backend)
    assert all(backends == {"tensorflow", "jax"} for backends in pairs.values())
    assert len({e.key for e in entries}) == len(entries)  # one row key per backend
    jax_only = suites.entries("throughput", backends="jax")
    assert {e.backend for e in jax_only} == {"jax"} and len(jax_only) == len(pairs)


def test_the_backends_suite_is_the_quick_suites_runs_under_both():
    quick = [e for e in suites.entries("quick") if e.kind == "accuracy"]
    both = suites.entries("backends")
    assert [(e.key.rsplit("/backend=", 1)[0], e.backend) for e in both] == [
        (q.key, b) for q in quick for b in ("tensorflow", "jax")
    ]
    with pytest.raises(ValueError, match=r"Unknown backend 'torch'\. Known: tensorflow, jax"):
        suites.entries("backends", backends="torch")


def test_an_entrys_command_names_its_backend():
    entry = suites.entries("throughput", models="mlp", backends="jax")[0]
    command = suite_command("throughput", entry, 0, "float32", "auto", "auto")
    assert command.endswith("--models=mlp --datasets=movielens-100k --backends=jax")


@pytest.mark.jax
@pytest.mark.skipif(keras.backend.backend() != "jax", reason="in the JAX tier")
def test_entries_under_named_backends_run_in_processes_of_their_own(data_dir, tmp_path):
    entries = [
        Entry("pop", "accuracy", "pop", "movielens-100k", protocol="ncf", backend=b)
        for b in ("jax", "tensorflow")
    ]
    rows = run_suite(entries, output=tmp_path / "out", quiet=True)
    by_backend = {r["backend"]: r for r in rows}
    assert set(by_backend) == {"jax", "tensorflow"}
    assert all(r["status"] == "ok" for r in rows)
    assert "jax" in by_backend["jax"]["versions"]
    # Popularity is arithmetic: the same numbers under both backends.
    assert by_backend["jax"]["metrics"] == by_backend["tensorflow"]["metrics"]
    text = (tmp_path / "out" / "report.md").read_text()
    assert "| model | backend | settings |" in text


def test_a_throughput_table_compares_each_backend_with_tensorflow():
    def row(backend, jit, speed):
        return {"kind": "throughput", "status": "ok", "model": "deepfm", "dataset": "frappe",
                "batch_size": 4096, "train_samples_per_sec": speed,
                "infer_samples_per_sec": 2 * speed, "latency_ms_p50": 1.0,
                "latency_ms_p99": 2.0, "params": 10, "precision": "float32", "jit": jit,
                "backend": backend}  # fmt: skip

    text = report.markdown([row("tensorflow", False, 1000.0), row("jax", True, 500.0)])
    lines = [line for line in text.splitlines() if line.startswith("| deepfm")]
    assert lines[0].startswith("| deepfm | tensorflow | 4,096 | 1,000 |")
    assert lines[1].startswith("| deepfm | jax | 4,096 | 500 |")
    assert lines[1].endswith("| 0.50x, 0.50x |")


def test_backend_flag_is_checked_before_any_work(capsys):
    assert cli.main(["reczoo", "train", "--backend=torch", "--model=pop"]) == cli.USAGE_EXIT
    assert "--backend=torch: value should be one of <tensorflow|jax>" in capsys.readouterr().err
    other = "jax" if keras.backend.backend() == "tensorflow" else "tensorflow"
    with pytest.raises(ValueError, match=f"already running on '{keras.backend.backend()}'"):
        cli.use_backend(other)
    cli.use_backend(keras.backend.backend())  # the backend it runs: nothing to do


@pytest.mark.jax
@pytest.mark.skipif(keras.backend.backend() != "jax", reason="in the JAX tier")
def test_train_on_jax_records_the_backend_and_the_command_to_rerun_it(tmp_path):
    ratings = tmp_path / "ratings.csv"
    lines = ["user,item,ts"] + [
        f"u{u},i{(u * 7 + k) % 40},{k}" for u in range(60) for k in range(12)
    ]
    ratings.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "reczoo.cli", "train", "--backend=jax", "--model=bpr_mf",
         f"--data_file={ratings}", "--user_col=user", "--item_col=item", "--time_col=ts",
         "--protocol=loo_full", "--epochs=1", "--quiet"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    row = json.loads(done.stdout.strip().splitlines()[-1])
    assert row["backend"] == "jax" and "jax" in row["versions"]
    assert "--backend=jax" in row["command"]
