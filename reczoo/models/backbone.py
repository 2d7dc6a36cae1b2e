"""Backbones: the base of every reczoo architecture, one contract per family.

A backbone returns a dict whose keys its family declares:

- ranking (`RankingBackbone`): `"features"`, a (batch, width) representation
  of the example, and `"logit"`, (batch, 1), where the model computes its own
  score (`computes_logit = True`); `Ranker` adds a dense head otherwise;
- sequential (`SequentialBackbone`): `"sequence_output"`, (batch, length,
  dim), one state per history position (`output_key`), or `"user_embedding"`,
  (batch, dim), one state per history; states score items by dot product with
  the item table (`item_embedding`).

Tasks and evaluators read these keys and the declared attributes, never the
class of the backbone.
"""

import keras

from reczoo.dtypes import check_supported
from reczoo.features import FeatureSpec, Sequence


@keras.saving.register_keras_serializable(package="reczoo")
class Backbone(keras.Model):
    """A functional `keras.Model` from a feature dict to a dict of representations.

    Subclasses build their layers (passing `dtype` to each), wire them into a
    functional graph over `feature_spec.keras_inputs()`, call
    `super().__init__(inputs=..., outputs={...}, feature_spec=..., dtype=...)`,
    then keep their constructor arguments for `get_config`. The base class
    serializes the feature spec and the dtype policy, so `from_config`
    rebuilds the backbone exactly. A backbone knows nothing of losses: a task
    (`Ranker`, ...) wraps it.

    Class attributes a family declares:
        output_keys: the keys of the output dict.
        fit_by: `"fit"` (gradient training) or `"adapt"` (statistics set by
            `adapt`, such as item counts).
        code_version: the version of what the backbone computes from its
            weights. Presets record it; raise it in any change that makes
            the same weights compute something else, and older presets of
            the backbone are refused with both versions named.

    Args:
        feature_spec: the `reczoo.FeatureSpec` its inputs follow.
        dtype: the dtype policy of every layer (`"mixed_float16"`, ...).

    Raises:
        ValueError: a preset's backbone of another `code_version` (on loading).

    Example:
        ```python
        @keras.saving.register_keras_serializable(package="example")
        class LinearBackbone(reczoo.RankingBackbone):
            # A logistic regression on the concatenated embeddings.

            def __init__(self, feature_spec, dtype=None, **kwargs):
                embedding = reczoo.FeatureEmbedding(feature_spec, output_mode="concat", dtype=dtype)
                inputs = feature_spec.keras_inputs()
                features = embedding(inputs)
                super().__init__(inputs=inputs, outputs={"features": features},
                                 feature_spec=feature_spec, dtype=dtype, **kwargs)

        spec = reczoo.FeatureSpec([reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=8)])
        ranker = reczoo.Ranker(LinearBackbone(spec))
        ranker.compile(optimizer="adam")
        ```
    """

    output_keys = ()
    fit_by = "fit"
    code_version = 1

    def __init__(self, *args, feature_spec=None, dtype=None, **kwargs):
        outputs = kwargs.get("outputs", args[1] if len(args) > 1 else None)
        super().__init__(*args, **kwargs)
        # Functional models drop `dtype`; the policy is set after (as in keras-hub).
        if dtype is not None:
            self.dtype_policy = keras.dtype_policies.get(dtype)
        # A bfloat16 model that cannot run here fails now, with the reason.
        check_supported(self.dtype_policy)
        self.feature_spec = feature_spec
        missing = set(self.output_keys) - set(outputs if isinstance(outputs, dict) else ())
        if missing:
            raise ValueError(
                f"{type(self).__name__} must return the keys {sorted(self.output_keys)}. "
                f"Missing: {sorted(missing)}"
            )

    def keep_tower_config(self, embedding, tower, activation):
        """Keeps the settings of a DNN tower and its embedding for get_config."""
        self.hidden_units = tower.hidden_units
        self.activation = activation
        self.dropout = tower.dropout
        self.batch_norm = tower.batch_norm
        self.embeddings_regularizer = embedding.embeddings_regularizer
        self.kernel_regularizer = tower.kernel_regularizer

    def tower_config(self):
        """The config entries kept by `keep_tower_config`."""
        return {
            "hidden_units": self.hidden_units,
            "activation": self.activation,
            "dropout": self.dropout,
            "batch_norm": self.batch_norm,
            "embeddings_regularizer": serialize_regularizer(self.embeddings_regularizer),
            "kernel_regularizer": serialize_regularizer(self.kernel_regularizer),
        }

    def get_config(self):
        # Functional's own config describes the graph; a backbone rebuilds
        # from its constructor arguments instead, like keras-hub models.
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "feature_spec": self.feature_spec.get_config(),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["feature_spec"] = FeatureSpec.from_config(config["feature_spec"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="reczoo")
class RankingBackbone(Backbone):
    """Base of backbones that score one (user, item, context) example.

    Returns `{"features": (batch, width)}`, plus `{"logit": (batch, 1)}` when
    `computes_logit` is true (FM, DeepFM, xDeepFM, AutoInt: the model sums its
    own logit). `Ranker` reads the logit, or puts a dense unit on the features.

    Args:
        feature_spec: the `reczoo.FeatureSpec` its inputs follow.
        dtype: the dtype policy of every layer.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user", vocabulary_size=100, embedding_dim=8),
            reczoo.Categorical("item", vocabulary_size=50, embedding_dim=8),
        ])
        backbone = reczoo.get_model("deepfm", feature_spec=spec, hidden_units=[16]).backbone
        outputs = backbone({"user": np.array([[1]]), "item": np.array([[2]])})
        print(sorted(outputs))  # ['features', 'logit']
        ```
    """

    computes_logit = False

    @property
    def output_keys(self):
        return ("features", "logit") if self.computes_logit else ("features",)


@keras.saving.register_keras_serializable(package="reczoo")
class SequentialBackbone(Backbone):
    """Base of next-item backbones: a history in, states that score items out.

    It owns the sequence features: `history_feature` (a `Sequence` of item ids,
    left-padded with 0), `user_feature` (a user id, or None where the model
    reads no user), and the item table the history is embedded with and items
    are scored against (`item_table`, `item_embedding`). `output_key` is
    `"sequence_output"` (a state per position, each predicting the next item)
    or `"user_embedding"` (one state per history).

    Args:
        history_feature: the name of the history `Sequence`.
        user_feature: the user id feature, or None where the model reads no user.
        embedding: the `FeatureEmbedding` holding the item table.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Sequence("history", vocabulary_size=50, embedding_dim=8, max_length=6, table="item"),
        ])
        backbone = reczoo.get_model("sasrec", feature_spec=spec).backbone
        print(backbone.output_key, backbone.item_embedding.input_dim)  # sequence_output 50
        ```
    """

    output_key = "sequence_output"
    uses_user = False
    # The item table's last row is a mask token, never an item (CL4SRec's
    # mask augmentation, BERT4Rec's cloze task).
    uses_mask_token = False
    # Trained on masked positions, asked with a mask token after the history.
    predicts_masked = False

    @property
    def output_keys(self):
        return (self.output_key,)

    def __init__(
        self, *args, history_feature="history", user_feature=None, embedding=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.history_feature = history_feature
        self.user_feature = user_feature
        self.embedding = embedding
        self.item_table = self.feature_spec[history_feature].table_name

    @property
    def per_position(self):
        """Whether the backbone gives a state per position."""
        return self.output_key == "sequence_output"

    @property
    def item_embedding(self):
        """The item table's `keras.layers.Embedding` (row 0 is padding)."""
        return self.embedding.embedding_table(self.item_table)

    @property
    def num_items(self):
        """Rows of the item table, padding row 0 included."""
        return self.item_embedding.input_dim

    @property
    def mask_token(self):
        """The mask token's id (the item table's last row), or None."""
        return self.num_items - 1 if self.uses_mask_token else None

    @staticmethod
    def history_of(feature_spec, history_feature):
        """The history `Sequence` of a spec, or an error naming what is there."""
        feature = feature_spec.get(history_feature)
        if not isinstance(feature, Sequence):
            raise ValueError(
                f"A sequential model needs a Sequence feature named {history_feature!r}. "
                f"Received features: {feature_spec.names}"
            )
        return feature

    def get_config(self):
        config = super().get_config()
        config["history_feature"] = self.history_feature
        if self.uses_user:
            config["user_feature"] = self.user_feature
        return config


def serialize_regularizer(regularizer):
    """A regularizer's config, or None; for backbones' `get_config`."""
    return None if regularizer is None else keras.regularizers.serialize(regularizer)
