"""Published training procedures that several models' recipes share.

Plain data (and one registering helper), no Keras: model folders import
these at registration.
"""


def l2(value):
    """A Keras `L2` regularizer config. FuxiCTR's `embedding_regularizer: r`
    adds `r / 2 * ||E||^2` of every table to the loss, which is `L2(r / 2)`."""
    return {"class_name": "L2", "config": {"l2": value}}


# The run defaults of MF-BPR, GMF and FM: their default run (no recipe, no
# epochs) under a leave-last-out protocol counts each user's latest fifth
# of training interactions three times (`recent_weight`; the share is
# `reczoo.training.settings.RECENT_SHARE`): the held-out items are each
# user's latest, and these models have no notion of order. Mean test HR@10
# with it against without, by seed-paired default runs (benchmarks/README.md,
# "Default runs on your file"): on MovieLens-100K's u.data under ncf (3
# seeds) MF-BPR +0.027, FM +0.023, GMF +0.005, under loo_full (3 seeds) FM
# +0.017, GMF +0.007, MF-BPR +0.003; on the latest-small-shaped file under
# ncf (5 seeds) MF-BPR +0.005, FM +0.005, GMF -0.002 (level within its
# spread of 0.02 between seeds). Their mean validation HR@10 rose in each.
# The deep rankers are left out: on the latest-small-shaped file MLP,
# FinalMLP and AutoInt+ lost 0.02-0.04 test HR@10 with it over two seeds.
RECENT_DEFAULTS = {"recent_weight": 3}

# BARS (FuxiCTR) trains with embedding size 10, batch 4096, Adam 1e-3, up to
# 100 epochs, evaluating every epoch, stopping after 2 epochs without a gain
# in validation AUC and dividing the learning rate by 10 at each such epoch.
BARS_TRAINING = {
    "batch_size": 4096,
    "embedding_dim": 10,
    "epochs": 100,
    "eval_every": 1,
    "patience": 2,
    "reduce_lr": 0.1,
}
BARS_SOURCE = "BARS Frappe_x1 configuration (Zhu et al., BARS, SIGIR 2022)"

# The DNN tower BARS uses on Frappe, and its embedding penalty (FuxiCTR 0.05).
BARS_DNN = {"hidden_units": [400, 400, 400], "batch_norm": True, "dropout": 0.2}
BARS_EMBEDDING_L2 = l2(0.025)

# The SASRec paper's Amazon Games procedure: d=50, L=50, batch 128, Adam 1e-3
# with beta_2 0.98 (the paper's code). The code evaluates every 20 epochs;
# here every 10, stopping after 3 evaluations without a gain.
SASREC_GAMES_TRAINING = {
    "embedding_dim": 50,
    "max_length": 50,
    "batch_size": 128,
    "epochs": 200,
    "eval_every": 10,
    "patience": 3,
}
ADAM_BETA2_098 = {"class_name": "Adam", "config": {"learning_rate": 1e-3, "beta_2": 0.98}}

# MovieLens-100K under NCF's protocol (and loo_full): 4 negatives per
# positive redrawn every epoch, Adam, early stopping on validation NDCG@10
# after 3 epochs without a gain. Sizes and learning rates were chosen on
# validation NDCG@10 under `ncf` (benchmarks/TUNING.md) and kept for loo_full.
NCF_ML100K_TRAINING = {"train_negatives": 4, "epochs": 60, "eval_every": 1, "patience": 3}
NCF_ML100K_SOURCE = "tuned on validation NDCG@10 under ncf (benchmarks/TUNING.md)"
NCF_ML100K_PROTOCOLS = (("movielens-100k", "ncf"), ("movielens-100k-full", "loo_full"))


def register_ncf_ml100k(model, model_settings, source=NCF_ML100K_SOURCE, **training):
    """Registers `model`'s MovieLens-100K recipes: `<model>/movielens-100k`
    (`ncf`) and `<model>/movielens-100k-full` (`loo_full`), one setting."""
    from reczoo.registry import Recipe, register_recipe

    for suffix, protocol in NCF_ML100K_PROTOCOLS:
        register_recipe(
            Recipe(
                f"{model}/{suffix}", model, "movielens-100k", protocol,
                model_settings=dict(model_settings),
                training={**NCF_ML100K_TRAINING, **training}, source=source,
            )
        )  # fmt: skip


# MovieLens-1M under NCF's protocol at the paper's 64 predictive factors:
# GMF 64 wide; MLP embeddings of 256 and a [256, 128, 64] tower (the code's
# layers [512, 256, 128, 64]); batch 256, 4 negatives, Adam 1e-3, at most 20
# epochs. Not run here: the shared data lack ratings.dat (DATASETS.md).
NCF_ML1M_TRAINING = {"train_negatives": 4, "epochs": 20, "eval_every": 1, "patience": 3,
                     "batch_size": 256, "embedding_dim": 64}  # fmt: skip
NCF_ML1M_SOURCE = "He et al., WWW 2017, 64 predictive factors (not run here: no ratings.dat)"
