"""Tasks: a backbone plus its head, loss, metrics and default `compile`."""

import keras
import numpy as np
from keras import ops

from reczoo.dtypes import lowest

_OBJECTIVES = ("binary", "regression")


@keras.saving.register_keras_serializable(package="reczoo")
class Task(keras.Model):
    """Base of all tasks: wraps a backbone and compiles itself with defaults.

    A task is a functional `keras.Model` taking the backbone's feature dict,
    so `fit`, `evaluate`, `predict`, `save` and `keras.saving.load_model`
    behave as in plain Keras. It takes the backbone's dtype policy, so that
    under `"mixed_float16"` Keras scales the loss.
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
            optimizer: `"auto"` for Adam, a Keras optimizer config (a dict
                such as `{"class_name": "Adam", "config": {"beta_2": 0.98}}`),
                or any Keras optimizer.
            loss: `"auto"` for the task's loss, or any Keras loss.
            metrics: `"auto"` for the task's metrics, or a list.
            learning_rate: learning rate of the `"auto"` optimizer (default
                1e-3) or of an optimizer config; an error with an optimizer
                object.
            **kwargs: passed to `keras.Model.compile` (`jit_compile`, ...).
        """
        if isinstance(optimizer, dict):
            config = {"learning_rate": self.default_learning_rate, **optimizer.get("config", {})}
            if learning_rate is not None:
                config["learning_rate"] = learning_rate
            optimizer = keras.optimizers.get({**optimizer, "config": config})
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
        return super().fit(self._checked(x), _checked_labels(y), *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        return super().evaluate(self._checked(x), _checked_labels(y), *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        return super().predict(self._checked(x), *args, **kwargs)

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


@keras.saving.register_keras_serializable(package="reczoo")
class Ranker(Task):
    """Scores one (user, item, context) example: click-through or rating.

    The backbone's `"logit"` is the score where it computes one
    (`computes_logit`: FM, DeepFM, ...); otherwise a dense unit reads its
    `"features"`. With `objective="binary"` the task outputs
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
        if not backbone.computes_logit:
            head = keras.layers.Dense(1, dtype=backbone.dtype_policy, name="logit")

        # === Functional model ===
        inputs = backbone.input
        outputs = backbone(inputs)
        logit = outputs["logit"] if head is None else head(outputs["features"])
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


_NEXT_ITEM_LOSSES = ("bce", "sampled_softmax", "ce")


@keras.saving.register_keras_serializable(package="reczoo")
class NextItem(Task):
    """Predicts each next item of a sequence, scoring by the item table.

    The backbone (a `SequentialBackbone`) maps a left-padded history (batch,
    length) to `"sequence_output"`, one state per position, (batch, length,
    dim), where position t has seen items up to t, or to `"user_embedding"`,
    one state for the last position, (batch, dim). An item's score is
    the dot product of a state with that item's row of the item embedding
    table (tied input and output embeddings). Labels are the next item at
    each position (0 where there is none), so one sequence trains every
    position at once.

    Losses (`loss=`):
    - `"bce"`: binary cross-entropy of the next item against one uniformly
      sampled negative per position (the SASRec paper);
    - `"sampled_softmax"`: softmax over the next item and `num_negatives`
      uniform negatives shared by the batch;
    - `"ce"`: softmax cross-entropy over the whole catalogue (Klenitskiy &
      Vasilev 2023 found it makes SASRec much stronger).

    The loss is averaged over the positions that have a next item.

    Args:
        backbone: a `reczoo.models.SequentialBackbone`.
        loss: `"bce"`, `"sampled_softmax"` or `"ce"`.
        num_negatives: negatives of the sampled softmax.
        seed: seed of the negative sampler.

    Example:

    ```python
    task = reczoo.get_model("sasrec", feature_spec=spec, loss="ce")
    task.fit({"history": inputs}, next_items, batch_size=128)
    task.recommend(histories, k=10)
    ```
    """

    default_learning_rate = 1e-3

    def __init__(
        self, backbone, loss="bce", num_negatives=100, normalize_by=None, seed=None, **kwargs
    ):
        if loss not in _NEXT_ITEM_LOSSES:
            raise ValueError(f"`loss` must be one of {_NEXT_ITEM_LOSSES}. Received: loss={loss!r}")
        # === Functional model ===
        inputs = backbone.input
        outputs = backbone(inputs)[backbone.output_key]
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, **kwargs)

        # === Config ===
        self.loss_name = loss
        self.num_negatives = int(num_negatives)
        self.normalize_by = normalize_by
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def item_embedding(self):
        return self.backbone.item_embedding

    @property
    def num_items(self):
        """Rows of the item table, padding row 0 included."""
        return self.backbone.num_items

    def default_loss(self):
        # The loss needs the item table, so it lives in compute_loss.
        return None

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        del x, sample_weight, training
        # The loss is computed in float32 whatever the compute dtype.
        table = ops.cast(self.item_embedding.embeddings, "float32")
        targets = ops.cast(y, "int32")
        states = ops.cast(y_pred, "float32")
        if not self.backbone.per_position:
            states = ops.expand_dims(states, 1)
            targets = ops.reshape(targets, (-1, 1))
        mask = ops.cast(ops.not_equal(targets, 0), states.dtype)
        if self.loss_name == "ce":
            logits = ops.matmul(states, ops.transpose(table))
            # Row 0 is padding: never a prediction.
            padding = ops.equal(ops.arange(self.num_items), 0)
            logits = ops.where(padding, ops.cast(lowest("float32"), logits.dtype), logits)
            losses = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        else:
            positive = ops.sum(states * ops.take(table, targets, axis=0), axis=-1)
            if self.loss_name == "bce":
                negatives = keras.random.randint(
                    ops.shape(targets), 1, self.num_items, seed=self.seed_generator
                )
                negative = ops.sum(states * ops.take(table, negatives, axis=0), axis=-1)
                losses = -ops.log_sigmoid(positive) - ops.log_sigmoid(-negative)
            else:
                negatives = keras.random.randint(
                    (self.num_negatives,), 1, self.num_items, seed=self.seed_generator
                )
                negative = ops.matmul(states, ops.transpose(ops.take(table, negatives, axis=0)))
                logits = ops.concatenate([ops.expand_dims(positive, -1), negative], axis=-1)
                losses = -ops.log_softmax(logits, axis=-1)[..., 0]
        if self.normalize_by:
            # A constant keeps every position's weight equal when batches are
            # grouped by length and hold different numbers of positions.
            loss = ops.sum(losses * mask) / self.normalize_by
        else:
            loss = ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0)
        return loss + (ops.sum(self.losses) if self.losses else 0.0)

    def _features(self, histories):
        if isinstance(histories, dict):
            return {k: np.asarray(v) for k, v in histories.items()}
        return {self.backbone.history_feature: np.asarray(histories)}

    def last_state(self, histories, batch_size=1024):
        """The state after each history's last position, as numpy (batch, dim).

        `histories` is a (batch, length) id array, or a feature dict for
        models that read more than the history (Caser's user id).
        """
        features = self._features(histories)
        n = len(next(iter(features.values())))
        out = []
        for start in range(0, n, batch_size):
            chunk = {k: v[start : start + batch_size] for k, v in features.items()}
            states = np.asarray(self.predict_on_batch(chunk), dtype="float32")
            out.append(states[:, -1] if self.backbone.per_position else states)
        return np.concatenate(out)

    def score_items(self, histories, items=None, batch_size=1024):
        """Scores of `items` (batch, candidates) after each history, or of all
        items (batch, num_items) when `items` is None."""
        states = self.last_state(histories, batch_size)
        table = np.asarray(ops.convert_to_numpy(self.item_embedding.embeddings), dtype="float32")
        if items is None:
            return states @ table.T
        return np.einsum("bd,bcd->bc", states, table[np.asarray(items)])

    def recommend(self, histories, k=10, exclude_seen=True):
        """Top-k item ids after each history, best first; padding never, and
        items already in the history not either if `exclude_seen`."""
        scores = self.score_items(histories)
        histories = self._features(histories)[self.backbone.history_feature]
        scores[:, 0] = -np.inf
        if exclude_seen:
            rows = np.repeat(np.arange(len(histories)), histories.shape[1])
            scores[rows, histories.reshape(-1)] = -np.inf
            scores[:, 0] = -np.inf
        top = np.argpartition(-scores, kth=min(k, scores.shape[1] - 1) - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        return np.take_along_axis(top, order, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "loss": self.loss_name,
                "num_negatives": self.num_negatives,
                "normalize_by": self.normalize_by,
                "seed": self.seed,
            }
        )
        return config
