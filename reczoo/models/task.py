"""The base of every task: a backbone plus its head, loss, metrics and
default `compile`. The tasks are `Ranker` (ranker.py), `NextItem`
(next_item.py) and `Retriever` (retrieval.py)."""

import keras
import numpy as np
from keras import ops

from reczoo import distribute
from reczoo.models.topk import Interactions


@keras.saving.register_keras_serializable(package="reczoo")
class Task(keras.Model):
    """Base of all tasks: wraps a backbone and compiles itself with defaults.

    A task is a functional `keras.Model` taking the backbone's feature dict,
    so `fit`, `evaluate`, `predict`, `save` and `keras.saving.load_model`
    behave as in plain Keras. It takes the backbone's dtype policy, so that
    under `"mixed_float16"` Keras scales the loss.

    Args:
        backbone: the backbone it wraps (a `reczoo.Backbone`).
        dtype: the dtype policy; default: the backbone's.

    Example:
        ```python
        spec = reczoo.FeatureSpec([reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=8)])
        model = reczoo.get_model("fm", feature_spec=spec)
        assert isinstance(model, reczoo.Task) and isinstance(model.backbone, reczoo.Backbone)
        ```
    """

    default_learning_rate = 1e-3

    def __init__(self, *args, backbone=None, dtype=None, **kwargs):
        super().__init__(*args, **kwargs)
        if dtype is None and backbone is not None:
            dtype = backbone.dtype_policy
        # Functional models drop `dtype`; the policy is set after (as in keras-hub).
        if dtype is not None:
            self.dtype_policy = keras.dtype_policies.get(dtype)
        self.backbone = backbone
        # Who saw what (training interactions), for `recommend`; kept in presets.
        self.interactions = None
        self.vocabularies = {}

    @property
    def feature_spec(self):
        return self.backbone.feature_spec

    def set_interactions(self, users, items):
        """Records the users' training interactions (ids, in time order).

        `recommend` leaves these items out with `exclude_seen`, and a
        next-item model takes them as the histories of `recommend(users=...)`.
        `reczoo.run` records the training split's; presets keep them.
        """
        self.interactions = Interactions(users, items)
        return self

    # --- what presets keep --------------------------------------------------

    # Arrays a preset saves beside the weights (`{name}.npz` in its assets).
    asset_names = ("interactions",)

    def asset_arrays(self):
        """`{asset name: {array name: array}}` that presets save beside the weights."""
        if self.interactions is None:
            return {}
        seen = self.interactions
        return {"interactions": {"offsets": seen.offsets, "items": seen.items}}

    def restore_assets(self, name, arrays):
        """Puts back an asset `asset_arrays` gave (a preset being loaded)."""
        if name == "interactions":
            self.interactions = Interactions.from_arrays(arrays["offsets"], arrays["items"])

    def default_loss(self):
        raise NotImplementedError

    def default_metrics(self):
        return []

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        metrics="auto",
        learning_rate=None,
        **kwargs,
    ):
        """Configures training; `"auto"` picks the task's defaults.

        Args:
            optimizer: `"auto"` for Adam, a Keras optimizer config (a dict
                such as `{"class_name": "Adam", "config": {"beta_2": 0.98}}`;
                `"LazyAdam"` and `"Adagrad"` name `reczoo.optimizers`' classes), or any
                Keras optimizer.
            loss: `"auto"` for the task's loss, or any Keras loss.
            metrics: `"auto"` for the task's metrics, or a list.
            learning_rate: learning rate of the `"auto"` optimizer (default
                1e-3) or of an optimizer config; an error with an optimizer
                object.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`, ...).
        """
        if learning_rate is not None and not (
            isinstance(learning_rate, int | float) and 0 < learning_rate < float("inf")
        ):
            raise ValueError(
                "`learning_rate` must be a positive finite number (a negative one climbs the "
                f"loss). Received: learning_rate={learning_rate!r}"
            )
        if isinstance(optimizer, dict):
            config = {"learning_rate": self.default_learning_rate, **optimizer.get("config", {})}
            if learning_rate is not None:
                config["learning_rate"] = learning_rate
            from reczoo.optimizers import CUSTOM_OBJECTS

            # reczoo's own classes first: Keras' deserialize would take its
            # own "Adagrad" over reczoo's.
            own = CUSTOM_OBJECTS.get(optimizer.get("class_name"))
            optimizer = (
                own.from_config(config)
                if own
                else keras.optimizers.deserialize(
                    {**optimizer, "config": config}, custom_objects=CUSTOM_OBJECTS
                )
            )
        elif optimizer == "auto":
            optimizer = keras.optimizers.Adam(
                learning_rate if learning_rate is not None else self.default_learning_rate
            )
        elif learning_rate is not None:
            raise ValueError(
                "`learning_rate` applies to optimizer='auto' only; set it on your "
                f"optimizer instead. Received: optimizer={optimizer!r}, "
                f"learning_rate={learning_rate}"
            )
        if loss == "auto":
            loss = self.default_loss()
        if metrics == "auto":
            metrics = self.default_metrics()
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def fit(self, x=None, y=None, *args, **kwargs):
        """Keras `fit`; in-memory inputs are checked first (`FeatureSpec.check_inputs`)."""
        x, y, kwargs = self._fit_inputs(self._checked(x), _checked_labels(y), args, kwargs)
        build_optimizer(self)
        return super().fit(distribute.whole_batches(x), y, *args, **kwargs)

    def predict_on_batch(self, x):
        """Keras `predict_on_batch`; under a `keras.distribution` that splits
        batches n ways, a batch of another size is padded to a multiple of n
        and the outputs cut back."""
        x, rows = distribute.padded(x)
        return distribute.cut(super().predict_on_batch(x), rows)

    def _fit_inputs(self, x, y, args, kwargs):
        return x, y, kwargs

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(self._checked(x), _checked_labels(y), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        batch_size = kwargs.get("batch_size", args[0] if args else None) or 32  # Keras' default
        x, rows = distribute.padded(self._checked(x), batch_size)
        return distribute.cut(super().predict(x, *args, **kwargs), rows)

    def _checked(self, x):
        # A dict of arrays is checked by feature name; datasets, generators and
        # tensors go to Keras as they are.
        if isinstance(x, dict) and all(
            isinstance(v, np.ndarray | list | tuple) for v in x.values()
        ):
            return self.feature_spec.check_inputs(x)
        return x

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return super().compute_loss(
            x=x, y=_match_rank(y, y_pred), y_pred=y_pred, sample_weight=sample_weight,
            training=training,
        )  # fmt: skip

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, _match_rank(y, y_pred), y_pred, sample_weight)

    def compile_from_config(self, config):
        # The saved config holds concrete objects, never "auto", so replaying
        # it through our compile restores exactly what was trained.
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def save_to_preset(self, directory, metadata=None, vocabularies=None, overwrite=False,
                       **options):  # fmt: skip
        """Saves this task as a preset directory; see `reczoo.save_to_preset`."""
        from reczoo.presets import save_to_preset

        return save_to_preset(
            self, directory, metadata=metadata, vocabularies=vocabularies, overwrite=overwrite,
            **options,
        )  # fmt: skip

    @classmethod
    def from_preset(cls, preset, sha256=None, compile=True, safe_mode=True):
        """Loads a preset of this kind of task (see `reczoo.from_preset`):
        `reczoo.NextItem.from_preset("sasrec_amazon_games")`."""
        from reczoo.presets import PresetError, from_preset

        task = from_preset(preset, sha256=sha256, compile=compile, safe_mode=safe_mode)
        if not isinstance(task, cls):
            raise PresetError(
                f"Preset {str(preset)!r} holds a {type(task).__name__}, not a {cls.__name__}: "
                f"load it with reczoo.from_preset or {type(task).__name__}.from_preset."
            )
        return task

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "backbone": keras.layers.serialize(self.backbone),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("backbone"), dict):
            config["backbone"] = keras.layers.deserialize(config["backbone"])
        return cls(**config)


def _checked_labels(y):
    """Refuses NaN or infinite labels: one of them makes every later prediction NaN."""
    if isinstance(y, np.ndarray | list | tuple):
        array = np.asarray(y)
        if np.issubdtype(array.dtype, np.number) and not np.isfinite(array).all():
            row = int(np.argwhere(~np.isfinite(array.reshape(len(array), -1)).all(axis=1))[0, 0])
            raise ValueError(
                f"The labels hold a value that is not a finite number at row {row}: "
                f"{array[row].tolist()!r}. Drop or fill those rows first."
            )
        if array.size == 0:
            raise ValueError("The labels are empty: there is nothing to train on.")
    return y


def _match_rank(y, y_pred):
    # Labels usually come as (batch,) while scores are (batch, 1); Keras 3's
    # losses refuse the mismatch, so a missing trailing axis is added.
    if y is None or y_pred is None or not hasattr(y, "shape") or not hasattr(y_pred, "shape"):
        return y
    if len(y.shape) == len(y_pred.shape) - 1:
        return ops.expand_dims(y, -1)
    return y


def build_optimizer(model):
    """Makes the optimizer's slots of a built `model` before its first step.

    Without a distribution strategy Keras makes them inside the first traced
    step, and TensorFlow traces a function that created variables a second
    time: every `fit` on a new model paid two traces of its training step
    (about a second on two cores for a small model). Under a strategy Keras
    makes them itself, in the strategy's scope, before the first step.
    """
    optimizer = getattr(model, "optimizer", None)
    if (
        keras.backend.backend() != "tensorflow" or optimizer is None or optimizer.built
        or not model.built or getattr(model, "_distribute_strategy", None) is not None
    ):  # fmt: skip
        return
    import tensorflow as tf

    if not tf.distribute.has_strategy():
        optimizer.build(model.trainable_variables)
