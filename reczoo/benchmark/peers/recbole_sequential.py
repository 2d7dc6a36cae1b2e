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

import json
import os

import recbole_common


def main():
    args, cfg = recbole_common.arguments(["SASRec", "GRU4Rec"])

    import numpy as np
    import torch
    from recbole.config import Config

    loss = "BPR" if cfg["loss"] == "bce" else "CE"
    config_dict = recbole_common.base_config(args, cfg, mode="full")
    config_dict.update(
        {
            "MAX_ITEM_LIST_LENGTH": cfg["max_length"],
            "train_neg_sample_args": (
                {"distribution": "uniform", "sample_num": 1} if loss == "BPR" else None
            ),
            "loss_type": loss,
            "eval_batch_size": 1024,
            "hidden_size": cfg["embedding_dim"],
            "embedding_size": cfg["embedding_dim"],
        }
    )
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
    split = np.load(args.split)
    with open(os.path.join(args.data_dir, "histories.json")) as f:
        histories = json.load(f)
    item_field, length = config["ITEM_ID_FIELD"], cfg["max_length"]

    def candidate_scores(stage, dataset, model):
        known = dataset.field2token_id[item_field]

        def internal(items):
            # An item RecBole never saw gets its padding row (zeros).
            return np.array([known.get(str(i), 0) for i in items], dtype="int64")

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

    dataset, train_data, model, train_seconds, losses, timeline = recbole_common.train(
        config, cfg, after_epoch=lambda d, m: candidate_scores("valid", d, m)
    )
    # Every training instance is one (prefix, next item) pair: one position.
    samples = len(train_data.dataset) * cfg["epochs"]
    recbole_common.save(
        args, cfg, model, lambda stage: candidate_scores(stage, dataset, model),
        train_seconds, samples, losses, timeline,
    )  # fmt: skip


if __name__ == "__main__":
    main()
