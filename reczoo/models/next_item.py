"""`NextItem`: the next item of a sequence, scored by the item table."""

import keras
import numpy as np
from keras import ops

from reczoo.dtypes import lowest
from reczoo.losses import GeneralizedBinaryCrossentropy, SampledSoftmax, gbce_beta, info_nce
from reczoo.models import topk
from reczoo.models.task import Task

_NEXT_ITEM_LOSSES = ("bce", "sampled_softmax", "gbce", "ce")


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
    - `"gbce"`: gSASRec's generalised binary cross-entropy (Petrov &
      Macdonald 2023) of the next item against `num_negatives` uniform
      negatives drawn for each history (shared by its positions), the
      positive's term weighted by
      `gbce_beta(num_negatives, items, gbce_calibration)`;
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
        loss: `"bce"`, `"sampled_softmax"`, `"gbce"` or `"ce"`.
        num_negatives: negatives of the sampled softmax and of gBCE.
        gbce_calibration: gSASRec's t in [0, 1] (0: plain binary
            cross-entropy over the negatives; 1: fully calibrated).
        normalize_by: divide the summed loss of a batch by this number
            instead of by its count of scored positions (None).
        contrastive_weight: weight of the contrastive loss (0: none).
        contrastive_temperature: temperature of its softmax.
        contrastive_similarity: `"dot"` (CL4SRec's) or `"cos"` (SimCLR's).
        crop_ratio: CL4SRec's eta, the share of a history kept by a crop.
        mask_ratio: CL4SRec's gamma, the share of items masked.
        reorder_ratio: CL4SRec's beta, the share of a history shuffled.
        seed: seed of the negative sampler and the augmentations.

    Raises:
        ValueError: an unknown `loss` or `contrastive_similarity`, a ratio
            or `gbce_calibration` outside [0, 1], or a contrastive loss on a
            backbone without a mask token.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Sequence("history", vocabulary_size=50, embedding_dim=16, max_length=5, table="item"),
        ])
        task = reczoo.get_model("sasrec", feature_spec=spec, loss="ce")
        histories = np.array([[0, 1, 2, 3, 4], [0, 0, 5, 6, 7]])
        next_items = np.array([[0, 2, 3, 4, 5], [0, 0, 6, 7, 8]])  # the item after each position
        task.fit({"history": histories}, next_items, epochs=1, verbose=0)
        top = task.recommend({"history": histories}, k=3)
        ```
    """

    default_learning_rate = 1e-3

    def __init__(
        self,
        backbone,
        loss="bce",
        num_negatives=100,
        gbce_calibration=0.75,
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
        if not 0.0 <= gbce_calibration <= 1.0:
            raise ValueError(
                f"`gbce_calibration` must be in [0, 1]. Received: gbce_calibration={gbce_calibration}"
            )
        # === Functional model ===
        inputs = backbone.input
        outputs = backbone(inputs)[backbone.output_key]
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, **kwargs)

        # === Config ===
        self.loss_name = loss
        self.num_negatives = int(num_negatives)
        self.gbce_calibration = float(gbce_calibration)
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
        if self.loss_name == "ce" and self._gathers_targets():
            states, targets = self._target_positions(states, targets)
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
                # `SampledBinaryCrossentropy` on [positive, negative], written out:
                # stacking the two logits reorders how the shared item table's
                # gradients are summed, and committed rows would move in the 6th digit.
                losses = -ops.log_sigmoid(positive) - ops.log_sigmoid(-negative)
            elif self.loss_name == "gbce":
                # Negatives of their own for each sequence, shared by its
                # positions: one set for the whole batch pushes those few
                # rows down from every state at once, and training collapses.
                negatives = keras.random.randint(
                    (ops.shape(targets)[0], self.num_negatives),
                    1,
                    self.num_scored,
                    seed=self.seed_generator,
                )
                negative = ops.einsum("bld,bkd->blk", states, ops.take(table, negatives, axis=0))
            else:
                negatives = keras.random.randint(
                    (self.num_negatives,), 1, self.num_scored, seed=self.seed_generator
                )
                negative = ops.matmul(states, ops.transpose(ops.take(table, negatives, axis=0)))
            if self.loss_name != "bce":
                logits = ops.concatenate([ops.expand_dims(positive, -1), negative], axis=-1)
                # The positive is column 0 of every row.
                if self.loss_name == "gbce":
                    beta = gbce_beta(self.num_negatives, self.num_scored - 1, self.gbce_calibration)
                    labels = ops.one_hot(ops.zeros_like(targets), self.num_negatives + 1)
                    losses = GeneralizedBinaryCrossentropy(beta, reduction=None)(labels, logits)
                else:
                    losses = SampledSoftmax(reduction=None)(ops.zeros_like(targets), logits)
        if self.normalize_by:
            # A constant keeps every position's weight equal when batches are
            # grouped by length and hold different numbers of positions.
            return ops.sum(losses * mask) / self.normalize_by
        return ops.sum(losses * mask) / ops.maximum(ops.sum(mask), 1.0)

    def _gathers_targets(self):
        """Whether the full softmax scores only the positions with a target.

        A masked-item backbone (BERT4Rec) has a target at the masked share
        of its positions only (a fifth by default), and scoring the whole
        catalogue at every position spends the rest of a step's largest
        product on positions the loss then drops. The positions are gathered
        where the graph may take a shape known only at run time: TensorFlow
        op by op. Compiled with XLA, and under JAX, every position is scored
        and masked, the same loss."""
        return (
            self.backbone.predicts_masked
            and keras.backend.backend() == "tensorflow"
            and not getattr(self, "jit_compile", False)
        )

    @staticmethod
    def _target_positions(states, targets):
        """`(states, targets)` of the positions with a target, as (n, 1, dim)
        and (n, 1)."""
        dim = ops.shape(states)[-1]
        targets = ops.reshape(targets, (-1,))
        keep = ops.nonzero(ops.not_equal(targets, 0))[0]
        states = ops.take(ops.reshape(states, (-1, dim)), keep, axis=0)
        return ops.expand_dims(states, 1), ops.expand_dims(ops.take(targets, keep, axis=0), 1)

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
                "gbce_calibration": self.gbce_calibration,
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
