"""The RecBole peer trains on what reczoo exports: the same held-out items."""

import json

import numpy as np
import pytest

from reczoo import datasets
from reczoo.benchmark.peers import export_sequences
from reczoo.datasets.preprocessing import build_interactions


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))


def test_export_holds_out_the_same_items(tmp_path):
    rng = np.random.default_rng(0)
    users, items, times = [], [], []
    for user in range(1, 61):
        seq = rng.choice(np.arange(1, 401), size=rng.integers(4, 9), replace=False)
        for t, item in enumerate(seq):
            users.append(user)
            items.append(int(item))
            times.append(100 - t)  # stored newest first: the export must use time order
    data = build_interactions("toy", users, items, timestamps=times, sha256="t" * 64)
    split = datasets.split(data, "sasrec", seed=0)
    split_path = export_sequences(tmp_path, "toy_export", split)

    lines = (tmp_path / "toy_export" / "toy_export.inter").read_text().splitlines()
    assert lines[0] == "user_id:token\titem_id:token\ttimestamp:float"
    by_user = {}
    for line in lines[1:]:
        user, item, t = line.split("\t")
        by_user.setdefault(int(user), []).append((float(t), int(item)))
    # RecBole's LS split on time order: last item test, second-to-last valid.
    for user, valid_item, test_item in zip(
        split.test_users, split.valid_items, split.test_items, strict=True
    ):
        ordered = [item for _, item in sorted(by_user[int(user)])]
        assert ordered[-1] == test_item and ordered[-2] == valid_item
    histories = json.loads((tmp_path / "histories.json").read_text())
    assert sum(len(h) for h in histories.values()) == len(lines) - 1
    with np.load(split_path) as saved:
        np.testing.assert_array_equal(saved["test_negatives"], split.test_negatives)


def _pair_rows(our_history, their_history, target):
    common = {"dataset": "toy", "protocol": "ncf", "kind": "peer", "status": "ok", "run_id": "r",
              "seed": 0, "epochs": 3, "train_seconds": 3.0}  # fmt: skip
    ours = {**common, "model": "bpr_mf", "label": "bpr_mf", "side_by_side": "recbole",
            "monitor": "ndcg@10", "history": our_history, "metrics": {"ndcg@10": 0.4},
            "valid_metrics": {"ndcg@10": 0.41}, "train_samples_per_sec": 200.0,
            "suite_command": "reczoo benchmark --suite=paper --peers"}  # fmt: skip
    theirs = {**common, "model": "recbole_bpr", "label": "recbole_bpr_mf", "peer": "recbole",
              "history": their_history, "metrics": {"ndcg@10": 0.39},
              "valid_metrics": {"ndcg@10": target}, "train_samples_per_sec": 100.0}  # fmt: skip
    return ours, theirs


def test_time_to_the_peers_accuracy_reads_both_timed_histories():
    from reczoo.benchmark.report import markdown, time_to_accuracy

    ours, theirs = _pair_rows(
        [{"ndcg@10": 0.30, "train_seconds": 1.0}, {"ndcg@10": 0.38, "train_seconds": 2.0},
         {"ndcg@10": 0.41, "train_seconds": 3.0}],
        [{"ndcg@10": 0.2, "train_seconds": 4.0}, {"ndcg@10": 0.38, "train_seconds": 9.5}],
        0.38,
    )  # fmt: skip
    assert time_to_accuracy(ours, theirs) == {
        "metric": "ndcg@10",
        "target": 0.38,
        "split": "valid",
        "reczoo": 2.0,
        "peer": 9.5,
        "reczoo_best": 0.41,
    }
    table = markdown([ours, theirs])
    assert "| 2.0 (ndcg@10 0.3800) |" in table and "| 9.5 |" in table
    # A run that never reaches the peer's score says so; untimed rows say nothing.
    ours["history"] = ours["history"][:1]
    assert time_to_accuracy(ours, theirs)["reczoo"] is False
    assert "| not reached (best ndcg@10 0.3000 vs 0.3800) |" in markdown([ours, theirs])
    for row in (ours, theirs):
        row["history"] = [{"ndcg@10": 0.5}]
    assert time_to_accuracy(ours, theirs) == {
        "metric": "ndcg@10",
        "target": 0.38,
        "split": "valid",
        "reczoo": None,
        "peer": None,
        "reczoo_best": None,
    }
    # Lower is better for log loss.
    ours["monitor"], theirs["valid_metrics"] = "logloss", {"logloss": 0.2}
    ours["history"] = [
        {"logloss": 0.3, "train_seconds": 1.0},
        {"logloss": 0.19, "train_seconds": 2.0},
    ]
    assert time_to_accuracy(ours, theirs)["reczoo"] == 2.0


def test_without_a_validation_split_the_test_curves_are_read():
    from reczoo.benchmark.report import markdown, time_to_accuracy

    ours, theirs = _pair_rows([{"loss": 1.0}], [{"loss": 1.0}], None)
    theirs["valid_metrics"] = {}
    assert time_to_accuracy(ours, theirs) is None
    ours["test_curve"] = [{"epoch": 1, "ndcg@10": 0.395, "train_seconds": 2.5},
                          {"epoch": 2, "ndcg@10": 0.37, "train_seconds": 4.0}]  # fmt: skip
    theirs["test_curve"] = [{"epoch": 1, "ndcg@10": 0.38, "train_seconds": 6.0},
                            {"epoch": 2, "ndcg@10": 0.39, "train_seconds": 11.0}]  # fmt: skip
    # The target is the peer's final test score (0.39 in `_pair_rows`).
    assert time_to_accuracy(ours, theirs) == {
        "metric": "ndcg@10", "target": 0.39, "split": "test", "reczoo": 2.5, "peer": 11.0,
        "reczoo_best": 0.395,
    }  # fmt: skip
    assert "| 2.5 (test ndcg@10 0.3900) |" in markdown([ours, theirs])
    # A peer's second, faster training (TFRS without per-batch metrics) gets its ratio too.
    theirs["train_samples_per_sec_without_train_metrics"] = 50.0
    assert "trained at 50 examples/s; reczoo / it = 4.00x" in markdown([ours, theirs])


def test_several_seeds_are_summed_up_over_their_mean_curves():
    from reczoo.benchmark.report import markdown

    def pair(seed, ours_curve, their_curve, ours_rate):
        ours, theirs = _pair_rows(
            [{"ndcg@10": v, "train_seconds": t + 1.0} for t, v in enumerate(ours_curve)],
            [{"ndcg@10": v, "train_seconds": 4.0 * (t + 1)} for t, v in enumerate(their_curve)],
            their_curve[-1],
        )  # fmt: skip
        for row in (ours, theirs):
            row.update(seed=seed, run_id=f"r{seed}")
        ours["train_samples_per_sec"] = ours_rate
        ours["metrics"] = {"ndcg@10": 0.40 + seed / 100}
        return [ours, theirs]

    # Seed 0 reaches the peer's 0.40 at its second epoch, seed 1 never its
    # 0.42; their mean curve (0.33, 0.39, 0.415) reaches the peers' mean
    # final score (0.41) at its third epoch, 3 s.
    rows = pair(0, [0.30, 0.40, 0.42], [0.30, 0.35, 0.40], 250.0)
    rows += pair(1, [0.36, 0.38, 0.41], [0.33, 0.38, 0.42], 300.0)
    table = markdown(rows)
    assert "| reczoo | bpr_mf | 0-1 | 0.4050 ± 0.0071 (2) |" in table
    assert "| 275 ± 35 (2) | 2.50-3.00x | 3.0 (ndcg@10 0.4100) | 1 of 2 |" in table
    peer = "| recbole | recbole_bpr_mf | 0-1 | 0.3900 ± 0.0000 (2) | 100 ± 0 (2) |  | 12.0 |  |"
    assert peer in table
    # Seed by seed, reczoo's best past the peer's final: +0.02 and -0.01.
    margin = ("- bpr_mf against recbole_bpr_mf: reczoo's best valid ndcg@10 past the peer's "
              "final, seed by seed: +0.0050 ± 0.0150 (mean ± standard error of 2; negative: "
              "short of it).")  # fmt: skip
    assert margin in table
    # A mean curve that stays below the peers' mean final score says so.
    rows[0]["history"][-1]["ndcg@10"] = 0.40
    # (0.33, 0.39, 0.405): its best is given.
    assert "| 2.50-3.00x | not reached (best ndcg@10 0.4050 vs 0.4100) | 1 of 2 |" in markdown(rows)
    # A peer's second training without per-batch metrics gets its ratios too.
    rows[1]["train_samples_per_sec_without_train_metrics"] = 125.0
    rows[3]["train_samples_per_sec_without_train_metrics"] = 100.0
    line = "- Seeds 0-1: reczoo / recbole without its per-batch training metrics = 2.00-3.00x."
    assert line in markdown(rows)
    # One seed: no summary.
    assert "Over seeds" not in markdown(rows[:2])


def test_pairs_in_another_precision_are_named_and_summed_apart():
    # `--precision=mixed_bfloat16 --peers` adds pairs whose reczoo side trained
    # in bfloat16: the tables name that side's precision, and the seed summary
    # keeps them apart from the float32 pairs against the same peer.
    from reczoo.benchmark.report import markdown

    history = [{"ndcg@10": 0.41, "train_seconds": 1.0}]
    rows = []
    for seed in (0, 1):
        for precision, run_id, rate in (("float32", f"a{seed}", 200.0),
                                        ("mixed_bfloat16", f"b{seed}", 300.0)):  # fmt: skip
            ours, theirs = _pair_rows(history, history, 0.40)
            for row in (ours, theirs):
                row.update(seed=seed, run_id=run_id)
            ours.update(precision=precision, train_samples_per_sec=rate)
            theirs["precision"] = "float32"
            rows += [ours, theirs]
    table = markdown(rows)
    assert "| reczoo | bpr_mf (bfloat16) | 0.4000 |" in table
    assert "| reczoo | bpr_mf | 0.4000 |" in table
    # One summary line per precision, each over its own two seeds.
    assert "| reczoo | bpr_mf (bfloat16) | 0-1 |" in table and "| 3.00-3.00x |" in table
    assert "| reczoo | bpr_mf | 0-1 |" in table and "| 2.00-2.00x |" in table


def test_a_variant_of_reczoos_side_is_named_and_summed_apart():
    # `bpr_mf-recent` trains reczoo's side with other settings against the
    # same peer: its pairs get their own lines, apart from `bpr_mf`'s.
    from reczoo.benchmark.report import markdown

    rows = []
    for seed in (0, 1):
        for label, best, rate in (("bpr_mf", 0.39, 200.0), ("bpr_mf-recent", 0.43, 250.0)):
            ours, theirs = _pair_rows([{"ndcg@10": best, "train_seconds": 1.0}],
                                      [{"ndcg@10": 0.41, "train_seconds": 2.0}], 0.41)  # fmt: skip
            for row in (ours, theirs):
                row.update(seed=seed, run_id=f"{label}{seed}")
            ours.update(label=label, train_samples_per_sec=rate)
            ours["entry"] = f"peer/{label}/toy/ncf/recbole/" + (
                "recent_weight=3" if best > 0.4 else ""
            )
            rows += [ours, theirs]
    table = markdown(rows)
    # The variant's own settings are said once, the plain pair's none.
    said = ("- bpr_mf-recent: reczoo's side trained with recent_weight=3 on top of the pair's "
            "settings; the peer's are those of its other pairs.")  # fmt: skip
    assert table.count(said) == 1 and "- bpr_mf: reczoo's side" not in table
    assert "| reczoo | bpr_mf | 0-1 |" in table and "| reczoo | bpr_mf-recent | 0-1 |" in table
    assert "| 2.00-2.00x | not reached (best ndcg@10 0.3900 vs 0.4100) | 0 of 2 |" in table
    assert "| 2.50-2.50x | 1.0 (ndcg@10 0.4100) | 2 of 2 |" in table
    # Each seed's pair table keeps a variant's rows together.
    seeds = [line.split(" | ")[1] for line in table.splitlines()
             if line.startswith("| reczoo | bpr_mf") and " | 0-1 | " not in line]  # fmt: skip
    assert seeds == ["bpr_mf", "bpr_mf", "bpr_mf-recent", "bpr_mf-recent"]


def test_a_peer_that_never_reaches_its_own_mean_score_names_no_best_of_reczoo():
    from reczoo.benchmark.report import _reached

    reach = {"metric": "auc", "target": 0.9834, "split": "valid", "reczoo": 45.1,
             "peer": False, "reczoo_best": 0.9852}  # fmt: skip
    assert _reached(reach, ours=True) == "45.1 (auc 0.9834)"
    assert _reached(reach, ours=False) == "not reached"
    reach["reczoo"] = False
    assert _reached(reach, ours=True) == "not reached (best auc 0.9852 vs 0.9834)"
