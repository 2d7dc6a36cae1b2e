"""bfloat16 where TensorFlow's oneDNN cannot multiply it: a clear error
before any work, not a crash at the first matmul."""

import json

import keras
import pytest
from testing import tiny_spec

import reczoo
from reczoo import cli, dtypes
from reczoo.benchmark import run_suite
from reczoo.provenance import cpu_flags

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow's oneDNN kernels"
)


@pytest.fixture
def avx2_only(monkeypatch):
    """oneDNN held to AVX2, and the child's bfloat16 matmul crashing, as it
    does there (without paying for the child: the test below runs it)."""
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    tried = []
    monkeypatch.setattr(dtypes, "_matmul_in_a_child", lambda limit: tried.append(limit) or False)
    return tried


def test_a_bfloat16_model_is_refused_where_its_matmul_would_crash(avx2_only, monkeypatch):
    with pytest.raises(ValueError, match=r"cannot multiply bfloat16.*TF_ENABLE_ONEDNN_OPTS=0"):
        reczoo.get_model("deepfm", feature_spec=tiny_spec(), dtype="mixed_bfloat16")
    assert avx2_only == ["AVX2"]
    # float32 and float16 are not bfloat16: built without asking.
    for policy in ("float32", "mixed_float16"):
        reczoo.get_model("deepfm", feature_spec=tiny_spec(), dtype=policy)
    assert avx2_only == ["AVX2"]
    # With oneDNN off, TensorFlow's own kernels multiply it anywhere.
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    model = reczoo.get_model("deepfm", feature_spec=tiny_spec(), dtype="mixed_bfloat16")
    assert model.backbone.dtype_policy.name == "mixed_bfloat16"


def test_a_bfloat16_benchmark_is_refused_before_anything_is_written(avx2_only, tmp_path, capsys):
    output = tmp_path / "bench"
    with pytest.raises(ValueError, match="cannot multiply bfloat16"):
        run_suite("quick", models="deepfm", output=output, precision="mixed_bfloat16")
    assert not output.exists()
    args = ["reczoo", "benchmark", "--suite=quick", "--models=deepfm",
            "--precision=mixed_bfloat16", f"--output={output}"]  # fmt: skip
    assert cli.main(args) == 1
    assert "ONEDNN_MAX_CPU_ISA=AVX2" in capsys.readouterr().err
    assert not output.exists()


AVX2 = pytest.mark.skipif(not {"avx2"} <= cpu_flags(), reason="an x86 CPU with AVX2")


@pytest.mark.parametrize(
    "probe, runs",
    [
        ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", False),
        ("print(512.0)", True),
        ("print(float('nan'))", False),
        ("raise SystemExit(3)", False),
    ],
    ids=["segfault", "product", "wrong-product", "error"],
)
def test_the_child_tells_a_crash_or_a_wrong_product_from_a_matmul(monkeypatch, probe, runs):
    # Whether oneDNN's bfloat16 matmul crashes depends on the CPU: it ended
    # the process on an AVX-512 machine held to AVX2 (ONEDNN_MAX_CPU_ISA),
    # and computed on a 2-core AMD EPYC with AVX2 only. What reczoo decides
    # from the child's ending must not: a stand-in probe ends it each way.
    monkeypatch.setattr(dtypes, "_PROBE", probe)
    assert dtypes._matmul_in_a_child.__wrapped__("AVX2") is runs


@AVX2
@pytest.mark.slow
def test_the_child_sees_a_bfloat16_matmul_compute(monkeypatch):
    # The same child with oneDNN off: TensorFlow's own kernels compute it.
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    assert dtypes._matmul_in_a_child.__wrapped__("AVX2")


@pytest.fixture
def children(monkeypatch, tmp_path):
    """The children started, counted, with `$KERAS_HOME` a fresh folder."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    started = []
    run = dtypes.subprocess.run
    monkeypatch.setattr(dtypes.subprocess, "run", lambda *a, **k: started.append(1) or run(*a, **k))
    return started


def test_the_childs_answer_is_kept_for_the_next_process(monkeypatch, tmp_path, children):
    # A child costs a TensorFlow start-up; its answer for this CPU,
    # TensorFlow and oneDNN setting is read back rather than asked again.
    monkeypatch.setattr(dtypes, "_PROBE", "print(512.0)")
    assert dtypes._matmul_in_a_child.__wrapped__("AVX2") is True
    assert dtypes._matmul_in_a_child.__wrapped__("AVX2") is True
    assert len(children) == 1
    record = json.loads((tmp_path / "reczoo" / "probes.json").read_text())
    assert list(record.values()) == [True] and "isa=AVX2" in next(iter(record))
    # Another oneDNN limit is another question; a changed probe too.
    assert dtypes._matmul_in_a_child.__wrapped__("AVX512_CORE") is True
    monkeypatch.setattr(dtypes, "_PROBE", "raise SystemExit(3)")
    assert dtypes._matmul_in_a_child.__wrapped__("AVX2") is False
    assert len(children) == 3
    assert len(json.loads((tmp_path / "reczoo" / "probes.json").read_text())) == 3
    assert sorted(p.name for p in (tmp_path / "reczoo").iterdir()) == ["probes.json", "probes.lock"]


def test_an_unreadable_record_is_asked_again_and_replaced(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(dtypes, "_PROBE", "print(512.0)")
    (tmp_path / "reczoo").mkdir()
    (tmp_path / "reczoo" / "probes.json").write_text("{not json")
    assert dtypes._matmul_in_a_child.__wrapped__("AVX2") is True
    assert list(json.loads((tmp_path / "reczoo" / "probes.json").read_text()).values()) == [True]


def test_processes_asking_together_start_one_child(monkeypatch, children):
    # pytest-xdist's workers reach their first bfloat16 model together: the
    # second waits on the lock for the first's answer.
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(dtypes, "_PROBE", "import time; time.sleep(1); print(512.0)")
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(dtypes._matmul_in_a_child.__wrapped__, ["AVX2", "AVX2"]))
    assert answers == [True, True] and len(children) == 1
