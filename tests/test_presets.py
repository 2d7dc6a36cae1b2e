import json
import re
from pathlib import Path

import keras
import numpy as np
import pytest
from testing import tiny_batch, tiny_spec

import reczoo
from reczoo import presets


@pytest.fixture(scope="module")
def trained():
    # Trained once for the module: the tests save, load and tamper with
    # presets of it, never train it further.
    keras.utils.set_random_seed(1234)
    spec = tiny_spec()
    model = reczoo.get_model("mlp", feature_spec=spec, hidden_units=[8])
    features, labels = tiny_batch(spec)
    model.fit(features, labels, epochs=1, verbose=0)
    return model, features


def test_round_trip_keeps_predictions_metadata_and_vocabularies(trained, tmp_path):
    model, features = trained
    vocab = {"item": ["[PAD]", "a", "b"]}
    path = model.save_to_preset(
        tmp_path / "p", metadata={"dataset": "toy", "metrics": {"auc": 0.5}}, vocabularies=vocab
    )
    names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
    assert names == [
        "assets/vocabularies.json",
        "config.json",
        "metadata.json",
        "metadata.json.sha256",
        "model.weights.h5",
    ]
    loaded = reczoo.from_preset(str(path))
    np.testing.assert_array_equal(
        loaded.predict(features, verbose=0), model.predict(features, verbose=0)
    )
    assert loaded.vocabularies == vocab
    meta = loaded.preset_metadata
    assert meta["dataset"] == "toy"
    assert meta["versions"]["reczoo"] == reczoo.__version__
    assert set(meta["files"]) == {"assets/vocabularies.json", "config.json", "model.weights.h5"}


def test_one_altered_byte_is_refused(trained, tmp_path):
    model, _ = trained
    path = model.save_to_preset(tmp_path / "p")
    weights = path / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(reczoo.PresetError, match=r"Checksum mismatch for model\.weights\.h5"):
        reczoo.from_preset(path)


def test_missing_file_is_refused(trained, tmp_path):
    model, _ = trained
    path = model.save_to_preset(tmp_path / "p")
    (path / "config.json").unlink()
    with pytest.raises(reczoo.PresetError, match=r"missing config\.json"):
        reczoo.from_preset(path)


def test_never_overwrites_without_asking(trained, tmp_path):
    model, features = trained
    target = tmp_path / "p"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        model.save_to_preset(target)
    assert (target / "notes.txt").read_text() == "mine"
    model.save_to_preset(target, overwrite=True)
    assert not (target / "notes.txt").exists()
    assert reczoo.from_preset(target).predict(features, verbose=0).shape == (16, 1)
    # No staging folders are left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


def _preset_with_code(model, tmp_path):
    """A preset whose config holds a Lambda layer, checksums recomputed."""
    path = model.save_to_preset(tmp_path / "p")
    config = json.loads((path / "config.json").read_text())
    lam = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "evil",
            "function": {
                "class_name": "__lambda__",
                "config": {"code": "x", "defaults": None, "closure": None},
            },
        },
        "registered_name": None,
    }
    config["config"]["backbone"] = lam
    (path / "config.json").write_text(json.dumps(config))
    meta = json.loads((path / "metadata.json").read_text())
    meta["files"]["config.json"] = presets.sha256_of(path / "config.json")
    (path / "metadata.json").write_text(json.dumps(meta))
    (path / "metadata.json.sha256").write_text(presets.sha256_of(path / "metadata.json"))
    return path


def test_config_with_code_is_refused_by_safe_mode(trained, tmp_path):
    path = _preset_with_code(trained[0], tmp_path)
    with pytest.raises(
        presets.PresetError, match=r"holds code in its config.json.*safe_mode=False"
    ):
        reczoo.from_preset(path)


def test_safe_mode_holds_whatever_the_process_set(trained, tmp_path, monkeypatch):
    from keras.src.saving import serialization_lib

    path = _preset_with_code(trained[0], tmp_path)
    seen = []  # the safe mode the Lambda layer is deserialized under
    original = keras.layers.Lambda.from_config.__func__

    def spy(cls, config, *args, **kwargs):
        seen.append(serialization_lib.in_safe_mode())
        return original(cls, config, *args, **kwargs)

    monkeypatch.setattr(keras.layers.Lambda, "from_config", classmethod(spy))
    before = serialization_lib.in_safe_mode()
    keras.config.enable_unsafe_deserialization()  # anywhere in the process
    try:
        with pytest.raises(presets.PresetError, match="safe mode"):
            reczoo.from_preset(path)
        assert seen == [True]
        # The named opt-out reaches this call only (the code here is no
        # function at all, so Keras fails on it: after safe mode let it in).
        with pytest.raises(Exception) as error:
            reczoo.Ranker.from_preset(path, safe_mode=False)
        assert seen == [True, False] and "safe mode" not in str(error.value)
    finally:
        serialization_lib.global_state.set_global_attribute("safe_mode_saving", before)


def test_url_needs_and_checks_sha256(trained, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    model, features = trained
    path = model.save_to_preset(tmp_path / "p")
    archive = tmp_path / "p.tar.gz"
    digest = presets.pack_preset(path, archive)
    url = Path(archive).as_uri()
    with pytest.raises(reczoo.PresetError, match="needs its sha256"):
        reczoo.from_preset(url)
    loaded = reczoo.from_preset(url, sha256=digest)
    np.testing.assert_array_equal(
        loaded.predict(features, verbose=0), model.predict(features, verbose=0)
    )
    with pytest.raises(ValueError):
        reczoo.from_preset(url, sha256="0" * 64)


def test_unknown_preset_name():
    with pytest.raises(reczoo.PresetError, match="Unknown preset 'no-such-preset'"):
        reczoo.from_preset("no-such-preset")


def test_tampered_metadata_is_refused(trained, tmp_path):
    model, _ = trained
    path = model.save_to_preset(tmp_path / "p")
    meta = json.loads((path / "metadata.json").read_text())
    meta["metrics"] = {"auc": 0.99}
    (path / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(presets.PresetError, match=r"Checksum mismatch for metadata\.json"):
        reczoo.from_preset(path)
    (path / "metadata.json.sha256").unlink()
    with pytest.raises(presets.PresetError, match="covered by no checksum"):
        reczoo.from_preset(path)


def test_unlisted_vocabularies_are_refused(trained, tmp_path):
    model, _ = trained
    path = model.save_to_preset(tmp_path / "p", vocabularies={"user": ["[PAD]", "a"]})
    meta = json.loads((path / "metadata.json").read_text())
    del meta["files"]["assets/vocabularies.json"]
    (path / "metadata.json").write_text(json.dumps(meta))
    (path / "metadata.json.sha256").write_text(presets.sha256_of(path / "metadata.json"))
    with pytest.raises(presets.PresetError, match="does not list"):
        reczoo.from_preset(path)


def test_empty_preset_name_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(presets.PresetError, match="Empty preset name"):
        reczoo.from_preset("")


def test_presets_are_written_with_the_usual_permissions(trained, tmp_path):
    import os

    model, _ = trained
    umask = os.umask(0o022)
    try:
        path = model.save_to_preset(tmp_path / "p")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o755


def test_output_location_is_checked_first(tmp_path):
    with pytest.raises(FileExistsError, match="exists and is not a folder"):
        (tmp_path / "file").write_text("x")
        presets.check_output(tmp_path / "file")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="--overwrite"):
        presets.check_output(tmp_path / "full")
    presets.check_output(tmp_path / "full", overwrite=True)
    presets.check_output(tmp_path / "new" / "deeper")
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def _rewrite_metadata(path, **changes):
    meta = json.loads((path / "metadata.json").read_text())
    meta.update(changes)
    (path / "metadata.json").write_text(json.dumps(meta))
    (path / "metadata.json.sha256").write_text(presets.sha256_of(path / "metadata.json") + "\n")


def test_presets_record_their_format_and_model_code_versions(trained, tmp_path):
    model, _ = trained
    meta = reczoo.from_preset(model.save_to_preset(tmp_path / "p")).preset_metadata
    assert meta["format_version"] == presets.FORMAT_VERSION
    assert meta["model_code_version"] == type(model.backbone).code_version
    assert meta["weights_dtype"] == "float32"


def test_a_newer_format_is_refused_naming_both_versions(trained, tmp_path):
    model, _ = trained
    path = model.save_to_preset(tmp_path / "p")
    _rewrite_metadata(path, format_version=presets.FORMAT_VERSION + 1)
    with pytest.raises(presets.PresetError, match=rf"format version {presets.FORMAT_VERSION + 1}.*"
                       rf"reads formats 1 to {presets.FORMAT_VERSION}"):  # fmt: skip
        reczoo.from_preset(path)


def test_another_model_code_version_is_refused_naming_both(trained, tmp_path, monkeypatch):
    model, _ = trained
    path = model.save_to_preset(tmp_path / "p")
    name = type(model.backbone).__name__
    monkeypatch.setattr(type(model.backbone), "code_version", 7)
    with pytest.raises(presets.PresetError, match=rf"saved with {name} code version 1 .*"
                       rf"has {name} code version 7"):  # fmt: skip
        reczoo.from_preset(path)


def test_a_truncated_weights_file_is_refused(trained, tmp_path):
    model, _ = trained
    path = model.save_to_preset(tmp_path / "p")
    weights = path / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(presets.PresetError, match=r"Checksum mismatch for model\.weights\.h5"):
        reczoo.from_preset(path)


def _resign(path):
    """Recomputes a preset's checksums, as someone editing it would."""
    meta = json.loads((path / "metadata.json").read_text())
    for name in meta["files"]:
        meta["files"][name] = presets.sha256_of(path / name)
    (path / "metadata.json").write_text(json.dumps(meta))
    (path / "metadata.json.sha256").write_text(presets.sha256_of(path / "metadata.json"))


@pytest.mark.parametrize("damage", ["config", "weights", "vocabularies"])
def test_a_damaged_file_with_good_checksums_is_named(trained, tmp_path, damage):
    model, _ = trained
    path = model.save_to_preset(tmp_path / "p", vocabularies={"item": ["[PAD]", "a"]})
    name = {"config": "config.json", "weights": "model.weights.h5",
            "vocabularies": "assets/vocabularies.json"}[damage]  # fmt: skip
    (path / name).write_bytes((path / name).read_bytes()[:12])
    _resign(path)
    with pytest.raises(presets.PresetError, match=rf"{re.escape(name)} cannot be read \(\w+"):
        reczoo.from_preset(path)


def test_half_precision_presets_load_within_float16_rounding(trained, tmp_path):
    model, _ = trained
    vocab = {"item": ["[PAD]", "a", "b"]}
    path = model.save_to_preset(tmp_path / "p", weights_dtype="float16", vocabularies=vocab)
    loaded = reczoo.from_preset(path)
    assert loaded.preset_metadata["weights_dtype"] == "float16"
    assert "assets/vocabularies.json.gz" in loaded.preset_metadata["files"]
    assert loaded.vocabularies == vocab
    for saved, original in zip(loaded.weights, model.weights, strict=True):
        expected = original.numpy().astype("float16").astype(original.dtype)
        np.testing.assert_array_equal(saved.numpy(), expected)
    with pytest.raises(ValueError, match="weights_dtype must be"):
        model.save_to_preset(tmp_path / "q", weights_dtype="int4")


def test_int8_tables_load_as_their_dequantized_values(tmp_path):
    spec = reczoo.FeatureSpec([reczoo.Categorical("user_id", 20_000, 4),
                               reczoo.Categorical("item_id", 50, 4)])  # fmt: skip
    model = reczoo.get_model("gmf", feature_spec=spec)
    users = np.arange(1, 65)
    features = {"user_id": users, "item_id": users % 49 + 1}
    model.fit(features, (users % 2).astype("float32"), epochs=1, verbose=0)
    path = model.save_to_preset(tmp_path / "p", weights_dtype="int8")
    loaded = reczoo.from_preset(path)
    for saved, original in zip(loaded.weights, model.weights, strict=True):
        expected = presets.compact_table(original.numpy(), "int8")
        np.testing.assert_array_equal(saved.numpy(), expected)
    big = [w.numpy() for w in model.weights if max(w.shape or [0]) >= presets.INT8_MIN_ROWS]
    assert big and np.abs(presets.compact_table(big[0], "int8") - big[0]).max() <= (
        np.abs(big[0]).max() / 254 + 1e-7
    )


def test_a_registered_preset_is_checked_against_its_indexed_sha256(trained, tmp_path,
                                                                    monkeypatch):  # fmt: skip
    from reczoo import registry

    model, _ = trained
    path = model.save_to_preset(tmp_path / "p")
    monkeypatch.setitem(registry._PRESETS, "toy_preset", {
        "model": "mlp", "path": str(path),
        "metadata_sha256": presets.sha256_of(path / "metadata.json"),
    })  # fmt: skip
    assert reczoo.from_preset("toy_preset").preset_metadata["model_class"] == "Ranker"
    # Metadata and its own checksum file altered together: the index still catches it.
    _rewrite_metadata(path, metrics={"auc": 0.99})
    with pytest.raises(presets.PresetError, match=r"Checksum mismatch for metadata\.json"):
        reczoo.from_preset("toy_preset")


def test_task_classes_load_only_their_own_kind(trained, tmp_path):
    model, _ = trained
    path = model.save_to_preset(tmp_path / "p")
    assert isinstance(reczoo.Ranker.from_preset(path), reczoo.Ranker)
    with pytest.raises(presets.PresetError, match="holds a Ranker, not a NextItem"):
        reczoo.NextItem.from_preset(path)
