"""Retrieval: a query tower and a candidate tower trained with an in-batch softmax.

`Retriever` wraps a backbone that returns `"query_embedding"` and
`"candidate_embedding"` (batch, dim) for a batch of (query, positive
candidate) pairs. Every other candidate of the batch is a negative of each
query; the loss is the softmax cross-entropy of the positive among them.
keras-rs gives the sampling-probability (logQ) correction and hard-negative
mining; accidental hits are removed here (see `remove_accidental_hits`).

`CandidateIndex` keeps the candidate vectors of a catalogue for top-K
retrieval (keras-rs `BruteForceRetrieval`) and is rebuilt for new or changed
items from their features, without retraining.
"""

import keras
import numpy as np
from keras import ops

from reczoo.dtypes import lowest
from reczoo.losses.softmax import dot_softmax_cross_entropy
from reczoo.models import topk
from reczoo.models.task import Task


def remove_accidental_hits(logits, labels, candidate_ids):
    """Masks negatives that are the row's positive item under another column.

    In an in-batch softmax, a popular item appears as several rows'
    positive: for row i it is both the positive (column i) and a "negative"
    (column j, where row j's positive is the same item). Those columns get
    the lowest logit, so the loss never pushes the positive down.

    keras-rs 0.4's `RemoveAccidentalHits` adds a denormal number instead of
    a large negative one and leaves the logits unchanged (keras-rs pull
    request #206); this function is tested against hand-computed values.

    Args:
        logits: (batch, candidates).
        labels: (batch, candidates), one 1 per row.
        candidate_ids: (candidates,) item ids of the columns.
    """
    ids = ops.cast(candidate_ids, "int32")
    positive_ids = ops.sum(ops.cast(labels, "int32") * ops.expand_dims(ids, 0), axis=1)
    same = ops.equal(ops.expand_dims(positive_ids, 1), ops.expand_dims(ids, 0))
    accidental = ops.logical_and(same, ops.equal(labels, 0))
    return ops.where(accidental, ops.cast(lowest("float32"), logits.dtype), logits)


@keras.saving.register_keras_serializable(package="reczoo")
class Retriever(Task):
    """Two-tower retrieval trained with a sampled softmax over the batch.

    For a batch of B (query, positive candidate) pairs the logits are
    `q_i . c_j / temperature`, (B, B) with the positives on the diagonal,
    plus `num_sampled_negatives` uniformly drawn catalogue items as extra
    columns (their features from `set_candidates`). Options:

    - `logq_correction`: subtract `log Q(j)` from column j's logit, where
      Q(j) is the probability that item j enters a batch: its training
      frequency for in-batch columns (`set_candidate_frequencies`; before
      it is called, the item's share of the batch), uniform for sampled ones (Yi et al., RecSys 2019; keras-rs
      `SamplingProbabilityCorrection`);
    - `remove_accidental_hits`: a column holding row i's positive item is
      not a negative of row i;
    - `num_hard_negatives`: keep only the hardest negatives of each row
      (keras-rs `HardNegativeMining`).

    Labels are the positive items' ids (for the corrections). The model's
    outputs are the two embeddings; `recommend` and `index` score a whole
    catalogue, in batches.

    Args:
        backbone: a backbone returning `"query_embedding"` and
            `"candidate_embedding"` and declaring `query_features`,
            `candidate_features` and `candidate_id_feature`.
        temperature: logits are divided by it (small values sharpen the
            softmax over L2-normalised embeddings).
        logq_correction: subtract the log of each candidate's sampling
            probability from its logit (see above).
        remove_accidental_hits: mask in-batch negatives that are the
            positive item.
        num_hard_negatives: keep only this many hardest negatives per row.
        num_sampled_negatives: add this many negatives drawn uniformly from
            the catalogue (their features from `set_candidates`).
        loss_reduction: `"mean"` over the batch, or `"sum"` as TF
            Recommenders' `Retrieval` task does (its tutorial's Adagrad 0.1
            relies on the summed loss's larger gradients).
        seed: seed of the sampled negatives.

    Raises:
        ValueError: a `temperature` that is not positive, a
            `num_hard_negatives` that is not a positive integer, or an unknown
            `loss_reduction`.

    Example:
        ```python
        spec = reczoo.FeatureSpec([
            reczoo.Categorical("user_id", vocabulary_size=100, embedding_dim=16),
            reczoo.Categorical("item_id", vocabulary_size=50, embedding_dim=16),
        ])
        task = reczoo.get_model("two_tower", feature_spec=spec, temperature=0.05)
        pairs = {"user_id": np.array([[1], [2], [3]]), "item_id": np.array([[4], [5], [6]])}
        task.fit(pairs, np.array([4, 5, 6]), epochs=1, verbose=0)
        ```
    """

    default_learning_rate = 1e-3

    def __init__(
        self,
        backbone,
        temperature=1.0,
        logq_correction=False,
        remove_accidental_hits=False,
        num_hard_negatives=None,
        num_sampled_negatives=0,
        loss_reduction="mean",
        seed=None,
        **kwargs,
    ):
        import keras_rs

        if loss_reduction not in ("mean", "sum"):
            raise ValueError(
                f"`loss_reduction` must be 'mean' or 'sum'. Received: {loss_reduction!r}"
            )
        if temperature <= 0:
            raise ValueError(f"`temperature` must be positive. Received: {temperature}")
        if num_hard_negatives is not None and num_hard_negatives < 1:
            raise ValueError(
                f"`num_hard_negatives` must be a positive integer or None. Received: "
                f"{num_hard_negatives}"
            )
        # === Functional model ===
        inputs = backbone.input
        outputs = backbone(inputs)
        super().__init__(inputs=inputs, outputs=outputs, backbone=backbone, **kwargs)

        # === Layers ===
        self.correction = keras_rs.layers.SamplingProbabilityCorrection(name="logq_correction")
        self.hard_negatives = (
            keras_rs.layers.HardNegativeMining(num_hard_negatives, name="hard_negatives")
            if num_hard_negatives
            else None
        )

        # === Config ===
        self.temperature = float(temperature)
        self.logq_correction = bool(logq_correction)
        self.remove_accidental_hits = bool(remove_accidental_hits)
        self.num_hard_negatives = num_hard_negatives
        self.num_sampled_negatives = int(num_sampled_negatives)
        self.loss_reduction = loss_reduction
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Per item id, its share of the training pairs (logQ); set by
        # `set_candidate_frequencies`.
        self.candidate_probability = None
        # Features of every catalogue item, row = item id (`set_candidates`).
        self.candidates = None
        # Features of every known query (user), row = user id (`set_queries`).
        self.queries = None

    # --- what the task knows of its catalogue and users -------------------

    def set_candidates(self, features):
        """Records the features of every catalogue item: `{name: array}`,
        row i for item id i (row 0, padding, is never retrieved). The index,
        `recommend` and sampled negatives read them."""
        features = {k: np.asarray(v) for k, v in features.items()}
        missing = [n for n in self.backbone.candidate_features if n not in features]
        if missing:
            raise ValueError(
                f"set_candidates needs every candidate feature; missing {missing}. "
                f"Candidate features: {list(self.backbone.candidate_features)}"
            )
        sizes = {len(v) for v in features.values()}
        if len(sizes) != 1:
            raise ValueError(f"Candidate features must have one row per item. Received: {sizes}")
        self.candidates = {n: features[n] for n in self.backbone.candidate_features}
        self.train_function = None  # sampled negatives read them in the graph
        return self

    def set_queries(self, features):
        """Records the query features of every known user, row = user id, so
        that `recommend(users)` needs only ids."""
        self.queries = {k: np.asarray(v) for k, v in features.items()}
        return self

    def set_candidate_frequencies(self, item_ids, num_items=None):
        """Sets Q(j), each item's share of the training pairs, from their item
        ids; the logQ correction reads it."""
        ids = np.asarray(item_ids, dtype="int64").reshape(-1)
        size = int(num_items or ids.max() + 1)
        counts = np.bincount(ids, minlength=size)[:size].astype("float32")
        self.candidate_probability = counts / max(counts.sum(), 1.0)
        self.train_function = None
        return self

    # --- what presets keep --------------------------------------------------

    asset_names = (*Task.asset_names, "candidates", "queries", "frequencies")

    def asset_arrays(self):
        """`{asset name: {array name: array}}` that presets save beside the weights."""
        out = super().asset_arrays()
        if self.candidates is not None:
            out["candidates"] = self.candidates
        if self.queries is not None:
            out["queries"] = self.queries
        if self.candidate_probability is not None:
            out["frequencies"] = {"probability": self.candidate_probability}
        return out

    def restore_assets(self, name, arrays):
        if name in Task.asset_names:
            super().restore_assets(name, arrays)
        elif name == "candidates":
            self.set_candidates(arrays)
        elif name == "queries":
            self.set_queries(arrays)
        elif name == "frequencies":
            self.candidate_probability = arrays["probability"]

    # --- training -----------------------------------------------------------

    def default_loss(self):
        return None  # the loss needs the whole batch: see compute_loss

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        del sample_weight
        queries = ops.cast(y_pred["query_embedding"], "float32")
        candidates = ops.cast(y_pred["candidate_embedding"], "float32")
        ids = ops.cast(ops.reshape(y, (-1,)), "int32")
        sampled = self.num_sampled_negatives and training
        if self.remove_accidental_hits or self.hard_negatives is not None:
            losses = self._masked_losses(queries, candidates, ids, sampled)
        else:
            # Row i's positive is column i: no label matrix is needed.
            bias = self._logq_bias(self._probability(ids)) if self.logq_correction else None
            if sampled:
                vectors, _ = self._sampled_candidates()
                candidates = ops.concatenate([candidates, vectors], axis=0)
                if self.logq_correction:
                    bias = ops.concatenate([bias, self._uniform_logq_bias()], axis=0)
            # Each distinct in-batch item scored once (not under XLA, which
            # has no op for a batch's distinct ids).
            distinct = None if self.jit_compile is True else ids
            losses = dot_softmax_cross_entropy(
                queries, candidates, column_bias=bias, scale=1.0 / self.temperature,
                column_ids=distinct,
            )  # fmt: skip
        loss = ops.sum(losses) if self.loss_reduction == "sum" else ops.mean(losses)
        return loss + (ops.sum(self.losses) if self.losses else 0.0)

    def _masked_losses(self, queries, candidates, ids, sampled):
        """Per-row losses on the whole (batch, columns) logits and a label
        matrix, which accidental-hit removal and hard-negative mining read."""
        logits = ops.matmul(queries, ops.transpose(candidates)) / self.temperature
        labels = ops.eye(ops.shape(logits)[0], dtype="float32")
        column_ids = ids
        if self.logq_correction:
            logits = logits + self._logq_bias(self._probability(ids))[None, :]
        if sampled:
            vectors, sampled_ids = self._sampled_candidates()
            extra = ops.matmul(queries, ops.transpose(vectors)) / self.temperature
            if self.logq_correction:
                extra = extra + self._uniform_logq_bias()[None, :]
            logits = ops.concatenate([logits, extra], axis=1)
            labels = ops.concatenate([labels, ops.zeros_like(extra)], axis=1)
            column_ids = ops.concatenate([ids, sampled_ids], axis=0)
        if self.remove_accidental_hits:
            logits = remove_accidental_hits(logits, labels, column_ids)
        if self.hard_negatives is not None:
            logits, labels = self.hard_negatives(logits, labels)
        return keras.losses.categorical_crossentropy(labels, logits, from_logits=True)

    def _logq_bias(self, probability):
        """-log Q(j) of each column (keras-rs' correction, applied to zeros)."""
        return self.correction(ops.zeros_like(probability), probability)

    def _uniform_logq_bias(self):
        """-log Q of sampled negatives, drawn uniformly from the catalogue."""
        n = self.candidates_count - 1
        return self._logq_bias(ops.full((self.num_sampled_negatives,), 1.0 / n))

    def default_metrics(self):
        # Retrieval metrics rank against the whole catalogue (see
        # `evaluate_retrieval`); during training only the loss is tracked.
        return None

    def _probability(self, ids):
        """Q(j) of each in-batch column: the item's training frequency, or,
        before `set_candidate_frequencies`, its share of this batch."""
        if self.candidate_probability is not None:
            table = ops.convert_to_tensor(self.candidate_probability)
            return ops.take(table, ops.clip(ids, 0, len(self.candidate_probability) - 1))
        same = ops.cast(ops.equal(ids[:, None], ids[None, :]), "float32")
        return ops.mean(same, axis=0)

    @property
    def candidates_count(self):
        return len(next(iter(self.candidates.values())))

    def _sampled_candidates(self):
        """Candidate-tower vectors of `num_sampled_negatives` items drawn
        uniformly from the catalogue (id 0, padding, never), and their ids."""
        if self.candidates is None:
            raise ValueError(
                "num_sampled_negatives needs the catalogue's features: call "
                "`set_candidates(features)` first (`reczoo.run` does)."
            )
        ids = keras.random.randint(
            (self.num_sampled_negatives,), 1, self.candidates_count, seed=self.seed_generator
        )
        features = {
            n: ops.take(ops.convert_to_tensor(v), ids, axis=0) for n, v in self.candidates.items()
        }
        return ops.cast(self.backbone.candidate_tower(features), "float32"), ids

    # --- embeddings, index, recommendations -----------------------------------

    def query_embeddings(self, features, batch_size=4096):
        """Query vectors (n, dim) of a query-feature dict, in batches."""
        return _batched(self.backbone.query_tower, self._only(features, "query"), batch_size)

    def candidate_embeddings(self, features=None, batch_size=4096):
        """Candidate vectors (n, dim) of a candidate-feature dict (default:
        the recorded catalogue, row = item id), in batches."""
        if features is None:
            features = self._catalogue()
        return _batched(
            self.backbone.candidate_tower, self._only(features, "candidate"), batch_size
        )

    def _only(self, features, side):
        names = getattr(self.backbone, f"{side}_features")
        missing = [n for n in names if n not in features]
        if missing:
            raise ValueError(
                f"The {side} tower reads {list(names)}; missing {missing}. "
                f"Received: {sorted(features)}"
            )
        return {n: np.asarray(features[n]) for n in names}

    def _catalogue(self):
        if self.candidates is None:
            raise ValueError(
                "This retriever has no recorded catalogue: call `set_candidates(features)` "
                "(presets saved by `reczoo train --output` keep it)."
            )
        return self.candidates

    def index(self, features=None, ids=None, k=100):
        """A `CandidateIndex` over the catalogue (default: the recorded one,
        items 1..n), or over the candidates of `features` with ids `ids`."""
        if features is None:
            features = self._catalogue()
            features = {n: v[1:] for n, v in features.items()}
            ids = np.arange(1, self.candidates_count)
        return CandidateIndex(self, features, ids, k=k)

    def recommend(self, users, k=10, exclude_seen=True, raw_ids=False, batch_size=1024):
        """The `k` best items of the whole catalogue for each user, best first.

        Each user's query vector comes from the recorded query features
        (`set_queries`; presets keep them) and is scored against every
        catalogue item's vector, many users per matrix product.

        Returns:
            `Recommendations(items, scores)`, each (len(users), k).
        """
        topk.check_k(k)
        users = np.asarray(users).reshape(-1)
        if raw_ids:
            users = topk.encode(self, "user", users)
        users = users.astype("int64")
        if self.queries is None:
            raise ValueError(
                "recommend(users) needs the users' query features: call `set_queries` "
                "first, or use `query_embeddings` and `index()` with your own features."
            )
        known = len(next(iter(self.queries.values())))
        bad = users[(users < 1) | (users >= known)]
        if len(bad):
            raise ValueError(
                f"User id {int(bad[0])} is outside the model's vocabulary: known ids are "
                f"1..{known - 1}."
            )
        if exclude_seen and self.interactions is None:
            raise ValueError(
                "exclude_seen=True needs what each user has seen: call "
                "`set_interactions(users, items)` first, or pass exclude_seen=False."
            )
        vectors = self.candidate_embeddings()
        queries = self.query_embeddings({n: v[users] for n, v in self.queries.items()})
        parts = []
        for start in range(0, len(users), batch_size):
            scores = (queries[start : start + batch_size] @ vectors.T).astype("float64")
            scores[:, 0] = -np.inf
            if exclude_seen:
                for row, user in enumerate(users[start : start + batch_size]):
                    scores[row, self.interactions.of(int(user))] = -np.inf
            parts.append(topk.top_k(scores, k))
        return topk.joined(self, parts, k, raw_ids)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "temperature": self.temperature,
                "logq_correction": self.logq_correction,
                "remove_accidental_hits": self.remove_accidental_hits,
                "num_hard_negatives": self.num_hard_negatives,
                "num_sampled_negatives": self.num_sampled_negatives,
                "loss_reduction": self.loss_reduction,
                "seed": self.seed,
            }
        )
        return config


def _batched(model, features, batch_size):
    n = len(next(iter(features.values())))
    out = []
    for start in range(0, n, batch_size):
        chunk = {k: v[start : start + batch_size] for k, v in features.items()}
        out.append(np.asarray(model.predict_on_batch(chunk), dtype="float32"))
    width = model.output.shape[-1]
    return np.concatenate(out) if out else np.zeros((0, width), "float32")


class CandidateIndex:
    """Brute-force top-K over candidate vectors (keras-rs `BruteForceRetrieval`).

    Built from candidate features through the retriever's candidate tower,
    so new or changed items enter with `update` (their features in, their
    vectors computed, no retraining): an item id already indexed is
    replaced, a new one appended.

    Example:
        ```python
        index = task.index(k=10)
        scores, items = index.query(task.query_embeddings(query_features))
        index.update(new_item_features, ids=[1683, 1684])
        ```
    """

    def __init__(self, retriever, features, ids, k=100):
        import keras_rs

        self.retriever = retriever
        self.k = int(k)
        ids = np.asarray(ids, dtype="int32").reshape(-1)
        vectors = retriever.candidate_embeddings(features)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} candidates.")
        if len(np.unique(ids)) != len(ids):
            raise ValueError("Candidate ids must be unique.")
        self.ids, self.vectors = ids, vectors
        self._layer_class = keras_rs.layers.BruteForceRetrieval
        self._rebuild()

    def _rebuild(self):
        k = min(self.k, len(self.ids))
        self.layer = self._layer_class(
            candidate_embeddings=self.vectors, candidate_ids=self.ids, k=k, return_scores=True
        )

    def __len__(self):
        return len(self.ids)

    def update(self, features, ids):
        """Adds or replaces candidates: their vectors come from `features`."""
        ids = np.asarray(ids, dtype="int32").reshape(-1)
        vectors = self.retriever.candidate_embeddings(features)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} candidates.")
        position = {int(i): p for p, i in enumerate(self.ids)}
        new_ids, new_vectors = list(self.ids), [*self.vectors]
        for item, vector in zip(ids.tolist(), vectors, strict=True):
            if item in position:
                new_vectors[position[item]] = vector
            else:
                position[item] = len(new_ids)
                new_ids.append(item)
                new_vectors.append(vector)
        self.ids = np.asarray(new_ids, dtype="int32")
        self.vectors = np.stack(new_vectors).astype("float32")
        self._rebuild()
        return self

    def query(self, query_vectors):
        """`(scores, ids)`, each (n, k), best first, for (n, dim) query vectors."""
        scores, ids = self.layer(ops.convert_to_tensor(np.asarray(query_vectors, "float32")))
        return np.asarray(scores), np.asarray(ids)
