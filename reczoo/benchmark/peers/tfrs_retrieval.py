"""The TF Recommenders basic retrieval tutorial model on an exported split;
runs inside TFRS's own venv (tf-keras, `TF_USE_LEGACY_KERAS=1`).

Run by `reczoo.benchmark.peers`, never imported by reczoo. Reads reczoo's
split (`--data`: raw user ids and movie titles of the training and test
rows, and each item id's title), builds the tutorial's model (a user-id and
a movie-title `StringLookup` + `Embedding(32)`, `tfrs.tasks.Retrieval` with
`FactorizedTopK` over every title), trains it as the tutorial does (Adagrad
0.1, batch 8,192, 3 epochs, top-K metrics computed during training too), and
writes the test rows' user vectors and every item's vector to `--output`
(.npz), with TFRS's own test metrics and the timings. A second training,
same seed, skips the metrics during training (`compute_metrics=not
training`, as TFRS's later tutorials do): its speed is reported too, and
after each of its epochs the test rows' user vectors and the item vectors
are kept with the training seconds so far (the time spent keeping them
left out), from which the caller scores the time to an accuracy.
Metrics of the row are computed by the caller with reczoo's code.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs


def build(cfg, users, titles, candidates, train_metrics):
    user_lookup = tf.keras.layers.StringLookup(vocabulary=users, mask_token=None)
    title_lookup = tf.keras.layers.StringLookup(vocabulary=titles, mask_token=None)
    dim = cfg["embedding_dim"]
    user_model = tf.keras.Sequential([user_lookup, tf.keras.layers.Embedding(len(users) + 1, dim)])
    movie_model = tf.keras.Sequential(
        [title_lookup, tf.keras.layers.Embedding(len(titles) + 1, dim)]
    )
    task = tfrs.tasks.Retrieval(
        metrics=tfrs.metrics.FactorizedTopK(candidates.batch(128).map(movie_model))
    )

    class MovieLensModel(tfrs.Model):
        def __init__(self):
            super().__init__()
            self.user_model, self.movie_model, self.task = user_model, movie_model, task

        def compute_loss(self, features, training=False):
            users = self.user_model(features["user_id"])
            movies = self.movie_model(features["movie_title"])
            return self.task(users, movies, compute_metrics=train_metrics or not training)

    model = MovieLensModel()
    model.compile(optimizer=tf.keras.optimizers.Adagrad(learning_rate=cfg["learning_rate"]))
    return model


class EpochVectors(tf.keras.callbacks.Callback):
    """Keeps the test users' and every item's vectors after each epoch, with
    the training seconds since `start`, less the time spent keeping them."""

    def __init__(self, start, test_users, item_titles):
        super().__init__()
        self.start, self.test_users, self.item_titles = start, test_users, item_titles
        self.paused, self.seconds, self.queries, self.items = 0.0, [], [], []

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.seconds.append(now - self.start - self.paused)
        self.queries.append(self.model.user_model(self.test_users).numpy())
        self.items.append(self.model.movie_model(self.item_titles).numpy())
        self.paused += time.perf_counter() - now


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--config", required=True, help="JSON of the shared settings")
    args = parser.parse_args()
    cfg = json.loads(args.config)
    data = np.load(args.data)
    item_titles = [str(t) for t in data["item_titles"]]  # row = item id; row 0 empty
    titles = sorted(set(item_titles[1:]))
    train_users = [str(u) for u in data["train_users"]]
    users = sorted(set(train_users))
    train = tf.data.Dataset.from_tensor_slices(
        {
            "user_id": data["train_users"].astype(str),
            "movie_title": data["train_titles"].astype(str),
        }
    )
    test = tf.data.Dataset.from_tensor_slices(
        {"user_id": data["test_users"].astype(str), "movie_title": data["test_titles"].astype(str)}
    )
    candidates = tf.data.Dataset.from_tensor_slices(np.asarray(titles))
    n = len(data["train_users"])
    timings = {}
    test_users = tf.constant(data["test_users"].astype(str))
    all_titles = tf.constant(np.asarray(item_titles))
    for train_metrics in (True, False):
        tf.keras.utils.set_random_seed(cfg["seed"])
        model = build(cfg, users, titles, candidates, train_metrics)
        batches = train.shuffle(n, seed=cfg["seed"]).batch(cfg["batch_size"]).cache()
        start = time.perf_counter()
        per_epoch = EpochVectors(start, test_users, all_titles)
        callbacks = [] if train_metrics else [per_epoch]
        history = model.fit(batches, epochs=cfg["epochs"], verbose=0, callbacks=callbacks)
        timings[train_metrics] = time.perf_counter() - start - per_epoch.paused
        if train_metrics:
            kept, losses = model, [float(v) for v in history.history["loss"]]
    model = kept
    start = time.perf_counter()
    reported = model.evaluate(test.batch(4096), return_dict=True, verbose=0)
    query_vectors = model.user_model(test_users).numpy()
    item_vectors = model.movie_model(all_titles).numpy()
    infer_seconds = time.perf_counter() - start
    summary = {
        "train_samples": n * cfg["epochs"],
        "train_seconds": timings[True],
        "train_seconds_without_train_metrics": timings[False],
        "infer_seconds": infer_seconds,
        "epochs": cfg["epochs"],
        "params": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
        "losses": losses,
        "epoch_train_seconds_without_train_metrics": per_epoch.seconds,
        "tfrs_reported": {k: float(v) for k, v in reported.items()},
        "versions": {"tensorflow": tf.__version__, "tensorflow-recommenders": tfrs.__version__},
    }
    np.savez(
        args.output, query_vectors=query_vectors, item_vectors=item_vectors,
        epoch_query_vectors=np.stack(per_epoch.queries),
        epoch_item_vectors=np.stack(per_epoch.items),
        summary=json.dumps(summary),
    )  # fmt: skip


if __name__ == "__main__":
    main()
