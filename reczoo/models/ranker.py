"""`Ranker`: one score per (user, item, context) example."""

import keras
import numpy as np
from keras import ops

from reczoo.datasets.pipelines import left_pad
from reczoo.features import Sequence
from reczoo.losses import BPRLoss, check_pairs, pair_accuracy
from reczoo.models import topk
from reczoo.models.task import Task

_OBJECTIVES = ("binary", "regression", "bpr")


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

    Raises:
        ValueError: an unknown `objective`.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=100, embedding_dim=8),
            reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=8),
        ])
        ranker = reczoo.Ranker(reczoo.models.MLPBackbone(spec, hidden_units=[32, 16]))
        ranker.compile(optimizer="adam")
        rows = {"user_id": np.array([[1], [2]]), "item_id": np.array([[3], [4]])}
        ranker.fit(rows, np.array([[1.0], [0.0]]), epochs=1, verbose=0)
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
        if self.objective == "binary" and isinstance(y, np.ndarray | list | tuple):
            _check_probabilities(np.asarray(y))
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

    # What a preset keeps beside the weights: who saw what, and the side
    # features `recommend` looks up.
    asset_names = (*Task.asset_names, "side_features")

    def set_side_features(self, user_features, item_features):
        """Keeps the user and item side-feature tables (`{name: table}`,
        row = id) that this model reads, so that `recommend` (and a preset)
        looks each candidate's features up itself."""
        names = set(self.feature_spec.names)
        self.side_features = {
            name: (owner, np.asarray(table))
            for owner, tables in (("user", user_features), ("item", item_features))
            for name, table in tables.items()
            if name in names
        }

    def asset_arrays(self):
        out = super().asset_arrays()
        tables = getattr(self, "side_features", None)
        if tables:
            out["side_features"] = {f"{owner}.{name}": table
                                    for name, (owner, table) in tables.items()}  # fmt: skip
        return out

    def restore_assets(self, name, arrays):
        if name == "side_features":
            self.side_features = {
                key.split(".", 1)[1]: (key.split(".", 1)[0], np.asarray(arrays[key]))
                for key in arrays
            }
            return
        super().restore_assets(name, arrays)

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
        features = features or self._known_features()
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

    def _known_features(self):
        """`(users, items) -> inputs` from what the model keeps, for a model
        that reads more than the id pair (None for one that does not): the
        side features a preset keeps, each user's and item's own; or a
        behaviour history (DIN trained on interactions), each user's
        recorded items in time order, the last `max_length`."""
        spec, (user_feature, item_feature) = self.feature_spec, self.pair_features
        others = [n for n in spec.names if n not in (user_feature, item_feature)]
        if not others:
            return None
        tables = getattr(self, "side_features", None) or {}
        if all(n in tables for n in others):

            def features(pair_users, pair_items):
                out = {user_feature: pair_users, item_feature: pair_items}
                for name in others:
                    owner, table = tables[name]
                    values = table[pair_users if owner == "user" else pair_items]
                    out[name] = values.reshape(-1, 1) if values.dtype.kind == "f" and \
                        values.ndim == 1 else values  # fmt: skip
                return out

            return features
        history = spec[others[0]]
        if len(others) == 1 and isinstance(history, Sequence) and self.interactions is not None \
                and history.table_name == spec[item_feature].table_name:  # fmt: skip
            length, known = history.max_length, self.interactions

            def features(pair_users, pair_items):
                users, where = np.unique(pair_users, return_inverse=True)
                past = left_pad([known.of(int(u))[-length:] for u in users], length)
                return {user_feature: pair_users, item_feature: pair_items,
                        history.name: past[where]}  # fmt: skip

            return features
        raise ValueError(
            f"This model reads {others} besides the ids; pass "
            "`features=lambda users, items: {...}` that looks them up."
        )

    def get_config(self):
        config = super().get_config()
        config.update({"objective": self.objective})
        return config


def _check_probabilities(y):
    """A binary ranker's labels are clicks (0 or 1) or probabilities: a 5.0
    (a rating) would train on a loss that has no meaning."""
    if np.issubdtype(y.dtype, np.number) and y.size:
        outside = np.flatnonzero(
            (y.reshape(len(y), -1) < 0).any(1) | (y.reshape(len(y), -1) > 1).any(1)
        )
        if outside.size:
            row = int(outside[0])
            raise ValueError(
                f"A binary ranker's labels must lie in [0, 1]: row {row} holds "
                f"{y[row].tolist()!r}. For ratings, use objective='regression', or binarize them "
                "(reczoo.datasets.to_implicit)."
            )
