"""The JAX tier: `KERAS_BACKEND=jax python -m pytest -m jax` runs this file,
the registry-wide contract tests and the built-in presets' scores under JAX
(the tests marked `jax`). Under TensorFlow this file is skipped."""

import keras
import numpy as np
import pytest

from reczoo import distribute
from reczoo.benchmark import suites
from reczoo.training.runner import run

pytestmark = [
    pytest.mark.jax,
    pytest.mark.skipif(keras.backend.backend() != "jax", reason="the JAX tier (KERAS_BACKEND=jax)"),
]

# One short real-data run per family: the quick suite's entry for it, one
# epoch (histories cut to 10 items for the recurrent and attention models),
# and a floor its metric clears after that epoch under either backend
# (TensorFlow and JAX both measured on 2026-12-04; popularity: HR@10 0.41 on
# MovieLens-100K under NCF's protocol).
SHORT = {
    "two_tower": ({}, "top_100_accuracy", 0.30),
    "neumf": ({}, "hr@10", 0.35),
    "deepfm": ({}, "auc", 0.92),
    "dcnv2": ({}, "auc", 0.92),
    "ipnn": ({}, "auc", 0.92),
    "caser": ({}, "hr@10", 0.44),
    "gru4rec": ({"max_length": 10}, "hr@10", 0.40),
    "sasrec": ({"max_length": 10}, "hr@10", 0.40),
}


def _entry(label):
    return next(e for e in suites.entries("quick", models=label) if e.kind == "accuracy")


def test_every_family_has_a_short_run():
    quick = {e.label for e in suites.entries("quick") if e.kind == "accuracy"} - {"pop"}
    assert quick == set(SHORT)


@pytest.mark.parametrize("label", sorted(SHORT))
def test_every_family_trains_on_real_data_under_jax(label, data_dir):
    entry = _entry(label)
    extra, metric, floor = SHORT[label]
    overrides = {**entry.overrides, **extra}
    overrides.pop("epochs", None)
    row = run(entry.model, entry.dataset, protocol=entry.protocol, recipe=entry.recipe,
              epochs=1, verbose=0, **overrides)  # fmt: skip
    assert row["backend"] == "jax" and row["jit"] is True
    assert row["metrics"][metric] > floor, row["metrics"]


def test_a_jax_retriever_saves_a_preset_that_exports_a_savedmodel(data_dir, tmp_path):
    import tensorflow as tf

    from reczoo import exporting, from_preset

    entry = _entry("two_tower")
    preset = tmp_path / "preset"
    row = run(entry.model, entry.dataset, protocol=entry.protocol, recipe=entry.recipe,
              epochs=1, verbose=0, output=preset)  # fmt: skip
    saved = tf.saved_model.load(str(exporting.export(preset, tmp_path / "export", k=5)))
    out = saved.recommend(tf.constant(["1", "42"]))
    assert out["items"].shape == (2, 5)
    assert np.all(np.diff(out["scores"].numpy(), axis=1) <= 1e-6)
    # The preset, back under JAX: the trained model's query vectors.
    features = row.model.backbone.feature_spec.dummy_inputs(4, seed=3)
    np.testing.assert_allclose(
        from_preset(preset).query_embeddings(features), row.model.query_embeddings(features),
        rtol=1e-5, atol=1e-6,
    )  # fmt: skip


def test_tf_distribute_strategies_are_refused_naming_the_backend():
    with pytest.raises(ValueError, match="needs the TensorFlow backend; this process runs"):
        distribute.get_strategy("mirrored")
