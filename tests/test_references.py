"""Published references apply only under their own protocols."""

from reczoo.benchmark.references import REFERENCES, meets, reference


def test_a_reference_applies_only_under_its_protocols():
    bars = reference("deepfm", "frappe-x1", "bars_x1")
    assert bars.metrics == {"auc": 0.983947} and "BARS" in bars.source
    # `frappe` under bars_ctr is a random split of a rebuilt log, not BARS' rows.
    assert reference("deepfm", "frappe", "bars_ctr") is None
    assert reference("sasrec", "amazon-games", "sasrec_10k").metrics["hr@10"] == 0.7410
    # The paper ranks against 100 negatives: no comparison under full ranking.
    assert reference("sasrec", "amazon-games", "loo_full") is None


def test_meets_needs_every_target_metric():
    assert meets({"hr@10": 0.75, "ndcg@10": 0.54}, {"hr@10": 0.741, "ndcg@10": 0.536}) is True
    assert meets({"hr@10": 0.75, "ndcg@10": 0.53}, {"hr@10": 0.741, "ndcg@10": 0.536}) is False
    assert meets({"auc": 0.99}, None) is None


def test_every_reference_names_its_source_and_protocols():
    for ref in REFERENCES:
        assert ref.source and ref.protocols and ref.metrics
        assert ref.target is None or set(ref.target) <= set(ref.metrics)
