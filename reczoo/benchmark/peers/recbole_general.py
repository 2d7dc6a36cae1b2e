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
same as for its own models. RecBole's own validation is switched off; the
validation candidates are scored after every epoch, outside the timed
training, for the caller's time to accuracy.
"""

import recbole_common


def _config(args, cfg):
    """RecBole's settings of `args.model` from the shared ones."""
    config_dict = recbole_common.base_config(args, cfg, mode="uni100")
    config_dict.update(
        {
            "train_neg_sample_args": {
                "distribution": "uniform",
                "sample_num": cfg["train_negatives"],
            },
            "eval_batch_size": 4096,
        }
    )
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
    return config_dict


def main():
    args, cfg = recbole_common.arguments(["NeuMF", "BPR", "ConvNCF"])

    import numpy as np
    import torch
    from recbole.config import Config
    from recbole.data.interaction import Interaction

    config = Config(model=args.model, dataset=args.dataset, config_dict=_config(args, cfg))
    split = np.load(args.split)

    def candidate_scores(stage, dataset, model):
        users_known = dataset.field2token_id[config["USER_ID_FIELD"]]
        items_known = dataset.field2token_id[config["ITEM_ID_FIELD"]]

        def internal(known, ids):
            # An id RecBole never saw gets its padding row.
            return np.array([known.get(str(i), 0) for i in ids], dtype="int64")

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

    dataset, train_data, model, train_seconds, losses, timeline = recbole_common.train(
        config, cfg, after_epoch=lambda d, m: candidate_scores("valid", d, m)
    )
    # One example is one scored row for pointwise NeuMF (each interaction and
    # its negatives), one (user, positive, negative) triple for BPR and ConvNCF.
    positives = len(train_data.dataset)
    k = cfg["train_negatives"]
    per_epoch = positives * (1 + k) if args.model == "NeuMF" else positives * k
    samples = per_epoch * cfg["epochs"]
    recbole_common.save(
        args, cfg, model, lambda stage: candidate_scores(stage, dataset, model),
        train_seconds, samples, losses, timeline,
    )  # fmt: skip


if __name__ == "__main__":
    main()
