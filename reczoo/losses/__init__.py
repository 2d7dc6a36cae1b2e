"""Losses of reczoo's tasks, as Keras losses: BPR on pairs of rows, InfoNCE
between two views, softmax, binary cross-entropy and gSASRec's generalised
binary cross-entropy over sampled negatives, the in-batch softmax
cross-entropy of dot-product scores that retrieval trains on,
and the pair helpers BPR training reads."""

from reczoo.losses.bpr import BPRLoss, check_pairs, pair_accuracy, pair_difference
from reczoo.losses.contrastive import InfoNCE, info_nce
from reczoo.losses.sampled import (
    GeneralizedBinaryCrossentropy,
    SampledBinaryCrossentropy,
    SampledSoftmax,
    gbce_beta,
)
from reczoo.losses.softmax import dot_softmax_cross_entropy

__all__ = [
    "BPRLoss",
    "GeneralizedBinaryCrossentropy",
    "InfoNCE",
    "SampledBinaryCrossentropy",
    "SampledSoftmax",
    "check_pairs",
    "dot_softmax_cross_entropy",
    "gbce_beta",
    "info_nce",
    "pair_accuracy",
    "pair_difference",
]
