"""Published numbers that reczoo rows are compared with, with their source and protocol.

A reference applies only to rows run under one of its protocols: a number
published for BARS' fixed Frappe_x1 split says nothing about a random split
of the same log, nor does a paper's 100-negative HR@10 about full ranking.
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
        target: what the row was held to, where an issue set a target.
    """

    label: str
    dataset: str
    protocols: tuple
    metrics: dict
    source: str
    target: dict | None = None


_BARS = "BARS (Zhu et al., SIGIR 2022), FuxiCTR's best published configuration"
_SASREC = "Kang & McAuley, ICDM 2018, Table III"

REFERENCES = (
    Reference("fm", "frappe-x1", ("bars_x1",), {"auc": 0.967108}, f"{_BARS}: FM_frappe_x1",
              {"auc": 0.967}),
    Reference("deepfm", "frappe-x1", ("bars_x1",), {"auc": 0.983947},
              f"{_BARS}: DeepFM_frappe_x1", {"auc": 0.984}),
    Reference("dcnv2", "frappe-x1", ("bars_x1",), {"auc": 0.983824},
              f"{_BARS}: DCNv2_frappe_x1", {"auc": 0.9845}),
    Reference("autoint_plus", "frappe-x1", ("bars_x1",), {"auc": 0.984812},
              f"{_BARS}: AutoInt+_frappe_x1 (5 layers of 128, 4 heads)", {"auc": 0.9845}),
    Reference("xdeepfm", "frappe-x1", ("bars_x1",), {"auc": 0.984138},
              f"{_BARS}: xDeepFM_frappe_x1"),
    # The paper's code ranks each held-out item against 100 sampled negatives
    # for 10,000 sampled users; `sasrec` evaluates every user the same way.
    Reference("sasrec", "amazon-games", ("sasrec", "sasrec_10k"),
              {"hr@10": 0.7410, "ndcg@10": 0.5360}, f"{_SASREC}: SASRec",
              {"hr@10": 0.7410, "ndcg@10": 0.5360}),
    Reference("sasrec-ce", "amazon-games", ("sasrec", "sasrec_10k"),
              {"hr@10": 0.76, "ndcg@10": 0.55},
              "the sequential issue's target for full softmax (Klenitskiy & Vasilev, RecSys 2023)",
              {"hr@10": 0.76, "ndcg@10": 0.55}),
    Reference("gru4rec", "amazon-games", ("sasrec", "sasrec_10k"),
              {"hr@10": 0.6599, "ndcg@10": 0.4759}, f"{_SASREC}: GRU4Rec+",
              {"hr@10": 0.6599, "ndcg@10": 0.4759}),
    Reference("caser", "amazon-games", ("sasrec", "sasrec_10k"),
              {"hr@10": 0.5282, "ndcg@10": 0.3214}, f"{_SASREC}: Caser",
              {"hr@10": 0.5282, "ndcg@10": 0.3214}),
    # CL4SRec's paper has no Games numbers; the target is SASRec's.
    Reference("cl4srec", "amazon-games", ("sasrec", "sasrec_10k"),
              {"hr@10": 0.7410, "ndcg@10": 0.5360},
              f"the contrastive issue's target, SASRec's published numbers ({_SASREC})",
              {"hr@10": 0.7410, "ndcg@10": 0.5360}),
    # The TF Recommenders basic retrieval tutorial, measured on this kind of
    # machine (PEERS.md); the target is 1.1x.
    *(Reference(label, "movielens-100k", ("tfrs_retrieval",), {"top_100_accuracy": 0.242},
                "TF Recommenders 0.7.7 basic retrieval tutorial, measured (PEERS.md)",
                {"top_100_accuracy": 0.2662})
      for label in ("two_tower", "two_tower-tfrs-tutorial")),
    # NCF's leave-one-out protocol: the latest item of each user against 99
    # uniform negatives (`ncf`). The paper's best NeuMF, with pre-training,
    # at 64 predictive factors.
    Reference("neumf", "movielens-1m", ("ncf",), {"hr@10": 0.730, "ndcg@10": 0.447},
              "He et al., WWW 2017, Table 2: NeuMF with pre-training, 64 factors",
              {"hr@10": 0.730, "ndcg@10": 0.447}),
    # RecBole's NeuMF, early stopped, uni100 on MovieLens-100K (PEERS.md).
    Reference("neumf", "movielens-100k", ("ncf",), {"hr@10": 0.6575, "ndcg@10": 0.3857},
              "RecBole 1.2.1 NeuMF, leave-one-out with 100 uniform negatives (PEERS.md)",
              {"hr@10": 0.6575, "ndcg@10": 0.3857}),
)  # fmt: skip


def reference(label, dataset, protocol):
    """The published result a row of (label, dataset, protocol) compares with, or None."""
    for ref in REFERENCES:
        if (ref.label, ref.dataset) == (label, dataset) and protocol in ref.protocols:
            return ref
    return None


def meets(metrics, target):
    """Whether `metrics` reach every value of `target` (None without a target)."""
    if not target:
        return None
    return all(metrics.get(k, float("-inf")) >= v for k, v in target.items())
