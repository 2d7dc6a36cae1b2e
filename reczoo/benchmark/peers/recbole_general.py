"""RecBole's NeuMF, BPR or ConvNCF on an exported leave-last-out split; runs in RecBole's venv.

Run by `reczoo.benchmark.peers`, never imported by reczoo. Reads the atomic
`.inter` file that reczoo exported (each user's items in time order, the
position as the timestamp, so RecBole's `LS: valid_and_test` split holds out
the same last two items), trains RecBole's model for a fixed number of
epochs with RecBole's own trainer and negative sampler (`sample_num`
uniform negatives per interaction, none the user's own), then scores each
held-out item and the saved negatives of reczoo's protocol with the trained
model's `predict`. Writes the candidate scores and the timings to
`--output` (.npz); the caller computes the metrics with reczoo's code, the
same as for its own models. RecBole's own validation is switched off.
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
    parser.add_argument("--model", required=True, choices=["NeuMF", "BPR", "ConvNCF"])
    parser.add_argument("--output", required=True)
    parser.add_argument("--config", required=True, help="JSON of the shared settings")
    args = parser.parse_args()
    cfg = json.loads(args.config)
    sys.argv = sys.argv[:1]  # RecBole parses the process's command line.

    import numpy as np
    import torch
    from recbole.config import Config
    from recbole.data import create_dataset, data_preparation
    from recbole.data.interaction import Interaction
    from recbole.utils import get_model, get_trainer, init_seed

    torch.set_num_threads(cfg.get("threads", 1))
    config_dict = {
        "data_path": args.data_dir,
        "USER_ID_FIELD": "user_id",
        "ITEM_ID_FIELD": "item_id",
        "TIME_FIELD": "timestamp",
        "load_col": {"inter": ["user_id", "item_id", "timestamp"]},
        "eval_args": {
            "split": {"LS": "valid_and_test"},
            "order": "TO",
            "group_by": "user",
            "mode": "uni100",
        },
        "train_neg_sample_args": {
            "distribution": "uniform",
            "sample_num": cfg["train_negatives"],
        },
        "epochs": cfg["epochs"],
        "eval_step": cfg["epochs"] + 1,
        "stopping_step": cfg["epochs"] + 1,
        "train_batch_size": cfg["batch_size"],
        "eval_batch_size": 4096,
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
    if args.model == "NeuMF":
        config_dict.update(
            {
                "mf_embedding_size": cfg["embedding_dim"],
                "mlp_embedding_size": cfg["mlp_embedding_dim"],
                "mlp_hidden_size": cfg["hidden_units"],
                "dropout_prob": cfg["dropout"],
            }
        )
    elif args.model == "BPR":
        config_dict.update({"embedding_size": cfg["embedding_dim"]})
    else:
        layers = cfg["conv_layers"]
        config_dict.update(
            {
                "embedding_size": cfg["embedding_dim"],
                "cnn_channels": [1] + [cfg["channels"]] * layers,
                "cnn_kernels": [2] * layers,
                "cnn_strides": [2] * layers,
                "dropout_prob": cfg["dropout"],
                "reg_weights": cfg["reg_weights"],
                "train_method": "no_pretrain",
            }
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
        loss = trainer._train_epoch(train_data, epoch, show_progress=False)
        losses.append(float(sum(loss) if isinstance(loss, tuple) else loss))
        train_seconds += time.perf_counter() - start
        print(f"epoch {epoch + 1}: loss={losses[-1]:.4f} ({time.perf_counter() - start:.0f} s)")
    # One example is one scored row for pointwise NeuMF (each interaction and
    # its negatives), one (user, positive, negative) triple for BPR and ConvNCF.
    positives = len(train_data.dataset)
    k = cfg["train_negatives"]
    per_epoch = positives * (1 + k) if args.model == "NeuMF" else positives * k
    samples = per_epoch * cfg["epochs"]

    split = np.load(args.split)
    users_known = dataset.field2token_id[config["USER_ID_FIELD"]]
    items_known = dataset.field2token_id[config["ITEM_ID_FIELD"]]

    def internal(known, ids):
        # An id RecBole never saw gets its padding row.
        return np.array([known.get(str(i), 0) for i in ids], dtype="int64")

    def candidate_scores(stage):
        users, items = split[f"{stage}_users"], split[f"{stage}_items"]
        negatives = split[f"{stage}_negatives"]
        cands = np.concatenate([items[:, None], negatives], axis=1)
        flat_users = internal(users_known, np.repeat(users, cands.shape[1]))
        flat_items = internal(items_known, cands.reshape(-1))
        out = np.zeros(len(flat_users), dtype="float32")
        model.eval()
        with torch.no_grad():
            for lo in range(0, len(out), 8192):
                batch = Interaction(
                    {
                        config["USER_ID_FIELD"]: torch.from_numpy(flat_users[lo : lo + 8192]),
                        config["ITEM_ID_FIELD"]: torch.from_numpy(flat_items[lo : lo + 8192]),
                    }
                )
                out[lo : lo + 8192] = model.predict(batch).reshape(-1).numpy()
        return out.reshape(cands.shape)

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
