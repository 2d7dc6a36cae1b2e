"""`FeatureEmbedding`: the one input layer every reczoo model uses."""

import keras
from keras import ops

from reczoo import distribute
from reczoo.dtypes import lowest
from reczoo.features.spec import (
    Categorical,
    FeatureSpec,
    MultiHot,
    Numerical,
    Sequence,
)

_OUTPUT_MODES = ("dict", "stack", "concat")


def masked_pool(values, mask, combiner):
    """Pools (batch, length, dim) `values` over positions where `mask` is true.

    An all-padding row pools to zeros under every combiner.
    """
    valid = ops.expand_dims(ops.cast(mask, "bool"), -1)
    mask = ops.cast(valid, values.dtype)
    if combiner == "max":
        very_negative = ops.cast(lowest(values.dtype), values.dtype)
        pooled = ops.max(ops.where(valid, values, very_negative), axis=1)
        any_valid = ops.max(mask, axis=1)
        return pooled * any_valid
    total = ops.sum(values * mask, axis=1)
    if combiner == "sum":
        return total
    count = ops.sum(mask, axis=1)
    if combiner == "sqrtn":
        return total / ops.maximum(ops.sqrt(count), 1.0)
    return total / ops.maximum(count, 1.0)


@keras.saving.register_keras_serializable(package="reczoo")
class FeatureEmbedding(keras.layers.Layer):
    """Embeds every feature of a `FeatureSpec`, sharing tables where asked.

    Id features are looked up in one `keras.layers.Embedding` per table. Ids
    outside `[0, vocabulary_size)` are read as 0, the out-of-vocabulary row
    (check raw data with `FeatureSpec.check_inputs` to have them reported
    instead). Multi-hot bags are pooled with their combiner, padding excluded.
    Sequences keep their positions, and the layer reports their padding
    mask (id 0) through Keras masking and `padding_mask`.

    Output modes:
    - `"dict"`: `{name: tensor}`; categorical and multi-hot give
      (batch, dim), sequences (batch, length, dim), numerical the raw
      (batch, dim) values.
    - `"stack"`: (batch, fields, dim), one field per feature in spec order,
      for FM, product and CNN models. All id features must share one
      embedding width; sequences are mean-pooled to one field; each
      numerical feature is projected to the common width with a bias-free
      dense layer (for `dim=1`, value times a learned vector, as in FM).
    - `"concat"`: (batch, total), the pooled embeddings and the raw
      numerical values side by side, for MLP towers.

    With `numerical_dim`, every mode projects each numerical feature to
    that width as `"stack"` does (FuxiCTR embeds numbers so in every model).

    Args:
        feature_spec: a `FeatureSpec` (or a list of features, or its config).
        output_mode: `"dict"`, `"stack"` or `"concat"`.
        embeddings_initializer: initializer of every table.
        embeddings_regularizer: regularizer of every table, such as
            `keras.regularizers.L2(1e-5)`.
        numerical_dim: project each numerical feature to this width (a
            bias-free dense layer: for `dim=1`, value times a learned
            vector); None keeps the raw values, except in `"stack"` mode,
            which projects them to the id features' width.
        row_multiple: round every table's rows up to a multiple of this
            (rows past the vocabulary are never looked up). None takes the
            active `--strategy=model_parallel`'s row shard count (1 without
            one), so that each device holds an equal share of every table.

    Raises:
        ValueError: an unknown `output_mode`, or tables too large for one
            device's memory (`reczoo.distribute.check_tables_fit`).

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", 944, 8),
            reczoo.Categorical("item_id", 1683, 8),
        ])
        layer = reczoo.FeatureEmbedding(spec, output_mode="stack")
        layer(spec.dummy_inputs(4)).shape  # (4, 2, 8)
        ```
    """

    def __init__(
        self,
        feature_spec,
        output_mode="dict",
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        row_multiple=None,
        numerical_dim=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        # === Validation ===
        spec = _as_spec(feature_spec)
        if output_mode not in _OUTPUT_MODES:
            raise ValueError(
                f"`output_mode` must be one of {_OUTPUT_MODES}. "
                f"Received: output_mode={output_mode!r}"
            )
        self.feature_spec = spec
        self.output_mode = output_mode
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.embeddings_regularizer = keras.regularizers.get(embeddings_regularizer)
        if numerical_dim is not None and (
            isinstance(numerical_dim, bool)
            or not isinstance(numerical_dim, int)
            or numerical_dim < 1
        ):
            raise ValueError(
                f"`numerical_dim` must be a positive integer or None. Received: {numerical_dim!r}"
            )
        self.numerical_dim = numerical_dim
        self.common_dim = None
        if output_mode == "stack":
            self.common_dim = _common_dim(spec, numerical_dim)
        # The width numerical features are projected to, or None: raw values.
        width = self.numerical_dim or self.common_dim
        if row_multiple is None:
            row_multiple = distribute.table_row_multiple()
        if int(row_multiple) < 1:
            raise ValueError(f"`row_multiple` must be 1 or more. Received: {row_multiple}")
        self.row_multiple = int(row_multiple)

        # === Layers ===
        self.embeddings = {}
        for table in spec.tables.values():
            self.embeddings[table.name] = keras.layers.Embedding(
                -(-table.vocabulary_size // self.row_multiple) * self.row_multiple,
                table.embedding_dim,
                embeddings_initializer=self.embeddings_initializer,
                embeddings_regularizer=self.embeddings_regularizer,
                dtype=self.dtype_policy,
                name=f"{table.name}_embedding",
            )
        self.hashers = {}
        for f in spec.select([Categorical]):
            if f.hash_bins is not None:
                self.hashers[f.name] = keras.layers.Hashing(
                    num_bins=f.hash_bins + 1,
                    mask_value="" if f.dtype == "string" else 0,
                    name=f"{f.name}_hashing",
                )
        self.projections = {}
        if width is not None:
            for f in spec.select([Numerical]):
                self.projections[f.name] = keras.layers.Dense(
                    width,
                    use_bias=False,
                    kernel_initializer=self.embeddings_initializer,
                    dtype=self.dtype_policy,
                    name=f"{f.name}_projection",
                )
        self.supports_masking = output_mode == "dict"

    def build(self, input_shape=None):
        distribute.check_tables_fit(
            {n: (t.input_dim, t.output_dim) for n, t in self.embeddings.items()},
            self.row_multiple,
        )
        for f in self.feature_spec:
            if isinstance(f, Numerical):
                if f.name in self.projections:
                    self.projections[f.name].build((None, f.dim))
                continue
            table = self.embeddings[f.table_name]
            if not table.built:
                with distribute.building_tables():
                    table.build((None,))
        self.built = True

    def embedding_table(self, table):
        """The `keras.layers.Embedding` of a table (for tied output layers)."""
        try:
            return self.embeddings[table]
        except KeyError:
            raise KeyError(
                f"No embedding table named {table!r}. Tables: {sorted(self.embeddings)}"
            ) from None

    def ids(self, inputs, name):
        """The table row ids of an id feature: hashed, and clipped to OOV 0."""
        f = self.feature_spec[name]
        value = inputs[name]
        if f.name in self.hashers:
            return ops.cast(self.hashers[f.name](value), "int32")
        value = ops.cast(value, "int32")
        if isinstance(f, Categorical) and len(value.shape) == 2 and value.shape[-1] == 1:
            value = ops.squeeze(value, -1)
        in_range = ops.logical_and(value >= 0, value < f.vocabulary_size)
        return ops.where(in_range, value, ops.zeros_like(value))

    def padding_mask(self, inputs, name):
        """True at real (non-padding) positions of a sequence or bag feature."""
        return ops.not_equal(ops.cast(inputs[name], "int32"), 0)

    def _embed(self, inputs, f):
        if isinstance(f, Numerical):
            value = ops.cast(inputs[f.name], self.compute_dtype)
            if len(value.shape) == 1:
                value = ops.expand_dims(value, -1)
            if f.name in self.projections:
                return self.projections[f.name](value)
            return value
        vectors = self.embeddings[f.table_name](self.ids(inputs, f.name))
        if isinstance(f, MultiHot):
            return masked_pool(vectors, self.padding_mask(inputs, f.name), f.combiner)
        if isinstance(f, Sequence) and self.output_mode != "dict":
            return masked_pool(vectors, self.padding_mask(inputs, f.name), "mean")
        return vectors

    def call(self, inputs):
        outputs = {f.name: self._embed(inputs, f) for f in self.feature_spec}
        if self.output_mode == "dict":
            return outputs
        if self.output_mode == "stack":
            return ops.stack([outputs[n] for n in self.feature_spec.names], axis=1)
        return ops.concatenate([outputs[n] for n in self.feature_spec.names], axis=-1)

    def compute_mask(self, inputs, mask=None):
        if self.output_mode != "dict":
            return None
        return {
            f.name: self.padding_mask(inputs, f.name) if isinstance(f, Sequence) else None
            for f in self.feature_spec
        }

    def compute_output_shape(self, input_shape):
        shapes = {}
        for f in self.feature_spec:
            if isinstance(f, Numerical):
                projection = self.projections.get(f.name)
                shapes[f.name] = (None, projection.units if projection else f.dim)
            elif isinstance(f, Sequence) and self.output_mode == "dict":
                shapes[f.name] = (None, f.max_length, f.embedding_dim)
            else:
                shapes[f.name] = (None, f.embedding_dim)
        if self.output_mode == "dict":
            return shapes
        if self.output_mode == "stack":
            return (None, len(self.feature_spec), self.common_dim)
        return (None, sum(s[-1] for s in shapes.values()))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "feature_spec": self.feature_spec.get_config(),
                "output_mode": self.output_mode,
                "embeddings_initializer": keras.initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": keras.regularizers.serialize(self.embeddings_regularizer)
                if self.embeddings_regularizer is not None
                else None,
            }
        )
        # Only when set: configs saved before these settings existed stay as they were.
        if self.row_multiple > 1:
            config["row_multiple"] = self.row_multiple
        if self.numerical_dim is not None:
            config["numerical_dim"] = self.numerical_dim
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["feature_spec"] = FeatureSpec.from_config(config["feature_spec"])
        return cls(**config)


def _as_spec(feature_spec):
    if isinstance(feature_spec, FeatureSpec):
        return feature_spec
    if isinstance(feature_spec, dict) and "features" in feature_spec:
        return FeatureSpec.from_config(feature_spec)
    return FeatureSpec(feature_spec)


def _common_dim(spec, numerical_dim=None):
    dims = {}
    for f in spec:
        if not isinstance(f, Numerical):
            dims.setdefault(f.embedding_dim, f.name)
    if len(dims) > 1:
        listed = ", ".join(f"'{name}' with embedding_dim={dim}" for dim, name in dims.items())
        raise ValueError(
            f"output_mode='stack' needs one embedding width for all id features. Received: {listed}"
        )
    if numerical_dim is not None and dims and numerical_dim not in dims:
        raise ValueError(
            f"output_mode='stack' needs numerical_dim equal to the id features' embedding_dim "
            f"{next(iter(dims))}. Received: numerical_dim={numerical_dim}"
        )
    if not dims and numerical_dim is not None:
        return int(numerical_dim)
    if not dims:
        raise ValueError(
            "output_mode='stack' needs at least one id feature to fix the width. "
            "Received only numerical features."
        )
    return next(iter(dims))


def model_tables(model):
    """`{variable path: (rows, dim)}` of every table of `model`'s
    `FeatureEmbedding` layers."""
    return {
        table.embeddings.path: (table.input_dim, table.output_dim)
        for layer in model._flatten_layers()
        if isinstance(layer, FeatureEmbedding)
        for table in layer.embeddings.values()
    }
