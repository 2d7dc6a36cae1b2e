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
  and its sha256, split, command, metrics), the preset format and the
  model-code version, and the sha256 of every other file, checked before
  anything is loaded;
- `metadata.json.sha256`: the sha256 of `metadata.json`. A built-in preset's
  is also recorded in the package's index, and a URL's archive is checked
  against the sha256 given with it, so neither can be altered unnoticed.

A preset records `format_version` (of this layout) and `model_code_version`
(of its backbone's computation, `Backbone.code_version`); a reczoo that reads
another layout, or whose backbone computes something else from the same
weights, refuses it naming both versions.
"""

import contextlib
import datetime
import gzip
import json
import os
import re
import tarfile
import tempfile
import warnings
import zipfile
from pathlib import Path

import keras
import numpy as np

from reczoo import distribute, provenance, registry
from reczoo.provenance import sha256_of

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"
# The sha256 of metadata.json, which lists the sha256 of every other file.
METADATA_CHECKSUM_FILE = "metadata.json.sha256"
ASSETS_DIR = "assets"
VOCABULARIES_FILE = "vocabularies.json"
# Compact presets gzip their vocabularies (a catalogue's ids take megabytes as JSON).
VOCABULARIES_GZ_FILE = "vocabularies.json.gz"
# The layout above. Version 1 presets (before format_version was recorded)
# differ only in lacking the version fields, and still load.
FORMAT_VERSION = 2
# Task assets that are rows of the training data (who saw what, users'
# features, the catalogue's features): `save_to_preset(keep_data=False)`
# leaves them out, for presets of data whose licence forbids redistribution.
DATA_ASSETS = ("interactions", "queries", "candidates", "side_features")
WEIGHTS_DTYPES = ("float32", "float16", "int8")
# Tables at least this long are stored as int8 under weights_dtype="int8".
INT8_MIN_ROWS = 10_000


class PresetError(ValueError):
    """A preset that is missing, malformed or fails its checksums.

    A `ValueError`, raised before anything of the preset is used.

    Example:
        ```python
        try:
            reczoo.from_preset("no_such_preset")
        except reczoo.PresetError as error:
            print(error)
        ```
    """


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
    resolved, here = directory.resolve(), Path.cwd().resolve()
    if here == resolved or here.is_relative_to(resolved):
        raise FileExistsError(
            f"The preset folder {str(directory)!r} is the folder you are in, or holds it: a "
            "preset replaces its folder whole. Give a new folder, such as ./my_preset."
        )
    parent = resolved.parent
    while not parent.exists():
        parent = parent.parent
    _probe_writable(parent, directory)


def _probe_writable(parent, directory):
    """Makes and removes an entry in `parent`, where the preset is staged:
    `os.access` misjudges some places (a pseudo filesystem, a root user)."""
    try:
        probe = tempfile.mkdtemp(prefix=".reczoo-probe-", dir=parent)
        os.rmdir(probe)
    except OSError as e:
        raise PermissionError(
            f"Cannot write the preset folder {str(directory)!r}: nothing can be made in "
            f"{parent} ({e.strerror or e})."
        ) from None


def save_to_preset(
    task,
    directory,
    metadata=None,
    vocabularies=None,
    overwrite=False,
    weights_dtype="float32",
    keep_data=True,
):
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
        weights_dtype: `"float16"` stores every float weight at half
            precision (gzip-compressed); `"int8"` also stores embedding tables
            of `INT8_MIN_ROWS` rows or more as int8 with a float32 scale per
            row (`quantize_rows`). Loading casts them back to the model's
            dtype; the optimizer's state is left out. The metadata records it.
        keep_data: `False` leaves out the assets that are rows of the
            training data (`DATA_ASSETS`): the preset then recommends from
            histories and features the caller gives.

    Returns:
        The preset directory as a `Path`.

    Raises:
        ValueError: an unknown `weights_dtype`.
        FileExistsError: a non-empty `directory` without `overwrite`.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=4, embedding_dim=8),
            reczoo.Categorical("item_id", vocabulary_size=4, embedding_dim=8),
        ])
        model = reczoo.get_model("gmf", feature_spec=spec)
        reczoo.save_to_preset(
            model, "my_gmf", vocabularies={"user_id": ["", "u1", "u2", "u3"],
                                           "item_id": ["", "i1", "i2", "i3"]},
        )
        same = reczoo.from_preset("my_gmf")
        ```
    """
    directory = Path(directory)
    check_output(directory, overwrite=overwrite)
    if weights_dtype not in WEIGHTS_DTYPES:
        raise ValueError(
            f"weights_dtype must be one of {WEIGHTS_DTYPES}. Received: {weights_dtype!r}"
        )
    with provenance.staged_folder(directory, overwrite=overwrite) as staging:
        files = _write_preset_files(task, staging, vocabularies, weights_dtype, keep_data)
        record = {
            **(metadata or {}),
            "model_class": type(task).__name__,
            "backbone_class": type(task.backbone).__name__,
            "format_version": FORMAT_VERSION,
            "model_code_version": type(task.backbone).code_version,
            "weights_dtype": weights_dtype,
            **_row_multiple(task),
            "data_assets": bool(keep_data),
            "versions": provenance.versions(),
            "backend": keras.backend.backend(),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "files": files,
        }
        with open(staging / METADATA_FILE, "w") as f:
            json.dump(record, f, indent=2, default=str)
        (staging / METADATA_CHECKSUM_FILE).write_text(sha256_of(staging / METADATA_FILE) + "\n")
    return directory


def _write_preset_files(task, staging, vocabularies, weights_dtype, keep_data):
    """Writes the config, weights and assets; returns `{file: sha256}`."""
    with open(staging / CONFIG_FILE, "w") as f:
        json.dump(keras.saving.serialize_keras_object(task), f, indent=2)
    task.save_weights(staging / WEIGHTS_FILE)
    if weights_dtype != "float32":
        _compact_weights(staging / WEIGHTS_FILE, weights_dtype)
    (staging / ASSETS_DIR).mkdir()
    text = json.dumps(vocabularies or {})
    if weights_dtype == "float32":
        (staging / ASSETS_DIR / VOCABULARIES_FILE).write_text(text)
    else:
        _write_gzip(staging / ASSETS_DIR / VOCABULARIES_GZ_FILE, text)
    for name, arrays in task.asset_arrays().items():
        if keep_data or name not in DATA_ASSETS:
            np.savez_compressed(staging / ASSETS_DIR / f"{name}.npz", **arrays)
    return {
        p.relative_to(staging).as_posix(): sha256_of(p)
        for p in sorted(staging.rglob("*"))
        if p.is_file()
    }


def _write_gzip(path, text):
    # mtime=0: the same vocabularies give the same bytes, and the same sha256.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(text.encode())


def quantize_rows(x):
    """`(int8 values, float32 scale per row)` of a 2-D table whose long axis
    is its rows (axis 0 or 1, the longer): each row scaled by its largest
    magnitude to [-127, 127] and rounded."""
    x = np.asarray(x, dtype=np.float32)
    axis = 1 if x.shape[0] >= x.shape[1] else 0
    scale = np.max(np.abs(x), axis=axis, keepdims=True).astype(np.float32)
    scale[scale == 0] = 1.0
    values = np.round(x / scale * 127.0).astype(np.int8)
    return values, scale


def dequantize_rows(values, scale):
    """The float32 table `quantize_rows` stored."""
    return values.astype(np.float32) * (scale / np.float32(127.0))


def compact_table(x, dtype):
    """The values a weight has once stored at `dtype` and loaded again."""
    x = np.asarray(x)
    if x.dtype != np.float32 or dtype == "float32":
        return x
    if dtype == "int8" and x.ndim == 2 and max(x.shape) >= INT8_MIN_ROWS:
        return dequantize_rows(*quantize_rows(x))
    return x.astype(np.float16).astype(np.float32)


# The scales of int8 tables: a dataset of the same name under this group.
_SCALES = "reczoo_int8_scales"


def _compact_weights(path, dtype):
    """Rewrites a Keras weights file at `dtype` (`"float16"` or `"int8"`),
    gzip-compressed, without the optimizer's state: a compact preset is for
    inference and fine-tuning, which starts a new optimizer."""
    import h5py

    compact = path.with_suffix(".compact.h5")
    with h5py.File(path, "r") as source, h5py.File(compact, "w") as target:

        def copy(name, item):
            if name.startswith("optimizer"):
                return
            if isinstance(item, h5py.Group):
                target.require_group(name).attrs.update(item.attrs)
                return
            data, scale = item[()], None
            if data.dtype == np.float32:
                if dtype == "int8" and data.ndim == 2 and max(data.shape) >= INT8_MIN_ROWS:
                    data, scale = quantize_rows(data)
                else:
                    data = data.astype(np.float16)
            options = {"compression": "gzip", "shuffle": True} if data.size > 1 else {}
            target.create_dataset(name, data=data, **options)
            target[name].attrs.update(item.attrs)
            if scale is not None:
                target.create_dataset(f"{_SCALES}/{name}", data=scale, **options)

        target.attrs.update(source.attrs)
        source.visititems(copy)
    compact.replace(path)


def _expanded_weights(path, folder):
    """A float32 copy of an int8 weights file that Keras `load_weights` reads."""
    import h5py

    expanded = Path(folder) / WEIGHTS_FILE
    with h5py.File(path, "r") as source, h5py.File(expanded, "w") as target:

        def copy(name, item):
            if name.startswith(_SCALES):
                return
            if isinstance(item, h5py.Group):
                target.require_group(name).attrs.update(item.attrs)
                return
            data = item[()]
            if f"{_SCALES}/{name}" in source:
                data = dequantize_rows(data, source[f"{_SCALES}/{name}"][()])
            target.create_dataset(name, data=data)
            target[name].attrs.update(item.attrs)

        target.attrs.update(source.attrs)
        source.visititems(copy)
    return expanded


# Before `TransformerBlock`, SASRec, BERT4Rec and CL4SRec kept each block's
# layers flat in the backbone, named `block_<i>_<layer>`.
_FLAT_BLOCK_LAYER = re.compile(r"^block_(\d+)_(\w+)$")
_FLAT_NAMES = {"dropout_in": "ffn_hidden_dropout", "dropout_out": "ffn_dropout"}


def _layer_groups(f):
    """`{(parent path, layer name): group path}` of the layers of every
    functional model in a weights file (their `vars` group names them), the
    models themselves left out."""
    out = {}

    def visit(name, item):
        parent, _, _ = name.rpartition("/")
        named = "vars" in item and "name" in item["vars"].attrs and "layers" not in item
        if parent.endswith("layers") and named:
            out[(parent, str(item["vars"].attrs["name"]))] = name

    f.visititems(lambda name, item: visit(name, item) if hasattr(item, "keys") else None)
    return out


def _current_layout(path, task, folder):
    """`path`, or, for weights saved with each transformer block's layers
    flat, a copy laid out as `task` saves them (the optimizer's state left
    out: its order followed the old layout). Nothing of the preset changes."""
    import h5py

    with h5py.File(path, "r") as old:
        flat = {k: v for k, v in _layer_groups(old).items() if _FLAT_BLOCK_LAYER.match(k[1])}
        if not flat:
            return path
        current = Path(folder) / f"current-{WEIGHTS_FILE}"
        task.save_weights(current)
        old_groups = _layer_groups(old)
        with h5py.File(current, "r+") as new:
            for (parent, name), target in _layer_groups(new).items():
                block = re.fullmatch(r"block_(\d+)", name)
                pairs = [(old_groups.get((parent, name)), target)]
                if block:
                    pairs = [
                        (old_groups.get((parent, f"block_{block[1]}_{_old_name(sub)}")),
                         f"{target}/{sub}")
                        for sub in new[target] if sub != "vars"
                    ]  # fmt: skip
                for source, where in pairs:
                    if source is None:
                        raise PresetError(f"No weights for {where} in {path}.")
                    del new[where]
                    old.copy(old[source], new, name=where)
            if "optimizer" in new:
                del new["optimizer"]
    return current


def _old_name(sub):
    return {v: k for k, v in _FLAT_NAMES.items()}.get(sub, sub)


def check_versions(metadata, directory):
    """Refuses a preset of a layout or a model code this reczoo cannot load,
    naming both versions."""
    from reczoo.version import __version__

    made_by = (metadata.get("versions") or {}).get("reczoo", "an unknown version")
    fmt = metadata.get("format_version", 1)
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION or fmt < 1:
        raise PresetError(
            f"Preset {str(directory)!r} has format version {fmt!r} (written by reczoo "
            f"{made_by}); this reczoo {__version__} reads formats 1 to {FORMAT_VERSION}. "
            "Upgrade reczoo to load it."
        )
    name = metadata.get("backbone_class")
    recorded = metadata.get("model_code_version")
    if recorded is None:
        return
    cls = registry.backbone_class(name) if name else None
    if cls is None:
        raise PresetError(
            f"Preset {str(directory)!r} holds a {name!r} backbone, which this reczoo "
            f"{__version__} does not have (written by reczoo {made_by})."
        )
    if recorded != cls.code_version:
        raise PresetError(
            f"Preset {str(directory)!r} was saved with {name} code version {recorded} "
            f"(reczoo {made_by}); this reczoo {__version__} has {name} code version "
            f"{cls.code_version}, which computes something else from the same weights. "
            f"Use reczoo {made_by}, or rebuild the preset."
        )


def verify_preset(directory, sha256=None):
    """Checks every file listed in `metadata.json` against its sha256.

    `sha256`, when given, is what `metadata.json` itself must hash to (a
    built-in preset's index records it). Returns the metadata. Raises
    `PresetError` naming the first file that is missing or altered.
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
    if sha256 is not None and sha256 != actual:
        raise PresetError(
            f"Checksum mismatch for {METADATA_FILE} in preset {str(directory)!r}: expected "
            f"sha256 {sha256}, found {actual}. The preset was not loaded."
        )
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
        with (
            provenance.staged_folder(target, overwrite=True) as staging,
            tarfile.open(archive) as tar,
        ):
            tar.extractall(staging, filter="data")
    return target


def resolve_preset(preset, sha256=None):
    """The local directory of a built-in name, a directory, or a URL."""
    return _resolve(preset, sha256)[0]


def _resolve(preset, sha256=None):
    """`(directory, sha256 metadata.json must have or None)`."""
    preset = str(preset)
    if not preset.strip():
        raise PresetError("Empty preset name: give a built-in name, a folder or a URL.")
    info = registry.preset_info(preset)
    if info is not None:
        if "path" in info:
            return Path(info["path"]), info["metadata_sha256"]
        return _fetch(info["url"], info["sha256"]), None
    if preset.startswith(("http://", "https://", "file://")):
        return _fetch(preset, sha256), None
    path = Path(preset).expanduser()
    if path.is_dir():
        return path, sha256
    known = registry.list_presets()
    raise PresetError(
        f"Unknown preset {preset!r}: not a built-in preset name, an existing directory "
        f"or a URL. Built-in presets: {known or 'none'}"
    )


@contextlib.contextmanager
def _readable(directory, name):
    """A file of a verified preset that still cannot be read is named, with
    what is wrong with it (not h5py's or json's bare error)."""
    try:
        yield
    except PresetError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
        reason = " ".join(str(e).split())[:300]
        raise PresetError(
            f"Preset {str(directory)!r}: {name} cannot be read ({type(e).__name__}: {reason}). "
            f"Its sha256 matches {METADATA_FILE}, so it was written or re-signed damaged: "
            "rebuild or download the preset again."
        ) from None


def _row_multiple(task):
    """`{"table_row_multiple": n}` for a task whose tables were padded to a
    multiple of n rows (trained with `--strategy=model_parallel`), else `{}`."""
    from reczoo.features import FeatureEmbedding

    multiples = {layer.row_multiple for layer in task._flatten_layers()
                 if isinstance(layer, FeatureEmbedding)}  # fmt: skip
    multiple = max(multiples, default=1)
    return {"table_row_multiple": multiple} if multiple > 1 else {}


def _deserialized(config, directory, safe_mode, metadata=None):
    """The task of `config`, in a safe-mode scope of this call's own: Keras'
    process-wide `enable_unsafe_deserialization()` does not reach it. A task
    trained with its tables split (`metadata["table_row_multiple"]`) gets
    their padded rows back."""
    from keras.src.saving.serialization_lib import SafeModeScope

    multiple = (metadata or {}).get("table_row_multiple")
    rows = distribute.rows_multiple_of(multiple) if multiple else contextlib.nullcontext()
    try:
        with SafeModeScope(safe_mode), rows:
            return keras.saving.deserialize_keras_object(config, safe_mode=safe_mode)
    except ValueError as error:
        if safe_mode and "safe_mode" in str(error):
            raise PresetError(
                f"Preset {str(directory)!r} holds code in its config.json (a Lambda layer or "
                "a serialized function), and presets load in safe mode: nothing of it was run "
                "and the preset was not loaded. Only for a preset whose source you trust: "
                "reczoo.from_preset(..., safe_mode=False)."
            ) from None
        raise


def from_preset(preset, sha256=None, compile=True, safe_mode=True):
    """Loads a task from a built-in preset name, a local directory or a URL.

    Every file is checked against the sha256 in `metadata.json` before
    anything is read, and the config is deserialized in Keras safe mode, so a
    preset cannot run code. The returned task carries `preset_metadata` and
    `vocabularies` (dicts).

    Args:
        preset: a name from `reczoo.list_presets()`, a directory, or an
            `http(s)://` / `file://` URL of a `.tar.gz` made by `pack_preset`
            (downloaded once into `$KERAS_HOME/reczoo/presets`).
        sha256: the archive's sha256, required for URLs; for a directory,
            optionally the sha256 its `metadata.json` must have.
        compile: compile with the saved settings (or the task's defaults).
        safe_mode: `False` lets this one call deserialize code a preset's
            config holds (Lambda layers, serialized functions): only for a
            preset whose source you trust. Keras' process-wide
            `keras.config.enable_unsafe_deserialization()` has no effect here.

    Returns:
        The task (`Ranker`, `NextItem` or `Retriever`) with the preset's
        weights, `preset_metadata` and `vocabularies`.

    Raises:
        reczoo.PresetError: a preset that is missing, malformed, holds files
            no checksum covers, or fails its checksums; a URL without
            `sha256`.

    Example:
        ```python
        model = reczoo.from_preset("sasrec_amazon_games")
        model.recommend(histories=[["1", "2", "3"]], k=5, raw_ids=True)
        ```
    """
    directory, expected = _resolve(preset, sha256)
    metadata = verify_preset(directory, expected)
    check_versions(metadata, directory)
    with _readable(directory, CONFIG_FILE):
        config = json.loads((directory / CONFIG_FILE).read_text())
    if not compile:
        config.pop("compile_config", None)
    registry.load_backbones()
    task = _deserialized(config, directory, safe_mode is not False, metadata)
    with (
        _readable(directory, WEIGHTS_FILE),
        warnings.catch_warnings(),
        tempfile.TemporaryDirectory() as scratch,
    ):
        # Compact presets carry no optimizer state; the optimizer starts anew.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        weights = directory / WEIGHTS_FILE
        if metadata.get("weights_dtype") == "int8":
            weights = _expanded_weights(weights, scratch)
        task.load_weights(_current_layout(weights, task, scratch))
    if compile and not task.compiled:
        task.compile()
    # Only files the verified metadata lists are read.
    vocabularies = {}
    for name in (VOCABULARIES_FILE, VOCABULARIES_GZ_FILE):
        listed = f"{ASSETS_DIR}/{name}"
        vocab_path = directory / ASSETS_DIR / name
        if vocab_path.is_file() and listed not in metadata["files"]:
            raise PresetError(
                f"Preset {str(directory)!r} holds {listed}, which {METADATA_FILE} does not "
                "list: it is covered by no checksum, so the preset was not loaded."
            )
        if listed in metadata["files"]:
            with _readable(directory, listed):
                raw = vocab_path.read_bytes()
                vocabularies = json.loads(gzip.decompress(raw) if name.endswith(".gz") else raw)
    task.preset_metadata = metadata
    task.vocabularies = vocabularies
    for name in task.asset_names:
        listed = f"{ASSETS_DIR}/{name}.npz"
        if listed in metadata["files"]:
            with (
                _readable(directory, listed),
                np.load(directory / listed, allow_pickle=False) as arrays,
            ):
                task.restore_assets(name, {k: arrays[k] for k in arrays.files})
    return task
