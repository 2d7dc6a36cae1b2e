"""Losses of reczoo's tasks, as Keras losses: BPR on pairs of rows, InfoNCE
between two views, softmax and binary cross-entropy over sampled negatives,
and the pair helpers BPR training reads."""

from reczoo.losses.bpr import BPRLoss, check_pairs, pair_accuracy, pair_difference
from reczoo.losses.contrastive import InfoNCE, info_nce
from reczoo.losses.sampled import SampledBinaryCrossentropy, SampledSoftmax

__all__ = [
    "BPRLoss",
    "InfoNCE",
    "SampledBinaryCrossentropy",
    "SampledSoftmax",
    "check_pairs",
    "info_nce",
    "pair_accuracy",
    "pair_difference",
]
