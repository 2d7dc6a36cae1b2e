"""Every script in examples/ runs from a fresh folder and prints its story.

The examples are the site's gallery (docs/_scripts/gallery.py): each runs in
a process of its own, in a new folder, as `python examples/NAME.py` would.
The docs tier (`python -m pytest -m "docs and not slow"`) runs the mirrored
one (the one path no default-tier test trains through); the rest, whose
machinery the default tier tests elsewhere or that train for minutes, are in
the slow tier.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for p in (ROOT / "examples").glob("*.py") if p.name != "record_outputs.py")
# Minutes on public data or a suite; or 10-15 s each of a default tier near its
# 5 minutes, for what tests/test_finetune.py, tests/models/test_retrieval.py
# and the docs' commands training DeepFM and DCN-v2 on the same click log
# (tests/test_docs.py) already cover there.
SLOW = {"next_item_recommendation", "compare_models", "finetune_preset", "two_tower_retrieval",
        "ranking_click_log"}  # fmt: skip
# What each prints that only a working run prints.
EXPECTED = {
    "ranking_click_log": ["deepfm: test AUC", "first five click probabilities"],
    "next_item_recommendation": ["sasrec: HR@10", "popularity: HR@10"],
    "two_tower_retrieval": ["test top-100 accuracy", "user 42's top 10"],
    "finetune_preset": ["vocabulary growth", "fine-tuned: HR@10", "parent:"],
    "compare_models": ["neumf ncf: HR@10", "report.md"],
    "distributed_training": ["one device: 1 replica(s)", "mirrored: 2 replica(s)"],
}


def test_every_example_is_checked():
    assert {p.stem for p in SCRIPTS} == set(EXPECTED)


@pytest.mark.docs
@pytest.mark.parametrize(
    "script",
    [pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW else [])
     for p in SCRIPTS],
)  # fmt: skip
def test_example_runs(script, tmp_path):
    if "datasets.load(" in script.read_text() and not os.environ.get("RECZOO_DATA_DIR"):
        pytest.skip("the example reads public data: set RECZOO_DATA_DIR")
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=1200,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    for text in EXPECTED[script.stem]:
        assert text in done.stdout, (text, done.stdout[-2000:])
