"""Published numbers that reczoo rows are compared with, with their source and protocol.

A reference applies only to rows run under one of its protocols: a number
published for BARS' fixed Frappe_x1 split says nothing about a random split
of the same log, nor does a paper's 100-negative HR@10 about full ranking.
Only published numbers live here; a library measured on the same split is a
peer row of the same run (`reczoo.benchmark.peers`), never a reference.
Plain data; no Keras.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Reference:
    """One published result.

    Attributes:
        label: the model, or a variant's label (`"sasrec-ce"`).
        dataset: the reczoo dataset name.
        protocols: the reczoo protocols under which the number is comparable.
        metrics: the published test metrics (`{"auc": ...}`, `{"hr@10": ...}`).
        source: where the number is published.
    """

    label: str
    dataset: str
    protocols: tuple
    metrics: dict
    source: str


_BARS = "BARS (Zhu et al., SIGIR 2022), FuxiCTR's best published configuration"
_SASREC = "Kang & McAuley, ICDM 2018, Table III"

REFERENCES = (
    Reference("fm", "frappe-x1", ("bars_x1",), {"auc": 0.967108}, f"{_BARS}: FM_frappe_x1"),
    Reference("deepfm", "frappe-x1", ("bars_x1",), {"auc": 0.983947},
              f"{_BARS}: DeepFM_frappe_x1"),
    Reference("dcnv2", "frappe-x1", ("bars_x1",), {"auc": 0.983824},
              f"{_BARS}: DCNv2_frappe_x1"),
    Reference("autoint_plus", "frappe-x1", ("bars_x1",), {"auc": 0.984812},
              f"{_BARS}: AutoInt+_frappe_x1 (5 layers of 128, 4 heads)"),
    Reference("xdeepfm", "frappe-x1", ("bars_x1",), {"auc": 0.984138},
              f"{_BARS}: xDeepFM_frappe_x1"),
    # The leaders of BARS' Frappe_x1 table (FuxiCTR 2.0.1 / 2.0.2).
    Reference("finalmlp", "frappe-x1", ("bars_x1",), {"auc": 0.986072, "logloss": 0.148415},
              f"{_BARS}: FinalMLP_frappe_x1 (tuner_config_16, 004)"),
    Reference("finalnet", "frappe-x1", ("bars_x1",), {"auc": 0.985744, "logloss": 0.131070},
              f"{_BARS}: FINAL_2B_frappe_x1 (tuner_config_02, 003)"),
    # The same leaders on BARS' Criteo_x1 and Avazu_x1 files (FuxiCTR 2.0.1).
    Reference("finalmlp", "criteo-x1", ("bars_x1",), {"auc": 0.814902, "logloss": 0.437025},
              f"{_BARS}: FinalMLP_criteo_x1 (tuner_config_07, 004)"),
    Reference("finalnet", "criteo-x1", ("bars_x1",), {"auc": 0.815438, "logloss": 0.436520},
              f"{_BARS}: FINAL_2B_criteo_x1 (tuner_config_01, 028)"),
    Reference("finalmlp", "avazu-x1", ("bars_x1",), {"auc": 0.766566, "logloss": 0.365803},
              f"{_BARS}: FinalMLP_avazu_x1 (tuner_config_03, 018)"),
    Reference("finalnet", "avazu-x1", ("bars_x1",), {"auc": 0.767159, "logloss": 0.365334},
              f"{_BARS}: FINAL_2B_avazu_x1 (tuner_config_04, 023)"),
    # The paper's code ranks each held-out item against 100 sampled negatives
    # for 10,000 sampled users; `sasrec` evaluates every user the same way.
    Reference("sasrec", "amazon-games", ("sasrec", "sasrec_10k"),
              {"hr@10": 0.7410, "ndcg@10": 0.5360}, f"{_SASREC}: SASRec"),
    # The same model trained with gSASRec's loss: the paper's SASRec row is
    # the number it is compared with.
    Reference("sasrec-gbce", "amazon-games", ("sasrec", "sasrec_10k"),
              {"hr@10": 0.7410, "ndcg@10": 0.5360}, f"{_SASREC}: SASRec"),
    Reference("gru4rec", "amazon-games", ("sasrec", "sasrec_10k"),
              {"hr@10": 0.6599, "ndcg@10": 0.4759}, f"{_SASREC}: GRU4Rec+"),
    Reference("caser", "amazon-games", ("sasrec", "sasrec_10k"),
              {"hr@10": 0.5282, "ndcg@10": 0.3214}, f"{_SASREC}: Caser"),
    # NCF's leave-one-out protocol: the latest item of each user against 99
    # uniform negatives (`ncf`). The paper's best NeuMF, with pre-training,
    # at 64 predictive factors.
    Reference("neumf", "movielens-1m", ("ncf",), {"hr@10": 0.730, "ndcg@10": 0.447},
              "He et al., WWW 2017, Table 2: NeuMF with pre-training, 64 factors"),
)  # fmt: skip


def reference(label, dataset, protocol):
    """The published result a row of (label, dataset, protocol) compares with, or None."""
    for ref in REFERENCES:
        if (ref.label, ref.dataset) == (label, dataset) and protocol in ref.protocols:
            return ref
    return None
