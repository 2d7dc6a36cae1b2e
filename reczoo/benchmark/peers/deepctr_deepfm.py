"""DeepCTR's DeepFM on an exported split; runs inside DeepCTR's own venv.

Run by `compare_deepctr.py`, never imported by reczoo. Reads the split that
reczoo exported (`--data`, an .npz with train/valid/test feature columns and
labels), trains with the same procedure as reczoo's bars_ctr runs (Adam,
early stopping on validation AUC with patience, learning rate divided by 10 at
each epoch without gain), and writes the validation and test predictions and
the timings to `--output` (.npz). Metrics are computed by the caller with the
same code for both libraries.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from deepctr.feature_column import SparseFeat, get_feature_names
from deepctr.models import DeepFM


def auc(labels, scores):
    # Rank AUC with tied ranks averaged, for early stopping only.
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    bounds = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(scores)]])
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    pos = labels > 0.5
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _tf_keras_version():
    try:
        import tf_keras

        return tf_keras.__version__
    except ImportError:
        return None


def _train(model, optimizer, cfg, train_x, train_y, valid_x, valid_y):
    """BARS' procedure: early stopping on validation AUC with patience, the
    learning rate divided by 10 at each epoch without gain, the best weights
    restored. Returns (train seconds, samples, epochs, best epoch, history)."""
    train_y = train_y.reshape(-1, 1)
    best, best_epoch, best_weights = -1.0, 0, None
    train_seconds, samples, epochs, history = 0.0, 0, 0, []
    for epoch in range(1, cfg["epochs"] + 1):
        start = time.perf_counter()
        model.fit(train_x, train_y, batch_size=cfg["batch_size"], epochs=1, verbose=0, shuffle=True)
        train_seconds += time.perf_counter() - start
        samples += len(train_y)
        epochs = epoch
        score = auc(valid_y, model.predict(valid_x, batch_size=8192, verbose=0).reshape(-1))
        print(f"epoch {epoch}: valid auc={score:.4f}", flush=True)
        # Validation AUC after each epoch with the training time so far: the
        # caller's time to accuracy.
        history.append({"epoch": epoch, "auc": score, "train_seconds": round(train_seconds, 3)})
        if score > best:
            best, best_epoch, best_weights = score, epoch, model.get_weights()
        elif epoch - best_epoch >= cfg["patience"]:
            break
        else:
            rate = float(tf.keras.backend.get_value(optimizer.learning_rate))
            tf.keras.backend.set_value(optimizer.learning_rate, max(rate * 0.1, 1e-6))
    model.set_weights(best_weights)
    return train_seconds, samples, epochs, best_epoch, history


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--config", required=True, help="JSON of the shared settings")
    args = parser.parse_args()
    cfg = json.loads(args.config)
    tf.keras.utils.set_random_seed(cfg["seed"])
    data = np.load(args.data)
    columns = json.loads(str(data["columns"]))
    vocab = json.loads(str(data["vocabulary_sizes"]))
    features = [SparseFeat(c, vocab[c], embedding_dim=cfg["embedding_dim"]) for c in columns]
    names = get_feature_names(features)

    def inputs(stage):
        return {c: data[f"{stage}_{c}"] for c in names}

    model = DeepFM(
        features,
        features,
        dnn_hidden_units=tuple(cfg["hidden_units"]),
        l2_reg_linear=cfg["l2_embedding"],
        l2_reg_embedding=cfg["l2_embedding"],
        l2_reg_dnn=0.0,
        dnn_dropout=cfg["dropout"],
        dnn_use_bn=cfg["batch_norm"],
        seed=cfg["seed"],
        task="binary",
    )
    optimizer = tf.keras.optimizers.Adam(cfg["learning_rate"])
    model.compile(optimizer, "binary_crossentropy")
    valid_x, valid_y = inputs("valid"), data["valid_labels"]
    fitted = _train(model, optimizer, cfg, inputs("train"), data["train_labels"], valid_x, valid_y)
    train_seconds, samples, epochs, best_epoch, history = fitted
    valid_pred = model.predict(valid_x, batch_size=8192, verbose=0).reshape(-1)
    start = time.perf_counter()
    test_pred = model.predict(inputs("test"), batch_size=8192, verbose=0).reshape(-1)
    infer_seconds = time.perf_counter() - start
    import deepctr

    np.savez(
        args.output,
        valid_predictions=valid_pred,
        test_predictions=test_pred,
        summary=json.dumps(
            {
                "train_seconds": train_seconds,
                "train_samples": samples,
                "infer_seconds": infer_seconds,
                "epochs": epochs,
                "best_epoch": best_epoch,
                "history": history,
                "params": int(model.count_params()),
                "versions": {
                    "deepctr": deepctr.__version__,
                    "tensorflow": tf.__version__,
                    "tf_keras": _tf_keras_version(),
                },
                "legacy_keras": os.environ.get("TF_USE_LEGACY_KERAS"),
            }
        ),
    )


if __name__ == "__main__":
    main()
