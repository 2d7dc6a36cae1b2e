"""Fine-tuning a preset on new data whose users and items have grown.

The new data's ids are aligned to the preset's vocabularies (a known raw id
keeps its row, new ones are appended), a task of the preset's architecture is
built at the grown sizes, and every pretrained weight is copied into it: the
rows of known ids bit for bit, new rows freshly initialised. During training a
constraint keeps the rows of ids the new data does not train on as they were
(and, with `freeze`, the pretrained rows or every pretrained weight), so what
the preset knew of absent users and items is not lost.

In Python `reczoo.finetune(preset, dataset, ...)`; from the shell
`reczoo finetune --preset=NAME --dataset=NAME --output=DIR`.
"""

import dataclasses
from pathlib import Path

import keras
import numpy as np
from keras import ops

from reczoo import datasets, registry
from reczoo.datasets.protocols import get_protocol
from reczoo.presets import PresetError, check_output, from_preset
from reczoo.training.runner import run

# The default learning rate of fine-tuning: this share of the preset's.
LEARNING_RATE_SCALE = 0.1
FREEZE = (None, "embeddings", "backbone")


class KeepRows(keras.constraints.Constraint):
    """Puts back the pretrained values of the rows `keep` marks (along `axis`),
    or of the whole weight where `keep` is a single `True`, after every
    optimizer step."""

    def __init__(self, values, keep, axis=0):
        self.values = np.asarray(values)
        self.keep = np.asarray(keep, dtype=bool)
        self.axis = axis

    def __call__(self, w):
        # A variable as such under JAX (its value inside a traced step).
        w = ops.convert_to_tensor(w)
        if self.keep.ndim == 0:
            # The whole weight (any rank) is kept.
            return ops.convert_to_tensor(self.values, dtype=w.dtype)
        shape = [1] * len(self.values.shape)
        shape[self.axis] = -1
        keep = ops.convert_to_tensor(self.keep.reshape(shape))
        return ops.where(keep, ops.convert_to_tensor(self.values, dtype=w.dtype), w)


def _table_axes(old_shape, new_shape, growth):
    """`[(axis, vocabulary name)]` along which a weight grew with a vocabulary:
    an axis of `known + extra` rows (extra: a mask-token row after the ids) that
    became `grown + extra`."""
    axes = []
    for axis, (a, b) in enumerate(zip(old_shape, new_shape, strict=True)):
        if a == b:
            continue
        names = [
            n for n, (known, grown) in growth.items()
            if grown - known == b - a and 0 <= a - known <= 1
        ]  # fmt: skip
        if len(names) != 1:
            raise PresetError(
                f"A weight of shape {tuple(old_shape)} became {tuple(new_shape)}: "
                f"{'no' if not names else 'more than one'} vocabulary grew that way "
                f"({ {n: g for n, g in growth.items() if g[0] != g[1]} })."
            )
        axes.append((axis, names[0]))
    return axes


def _rows(known, grown, size):
    """Where the `size` pretrained rows of a table go in the grown table: ids
    keep theirs, a trailing mask-token row moves to the end."""
    extra = size - known
    return np.concatenate([np.arange(known), grown + np.arange(extra)]).astype("int64")


def _embedding_tables(task, vocabulary_of):
    """`{weight path: vocabulary name}` of the task's shared embedding tables."""
    from reczoo.features import FeatureEmbedding

    out = {}
    for layer in task._flatten_layers():
        if not isinstance(layer, FeatureEmbedding):
            continue
        for table, embedding in layer.embeddings.items():
            names = {vocabulary_of(f.name) for f in layer.feature_spec
                     if getattr(f, "table_name", None) == table}  # fmt: skip
            names.discard(None)
            if len(names) == 1:
                out[embedding.embeddings.path] = names.pop()
    return out


def _shape_mismatch(source, target, old, new):
    """Why a model built for the new data cannot take the preset's weights,
    in the data's terms: the features each reads."""
    had = [f.name for f in source.feature_spec]
    has = [f.name for f in target.feature_spec]
    dataset = (getattr(source, "preset_metadata", None) or {}).get("dataset")
    if had != has:
        missing, extra = sorted(set(had) - set(has)), sorted(set(has) - set(had))
        return (
            f"The preset was trained on data with the features {had}; the new data gives "
            f"{has} (missing: {missing or 'none'}, new: {extra or 'none'}). Fine-tune on data "
            f"of the same kind as the preset's ({dataset or 'see its metadata.json'}), with "
            "the same columns."
        )
    return (
        f"The preset has {old} weights and the model built for the new data {new}, over the "
        f"same features {has}: the new data's settings build another architecture."
    )


def transfer(source, target, growth, trained=None, freeze=None, vocabulary_of=None):
    """Copies `source`'s weights into `target`, a task of the same architecture
    whose vocabularies grew as `growth` says (`{name: (known, grown)}`).

    Known ids' rows are copied bit for bit; new rows keep `target`'s fresh
    initialisation. With `trained` (`{vocabulary name: ids the new data trains
    on}`), constraints keep the pretrained rows of the other known ids during
    training; `freeze="embeddings"` keeps every pretrained row, and
    `freeze="backbone"` every pretrained weight (only new rows train).
    `vocabulary_of(feature name)` names a feature's vocabulary: the shared
    embedding tables are then held to these rules whether or not they grew
    (other weights over ids, such as an output layer, only where they grew).

    Returns the number of weights that grew.
    """
    if freeze not in FREEZE:
        raise ValueError(f"freeze must be one of {FREEZE}. Received: freeze={freeze!r}")
    old, new = source.weights, target.weights
    if len(old) != len(new):
        raise PresetError(_shape_mismatch(source, target, len(old), len(new)))
    tables = _embedding_tables(target, vocabulary_of) if vocabulary_of else {}
    grown = 0
    for o, n in zip(old, new, strict=True):
        value = o.numpy()
        if len(value.shape) != len(n.shape):
            raise PresetError(
                f"Weight {o.path} has shape {value.shape}; the new model's {n.shape}."
            )
        if n.path in tables and tables[n.path] in growth:
            axes = [(0, tables[n.path])]
        else:
            axes = _table_axes(value.shape, tuple(n.shape), growth)
        if not axes:
            n.assign(value)
            if freeze == "backbone" and n.trainable:
                n.constraint = KeepRows(value, True)
            continue
        grown += int(tuple(n.shape) != value.shape)
        out = n.numpy()
        index = [slice(None)] * value.ndim
        for axis, name in axes:
            known, size = growth[name]
            index[axis] = _rows(known, size, value.shape[axis])
        out[np.ix_(*[np.arange(s) if isinstance(i, slice) else i
                     for s, i in zip(value.shape, index, strict=True)])] = value  # fmt: skip
        n.assign(out)
        if not n.trainable:
            continue
        axis, name = axes[0]
        known, size = growth[name]
        keep = np.zeros(out.shape[axis], dtype=bool)
        pretrained = _rows(known, size, value.shape[axis])
        if freeze is not None:
            keep[pretrained] = True
        elif trained is not None and name in trained:
            keep[pretrained] = True
            ids = np.asarray(trained[name], dtype="int64")
            keep[ids[ids < known]] = False
        if keep.any():
            n.constraint = KeepRows(out, keep, axis=axis)
    return grown


def release(task):
    """Drops the constraints fine-tuning set, so that further training is free."""
    for v in task.weights:
        if isinstance(v.constraint, KeepRows):
            v.constraint = None


def _vocabulary_of(data):
    """A function from a feature name to the name of its vocabulary in `data`."""
    if data.kind == "ctr":
        return lambda name: name if name in data.vocabularies else None
    fixed = {"user_id": "user", "item_id": "item", "history": "item"}

    def of(name):
        if name in fixed:
            return fixed[name]
        for owner, tables in (("user", data.user_features), ("item", data.item_features)):
            if name in tables:
                return f"{owner}.{name}"
        return None

    return of


def _trained_ids(data, split, growth):
    """`{vocabulary: ids in the new data's training rows}`."""
    if data.kind == "ctr":
        rows = split.rows("train")
        return {c: np.unique(v[rows]) for c, v in data.categorical.items() if c in growth}
    train = split.train if split.protocol.leave_one_out else data.select(split.rows("train"))
    out = {"user": np.unique(train.users), "item": np.unique(train.items)}
    for owner, tables in (("user", data.user_features), ("item", data.item_features)):
        for name, table in tables.items():
            if f"{owner}.{name}" in growth:
                out[f"{owner}.{name}"] = np.unique(table[out[owner]])
    return out


def aligned(data, vocabularies, model, settings):
    """`data` as `model` (with run `settings`) reads it, its ids aligned to
    `vocabularies`: `(dataset, {name: (known size, grown size)})`. A retriever
    with side features gets its title words first, so they align too."""
    if registry.model_info(model).kind == "retrieval" and settings.get("side_features"):
        data = data.with_title_tokens()
    return data.aligned(vocabularies)


def finetune(
    preset,
    dataset,
    protocol=None,
    epochs=None,
    output=None,
    learning_rate=None,
    freeze=None,
    seed=0,
    overwrite=False,
    verbose=1,
    **overrides,
):
    """Fine-tunes a preset on `dataset` (a name or a dataset object).

    The model keeps the preset's architecture and training settings (from its
    metadata); the new data's raw ids are aligned to the preset's
    vocabularies, new users and items get new rows. Evaluation and early
    stopping follow `protocol` (default: the preset's) on the new data.

    Args:
        preset: a built-in name, a folder or a URL (see `reczoo.from_preset`).
        dataset: the new data: a public dataset's name or a dataset object.
        protocol: how the new data is split; default: the preset's.
        epochs: most epochs; default: the preset's.
        output: write the fine-tuned model here as a preset whose metadata
            names its parent.
        learning_rate: default `LEARNING_RATE_SCALE` times the preset's.
        freeze: `None`, `"embeddings"` (pretrained rows stay fixed) or
            `"backbone"` (every pretrained weight stays fixed; only new rows
            train).
        seed: seeds the split and the new rows.
        overwrite: replace a non-empty `output` folder.
        verbose: 0 for silence, 1 for a line per evaluation.
        **overrides: other run settings (`batch_size`, `patience`, ...).

    Returns:
        A `RunResult` (`reczoo.run`'s), with `parent` and `vocabulary_growth`
        in the row.

    Raises:
        ValueError: an unknown `freeze`, or data the preset cannot read.
        reczoo.PresetError: a preset that is missing or fails its checksums.

    Example:
        ```python
        reczoo.datasets.write_examples()
        data = reczoo.datasets.load_interactions("ratings.csv", user="userId", item="movieId")
        result = reczoo.finetune("bpr_mf_movielens_100k", data, epochs=1, verbose=0)
        print(result["vocabulary_growth"], result["metrics"])
        ```
    """
    if freeze not in FREEZE:
        raise ValueError(f"freeze must be one of {FREEZE}. Received: freeze={freeze!r}")
    check_output(output, overwrite=overwrite)
    parent = _parent(preset)
    meta = parent.preset_metadata
    model = meta["model"]
    entry = registry.model_info(model)
    data = datasets.load(dataset) if isinstance(dataset, str) else dataset
    data = _same_columns(parent, data, meta) if data.kind == "ctr" else data
    protocol = protocol or meta["protocol"]
    settings = _settings(parent, entry, learning_rate, epochs, overrides, protocol)
    data, growth = aligned(data, parent.vocabularies, model, settings)

    def warm_start(task, plan):
        trained = _trained_ids(plan.data, plan.split, growth)
        transfer(parent, task, growth, trained=trained, freeze=freeze,
                 vocabulary_of=_vocabulary_of(plan.data))  # fmt: skip

    # A built-in name, a URL, or a folder's own name: rows carry no path of this machine.
    name = meta.get("name") or (Path(preset).name if Path(preset).is_dir() else str(preset))
    result = run(
        model, data, protocol=protocol, seed=seed, epochs=epochs, recipe="none",
        verbose=verbose, warm_start=warm_start, **settings,
    )  # fmt: skip
    release(result.model)
    _record_parent(result, preset, meta, name, (data.name, epochs, freeze, output), growth)
    if output is not None:
        _save(result, output, overwrite)
    return result


def _settings(parent, entry, learning_rate, epochs, overrides, protocol):
    """The run settings of a fine-tuning: the preset's, without what only its
    own training needed (pretraining, initializer settings, and its weighting
    of each user's latest interactions where `protocol` is not
    leave-last-out), with the learning rate (default: a share of the
    preset's) and the overrides."""
    settings = dict(parent.preset_metadata["hyperparameters"])
    dropped = ["pretrain", *entry.init_settings]
    if not get_protocol(protocol).leave_one_out:
        dropped += ["recent_weight", "recent_share"]
    for key in dropped:
        settings.pop(key, None)
    if learning_rate is None:
        learning_rate = float(ops.convert_to_numpy(parent.optimizer.learning_rate))
        learning_rate *= LEARNING_RATE_SCALE
    settings.update(overrides, learning_rate=learning_rate)
    if epochs is not None:
        settings.pop("epochs", None)
    return settings


def _save(result, output, overwrite):
    """Writes the fine-tuned model as a preset whose metadata names its parent."""
    metadata = {k: v for k, v in result.items() if k != "history"}
    result.model.save_to_preset(
        output, metadata={**metadata, "split": result["protocol_details"]},
        vocabularies=result.plan.data.vocabulary_lists(), overwrite=overwrite,
    )  # fmt: skip


def _same_columns(parent, data, meta):
    """A click log fine-tunes a preset of the same columns: one the preset
    lacks, or one it reads that the data lacks, is refused by name. The
    preset's fitted transforms (standardize, bucketize) are kept."""
    had = {f.name for f in parent.feature_spec}
    has = {f.name for f in data.feature_spec()}
    extra, missing = sorted(has - had), sorted(had - has)
    if extra:
        raise ValueError(
            f"Column{'s' * (len(extra) > 1)} {', '.join(map(repr, extra))} of the new data "
            f"{'are' if len(extra) > 1 else 'is'} not in the preset, which reads "
            f"{sorted(had)}: a fine-tuned model keeps its preset's inputs. Drop "
            f"{'them' if len(extra) > 1 else 'it'} (--drop_cols={','.join(extra)}), or train "
            "a new model."
        )
    if missing:
        raise ValueError(
            f"The preset reads column{'s' * (len(missing) > 1)} "
            f"{', '.join(map(repr, missing))}, which the new data lacks: give "
            f"{'them' if len(missing) > 1 else 'it'} with the same role as in the preset."
        )
    fitted = meta.get("schema_fitted") or {}
    if fitted and getattr(data, "pending", None):
        data = dataclasses.replace(data, transform_state={**fitted, **data.transform_state})
    return data


def _parent(preset):
    """The preset, refused if it does not say how it was trained."""
    parent = from_preset(preset)
    meta = parent.preset_metadata
    if "hyperparameters" not in meta or "model" not in meta:
        raise PresetError(
            f"Preset {str(preset)!r} does not record the model and settings that trained it "
            "(`reczoo train --output` and `reczoo zoo build` do), so it cannot be rebuilt "
            "for new data."
        )
    return parent


def _record_parent(result, preset, meta, name, asked, growth):
    """The row of a fine-tuning run: its parent preset, the vocabularies'
    growth and the `reczoo finetune` command."""
    dataset, epochs, freeze, output = asked
    result["parent"] = {
        "preset": name,
        "metadata_sha256": _metadata_sha256(preset),
        "dataset": meta.get("dataset"),
        "metrics": meta.get("metrics"),
    }
    result["freeze"] = freeze
    result["vocabulary_growth"] = {n: {"known": k, "grown": g} for n, (k, g) in growth.items()}
    command = f"reczoo finetune --preset={name} --dataset={dataset}"
    if epochs is not None:
        command += f" --epochs={epochs}"
    if freeze:
        command += f" --freeze={freeze}"
    result["command"] = command + (" --output=DIR" if output else "")


def _metadata_sha256(preset):
    from reczoo.presets import METADATA_FILE, resolve_preset
    from reczoo.provenance import sha256_of

    return sha256_of(resolve_preset(preset) / METADATA_FILE)
