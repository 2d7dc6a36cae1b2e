"""What the RecBole scripts share: arguments, base config, the training loop
and the saved output. Runs in RecBole's venv, imported by the scripts beside
it (a script's folder is on its `sys.path`); never imported by reczoo.
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")


def arguments(models):
    """The scripts' command line; RecBole then gets a clean `sys.argv` (it
    parses the process's own)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", required=True, help="holds <dataset>/<dataset>.inter")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--split", required=True, help="reczoo's split .npz (negatives)")
    parser.add_argument("--model", required=True, choices=models)
    parser.add_argument("--output", required=True)
    parser.add_argument("--config", required=True, help="JSON of the shared settings")
    args = parser.parse_args()
    sys.argv = sys.argv[:1]
    return args, json.loads(args.config)


def base_config(args, cfg, mode):
    """RecBole settings common to every comparison: reczoo's leave-last-out
    split (positions as timestamps), fixed epochs, RecBole's validation off."""
    return {
        "data_path": args.data_dir,
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "eval_args": {
            "split": {"LS": "valid_and_test"},
            "order": "TO",
            "group_by": "user",
            "mode": mode,
        },
        "epochs": cfg["epochs"],
        "eval_step": cfg["epochs"] + 1,
        "stopping_step": cfg["epochs"] + 1,
        "train_batch_size": cfg["batch_size"],
        "learning_rate": cfg["learning_rate"],
        "metrics": ["Hit", "NDCG"],
        "topk": [10],
        "valid_metric": "NDCG@10",
        "device": "cpu",
        "use_gpu": False,
        "seed": cfg["seed"],
        "reproducibility": True,
        "show_progress": False,
        "worker": 0,
        "checkpoint_dir": os.path.join(os.path.dirname(args.output), "checkpoints"),
        "log_wandb": False,
    }


def train(config, cfg, after_epoch=None):
    """Builds RecBole's dataset, model and trainer and trains `cfg["epochs"]`
    epochs; returns (dataset, train_data, model, seconds, losses, timeline).

    `after_epoch(dataset, model)`, when given, runs after each epoch outside
    the timed training (the validation scores of the caller's time to
    accuracy); `timeline` holds `(training seconds so far, its result)` per
    epoch."""
    import torch
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed

    torch.set_num_threads(cfg.get("threads", 1))
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    train_data, _, _ = data_preparation(config, dataset)
    model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)
    seconds, losses, timeline = 0.0, [], []
    for epoch in range(cfg["epochs"]):
        start = time.perf_counter()
        loss = trainer._train_epoch(train_data, epoch, show_progress=False)
        losses.append(float(sum(loss) if isinstance(loss, tuple) else loss))
        seconds += time.perf_counter() - start
        print(f"epoch {epoch + 1}: loss={losses[-1]:.4f} ({time.perf_counter() - start:.0f} s)")
        if after_epoch is not None:
            timeline.append((seconds, after_epoch(dataset, model)))
    return dataset, train_data, model, seconds, losses, timeline


def save(args, cfg, model, candidate_scores, train_seconds, samples, losses, timeline=()):
    """Scores the test then the validation candidates, and writes them with
    the timings, versions and the validation scores after each epoch
    (`timeline`, from `train`) to `--output`."""
    import numpy as np
    import recbole
    import torch

    start = time.perf_counter()
    test_scores = candidate_scores("test")
    infer_seconds = time.perf_counter() - start
    valid_scores = candidate_scores("valid")
    summary = {
        "train_seconds": train_seconds,
        "train_samples": samples,
        "infer_seconds": infer_seconds,
        "epochs": cfg["epochs"],
        "losses": losses,
        "epoch_train_seconds": [round(t, 3) for t, _ in timeline],
        "params": int(sum(p.numel() for p in model.parameters())),
        "threads": torch.get_num_threads(),
        "versions": {
            "recbole": recbole.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
        },
    }
    np.savez(
        args.output,
        valid_scores=valid_scores,
        test_scores=test_scores,
        summary=json.dumps(summary),
        **({"valid_scores_by_epoch": np.stack([s for _, s in timeline])} if timeline else {}),
    )
