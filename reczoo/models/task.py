"""Tasks: a backbone plus its head, loss, metrics and default `compile`."""

import keras
import numpy as np
from keras import ops

from reczoo.dtypes import lowest
from reczoo.models import topk
from reczoo.models.topk import Interactions

_OBJECTIVES = ("binary", "regression", "bpr")


@keras.saving.register_keras_serializable(package="reczoo")
class BPRLoss(keras.losses.Loss):
    """Bayesian personalised ranking: `-log sigmoid(s_pos - s_neg)` per pair.

    The batch holds pairs of rows, row `2k` and row `2k + 1`: a user's
    positive item and a sampled negative item, in either order, told apart by
    the labels (1 and 0). `y_pred` are scores (logits). The loss is the mean
    over pairs.

    Reference:
        Rendle et al. BPR: Bayesian Personalized Ranking from Implicit
        Feedback. UAI 2009.
    """

    def __init__(self, name="bpr", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return -ops.log_sigmoid(_pair_difference(y_true, y_pred))


def _pair_difference(y_true, y_pred):
    """`s_pos - s_neg` of each pair of rows (2k, 2k + 1), whatever their order."""
    labels = ops.reshape(ops.cast(y_true, "float32"), (-1, 2))
    scores = ops.reshape(ops.cast(y_pred, "float32"), (-1, 2))
    # (2y - 1) signs the positive +1 and the negative -1.
    return ops.sum((2.0 * labels - 1.0) * scores, axis=1)


@keras.saving.register_keras_serializable(package="reczoo")
def pair_accuracy(y_true, y_pred):
    """Per pair of rows (see `BPRLoss`), 1 where the positive scores higher."""
    return ops.cast(_pair_difference(y_true, y_pred) > 0, "float32")


def info_nce(a, b, temperature=1.0, similarity="dot"):
    """NT-Xent over two views (batch, dim) of the same batch (SimCLR, CL4SRec).

    The 2B views `z = [a; b]` score each other by `similarity` (`"dot"`
    product, or `"cos"`ine) over `temperature`; for view i the positive is
    its counterpart (row i of the other view), the negatives the other
    2B - 2 views, itself excluded. The loss is the mean softmax
    cross-entropy over the 2B views.
    """
    z = ops.concatenate([ops.cast(a, "float32"), ops.cast(b, "float32")], axis=0)
    if similarity == "cos":
        z = z / ops.maximum(ops.norm(z, axis=-1, keepdims=True), 1e-12)
    batch = ops.shape(a)[0]
    logits = ops.matmul(z, ops.transpose(z)) / temperature
    own = ops.eye(2 * batch, dtype="bool")
    logits = ops.where(own, ops.cast(lowest("float32"), logits.dtype), logits)
    targets = ops.concatenate([ops.arange(batch) + batch, ops.arange(batch)], axis=0)
    losses = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    return ops.mean(losses)


def check_pairs(labels):
    """Refuses labels that are not pairs of one positive and one negative
    (rows 2k, 2k + 1), the layout `BPRLoss` reads."""
    labels = np.asarray(labels).reshape(-1)
    if len(labels) % 2:
        raise ValueError(
            f"A BPR ranker trains on pairs of rows (a positive and a negative of one "
            f"user); received {len(labels)} rows, an odd number."
        )
    pairs = labels.reshape(-1, 2)
    bad = np.flatnonzero(~((np.sort(pairs, axis=1) == [0.0, 1.0]).all(axis=1)))
    if len(bad):
        raise ValueError(
            f"A BPR ranker trains on pairs of rows, each one positive (label 1) and one "
            f"negative (label 0); pair {int(bad[0])} (rows {2 * int(bad[0])} and "
            f"{2 * int(bad[0]) + 1}) has labels {pairs[bad[0]].tolist()}. "
            "`InteractionDataset.training_pairs(pairwise=True)` makes them."
        )


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
        x, y, kwargs = self._fit_inputs(self._checked(x), _checked_labels(y), args, kwargs)
        return super().fit(x, y, *args, **kwargs)

    def _fit_inputs(self, x, y, args, kwargs):
        return x, y, kwargs

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

    def save_to_preset(self, directory, metadata=None, vocabularies=None, overwrite=False,
                       **options):  # fmt: skip
        """Saves this task as a preset directory; see `reczoo.save_to_preset`."""
        from reczoo.presets import save_to_preset

        return save_to_preset(
            self, directory, metadata=metadata, vocabularies=vocabularies, overwrite=overwrite,
            **options,
        )  # fmt: skip

    @classmethod
    def from_preset(cls, preset, sha256=None, compile=True):
        """Loads a preset of this kind of task (see `reczoo.from_preset`):
        `reczoo.NextItem.from_preset("sasrec_amazon_games")`."""
        from reczoo.presets import PresetError, from_preset

        task = from_preset(preset, sha256=sha256, compile=compile)
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


@keras.saving.register_keras_serializable(package="reczoo")
class Ranker(Task):
    """Scores one (user, item, context) example: click-through or rating.

    The backbone's `"logit"` is the score where it computes one
    (`computes_logit`: FM, DeepFM, ...); otherwise a dense unit reads its
    `"features"`. With `objective="binary"` the task outputs
    click probabilities and trains on binary cross-entropy, reporting AUC and
    logloss; with `objective="regression"` it outputs the predicted value and
    trains on mean squared error, reporting RMSE and MAE; with
    `objective="bpr"` it outputs the raw score and trains on pairs of rows, a
    positive and a sampled negative of one user (`BPRLoss`), reporting the
    share of pairs ordered right (`pair_accuracy`).

    Models that score (user, item) pairs recommend: `recommend(users, k)`
    scores every item of the catalogue for each user, in batches.

    Args:
        backbone: a `reczoo.models.Backbone`.
        objective: `"binary"`, `"regression"` or `"bpr"`.

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
        elif objective == "bpr":
            outputs = keras.layers.Activation("linear", dtype="float32", name="score")(logit)
        else:
            outputs = keras.layers.Activation("linear", dtype="float32", name="prediction")(logit)
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, **kwargs)

        # === Config ===
        self.objective = objective
        self.head = head

    def default_loss(self):
        if self.objective == "binary":
            return keras.losses.BinaryCrossentropy()
        if self.objective == "bpr":
            return BPRLoss()
        return keras.losses.MeanSquaredError()

    def default_metrics(self):
        if self.objective == "binary":
            return [
                keras.metrics.AUC(name="auc"),
                keras.metrics.BinaryCrossentropy(name="logloss"),
            ]
        if self.objective == "bpr":
            return [keras.metrics.MeanMetricWrapper(pair_accuracy, name="pair_accuracy")]
        return [
            keras.metrics.RootMeanSquaredError(name="rmse"),
            keras.metrics.MeanAbsoluteError(name="mae"),
        ]

    def _fit_inputs(self, x, y, args, kwargs):
        # BPR reads pairs of rows: in-memory pairs are checked and shuffled
        # whole, once, and Keras must not shuffle rows apart.
        if self.objective != "bpr" or not isinstance(y, np.ndarray | list | tuple):
            return x, y, kwargs
        y = np.asarray(y)
        check_pairs(y)
        batch_size = kwargs.get("batch_size", args[0] if args else None) or 32
        if batch_size % 2:
            raise ValueError(
                f"A BPR ranker trains on pairs of rows: `batch_size` must be even. "
                f"Received: batch_size={batch_size}"
            )
        if kwargs.get("shuffle", True) and isinstance(x, dict):
            pairs = np.random.permutation(len(y) // 2)
            rows = np.stack([2 * pairs, 2 * pairs + 1], axis=1).reshape(-1)
            x, y = {k: np.asarray(v)[rows] for k, v in x.items()}, y[rows]
        return x, y, {**kwargs, "shuffle": False}

    def score(self, inputs, batch_size=4096):
        """Scores as a flat numpy array (probabilities, predicted values, or
        BPR scores)."""
        out = self.predict(inputs, batch_size=batch_size, verbose=0)
        return ops.convert_to_numpy(out).reshape(-1)

    @property
    def pair_features(self):
        """`(user feature, item feature)`: the names `recommend` fills in."""
        user = getattr(self.backbone, "user_feature", None) or "user_id"
        item = getattr(self.backbone, "item_feature", None) or "item_id"
        spec = self.feature_spec
        missing = [n for n in (user, item) if n not in spec]
        if missing:
            raise ValueError(
                f"recommend scores (user, item) pairs, and this model has no {missing} "
                f"feature. Its features: {spec.names}"
            )
        return user, item

    def recommend(
        self, users, k=10, exclude_seen=True, raw_ids=False, features=None, batch_size=65536
    ):
        """The `k` best items of the whole catalogue for each user, best first.

        Every item id `1..n` of the item feature is scored for each user, many
        users per `predict` call (`batch_size` pairs), never item by item.

        Args:
            users: user ids (or raw ids with `raw_ids`).
            k: how many items per user.
            exclude_seen: leave out each user's training items (recorded by
                `set_interactions`; `reczoo.run` and presets record them).
            raw_ids: users given, and items returned, as the data's raw ids,
                through the vocabularies a preset carries.
            features: for models that read more than the ids: a function
                `(users, items) -> feature dict` (such as
                `lambda u, i: data.features_for(u, i, model.feature_spec)`).
            batch_size: (user, item) pairs per `predict` call.

        Returns:
            `Recommendations(items, scores)`, each (len(users), k).
        """
        topk.check_k(k)
        user_feature, item_feature = self.pair_features
        spec = self.feature_spec
        users = np.asarray(users).reshape(-1)
        if raw_ids:
            users = topk.encode(self, "user", users)
        users = users.astype("int32")
        size = spec[user_feature].vocabulary_size
        if len(users) and size and (users.min() < 1 or users.max() >= size):
            bad = users[(users < 1) | (users >= size)][0]
            raise ValueError(
                f"User id {int(bad)} is outside the model's vocabulary: known ids are "
                f"1..{size - 1}."
            )
        others = [n for n in spec.names if n not in (user_feature, item_feature)]
        if others and features is None:
            raise ValueError(
                f"This model reads {others} besides the ids; pass "
                "`features=lambda users, items: {...}` that looks them up."
            )
        if exclude_seen and self.interactions is None:
            raise ValueError(
                "exclude_seen=True needs what each user has seen: call "
                "`set_interactions(users, items)` first, or pass exclude_seen=False."
            )
        catalogue = np.arange(1, spec[item_feature].vocabulary_size, dtype="int32")
        per_call = max(1, batch_size // len(catalogue))
        parts = []
        for start in range(0, len(users), per_call):
            chunk = users[start : start + per_call]
            pair_users = np.repeat(chunk, len(catalogue))
            pair_items = np.tile(catalogue, len(chunk))
            inputs = (
                features(pair_users, pair_items)
                if features is not None
                else {user_feature: pair_users, item_feature: pair_items}
            )
            scores = np.asarray(self.predict_on_batch(inputs), dtype="float64")
            scores = scores.reshape(len(chunk), len(catalogue))
            if exclude_seen:
                for row, user in enumerate(chunk):
                    scores[row, self.interactions.of(int(user)) - 1] = -np.inf
            parts.append(topk.top_k(scores, k, ids=catalogue))
        return topk.joined(self, parts, k, raw_ids)

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

    With `contrastive_weight` > 0 the loss adds that weight times CL4SRec's
    InfoNCE between two augmentations (crop, mask or reorder, one drawn per
    sequence and view; `reczoo.models.augment`) of each training sequence,
    at `contrastive_temperature` (Xie et al., ICDE 2022). Backbones that
    predict at an appended mask token (BERT4Rec, `predicts_masked`) train on
    masked positions and are asked for the next item with a mask token
    after the history.

    Args:
        backbone: a `reczoo.models.SequentialBackbone`.
        loss: `"bce"`, `"sampled_softmax"` or `"ce"`.
        num_negatives: negatives of the sampled softmax.
        contrastive_weight: weight of the contrastive loss (0: none).
        contrastive_temperature: temperature of its softmax.
        contrastive_similarity: `"dot"` (CL4SRec's) or `"cos"` (SimCLR's).
        crop_ratio, mask_ratio, reorder_ratio: CL4SRec's eta, gamma, beta.
        seed: seed of the negative sampler and the augmentations.

    Example:

    ```python
    task = reczoo.get_model("sasrec", feature_spec=spec, loss="ce")
    task.fit({"history": inputs}, next_items, batch_size=128)
    task.recommend(histories, k=10)
    ```
    """

    default_learning_rate = 1e-3

    def __init__(
        self,
        backbone,
        loss="bce",
        num_negatives=100,
        normalize_by=None,
        contrastive_weight=0.0,
        contrastive_temperature=1.0,
        contrastive_similarity="dot",
        crop_ratio=0.6,
        mask_ratio=0.3,
        reorder_ratio=0.6,
        seed=None,
        **kwargs,
    ):
        if loss not in _NEXT_ITEM_LOSSES:
            raise ValueError(f"`loss` must be one of {_NEXT_ITEM_LOSSES}. Received: loss={loss!r}")
        if contrastive_weight and backbone.mask_token is None:
            raise ValueError(
                "The contrastive loss masks items with a mask token: its backbone must "
                f"have one (`uses_mask_token`); {type(backbone).__name__} has none."
            )
        if contrastive_similarity not in ("dot", "cos"):
            raise ValueError(
                "`contrastive_similarity` must be 'dot' or 'cos'. Received: "
                f"{contrastive_similarity!r}"
            )
        for name, value in (("crop_ratio", crop_ratio), ("mask_ratio", mask_ratio),
                            ("reorder_ratio", reorder_ratio)):  # fmt: skip
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"`{name}` must be in [0, 1]. Received: {name}={value}")
        # === Functional model ===
        inputs = backbone.input
        outputs = backbone(inputs)[backbone.output_key]
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, **kwargs)

        # === Config ===
        self.loss_name = loss
        self.num_negatives = int(num_negatives)
        self.normalize_by = normalize_by
        self.contrastive_weight = float(contrastive_weight)
        self.contrastive_temperature = float(contrastive_temperature)
        self.contrastive_similarity = contrastive_similarity
        self.crop_ratio = float(crop_ratio)
        self.mask_ratio = float(mask_ratio)
        self.reorder_ratio = float(reorder_ratio)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def item_embedding(self):
        return self.backbone.item_embedding

    @property
    def num_items(self):
        """Rows of the item table, padding row 0 included."""
        return self.backbone.num_items

    @property
    def num_scored(self):
        """Rows of the item table that are items (padding row 0 included;
        a mask token's row, the last, excluded)."""
        return self.num_items - (self.backbone.mask_token is not None)

    def default_loss(self):
        # The loss needs the item table, so it lives in compute_loss.
        return None

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        del sample_weight
        loss = self._next_item_loss(y, y_pred)
        if self.contrastive_weight and training:
            loss = loss + self.contrastive_weight * self._contrastive_loss(x)
        return loss + (ops.sum(self.losses) if self.losses else 0.0)

    def _contrastive_loss(self, x):
        """InfoNCE between two augmentations of each sequence (CL4SRec): the
        other view of the same sequence is the positive, the batch's other
        2(B - 1) views the negatives; views are the states at the last
        position."""
        from reczoo.models import augment

        history = self.backbone.history_feature
        features = x if isinstance(x, dict) else {history: x}
        features = {k: ops.convert_to_tensor(v) for k, v in features.items()}
        views = []
        for _ in range(2):
            ids = augment.augment(
                features[history], self.crop_ratio, self.mask_ratio, self.reorder_ratio,
                self.backbone.mask_token, self.seed_generator,
            )  # fmt: skip
            states = self.backbone({**features, history: ids}, training=True)
            states = ops.cast(states[self.backbone.output_key], "float32")
            views.append(states[:, -1] if self.backbone.per_position else states)
        return info_nce(
            views[0], views[1], self.contrastive_temperature, self.contrastive_similarity
        )

    def _next_item_loss(self, y, y_pred):
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
            # Row 0 is padding, a mask token's row no item: never a prediction.
            rows = ops.arange(self.num_items)
            padding = ops.logical_or(ops.equal(rows, 0), rows >= self.num_scored)
            logits = ops.where(padding, ops.cast(lowest("float32"), logits.dtype), logits)
            losses = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
        else:
            positive = ops.sum(states * ops.take(table, targets, axis=0), axis=-1)
            if self.loss_name == "bce":
                negatives = keras.random.randint(
                    ops.shape(targets), 1, self.num_scored, seed=self.seed_generator
                )
                negative = ops.sum(states * ops.take(table, negatives, axis=0), axis=-1)
                losses = -ops.log_sigmoid(positive) - ops.log_sigmoid(-negative)
            else:
                negatives = keras.random.randint(
                    (self.num_negatives,), 1, self.num_scored, seed=self.seed_generator
                )
                negative = ops.matmul(states, ops.transpose(ops.take(table, negatives, axis=0)))
                logits = ops.concatenate([ops.expand_dims(positive, -1), negative], axis=-1)
                losses = -ops.log_softmax(logits, axis=-1)[..., 0]
        if self.normalize_by:
            # A constant keeps every position's weight equal when batches are
            # grouped by length and hold different numbers of positions.
            return ops.sum(losses * mask) / self.normalize_by
        return ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0)

    def _features(self, histories):
        if isinstance(histories, dict):
            return {k: self._padded(v) if k == self.backbone.history_feature else np.asarray(v)
                    for k, v in histories.items()}  # fmt: skip
        return {self.backbone.history_feature: self._padded(histories)}

    def _padded(self, histories):
        """A (batch, length) id array from padded rows or lists of any lengths,
        left-padded and cut to the model's history length."""
        from reczoo.datasets.pipelines import left_pad

        if isinstance(histories, np.ndarray) and histories.ndim == 2:
            return histories
        rows = [np.asarray(h, dtype="int32").reshape(-1) for h in histories]
        length = self.feature_spec[self.backbone.history_feature].max_length
        return left_pad(rows, length or max([len(r) for r in rows] + [1]))

    def last_state(self, histories, batch_size=1024):
        """The state after each history's last position, as numpy (batch, dim).

        `histories` is a (batch, length) id array, or a feature dict for
        models that read more than the history (Caser's user id).
        """
        features = self._features(histories)
        if self.backbone.predicts_masked:
            # A masked-item model predicts the item at a mask token appended
            # after the history (BERT4Rec): the oldest position makes room.
            ids = features[self.backbone.history_feature]
            token = np.full((len(ids), 1), self.backbone.mask_token, dtype=ids.dtype)
            features[self.backbone.history_feature] = np.concatenate([ids[:, 1:], token], axis=1)
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
        table = table[: self.num_scored]
        if items is None:
            return states @ table.T
        return np.einsum("bd,bcd->bc", states, table[np.asarray(items)])

    def recommend(self, histories=None, k=10, exclude_seen=True, users=None, raw_ids=False):
        """The `k` best next items after each history, best first.

        Padding is never recommended, nor, with `exclude_seen`, an item of
        the history.

        Args:
            histories: item ids in time order, one history per row: a
                left-padded (batch, length) array or lists of any lengths
                (cut to the model's last `max_length` items); or a feature
                dict for models that read more (Caser's user id).
            k: how many items per history.
            exclude_seen: leave out every item of each history (also those
                before the model's last `max_length`).
            users: instead of `histories`, user ids whose recorded training
                interactions (`set_interactions`; presets keep them) are the
                histories.
            raw_ids: ids in (items of `histories`, or `users`) and items out
                are the data's raw ids, through a preset's vocabularies.

        Returns:
            `Recommendations(items, scores)`, each (batch, k).
        """
        topk.check_k(k)
        if (histories is None) == (users is None):
            raise ValueError("Pass either `histories` or `users`.")
        if users is not None:
            histories = self._histories_of(users, raw_ids)
        elif raw_ids:
            histories = [topk.encode(self, "item", h) for h in histories]
        features = self._features(histories)
        whole = (
            histories[self.backbone.history_feature] if isinstance(histories, dict) else histories
        )
        scores = self.score_items(features).astype("float64")
        if exclude_seen:
            # The whole history, also what lies beyond the model's window.
            for row, items in enumerate(whole):
                scores[row, np.asarray(items, dtype="int64").reshape(-1)] = -np.inf
        scores[:, 0] = -np.inf
        found = topk.top_k(scores, k)
        if raw_ids:
            return topk.Recommendations(topk.decode(self, "item", found.items), found.scores)
        return found

    def _histories_of(self, users, raw_ids):
        if self.interactions is None:
            raise ValueError(
                "recommend(users=...) needs the users' histories: call "
                "`set_interactions(users, items)` first, or pass `histories`."
            )
        users = np.asarray(users).reshape(-1)
        ids = topk.encode(self, "user", users) if raw_ids else users.astype("int64")
        histories = [self.interactions.of(int(u)) for u in ids]
        empty = [u for u, h in zip(users, histories, strict=True) if len(h) == 0]
        if empty:
            raise ValueError(
                f"User {empty[0]!r} has no recorded interactions: a next-item model "
                "needs at least one item of history."
            )
        if self.backbone.user_feature:
            return {self.backbone.history_feature: histories, self.backbone.user_feature: ids}
        return histories

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "loss": self.loss_name,
                "num_negatives": self.num_negatives,
                "normalize_by": self.normalize_by,
                "contrastive_weight": self.contrastive_weight,
                "contrastive_temperature": self.contrastive_temperature,
                "contrastive_similarity": self.contrastive_similarity,
                "crop_ratio": self.crop_ratio,
                "mask_ratio": self.mask_ratio,
                "reorder_ratio": self.reorder_ratio,
                "seed": self.seed,
            }
        )
        return config
