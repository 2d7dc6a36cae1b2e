"""Helpers shared by the test modules."""

import keras
import numpy as np

import reczoo


def assert_config_round_trip(instance):
    """`get_config` -> `from_config` -> `get_config` gives the same config, and
    the Keras serializer rebuilds the same class."""
    config = instance.get_config()
    rebuilt = type(instance).from_config(config)
    assert rebuilt.get_config() == config
    if isinstance(instance, keras.layers.Layer):
        again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(instance))
        assert type(again) is type(instance)
        assert again.get_config() == config
    return rebuilt


def tiny_spec(dim=4):
    """A spec with one feature of every kind and a shared table."""
    return reczoo.FeatureSpec(
        [
            reczoo.Categorical("user_id", 11, dim),
            reczoo.Categorical("item_id", 21, dim, table="item"),
            reczoo.Sequence("history", 21, dim, max_length=5, table="item"),
            reczoo.MultiHot("genres", 7, dim, max_length=3),
            reczoo.Numerical("age"),
        ]
    )


def tiny_batch(spec, n=16, seed=0):
    features = spec.dummy_inputs(n, seed=seed)
    labels = np.random.default_rng(seed).integers(0, 2, size=(n, 1)).astype("float32")
    return features, labels


def tiny_labels(model, features, seed=0):
    """Labels a registered model's task trains on, for a tiny batch."""
    rng = np.random.default_rng(seed)
    if isinstance(model, reczoo.NextItem):
        history = features[model.backbone.history_feature]
        # Items, never a mask token (the table's last row where there is one).
        top = model.num_scored
        if len(model.output.shape) == 2:
            return rng.integers(1, top, size=(len(history),))
        # The next item of each position: the history shifted left by one.
        shifted = np.where(history[:, 1:] < top, history[:, 1:], 1)
        return np.concatenate([shifted, rng.integers(1, top, size=(len(history), 1))], 1)
    if isinstance(model, reczoo.Retriever):
        # The positives' item ids.
        return np.asarray(features[model.backbone.candidate_id_feature]).reshape(-1)
    n = len(next(iter(features.values())))
    if getattr(model, "objective", None) == "bpr":
        # Pairs of rows: a positive, then a negative.
        return np.tile([1.0, 0.0], n // 2).reshape(-1, 1).astype("float32")
    return rng.integers(0, 2, size=(n, 1)).astype("float32")


def click_log(path, rows=400, seed=0):
    """A Criteo-like log: Id, Label, C1..C3, I1..I2 and a genres bag; the
    label follows C1 and I1, so a model can learn it."""
    rng = np.random.default_rng(seed)
    lines = ["Id,Label,C1,C2,C3,I1,I2,genres"]
    for row in range(rows):
        c1, c2, c3 = rng.integers(0, 8), rng.integers(0, 30), rng.integers(0, 3)
        i1, i2 = rng.integers(0, 50), rng.normal()
        label = int((c1 < 4) ^ (i1 > 40))
        genres = "|".join(sorted(set(rng.choice(["a", "b", "c", "d"], size=rng.integers(0, 3)))))
        i2_text = "" if row % 17 == 0 else f"{i2:.3f}"
        lines.append(f"{row},{label},u{c1},s{c2},k{c3},{i1},{i2_text},{genres}")
    path.write_text("\n".join(lines) + "\n")
    return path
