"""`reczoo benchmark`: every output of a tiny suite, resume, failures, reports."""

import csv
import json
import os

import pytest

from reczoo import registry
from reczoo.benchmark import report, suites
from reczoo.benchmark import rows as rows_module
from reczoo.benchmark import suite as suite_module
from reczoo.benchmark.suite import read_rows, run_suite
from reczoo.benchmark.suites import Entry
from reczoo.cli import main

# The fields every result row carries (../shared/DESIGN.md, "Benchmark results").
DESIGN_FIELDS = (
    "model", "dataset", "protocol", "metrics", "train_samples_per_sec", "infer_samples_per_sec",
    "latency_ms_p50", "latency_ms_p99", "batch_size", "epochs", "wall_seconds", "params",
    "device", "precision", "jit", "versions", "seed", "git_commit",
    # and what the suite adds: where it ran and how to run it again
    "cpu", "cpu_cores", "gpu", "gpu_count", "gpu_memory_gib", "suite", "label", "status",
    "suite_command", "date",
)  # fmt: skip

TINY_MLP = Entry(
    "mlp", "accuracy", "mlp", "movielens-100k", protocol="ncf",
    settings=(("batch_size", 4096), ("epochs", 2), ("hidden_units", [16])), estimate_s=5,
)  # fmt: skip
TINY_THROUGHPUT = Entry(
    "fm", "throughput", "fm", "frappe",
    settings=(("batch_sizes", (1, 64)), ("min_seconds", 0.01), ("repeats", 2)), estimate_s=5,
)  # fmt: skip
TINY_SERVED = Entry(
    "mlp", "served", "mlp", "movielens-100k", settings=(("batch_sizes", (1, 8)), ("min_seconds", 0)),
    estimate_s=5,
    backend="tensorflow",
)  # fmt: skip
BROKEN = Entry("pop", "accuracy", "pop", "no-such-dataset", protocol="ncf", estimate_s=5)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A three-entry suite (a real-data training run, a throughput run and
    an exported model's latency), with one entry that fails in between, run
    once for the module."""
    if not os.environ.get("RECZOO_DATA_DIR"):
        pytest.skip("RECZOO_DATA_DIR is not set to a folder with the public datasets")
    folder = tmp_path_factory.mktemp("bench")
    rows = run_suite([TINY_MLP, BROKEN, TINY_THROUGHPUT, TINY_SERVED], output=folder, quiet=True)
    return folder, rows


def test_every_output_file_with_every_field(tiny):
    folder, rows = tiny
    for name in ("results.jsonl", "results.csv", "report.md"):
        assert (folder / name).is_file(), name
    plots = sorted(p.name for p in (folder / "plots").iterdir())
    assert "movielens-100k-ncf.png" in plots  # accuracy against training throughput
    assert "throughput-frappe.png" in plots
    assert any(p.startswith("curve-mlp-movielens-100k") for p in plots)  # validation curve
    for png in (folder / "plots").iterdir():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    saved = read_rows(folder)
    assert saved == json.loads(json.dumps(rows))
    ok = [r for r in saved if r["status"] == "ok"]
    assert {r["kind"] for r in ok} == {"accuracy", "throughput", "served"}
    for row in ok:
        missing = [f for f in DESIGN_FIELDS if f not in row]
        assert not missing, (row["kind"], missing)
    trained = next(r for r in ok if r["kind"] == "accuracy")
    assert 0.0 < trained["metrics"]["hr@10"] <= 1.0
    assert trained["epochs"] == 2 and trained["train_samples_per_sec"] > 0
    assert trained["latency_ms_p99"] >= trained["latency_ms_p50"] > 0
    # A run under ONEDNN_MAX_CPU_ISA records it before the command.
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA")
    prefix = f"ONEDNN_MAX_CPU_ISA={limit} " if limit else ""
    assert trained["suite_command"].startswith(
        f"{prefix}reczoo benchmark --suite=custom --models=mlp"
    )
    timed = [r for r in ok if r["kind"] == "throughput"]
    assert [r["batch_size"] for r in timed] == [1, 64]
    assert timed[0]["train_samples_per_sec"] is None  # no training at batch 1
    assert timed[1]["train_samples_per_sec"] > 0
    assert all(r["latency_ms_p99"] >= r["latency_ms_p50"] > 0 for r in timed)

    with open(folder / "results.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert len(table) == len(saved)
    assert set(rows_module.CSV_FIELDS) <= set(table[0])
    assert "test_hr@10" in table[0]

    # The SavedModel beside the Keras model, at each batch size.
    served = [r for r in ok if r["kind"] == "served"]
    assert [(r["runtime"], r["batch_size"]) for r in served] == [
        ("keras", 1), ("savedmodel", 1), ("keras", 8), ("savedmodel", 8)
    ]  # fmt: skip
    assert all(r["latency_ms_p99"] >= r["latency_ms_p50"] > 0 for r in served)
    assert served[1]["call"] == "score" and served[0]["call"] == "predict_on_batch"

    text = (folder / "report.md").read_text()
    assert "## movielens-100k · ncf" in text and "### frappe" in text
    assert "## Served: the exported SavedModel against the Keras model" in text
    assert "| mlp | movielens-100k | 8 | savedmodel | `score` |" in text
    assert "## Failed or skipped" in text and "no-such-dataset" in text


def test_a_failing_entry_is_recorded_and_the_suite_goes_on(tiny):
    _, rows = tiny
    assert [r["status"] for r in rows if r["kind"] == "accuracy"] == ["ok", "failed"]
    failed = next(r for r in rows if r["status"] == "failed")
    assert "no-such-dataset" in failed["error"]
    assert failed["suite_command"] and failed["model"] == "pop"
    # the entry after it ran
    assert any(r["kind"] == "throughput" and r["status"] == "ok" for r in rows)


def calibrate_not():
    raise AssertionError("timed the machine for runs that can only be skipped")


def test_an_entry_whose_files_are_not_placed_is_skipped_saying_where_they_go(tmp_path, monkeypatch):
    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path / "data"))

    monkeypatch.setattr(suite_module, "calibrate", calibrate_not)
    entry = next(e for e in suites.entries("paper") if e.recipe == "finalnet/criteo-x1")
    assert entry.estimate_s > suite_module.CALIBRATE_ABOVE_S  # would be timed, were it to run
    rows = run_suite([entry], output=tmp_path / "bench", quiet=True)
    assert [r["status"] for r in rows] == ["skipped"]
    assert "huggingface.co/datasets/reczoo/Criteo_x1" in rows[0]["error"]
    assert str(tmp_path / "data" / "criteo-x1") in rows[0]["error"]


def test_resume_skips_finished_rows_and_reruns_failed_ones(tiny, monkeypatch, capsys):
    folder, rows = tiny
    ran = []

    def fake_entry(entry, seed, *args):
        ran.append(entry.key)
        raise RuntimeError("still broken")

    monkeypatch.setattr(suite_module, "_run_entry", fake_entry)
    # The first line estimates the runs left for this machine, timed first.
    monkeypatch.setattr(suite_module, "CALIBRATE_ABOVE_S", 0.0)
    monkeypatch.setattr(suite_module, "calibrate", lambda: (3.0, "timed"))
    again = run_suite([TINY_MLP, BROKEN, TINY_THROUGHPUT], output=folder, quiet=True,
                      max_minutes=2)  # fmt: skip
    assert ran == [BROKEN.key]  # finished entries were not run again
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "Estimate for this machine: about 0:00:15 for 1 runs (timed); at most about 0:02:00 "
        "of training runs: each trains for its share of the time left."
    )
    assert "2 of 3 runs already in" in out[1]
    assert len(again) == len(rows)
    before = json.loads(json.dumps(rows))
    assert [r for r in again if r["status"] == "ok"] == [r for r in before if r["status"] == "ok"]
    assert next(r for r in again if r["status"] == "failed")["error"].endswith("still broken")


def test_report_is_idempotent_and_check_writes_nothing(tiny, capsys):
    folder, _ = tiny
    assert report.build(folder) == []  # the suite built it: nothing to change
    assert main(["reczoo", "benchmark", "report", str(folder), "--check"]) == 0
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    plot = folder / "plots" / "throughput-frappe.png"
    plot.unlink()
    (folder / "report.md").write_text("edited\n")
    assert main(["reczoo", "benchmark", "report", str(folder), "--check"]) == 1
    assert not plot.exists() and (folder / "report.md").read_text() == "edited\n"
    assert "stale" in capsys.readouterr().out
    assert main(["reczoo", "benchmark", "report", str(folder)]) == 0
    after = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before  # the same bytes as the suite wrote
    # A plot is judged by what it shows, not by how a matplotlib version
    # drew it: other bytes with the same content are current.
    plot.write_bytes(before[plot] + b"drawn by another version")
    assert report.build(folder, check=True) == []


def test_seeds_give_mean_and_sample_deviation():
    rows = [
        {"kind": "accuracy", "status": "ok", "dataset": "d", "protocol": "p", "model": "m",
         "label": "m", "seed": s, "metrics": {"auc": v}, "entry": "accuracy/m/d/p//"}
        for s, v in enumerate((0.983, 0.984, 0.985))
    ]  # fmt: skip
    # mean 0.984, deviations -0.001, 0, +0.001: sample sd = sqrt(2e-6 / 2) = 0.001
    assert "| 0.9840 ± 0.0010 (3) |" in report.markdown(rows)


def test_a_reference_is_compared_under_its_own_protocol_only():
    row = {"kind": "accuracy", "status": "ok", "dataset": "frappe-x1", "model": "deepfm",
           "label": "deepfm", "seed": 0, "metrics": {"auc": 0.985}, "entry": "a/deepfm////"}  # fmt: skip
    same = report.markdown([{**row, "protocol": "bars_x1"}])
    assert "auc 0.9839" in same and "+0.0011" in same
    other = report.markdown([{**row, "protocol": "bars_ctr"}])
    assert "0.9839" not in other


def test_bad_requests_are_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match="Unknown suite 'nope'"):
        run_suite("nope", output=tmp_path)
    with pytest.raises(ValueError, match="precision"):
        run_suite("quick", output=tmp_path, precision="half")
    with pytest.raises(ValueError, match="seeds"):
        run_suite("quick", output=tmp_path, seeds="0,x")
    with pytest.raises(ValueError, match="no dataset 'mnist'"):
        suites.entries("quick", datasets="mnist")
    with pytest.raises(ValueError, match="No entry"):
        suites.entries("quick", models="nothing*")
    assert not any(tmp_path.iterdir())


def test_gpu_requested_without_one_is_an_error(tmp_path, capsys):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    output = tmp_path / "bench"
    assert main(["reczoo", "benchmark", "--device=gpu", f"--output={output}"]) == 1
    assert "sees no GPU" in capsys.readouterr().err
    assert not output.exists()  # refused before anything was written


def test_runs_that_will_be_skipped_are_left_out_of_the_estimate_and_the_budget(
    tmp_path, monkeypatch, capsys
):
    import contextlib
    import dataclasses
    import types

    monkeypatch.setenv("RECZOO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(suite_module, "calibrate", lambda: (2.0, "timed"))
    criteo = next(e for e in suites.entries("paper") if e.recipe == "finalnet/criteo-x1")
    long_mlp = dataclasses.replace(TINY_MLP, estimate_s=200)  # MovieLens-100K: downloadable
    todo = [(criteo, 0), (long_mlp, 0), (BROKEN, 0)]
    cpu = types.SimpleNamespace(scope=contextlib.nullcontext)
    estimates, budget = suite_module._estimates(todo, cpu, 10)
    assert estimates == [0.0, 400.0, 10.0]
    # The MLP's share of the 10 minutes: by its estimate against the broken
    # entry's, none kept for the run that will be skipped.
    assert budget.share(1) == pytest.approx((600 * 400 / 410 - 0.2 * 400) / 60, abs=0.01)
    line = capsys.readouterr().out.strip()
    assert "about 0:06:50 for 2 runs (timed); 1 more will be skipped, each saying why" in line


def test_missing_peer_environment_is_skipped_with_its_setup_command(tmp_path, monkeypatch):
    from reczoo.benchmark import peers

    monkeypatch.setenv("RECZOO_PEERS_DIR", str(tmp_path / "none"))
    monkeypatch.setattr(suite_module, "calibrate", calibrate_not)  # as above
    reason = peers.missing("deepctr")
    assert "python3 -m venv" in reason and "deepctr==0.9.4" in reason
    entry = suites.entries("paper", models="deepfm", peers=True)[-1]
    assert entry.kind == "peer" and entry.estimate_s > suite_module.CALIBRATE_ABOVE_S
    rows = run_suite([entry], output=tmp_path / "out", quiet=True)
    assert [r["status"] for r in rows] == ["skipped"]
    assert "pip install" in rows[0]["error"]
    assert "$" not in rows[0]["suite_command"] and "--peers" in rows[0]["suite_command"]


def test_precision_trains_reczoo_side_of_a_peer_pair_only(monkeypatch):
    # `--precision` reaches reczoo's run as its dtype policy; the peer keeps
    # its own float32, and the command that repeats the pair carries the flag.
    from reczoo.benchmark import peers

    calls = []

    def fake_deepctr(dataset, protocol, seed, verbose, overrides):
        calls.append(overrides)
        return {"precision": overrides.get("dtype", "float32")}, {"precision": "float32"}

    monkeypatch.setattr(peers, "_deepctr", fake_deepctr)
    monkeypatch.setattr(peers, "missing", lambda peer: None)
    entry = suites.entries("paper", models="deepfm", peers=True)[-1]
    options = ("mixed_bfloat16", False, "cpu", True, None, "auto", None)
    rows = suite_module._run_entry(entry, 0, options)
    assert calls == [{"dtype": "mixed_bfloat16"}]
    assert [r["precision"] for r in rows] == ["mixed_bfloat16", "float32"]
    command = suite_module.suite_command("paper", entry, 0, "mixed_bfloat16", "auto", "auto")
    assert "--peers" in command and "--precision=mixed_bfloat16" in command
    peers.compare("deepctr", "frappe-x1", "bars_x1")
    assert calls[-1] == {}


def test_a_peer_entrys_settings_train_reczoos_side_only(monkeypatch):
    # `bpr_mf-recent` is MF-BPR against RecBole with reczoo's recent
    # weighting: the setting reaches reczoo's run, not the peer's.
    from reczoo.benchmark import peers

    calls = []

    def fake_recbole_cf(model, dataset, protocol, seed, verbose, overrides):
        calls.append((model, overrides))
        return {}, {}

    monkeypatch.setattr(peers, "_recbole_cf", fake_recbole_cf)
    monkeypatch.setattr(peers, "missing", lambda peer: None)
    (entry,) = suites.entries("peers", models="bpr_mf-recent", peers=True)
    assert (entry.model, entry.overrides) == ("bpr_mf", {"recent_weight": 3})
    options = ("float32", False, "cpu", True, None, "auto", None)
    ours, theirs = suite_module._run_entry(entry, 0, options)
    assert calls == [("bpr_mf", {"recent_weight": 3})]
    assert (ours["side_by_side"], theirs["label"]) == ("recbole", "recbole_bpr_mf")
    (plain,) = suites.entries("peers", models="bpr_mf", peers=True)
    assert plain.overrides == {} and plain.key != entry.key


def test_suites_name_registered_recipes_and_shapes():
    from reczoo.benchmark.throughput import SHAPES

    for name in set(suites.list_suites()) - set(suites.DATA_SUITES):
        for entry in suites.entries(name, peers=True):
            if entry.kind == "accuracy" and entry.recipe:
                assert entry.recipe.startswith(entry.label + "/")
            if entry.kind == "throughput":
                assert entry.dataset in SHAPES
    for kind, models in suites.RANKING.items():
        # The ranking roster on your data: registered rankers, five or more.
        assert len(models) >= 5 and all(registry.model_info(m).kind == "ranking" for m in models)
        assert [e.model for e in suites.for_data("ranking", "mine", kind, "random_split")] == list(
            models
        )
    with pytest.raises(ValueError, match="runs on your data: give --data_file"):
        suites.entries("ranking")
    # --models reaches past the roster: every model that trains on the data,
    # the roster's first; a click log's rows feed rankers only.
    every = [e.model for e in suites.for_data("ranking", "mine", "interactions", "ncf", "*")]
    assert sorted(every) == registry.list_models()
    assert every[: len(suites.RANKING["interactions"])] == list(suites.RANKING["interactions"])
    ctr = [e.model for e in suites.for_data("ranking", "mine", "ctr", "random_split", "*")]
    assert "sasrec" not in ctr and {"finalmlp", "autoint_plus"} <= set(ctr)
    picked = suites.for_data("ranking", "mine", "interactions", "ncf", "sas*,gru4rec,pop")
    assert [e.model for e in picked] == ["pop", "gru4rec", "sasrec"]
    # Popularity is counted, not trained: its estimate must not make the
    # progress line's "time left" scale the training runs down to seconds.
    assert [e.estimate_s for e in picked] == [1.0, 60.0, 60.0]
    with pytest.raises(ValueError, match=r"Models that train on it: .*deepfm"):
        suites.for_data("ranking", "mine", "ctr", "random_split", "sasrec")
    quick = suites.entries("quick")
    # Every family of the model table, each under the protocol its rows are
    # published for (two-tower retrieval under TF Recommenders' split).
    families = {registry.model_info(m).family for m in registry.list_models()}
    assert {registry.model_info(e.model).family for e in quick} == families
    assert {(e.model, e.protocol) for e in quick} >= {("two_tower", "tfrs_retrieval"),
                                                      ("neumf", "ncf")}  # fmt: skip
    # Within ten minutes: the runs' estimates on the calibration's machine,
    # and the budget that stops them on a slower one, with a minute to spare.
    assert sum(e.estimate_s for e in quick) < 8 * 60
    assert suites.TIME_BUDGETS["quick"] <= 9


def test_a_suite_budget_is_shared_by_estimate_and_what_a_run_leaves_goes_on():
    budget = suite_module.SuiteBudget(10.0, [("accuracy", 100), ("peer", 500),
                                             ("accuracy", 200), ("accuracy", 300)])  # fmt: skip
    # A sixth of 600 s, less a fifth of its estimate for reading and scoring.
    assert budget.share(0) == round((100 - 20) / 60, 2)
    budget.ran(0, 40.0)  # 60 s left to the others
    assert budget.share(1) is None  # a peer run is not budgeted ...
    budget.ran(1, 400.0)  # ... nor counted
    assert budget.share(2) == round((560 * 200 / 500 - 40) / 60, 2)
    budget.ran(2, 560.0)
    assert budget.share(3) == 0.1  # out of time: one short period still runs
    assert suite_module.SuiteBudget(None, [("accuracy", 100)]).share(0) is None
    with pytest.raises(ValueError, match="max_minutes must be a positive number"):
        run_suite([TINY_MLP], output="unused", max_minutes=0)
    # Calibrated on a small model here, to keep the test short.
    small = suites.Calibration("fm", "movielens-100k", 256, 1_000_000.0, "a fast machine")
    scale, said = suite_module.calibrate(small)
    assert scale > 0 and said.startswith("fm trained at ") and "1,000,000 on a fast" in said


def test_capped_says_what_an_entry_changed_and_what_that_did():
    entry = Entry("deepfm", "accuracy", "deepfm", "frappe-x1", recipe="deepfm/frappe-x1",
                  settings=(("dropout", 0.1), ("epochs", 10), ("max_minutes", 1.5)))  # fmt: skip
    capped = suite_module.capped
    row = {"epochs": 10, "best_epoch": 10, "stopped_by": None}
    assert capped(entry, row) == (
        "epochs 10 of the recipe's 100, best at the last; at most 1.5 min of training; dropout=0.1"
    )
    row = {"epochs": 4, "best_epoch": 4, "stopped_by": "time budget"}
    assert capped(entry, row) == (
        "epochs 10 of the recipe's 100; at most 1.5 min of training: stopped by it after 4 "
        "epochs; dropout=0.1"
    )
    shared = Entry("deepfm", "accuracy", "deepfm", "frappe-x1", recipe="deepfm/frappe-x1",
                   settings=(("epochs", 10),))  # fmt: skip
    assert capped(shared, row, share=1.25) == (
        "epochs 10 of the recipe's 100; its share of the suite's time: 1.25 min of training: "
        "stopped by it after 4 epochs"
    )
    assert (
        capped(TINY_MLP, {"epochs": 2, "best_epoch": 1})
        == "epochs 2; batch_size=4096; hidden_units=[16]"
    )


def test_a_cap_on_the_cpus_instructions_is_part_of_the_row(monkeypatch):
    from reczoo.provenance import cpu_name

    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    plain = cpu_name()
    command = suite_module.suite_command("quick", TINY_MLP, 0, "float32", "auto", "auto")
    assert command.startswith("reczoo benchmark --suite=quick")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    capped = suite_module.suite_command("quick", TINY_MLP, 0, "float32", "auto", "auto")
    assert capped == "ONEDNN_MAX_CPU_ISA=AVX2 " + command
    if "AVX-512" in plain:
        assert cpu_name() == plain.replace("AVX-512", "AVX-512 off: ONEDNN_MAX_CPU_ISA=AVX2")


def test_a_data_suite_gives_each_model_a_protocol_it_fits_by_where_the_data_came_from():
    from reczoo.datasets.preprocessing import build_interactions

    # Your file, even one named like a public dataset, takes a file's protocol.
    data = build_interactions("amazon-games", [1, 1, 2, 2], [1, 2, 1, 3], sha256="a" * 64)
    assert suite_module._source(data, {"path": "amazon-games.csv"}) == "data_file"
    assert suite_module._source(data, None) == "dataset"
    given = (data, {"path": "amazon-games.csv"}, None)
    _, entries, _ = suite_module._chosen("ranking", "pop,two_tower", None, (False, None), given)
    assert [(e.model, e.protocol) for e in entries] == [
        ("pop", "ncf"),
        ("two_tower", "random_split"),
    ]
    # A protocol you give is every model's.
    given = (data, {"path": "amazon-games.csv"}, "loo_full")
    _, entries, _ = suite_module._chosen("ranking", "pop,sasrec", None, (False, None), given)
    assert {e.protocol for e in entries} == {"loo_full"}
