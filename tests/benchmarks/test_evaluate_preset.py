"""A preset is scored only under protocols that hold out the items it never saw."""

import evaluate_preset
import pytest

from reczoo import datasets


def _trained(name):
    return datasets.get_protocol(name).to_dict()


@pytest.mark.parametrize("target", ["sasrec", "sasrec_10k", "loo_full", "loo_popularity"])
def test_leave_one_out_protocols_share_held_out_items(target):
    evaluate_preset.check_same_held_out(_trained("sasrec"), datasets.get_protocol(target))


def test_row_splits_are_refused():
    with pytest.raises(ValueError, match="random_split"):
        evaluate_preset.check_same_held_out(_trained("sasrec"), datasets.get_protocol("bars_ctr"))
    with pytest.raises(ValueError, match="random_split"):
        evaluate_preset.check_same_held_out(_trained("bars_ctr"), datasets.get_protocol("loo_full"))


def test_other_eligible_users_are_refused():
    protocol = datasets.Protocol("loo_full_5", "loo_full", min_interactions=5)
    with pytest.raises(ValueError, match="min_interactions=5"):
        evaluate_preset.check_same_held_out(_trained("sasrec"), protocol)
