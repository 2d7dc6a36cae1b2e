"""Tasks: a backbone plus its head, loss, metrics and default `compile`."""

import keras
from keras import ops

_OBJECTIVES = ("binary", "regression")


@keras.saving.register_keras_serializable(package="reczoo")
class Task(keras.Model):
    """Base of all tasks: wraps a backbone and compiles itself with defaults.

    A task is a functional `keras.Model` taking the backbone's feature dict,
    so `fit`, `evaluate`, `predict`, `save` and `keras.saving.load_model`
    behave as in plain Keras.
    """

    default_learning_rate = 1e-3

    def __init__(self, *args, backbone=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.backbone = backbone

    @property
    def feature_spec(self):
        return self.backbone.feature_spec

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
            optimizer: `"auto"` for Adam, or any Keras optimizer.
            loss: `"auto"` for the task's loss, or any Keras loss.
            metrics: `"auto"` for the task's metrics, or a list.
            learning_rate: learning rate of the `"auto"` optimizer (default
                1e-3); an error with any other optimizer.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`, ...).
        """
        if optimizer == "auto":
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

    def save_to_preset(self, directory, metadata=None, vocabularies=None, overwrite=False):
        """Saves this task as a preset directory; see `reczoo.save_to_preset`."""
        from reczoo.presets import save_to_preset

        return save_to_preset(
            self, directory, metadata=metadata, vocabularies=vocabularies, overwrite=overwrite
        )

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


def _match_rank(y, y_pred):
    # Labels usually come as (batch,) while scores are (batch, 1); Keras 3's
    # losses refuse the mismatch, so a missing trailing axis is added.
    if y is None or y_pred is None or not hasattr(y, "shape") or not hasattr(y_pred, "shape"):
        return y
    if len(y.shape) == len(y_pred.shape) - 1:
        return ops.expand_dims(y, -1)
    return y


@keras.saving.register_keras_serializable(package="reczoo")
class Ranker(Task):
    """Scores one (user, item, context) example: click-through or rating.

    A backbone whose output has width 1 is read as the logit (FM); a wider
    output gets a dense head. With `objective="binary"` the task outputs
    click probabilities and trains on binary cross-entropy, reporting AUC and
    logloss; with `objective="regression"` it outputs the predicted value and
    trains on mean squared error, reporting RMSE and MAE.

    Args:
        backbone: a `reczoo.models.Backbone`.
        objective: `"binary"` or `"regression"`.

    Example:

    ```python
    backbone = reczoo.models.MLPBackbone(spec, hidden_units=[64, 32])
    ranker = reczoo.models.Ranker(backbone)
    ranker.fit(features, labels, batch_size=256)
    ```
    """

    def __init__(self, backbone, objective="binary", **kwargs):
        # === Layers ===
        if objective not in _OBJECTIVES:
            raise ValueError(
                f"`objective` must be one of {_OBJECTIVES}. Received: objective={objective!r}"
            )
        head = None
        if backbone.output.shape[-1] != 1:
            head = keras.layers.Dense(1, name="logit")

        # === Functional model ===
        inputs = backbone.input
        logit = backbone(inputs)
        if head is not None:
            logit = head(logit)
        if objective == "binary":
            outputs = keras.layers.Activation("sigmoid", dtype="float32", name="probability")(logit)
        else:
            outputs = keras.layers.Activation("linear", dtype="float32", name="prediction")(logit)
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, **kwargs)

        # === Config ===
        self.objective = objective
        self.head = head

    def default_loss(self):
        if self.objective == "binary":
            return keras.losses.BinaryCrossentropy()
        return keras.losses.MeanSquaredError()

    def default_metrics(self):
        if self.objective == "binary":
            return [
                keras.metrics.AUC(name="auc"),
                keras.metrics.BinaryCrossentropy(name="logloss"),
            ]
        return [
            keras.metrics.RootMeanSquaredError(name="rmse"),
            keras.metrics.MeanAbsoluteError(name="mae"),
        ]

    def score(self, inputs, batch_size=4096):
        """Scores as a flat numpy array (probabilities, or predicted values)."""
        out = self.predict(inputs, batch_size=batch_size, verbose=0)
        return ops.convert_to_numpy(out).reshape(-1)

    def get_config(self):
        config = super().get_config()
        config.update({"objective": self.objective})
        return config
