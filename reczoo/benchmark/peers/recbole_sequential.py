"""RecBole's SASRec or GRU4Rec on an exported leave-last-out split; runs in RecBole's venv.

Run by `compare_recbole.py`, never imported by reczoo. Reads the atomic
`.inter` file that reczoo exported (each user's items in time order, the
position as the timestamp, so RecBole's `LS: valid_and_test` split holds out
the same last two items), trains RecBole's model for a fixed number of
epochs with RecBole's own trainer, then scores each held-out item and the
saved negatives of reczoo's protocol with the trained model: one forward
pass per history, the candidates gathered from the scores. Writes the
candidate scores and the timings to `--output` (.npz); the caller computes
the metrics with reczoo's code, the same as for its own models.

RecBole's own validation is switched off (`eval_step` past the last epoch):
its uni100 pass recomputes each sequence for each of the 101 candidates,
9-20 minutes on Amazon Games here (PEERS.md).
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_dir", required=True, help="holds <dataset>/<dataset>.inter")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--split", required=True, help="reczoo's split .npz (negatives)")
    parser.add_argument("--model", required=True, choices=["SASRec", "GRU4Rec"])
    parser.add_argument("--output", required=True)
    parser.add_argument("--config", required=True, help="JSON of the shared settings")
    args = parser.parse_args()
    cfg = json.loads(args.config)
    sys.argv = sys.argv[:1]  # RecBole parses the process's command line.

    import numpy as np
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.utils import get_model, get_trainer, init_seed

    torch.set_num_threads(cfg.get("threads", 1))
    loss = "BPR" if cfg["loss"] == "bce" else "CE"
    config_dict = {
        "data_path": args.data_dir,
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "MAX_ITEM_LIST_LENGTH": cfg["max_length"],
        "eval_args": {
            "split": {"LS": "valid_and_test"},
            "order": "TO",
            "group_by": "user",
            "mode": "full",
        },
        "train_neg_sample_args": (
            {"distribution": "uniform", "sample_num": 1} if loss == "BPR" else None
        ),
        "loss_type": loss,
        "epochs": cfg["epochs"],
        "eval_step": cfg["epochs"] + 1,
        "stopping_step": cfg["epochs"] + 1,
        "train_batch_size": cfg["batch_size"],
        "eval_batch_size": 1024,
        "learning_rate": cfg["learning_rate"],
        "hidden_size": cfg["embedding_dim"],
        "embedding_size": cfg["embedding_dim"],
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
    if args.model == "SASRec":
        config_dict.update(
            {
                "n_layers": cfg["num_blocks"],
                "n_heads": cfg["num_heads"],
                "inner_size": cfg["embedding_dim"],
                "hidden_dropout_prob": cfg["dropout"],
                "attn_dropout_prob": cfg["dropout"],
                "hidden_act": "relu",  # the SASRec paper's; RecBole defaults to gelu
            }
        )
    else:
        config_dict.update(
            {"hidden_size": cfg["hidden_units"], "num_layers": 1, "dropout_prob": cfg["dropout"]}
        )
    config = Config(model=args.model, dataset=args.dataset, config_dict=config_dict)
    init_seed(config["seed"], config["reproducibility"])
    dataset = create_dataset(config)
    train_data, _, _ = data_preparation(config, dataset)
    model = get_model(config["model"])(config, train_data._dataset).to(config["device"])
    trainer = get_trainer(config["MODEL_TYPE"], config["model"])(config, model)

    train_seconds, losses = 0.0, []
    for epoch in range(cfg["epochs"]):
        start = time.perf_counter()
        losses.append(float(trainer._train_epoch(train_data, epoch, show_progress=False)))
        train_seconds += time.perf_counter() - start
        print(f"epoch {epoch + 1}: loss={losses[-1]:.4f} ({time.perf_counter() - start:.0f} s)")
    # Every training instance is one (prefix, next item) pair: one position.
    samples = len(train_data.dataset) * cfg["epochs"]

    split = np.load(args.split)
    with open(os.path.join(args.data_dir, "histories.json")) as f:
        histories = json.load(f)
    item_field, length = config["ITEM_ID_FIELD"], cfg["max_length"]

    known = dataset.field2token_id[item_field]

    def internal(items):
        # An item RecBole never saw gets its padding row (zeros).
        return np.array([known.get(str(i), 0) for i in items], dtype="int64")

    def candidate_scores(stage):
        users, items = split[f"{stage}_users"], split[f"{stage}_items"]
        negatives = split[f"{stage}_negatives"]
        cut = 2 if stage == "valid" else 1
        out = np.zeros((len(users), 1 + negatives.shape[1]), dtype="float32")
        model.eval()
        with torch.no_grad():
            for lo in range(0, len(users), 1024):
                rows = range(lo, min(lo + 1024, len(users)))
                seqs = [histories[str(users[r])][:-cut][-length:] for r in rows]
                seq = np.zeros((len(seqs), length), dtype="int64")
                for j, s in enumerate(seqs):
                    seq[j, : len(s)] = internal(s)  # RecBole pads on the right.
                lengths = torch.tensor([len(s) for s in seqs])
                states = model.forward(torch.from_numpy(seq), lengths)
                cands = np.concatenate([items[list(rows), None], negatives[list(rows)]], axis=1)
                ids = torch.from_numpy(internal(cands.reshape(-1)).reshape(cands.shape))
                vectors = model.item_embedding(ids)
                out[list(rows)] = torch.einsum("bd,bcd->bc", states, vectors).numpy()
        return out

    start = time.perf_counter()
    test_scores = candidate_scores("test")
    infer_seconds = time.perf_counter() - start
    valid_scores = candidate_scores("valid")

    import recbole

    np.savez(
        args.output,
        valid_scores=valid_scores,
        test_scores=test_scores,
        summary=json.dumps(
            {
                "train_seconds": train_seconds,
                "train_samples": samples,
                "infer_seconds": infer_seconds,
                "epochs": cfg["epochs"],
                "losses": losses,
                "params": int(sum(p.numel() for p in model.parameters())),
                "threads": torch.get_num_threads(),
                "versions": {
                    "recbole": recbole.__version__,
                    "torch": torch.__version__,
                    "numpy": np.__version__,
                },
            }
        ),
    )


if __name__ == "__main__":
    main()
