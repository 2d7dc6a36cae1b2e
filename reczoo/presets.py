"""Presets: a trained task as a directory that loads with `from_preset`.

A preset directory holds:

- `config.json`: the serialized task (backbone and feature spec inside);
- `model.weights.h5`: the weights;
- `assets/`: vocabularies and other files the model needs around it (the
  users' training interactions, `interactions.npz`, where the task recorded
  them: `recommend` leaves out what a user has seen and finds a history;
  a retriever's catalogue and users' features, `candidates.npz` and
  `queries.npz`, and its items' training frequencies);
- `metadata.json`: versions, date, whatever the trainer recorded (dataset
  and its sha256, split, command, metrics), and the sha256 of every other
  file, checked before anything is loaded.
"""

import datetime
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

import keras
import numpy as np

from reczoo import provenance, registry
from reczoo.models.topk import Interactions
from reczoo.provenance import sha256_of

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
# The sha256 of metadata.json, which lists the sha256 of every other file.
METADATA_CHECKSUM_FILE = "metadata.json.sha256"
ASSETS_DIR = "assets"
VOCABULARIES_FILE = "vocabularies.json"
INTERACTIONS_FILE = "interactions.npz"


class PresetError(ValueError):
    """A preset that is missing, malformed or fails its checksums."""


def check_output(directory, overwrite=False):
    """Refuses, before any work, a preset location that saving would fail on.

    A file in the way, a non-empty folder without `overwrite`, or a folder
    that cannot be written: each is an error naming the path, raised before
    data is read or a model trained, so nothing is lost at the end.
    """
    if directory is None:
        return
    directory = Path(directory).expanduser()
    if str(directory) in ("", "."):
        raise FileExistsError("The preset folder must be a new or empty folder, not '.'.")
    if directory.exists() and not directory.is_dir():
        raise FileExistsError(f"Preset path {str(directory)!r} exists and is not a folder.")
    if directory.is_dir() and any(directory.iterdir()) and not overwrite:
        raise FileExistsError(
            f"Preset folder {str(directory)!r} already exists and is not empty. Pass "
            "--overwrite (overwrite=True) to replace it once the new preset is complete."
        )
    parent = directory.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(
            f"Cannot write the preset folder {str(directory)!r}: {parent} is not writable."
        )


def _default_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


def save_to_preset(task, directory, metadata=None, vocabularies=None, overwrite=False):
    """Writes `task` as a preset directory.

    Args:
        task: a built reczoo task.
        directory: where to write. An existing non-empty directory is kept
            untouched unless `overwrite=True`, and even then it is replaced
            only once the new preset is completely written.
        metadata: a JSON-serializable dict recorded in `metadata.json`
            (dataset, dataset_sha256, split, command, metrics, ...).
        vocabularies: `{feature_or_table: [raw values in id order]}`, saved in
            `assets/vocabularies.json`; index 0 is the padding/OOV slot.
        overwrite: replace an existing non-empty directory.

    Returns:
        The preset directory as a `Path`.
    """
    directory = Path(directory)
    check_output(directory, overwrite=overwrite)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        # mkdtemp makes the folder private (0700); a preset is shared like any folder.
        staging.chmod(_default_mode())
        with open(staging / CONFIG_FILE, "w") as f:
            json.dump(keras.saving.serialize_keras_object(task), f, indent=2)
        task.save_weights(staging / WEIGHTS_FILE)
        (staging / ASSETS_DIR).mkdir()
        with open(staging / ASSETS_DIR / VOCABULARIES_FILE, "w") as f:
            json.dump(vocabularies or {}, f)
        seen = getattr(task, "interactions", None)
        if seen is not None:
            np.savez_compressed(
                staging / ASSETS_DIR / INTERACTIONS_FILE, offsets=seen.offsets, items=seen.items
            )
        for name, arrays in getattr(task, "asset_arrays", dict)().items():
            np.savez_compressed(staging / ASSETS_DIR / f"{name}.npz", **arrays)
        files = {
            p.relative_to(staging).as_posix(): sha256_of(p)
            for p in sorted(staging.rglob("*"))
            if p.is_file()
        }
        record = {
            **(metadata or {}),
            "model_class": type(task).__name__,
            "backbone_class": type(task.backbone).__name__,
            "versions": provenance.versions(),
            "backend": keras.backend.backend(),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "files": files,
        }
        with open(staging / METADATA_FILE, "w") as f:
            json.dump(record, f, indent=2, default=str)
        (staging / METADATA_CHECKSUM_FILE).write_text(sha256_of(staging / METADATA_FILE) + "\n")
        if directory.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=directory.parent))
            backup.rmdir()
            directory.rename(backup)
            staging.rename(directory)
            shutil.rmtree(backup)
        else:
            staging.rename(directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return directory


def verify_preset(directory):
    """Checks every file listed in `metadata.json` against its sha256.

    Returns the metadata. Raises `PresetError` naming the first file that is
    missing or altered.
    """
    directory = Path(directory)
    meta_path = directory / METADATA_FILE
    if not meta_path.is_file():
        raise PresetError(f"{str(directory)!r} is not a reczoo preset: it has no {METADATA_FILE}.")
    checksum_path = directory / METADATA_CHECKSUM_FILE
    if not checksum_path.is_file():
        raise PresetError(
            f"Preset {str(directory)!r} has no {METADATA_CHECKSUM_FILE}: its {METADATA_FILE} "
            "is covered by no checksum, so the preset was not loaded."
        )
    expected, actual = checksum_path.read_text().strip(), sha256_of(meta_path)
    if expected != actual:
        raise PresetError(
            f"Checksum mismatch for {METADATA_FILE} in preset {str(directory)!r}: expected "
            f"sha256 {expected}, found {actual}. The preset was not loaded."
        )
    try:
        metadata = json.loads(meta_path.read_text())
        files = metadata["files"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise PresetError(f"Malformed {meta_path}: {e}") from None
    for required in (CONFIG_FILE, WEIGHTS_FILE):
        if required not in files:
            raise PresetError(
                f"Preset {str(directory)!r} does not list {required} in {METADATA_FILE}."
            )
    for relative, expected in files.items():
        path = directory / relative
        if Path(relative).is_absolute() or ".." in Path(relative).parts:
            raise PresetError(f"Preset {str(directory)!r} lists a file outside it: {relative!r}")
        if not path.is_file():
            raise PresetError(f"Preset {str(directory)!r} is missing {relative}.")
        actual = sha256_of(path)
        if actual != expected:
            raise PresetError(
                f"Checksum mismatch for {relative} in preset {str(directory)!r}: "
                f"expected sha256 {expected}, found {actual}. The file was altered or "
                "corrupted; the preset was not loaded."
            )
    return metadata


def pack_preset(directory, archive):
    """Packs a preset directory into a `.tar.gz` to publish; returns its sha256."""
    verify_preset(directory)
    directory = Path(directory)
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=path.relative_to(directory).as_posix())
    return sha256_of(archive)


def _fetch(url, sha256):
    if not sha256:
        raise PresetError(f"A preset URL needs its sha256 to be verified. Received: url={url!r}")
    name = url.rstrip("/").rsplit("/", 1)[-1] or "preset.tar.gz"
    archive = keras.utils.get_file(
        fname=f"{sha256[:16]}-{name}",
        origin=url,
        file_hash=sha256,
        hash_algorithm="sha256",
        cache_subdir=os.path.join("reczoo", "presets"),
    )
    target = Path(archive).with_name(f"{sha256[:16]}-preset")
    if not (target / METADATA_FILE).is_file():
        staging = Path(tempfile.mkdtemp(prefix=".extract.", dir=target.parent))
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(staging, filter="data")
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return target


def resolve_preset(preset, sha256=None):
    """The local directory of a built-in name, a directory, or a URL."""
    preset = str(preset)
    if not preset.strip():
        raise PresetError("Empty preset name: give a built-in name, a folder or a URL.")
    info = registry.preset_info(preset)
    if info is not None:
        return _fetch(info["url"], info["sha256"])
    if preset.startswith(("http://", "https://", "file://")):
        return _fetch(preset, sha256)
    path = Path(preset).expanduser()
    if path.is_dir():
        return path
    known = registry.list_presets()
    raise PresetError(
        f"Unknown preset {preset!r}: not a built-in preset name, an existing directory "
        f"or a URL. Built-in presets: {known or 'none'}"
    )


def from_preset(preset, sha256=None, compile=True):
    """Loads a task from a built-in preset name, a local directory or a URL.

    Every file is checked against the sha256 in `metadata.json` before
    anything is read, and the config is deserialized in Keras safe mode, so a
    preset cannot run code. The returned task carries `preset_metadata` and
    `vocabularies` (dicts).

    Args:
        preset: a name from `reczoo.list_presets()`, a directory, or an
            `http(s)://` / `file://` URL of a `.tar.gz` made by `pack_preset`.
        sha256: the archive's sha256; required for URLs.
        compile: compile with the saved settings (or the task's defaults).

    Example:

    ```python
    model = reczoo.from_preset("./my_preset")
    model.predict(features)
    ```
    """
    directory = resolve_preset(preset, sha256)
    metadata = verify_preset(directory)
    config = json.loads((directory / CONFIG_FILE).read_text())
    if not compile:
        config.pop("compile_config", None)
    registry.load_backbones()
    task = keras.saving.deserialize_keras_object(config, safe_mode=True)
    task.load_weights(directory / WEIGHTS_FILE)
    if compile and not task.compiled:
        task.compile()
    # Only files the verified metadata lists are read.
    listed = f"{ASSETS_DIR}/{VOCABULARIES_FILE}"
    vocab_path = directory / ASSETS_DIR / VOCABULARIES_FILE
    if vocab_path.is_file() and listed not in metadata["files"]:
        raise PresetError(
            f"Preset {str(directory)!r} holds {listed}, which {METADATA_FILE} does not list: "
            "it is covered by no checksum, so the preset was not loaded."
        )
    vocabularies = json.loads(vocab_path.read_text()) if listed in metadata["files"] else {}
    task.preset_metadata = metadata
    task.vocabularies = vocabularies
    seen = f"{ASSETS_DIR}/{INTERACTIONS_FILE}"
    if seen in metadata["files"]:
        with np.load(directory / seen, allow_pickle=False) as arrays:
            task.interactions = Interactions.from_arrays(arrays["offsets"], arrays["items"])
    for name in getattr(task, "asset_names", ()):
        listed = f"{ASSETS_DIR}/{name}.npz"
        if listed in metadata["files"]:
            with np.load(directory / listed, allow_pickle=False) as arrays:
                task.restore_assets(name, {k: arrays[k] for k in arrays.files})
    return task
