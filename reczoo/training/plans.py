"""Training plans: what a task trains on and how it is evaluated, one per task kind.

A plan gives the batches of each data epoch (each epoch its own negatives
and order, a pure function of the seed and the epoch number), an endless
`tf.data` stream of them, and the evaluation of a split's validation or test
part. Its `monitor` names the metric early stopping follows.
"""

import functools
import math
import time

import numpy as np

from reczoo.datasets import pipelines
from reczoo.metrics.evaluators import (
    evaluate_full,
    evaluate_next_item,
    evaluate_pointwise,
    evaluate_retrieval,
    evaluate_retrieval_held_out,
    evaluate_sampled,
)
from reczoo.training.settings import RECENT_SHARE

KS = (5, 10, 20)
RETRIEVAL_KS = (1, 5, 10, 50, 100)


def _check_rows_objective(data, protocol, objective):
    """Refuses, before any training, a ranker on a split of an interactions
    file's rows that has nothing to learn: every row is a positive."""
    if objective == "regression":
        if data.ratings is None:
            raise ValueError(
                f"objective=regression predicts ratings, and {data.name!r} has none: give the "
                "ratings column (--rating_col), or use a leave-last-out protocol (ncf, "
                "loo_full, ...), which samples negatives for each interaction."
            )
        return
    raise ValueError(
        f"Under {protocol!r}, a split of rows, every row of the interactions {data.name!r} "
        f"is a positive: objective={objective} has nothing to tell them from, nor AUC to "
        "measure. Use a leave-last-out protocol (ncf, loo_full, ...), which samples "
        "negatives for each interaction, or predict the ratings (--rating_col, "
        "objective=regression)."
    )


class RankingPlan:
    """A `Ranker` on (user, item) pairs or a CTR table.

    Under leave-last-out protocols the training pairs are each user's
    training interactions with `train_negatives` negatives per positive,
    redrawn every epoch; otherwise the split's training rows. A BPR objective
    trains on (user, positive, negative) triples, `train_negatives` per
    positive, as pairs of rows kept together: `batch_size` counts triples,
    and so does the throughput.

    `history` names an input of `spec` holding the user's behaviour (DIN on
    interactions): each training pair gets its user's items before the
    positive (`row_histories`; its negatives the same), each evaluated
    candidate the user's items before the held-out one.

    With `settings.recent_weight`, each user's latest `recent_share` of
    training interactions is repeated among the positives to count that
    many times (`InteractionDataset.recent_rows`), each copy with negatives
    of its own.
    """

    def __init__(self, data, split, spec, objective, settings, seed, history=None):
        self.data, self.split, self.spec = data, split, spec
        self.objective, self.settings, self.seed = objective, settings, seed
        self.leave_one_out = split.protocol.leave_one_out
        self.history = history
        self.train = split.train if self.leave_one_out else None
        weighted = None
        weight = getattr(settings, "recent_weight", None)  # a plain namespace has none
        if self.leave_one_out and weight and weight > 1:  # 1: every interaction once
            share = getattr(settings, "recent_share", None) or RECENT_SHARE
            weighted = split.train.recent_rows(share, weight)
            self.train = split.train.select(weighted)
        if history:
            if not self.leave_one_out:
                raise ValueError(
                    f"A behaviour history is made from each user's earlier interactions under "
                    f"a leave-last-out protocol (ncf, loo_full, ...); {split.protocol.name!r} "
                    f"is a {split.protocol.kind}. Use one, or the interactions made a click log "
                    "whose rows hold the history: reczoo.datasets.history_ctr(data)."
                )
            # The pairs' own inputs; the history is added to them.
            self.pair_spec = spec.subset([n for n in spec.names if n != history])
            self._histories = split.train.row_histories(spec[history].max_length)
            if weighted is not None:
                self._histories = self._histories[weighted]
        else:
            self.pair_spec = spec
        self.group = 2 if objective == "bpr" else 1
        if objective == "bpr" and not self.leave_one_out:
            raise ValueError(
                "The BPR objective trains on sampled (user, positive, negative) triples "
                f"of interactions, under a leave-last-out protocol; {split.protocol.name!r} "
                f"is a {split.protocol.kind}. Use ncf, loo_full, ... or objective=binary."
            )
        if not self.leave_one_out and data.kind == "interactions":
            _check_rows_objective(data, split.protocol.name, objective)
        if objective == "bpr" and settings.train_negatives < 1:
            raise ValueError(
                "The BPR objective needs at least one negative per positive. Received: "
                f"train_negatives={settings.train_negatives}"
            )
        if self.group == 2:
            n = self.train.num_interactions * settings.train_negatives
        elif self.leave_one_out:
            n = self.train.num_interactions * (1 + settings.train_negatives)
        else:
            n = len(split.rows("train"))
        self.samples_per_epoch = n
        self.steps_per_epoch = math.ceil(n / settings.batch_size)

    def training_set(self, epoch):
        """`(features, labels)` of data epoch `epoch` (1, 2, ...)."""
        if self.leave_one_out:
            negatives = self.settings.train_negatives
            features, labels = self.train.training_pairs(
                negatives, seed=[self.seed, epoch], spec=self.pair_spec, pairwise=self.group == 2
            )
            if self.history:
                # Rows in the positives' order: a positive, then its negatives
                # (pairwise: each negative after a copy of its positive).
                past = self._histories
                if self.group == 2:
                    features[self.history] = np.repeat(past, 2 * negatives, axis=0)
                else:
                    features[self.history] = np.concatenate(
                        [past, np.repeat(past, negatives, axis=0)]
                    )
            return features, labels
        return self.rows("train")

    def epoch_batches(self, epoch):
        features, targets = self.training_set(epoch)
        return pipelines.shuffled_batches(
            features, targets, self.settings.batch_size, self.seed + epoch, self.group
        )

    def epoch_stacks(self, epoch):
        features, targets = self.training_set(epoch)
        return pipelines.shuffled_stacks(
            features, targets, self.settings.batch_size, self.seed + epoch, self.group
        )

    def stream(self, first_epoch=1):
        """Endless batches: data epoch `first_epoch`, then the next, ..."""
        # The signature from one row: a whole epoch is drawn only when streamed.
        if self.leave_one_out:
            train = self.train
            one = self.data.features_for(train.users[:1], train.items[:1], self.pair_spec)
            if self.history:
                one[self.history] = self._histories[:1]
        else:
            one = self.rows("train")[0]
            one = {k: v[:1] for k, v in one.items()}
        features = {k: np.asarray(v)[None] for k, v in one.items()}
        targets = np.zeros((1, 1, 1), "float32")
        signature = pipelines.signature_of(features, targets, open_axes=2)
        return pipelines.stream(self.epoch_stacks, signature, first_epoch, stacked=True)

    def epoch_dataset(self, epoch):
        """The batches of data epoch `epoch` alone, as a `tf.data.Dataset`."""
        return self.stream(epoch).take(self.steps_per_epoch)

    def stream_function(self, first_epoch, skip):
        """The stream for a multi-worker strategy (`reczoo.distribute`)."""
        return _global_stream(self, first_epoch, skip)

    def rows(self, stage):
        rows = self.split.rows(stage)
        if self.data.kind == "ctr":
            return self.data.features(rows), self.data.labels[rows]
        features = self.data.features_for(self.data.users[rows], self.data.items[rows], self.spec)
        if self.objective == "regression":
            return features, self.data.ratings[rows]
        return features, np.ones(len(rows), dtype="float32")

    def has_validation(self):
        return self.leave_one_out or len(self.split.valid_rows) > 0

    def evaluate(self, model, stage):
        """`(metrics, scored examples, seconds)` on the split's `stage`."""
        if self.leave_one_out:
            if self.split.protocol.kind == "loo_full":
                return evaluate_full(model, self.split, stage, self.spec, KS, history=self.history)
            return evaluate_sampled(model, self.split, stage, self.spec, KS, history=self.history)
        features, targets = self.rows(stage)
        return evaluate_pointwise(model, features, targets, self.objective)

    @property
    def monitor(self):
        """`(metric, "max" | "min")` that early stopping follows."""
        if self.leave_one_out:
            return "ndcg@10", "max"
        return ("auc", "max") if self.objective == "binary" else ("rmse", "min")


class NextItemPlan:
    """A `NextItem` task on each user's training history.

    Backbones with a state per position train on every position of a
    history at once; backbones with one state (Caser) on sliding windows.
    With `bucket_by_length`, histories of similar length share a batch padded
    only to its longest, and the loss is divided by a constant (the mean
    number of positions per batch) so that every position weighs the same.
    """

    def __init__(self, data, split, task, settings, seed):
        if not split.protocol.leave_one_out:
            raise ValueError(
                f"Next-item models are evaluated leave-last-out; protocol "
                f"{split.protocol.name!r} is a {split.protocol.kind}. Use sasrec, loo_full, ..."
            )
        self.data, self.split, self.task = data, split, task
        self.settings, self.seed = settings, seed
        self.backbone = task.backbone
        self.per_position = self.backbone.per_position
        self.cloze = self.backbone.predicts_masked
        self.users, self.inputs, self.targets = self._examples(settings.max_length)
        self.positions = int(sum(np.count_nonzero(t) for t in self.targets))
        self.samples_per_epoch = self.positions
        self.steps_per_epoch = math.ceil(len(self.inputs) / settings.batch_size)
        if (
            self.per_position and settings.bucket_by_length and not self.cloze
            and not task.normalize_by
        ):  # fmt: skip
            task.normalize_by = self.positions / self.steps_per_epoch

    def _examples(self, length):
        users, inputs, targets = [], [], []
        last = self.settings.train_last_targets
        if last is not None and (self.cloze or last < 1):
            raise ValueError(
                "train_last_targets takes a positive number of items, for models that "
                f"predict the next item. Received: train_last_targets={last!r}"
            )
        for user, seq in enumerate(self.split.train.histories()):
            if len(seq) < 2:
                continue
            if self.cloze:
                # The whole history; the items to predict are masked per epoch.
                users.append(user)
                inputs.append(seq[-length:])
                targets.append(seq[-length:])
            elif self.per_position:
                users.append(user)
                inputs.append(seq[:-1][-length:])
                target = seq[1:][-length:]
                if last is not None:
                    # Padding targets are not learnt: the earlier items are context only.
                    target = np.where(np.arange(len(target)) >= len(target) - last, target, 0)
                targets.append(target)
            else:
                for t in range(max(1, len(seq) - last) if last else 1, len(seq)):
                    users.append(user)
                    inputs.append(seq[max(0, t - length) : t])
                    targets.append(seq[t])
        return np.asarray(users, dtype="int32"), inputs, targets

    def _chunks(self, epoch):
        s = self.settings
        rng = np.random.default_rng([self.seed, epoch])
        n = len(self.inputs)
        order = rng.permutation(n)
        bucket = s.bucket_by_length and self.per_position
        if bucket:
            # Sorted stably by length after the shuffle: random within a length.
            lengths = np.array([len(x) for x in self.inputs])
            order = order[np.argsort(lengths[order], kind="stable")]
        chunks = [order[i : i + s.batch_size] for i in range(0, n, s.batch_size)]
        if bucket:
            rng.shuffle(chunks)
        return chunks, bucket

    def epoch_batches(self, epoch):
        length = self.settings.max_length
        history, user = self.backbone.history_feature, self.backbone.user_feature
        chunks, bucket = self._chunks(epoch)
        masking = np.random.default_rng([self.seed, epoch, 1])
        for rows in chunks:
            width = self._width(rows, bucket)
            if self.cloze:
                ids = pipelines.left_pad([self.inputs[r] for r in rows], width)
                x = {history: self._masked(ids, masking)}
                y = np.where(x[history] == self.backbone.mask_token, ids, 0).astype("int32")
            elif self.per_position:
                x = {history: pipelines.left_pad([self.inputs[r] for r in rows], width)}
                y = pipelines.left_pad([self.targets[r] for r in rows], width)
            else:
                x = {history: pipelines.left_pad([self.inputs[r] for r in rows], length)}
                y = np.asarray([self.targets[r] for r in rows], dtype="int32")
            if user:
                x[user] = self.users[rows]
            yield x, y

    def _width(self, rows, bucket):
        """How wide a batch of `rows` is padded: the longest of them when
        bucketing by length. Under JAX, whose compiled step serves one shape,
        widths are rounded up to at most 9 sizes (multiples of an eighth of
        the length): SASRec trained 11x slower compiling one program per
        width. TensorFlow traces one step for any width."""
        length = self.settings.max_length
        if not bucket:
            return length
        width = max(len(self.inputs[r]) for r in rows)
        if self.fixed_shapes:
            step = max(8, length // 8)
            width = min(length, -(-width // step) * step)
        return width

    @functools.cached_property
    def fixed_shapes(self):
        import keras

        return keras.backend.backend() == "jax"

    def _masked(self, ids, rng):
        """BERT4Rec's cloze inputs: each real item hidden behind the mask
        token with the backbone's `mask_probability`; a row where none was
        drawn has its last item hidden, the position that predicts the next
        item at inference."""
        real = ids != 0
        hidden = real & (rng.random(ids.shape) < self.backbone.mask_probability)
        none = ~hidden.any(axis=1)
        hidden[none, -1] = real[none, -1]
        return np.where(hidden, self.backbone.mask_token, ids).astype("int32")

    def stream(self, first_epoch=1):
        """Endless batches: data epoch `first_epoch`, then the next, ..."""
        import tensorflow as tf

        history, user = self.backbone.history_feature, self.backbone.user_feature
        x_spec = {history: tf.TensorSpec((None, None), tf.int32)}
        if user:
            x_spec[user] = tf.TensorSpec((None,), tf.int32)
        y_spec = tf.TensorSpec((None, None) if self.per_position else (None,), tf.int32)
        return pipelines.stream(self.epoch_batches, (x_spec, y_spec), first_epoch)

    def has_validation(self):
        return True

    def evaluate(self, task, stage):
        return evaluate_next_item(
            task, self.split, stage, self.settings.max_length, KS,
            batch_size=min(1024, self.settings.eval_batch_size),
        )  # fmt: skip

    @property
    def monitor(self):
        return "ndcg@10", "max"


class RetrievalPlan:
    """A `Retriever` on (user, item) interactions of a row split.

    Each training row is a (query, positive candidate) pair; the batch's
    other candidates are its negatives, so batches are shuffled rows and
    the labels are the positives' item ids. Evaluation ranks each held-out
    row's item against the whole catalogue (`evaluate_retrieval`). Query
    towers that read a watch history (YouTube DNN) get, per row, the user's
    training items before that row's time.
    """

    def __init__(self, data, split, task, settings, seed):
        self.data, self.split, self.task = data, split, task
        self.settings, self.seed = settings, seed
        self.spec = task.feature_spec
        self.leave_one_out = split.protocol.leave_one_out
        self.train = split.train if self.leave_one_out else data.select(split.rows("train"))
        self.history = "history" if getattr(task.backbone, "uses_history", False) else None
        self.samples_per_epoch = self.train.num_interactions
        self.steps_per_epoch = math.ceil(self.samples_per_epoch / settings.batch_size)
        self._features = {}

    def rows(self, stage):
        """`(features, item ids)` of the split's `stage` rows (cached); under
        a leave-last-out protocol, of its training interactions ("train")."""
        if stage not in self._features:
            names = [f for f in self.spec.names if f != self.history]
            if self.leave_one_out:
                if stage != "train":
                    raise ValueError(f"Held-out users are ranked, not rows: {stage!r}.")
                users, items = self.train.users, self.train.items
                features = self.data.features_for(users, items, self.spec.subset(names))
                if self.history:
                    # Each row's earlier items (ties in file order), as the
                    # held-out items' histories are made.
                    length = self.spec[self.history].max_length
                    features[self.history] = self.train.row_histories(length)
                self._features[stage] = (features, items.astype("int32"))
                return self._features[stage]
            rows = self.split.rows(stage)
            users, items = self.data.users[rows], self.data.items[rows]
            features = self.data.features_for(users, items, self.spec.subset(names))
            if self.history:
                times = (
                    self.data.timestamps[rows]
                    if self.data.timestamps is not None
                    else np.zeros(len(rows))
                )
                length = self.spec[self.history].max_length
                features[self.history] = self.train.earlier_items(users, times, length)
            self._features[stage] = (features, items.astype("int32"))
        return self._features[stage]

    def training_set(self, epoch):
        return self.rows("train")

    def epoch_stacks(self, epoch):
        features, items = self.rows("train")
        return pipelines.shuffled_stacks(
            features, items, self.settings.batch_size, self.seed + epoch
        )

    def stream(self, first_epoch=1):
        """Endless batches: data epoch `first_epoch`, then the next, ..."""
        features, _ = self.rows("train")
        one = {k: np.asarray(v)[:1][None] for k, v in features.items()}
        signature = pipelines.signature_of(one, np.zeros((1, 1, 1), "float32"), open_axes=2)
        return pipelines.stream(self.epoch_stacks, signature, first_epoch, stacked=True)

    def has_validation(self):
        return self.leave_one_out or len(self.split.valid_rows) > 0

    def evaluate(self, task, stage):
        if self.leave_one_out:
            return self._evaluate_held_out(task, stage)
        features, items = self.rows(stage)
        queries = {n: features[n] for n in task.backbone.query_features}
        return evaluate_retrieval(
            task, queries, items, task.candidates, seen=self.seen(), ks=RETRIEVAL_KS,
            batch_size=min(1024, self.settings.eval_batch_size),
        )  # fmt: skip

    def _evaluate_held_out(self, task, stage):
        users, _, _ = self.split.held_out(stage)
        names = [n for n in task.backbone.query_features if n != self.history]
        queries = self.data.features_for(users, np.zeros_like(users), self.spec.subset(names))
        if self.history:
            length = self.spec[self.history].max_length
            queries[self.history] = self.split.histories_before(stage, length)
        return evaluate_retrieval_held_out(
            task, self.split, stage, queries, KS,
            batch_size=min(1024, self.settings.eval_batch_size),
        )  # fmt: skip

    def seen(self):
        from reczoo.models.topk import Interactions

        order = self.train.order()
        return Interactions(
            self.train.users[order], self.train.items[order], self.data.num_users + 1
        )

    @property
    def monitor(self):
        return ("ndcg@10", "max") if self.leave_one_out else ("top_100_accuracy", "max")


class StreamingPlan:
    """A binary `Ranker` on a `ShardedDataset`: rows streamed from disk.

    Each pass over the training shards reads them in an order and through a
    shuffle buffer (`shuffle_buffer` rows) that tf.data draws from the seed.
    Under a multi-worker strategy each worker reads its own shards
    (`stream_function`) endlessly and every worker runs the same number of
    steps per period (a data epoch is then the global row count).
    Evaluation streams the validation or test shards in order.
    """

    objective = "binary"
    group = 1

    def __init__(self, data, split, spec, settings, seed):
        self.data, self.split, self.spec = data, split, spec
        self.settings, self.seed = settings, seed
        self.samples_per_epoch = data.rows("train")
        if not self.samples_per_epoch:
            raise ValueError(f"{data.folder} has no training rows.")
        self.steps_per_epoch = math.ceil(self.samples_per_epoch / settings.batch_size)

    def stream(self, first_epoch=1, input_context=None):
        """Endless batches: data epoch `first_epoch`, then the next, ..."""
        batch = self.settings.batch_size
        workers = 1
        if input_context is not None:
            batch = input_context.get_per_replica_batch_size(batch)
            workers = input_context.num_input_pipelines
        # One seed for the whole run: tf.data draws a new file order and row
        # order for each pass from it, the same sequence every time.
        batches = self.data.batches(
            "train", batch, seed=self.seed, shuffle_buffer=self.settings.shuffle_buffer,
            input_context=input_context, drop_remainder=workers > 1,
        ).repeat()  # fmt: skip
        # A resumed run reads past the passes it has done.
        return self.data.encoded(batches.skip((first_epoch - 1) * self.steps_per_epoch))

    def stream_function(self, first_epoch, skip):
        def per_worker(input_context):
            return self.stream(first_epoch, input_context).skip(skip)

        per_worker.per_worker = True
        return per_worker

    def epoch_dataset(self, epoch):
        return self.stream(epoch).take(self.steps_per_epoch)

    def training_set(self, epoch):
        raise TypeError(
            "A sharded dataset streams its rows; models fit by counting them "
            "(`fit_by='adapt'`) need a loaded dataset."
        )

    def has_validation(self):
        return self.data.rows("valid") > 0

    def evaluate(self, model, stage):
        """`(metrics, scored rows, seconds)` over the part's shards."""
        from reczoo.distribute import forward, replicated
        from reczoo.metrics.pointwise import auc, logloss

        predict = forward(model) if replicated(model) else model.predict_on_batch
        scores, labels, seconds = [], [], 0.0
        # numpy batches: every backend's `predict_on_batch` takes them.
        batches = self.data.dataset(stage, self.settings.eval_batch_size).as_numpy_iterator()
        for features, y in batches:
            start = time.perf_counter()
            scores.append(np.asarray(predict(features)).reshape(-1))
            seconds += time.perf_counter() - start
            labels.append(y)
        scores, labels = np.concatenate(scores), np.concatenate(labels)
        return (
            {"auc": auc(labels, scores), "logloss": logloss(labels, scores)},
            len(labels),
            seconds,
        )

    @property
    def monitor(self):
        return "auc", "max"


def _global_stream(plan, first_epoch, skip):
    """The one stream every worker reads; tf.distribute splits its batches."""

    def whole(input_context):
        return plan.stream(first_epoch).skip(skip)

    whole.per_worker = False
    return whole
