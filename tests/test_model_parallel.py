"""`--strategy=model_parallel`: embedding tables split by rows across a mesh
of devices with `keras.distribution` (JAX backend).

The sharded runs need 8 devices, and JAX fixes its device count when it
starts, so each runs `tests/sharded_tables_run.py` in a process of its own
with 8 virtual CPU devices (`XLA_FLAGS=--xla_force_host_platform_device_count=8`).
They are in the JAX tier (`KERAS_BACKEND=jax python -m pytest -m jax`); the
refusals that need no JAX process are in the default tier.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from reczoo import cli, datasets, distribute
from reczoo.datasets import loaders
from reczoo.datasets.synthetic import DEFAULT_CARDINALITY
from reczoo.training import RunSettings

RUN = Path(__file__).with_name("sharded_tables_run.py")
on_jax = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="the JAX tier (KERAS_BACKEND=jax)"
)


def _sharded(*args, timeout=600):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("RECZOO_DEVICE_MEMORY", None)
    done = subprocess.run(
        [sys.executable, str(RUN), *args], capture_output=True, text=True, env=env,
        timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _assert_each_device_holds_an_eighth(shards):
    assert shards
    for path, (rows, shard_rows, count) in shards.items():
        assert count == 8 and rows % 8 == 0 and shard_rows == [rows // 8], (path, rows)


@pytest.fixture(scope="module")
def criteo_shards(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sharded")
    cardinality = tuple(min(c, 1000) for c in DEFAULT_CARDINALITY)
    log = datasets.synthetic_criteo(folder / "train.txt", 20_000, seed=0, cardinality=cardinality)
    data = loaders.read_criteo(log, "synthetic-criteo")
    split = datasets.split(data, "random_split", seed=0)
    return datasets.write_shards(data, folder / "shards", split=split, rows_per_shard=2_000)


@pytest.mark.jax
@on_jax
def test_deepfm_with_sharded_tables_matches_one_device(criteo_shards):
    # A cap between the tables' 1/8 share and their whole: one device refuses
    # them, naming the flag; eight devices holding 1/8 each train.
    out = _sharded("deepfm", str(criteo_shards.folder), "--cap=3MiB")
    assert "--strategy=model_parallel" in out["refused"]
    assert "more than the 3.0 MiB one device has (RECZOO_DEVICE_MEMORY)" in out["refused"]
    assert out["sharded"] == pytest.approx(out["single"], abs=0.002)
    assert out["single"] > 0.55
    assert out["row"]["strategy"] == "model_parallel" and out["row"]["mesh"] == "8"
    # Every table of both FeatureEmbeddings (FM's first-order weights
    # included) and its two Adam slots: 1/8 of the rows on each device.
    assert len(out["shards"]) == 3 * 52
    _assert_each_device_holds_an_eighth(out["shards"])
    assert out["pop"] == (
        "--strategy=model_parallel shards embedding tables, and 'pop' has none to shard; "
        "train it without --strategy."
    )


@pytest.mark.jax
@on_jax
def test_two_tower_with_sharded_tables_matches_one_device(data_dir):
    out = _sharded("two_tower", "movielens-100k")
    assert out["sharded"] == pytest.approx(out["single"], abs=0.005)
    assert out["single"] > 0.30
    assert len(out["shards"]) == 3 * 9  # both towers' tables and their slots
    _assert_each_device_holds_an_eighth(out["shards"])


def test_model_parallel_refusals_are_one_line():
    if keras.backend.backend() != "jax":
        with pytest.raises(ValueError, match="needs the JAX backend") as e:
            distribute.get_strategy("model_parallel")
        assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="does not divide the 8 devices here") as e:
        distribute.parse_mesh("3", 8)
    assert str(e.value) == (
        "--mesh=3 spans 3 devices, which does not divide the 8 devices here; "
        "use a mesh of 1, 2, 4, 8 devices."
    )
    with pytest.raises(ValueError, match="does not divide"):
        distribute.parse_mesh("2x3", 8)
    with pytest.raises(ValueError, match="--mesh must be N"):
        distribute.parse_mesh("two", 8)
    assert distribute.parse_mesh("2x4", 8) == (2, 4, 2)
    assert distribute.parse_mesh("4", 8) == (4, 4, 1)
    assert distribute.parse_mesh(None, 8) == (8, 8, 1)
    with pytest.raises(ValueError, match="'sasrec' is a next-item model"):
        RunSettings.build("sasrec", "amazon-games", "sasrec", strategy="model_parallel")
    with pytest.raises(ValueError, match="--mesh is for --strategy=model_parallel"):
        distribute.get_strategy("mirrored", mesh="2")
    assert cli.main(["reczoo", "train", "--model=deepfm", "--dataset=frappe", "--mesh=2"]) != 0


def test_tables_over_the_memory_cap_are_refused(monkeypatch):
    import reczoo

    spec = reczoo.FeatureSpec([reczoo.Categorical("item_id", 100_000, 16)])
    monkeypatch.setenv("RECZOO_DEVICE_MEMORY", "3MiB")
    with pytest.raises(ValueError, match="shard them with --strategy=model_parallel") as e:
        reczoo.get_model("deepfm", feature_spec=spec)
    assert "18.3 MiB per device" in str(e.value)
    distribute.check_tables_fit({"t": (100_000, 16)}, shards=8)  # 2.3 MiB each: fits
    monkeypatch.setenv("RECZOO_DEVICE_MEMORY", "lots")
    with pytest.raises(ValueError, match="RECZOO_DEVICE_MEMORY must be a size"):
        distribute.device_memory()
    assert distribute.parse_bytes("2GiB") == 2 * 2**30
    assert distribute.parse_bytes("1.5MB") == 1_500_000


def test_padded_rows_keep_lookups_and_reload():
    import reczoo

    spec = reczoo.FeatureSpec([reczoo.Categorical("item_id", 13, 4)])
    layer = reczoo.FeatureEmbedding(spec, row_multiple=8)
    ids = {"item_id": np.array([0, 5, 12, 13])}  # 13 is outside: row 0
    out = keras.ops.convert_to_numpy(layer(ids)["item_id"])
    assert layer.embeddings["item_id"].input_dim == 16
    np.testing.assert_array_equal(out[3], out[0])
    again = reczoo.FeatureEmbedding.from_config(layer.get_config())
    assert again.row_multiple == 8
    assert "row_multiple" not in reczoo.FeatureEmbedding(spec).get_config()


def test_a_preset_with_padded_tables_loads_anywhere(tmp_path):
    # A model trained with its tables split has padded rows; its preset says
    # so and loads with them outside any distribution.
    import reczoo
    from reczoo.features.embedding import model_tables

    spec = reczoo.FeatureSpec([reczoo.Categorical("user_id", 13, 4),
                               reczoo.Categorical("item_id", 21, 4)])  # fmt: skip
    with distribute.rows_multiple_of(8):
        model = reczoo.get_model("gmf", feature_spec=spec)
    reczoo.save_to_preset(model, tmp_path / "p")
    assert json.loads((tmp_path / "p" / "metadata.json").read_text())["table_row_multiple"] == 8
    again = reczoo.from_preset(tmp_path / "p")
    assert sorted(model_tables(again).values()) == [(16, 4), (24, 4)]
    rows = {"user_id": np.array([1, 12]), "item_id": np.array([3, 20])}
    np.testing.assert_allclose(again.predict_on_batch(rows), model.predict_on_batch(rows))
    unpadded = reczoo.get_model("gmf", feature_spec=spec)
    reczoo.save_to_preset(unpadded, tmp_path / "q")
    assert "table_row_multiple" not in json.loads((tmp_path / "q" / "metadata.json").read_text())
