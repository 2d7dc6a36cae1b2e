"""A few hundred training steps on real Frappe data learn something."""

import numpy as np
import pytest

import reczoo
from reczoo import datasets, metrics


@pytest.fixture(scope="module")
def frappe_subset(request):
    import os
    from pathlib import Path

    folder = os.environ.get("RECZOO_DATA_DIR")
    if not folder or not (Path(folder) / "frappe").is_dir():
        pytest.skip("RECZOO_DATA_DIR with frappe/ is needed")
    data = datasets.load("frappe", download=False)
    rows = np.random.default_rng(0).permutation(data.num_interactions)[:60_000]
    train, test = rows[:50_000], rows[50_000:]
    return data, train, test


# Real-data convergence: the slow tier (the default tier trains DeepFM on a
# click log from the shell, docs/guide.md, and scores the zoo's pretrained
# DeepFM, DCN-v2 and AutoInt+ on Frappe).
@pytest.mark.slow
@pytest.mark.parametrize("name", ["deepfm", "autoint"])
def test_few_hundred_steps_reach_auc(frappe_subset, name):
    data, train, test = frappe_subset
    spec = data.feature_spec(embedding_dim=10)
    model = reczoo.get_model(name, feature_spec=spec)
    # 2 epochs of 196 steps.
    model.fit(data.features(train), data.labels[train], batch_size=512, epochs=2, verbose=0)
    scores = model.predict(data.features(test), batch_size=8192, verbose=0).reshape(-1)
    assert metrics.auc(data.labels[test], scores) > 0.85
