import numpy as np
import pytest
from testing import tiny_spec

import reczoo
from reczoo.features import Feature


@pytest.mark.parametrize(
    "feature",
    [
        reczoo.Categorical("user_id", 10, 8),
        reczoo.Categorical("city", embedding_dim=4, hash_bins=100, dtype="string"),
        reczoo.MultiHot("genres", 20, 8, 3, combiner="sqrtn", table="genre"),
        reczoo.Sequence("history", 50, 8, max_length=20, table="item"),
        reczoo.Numerical("price", dim=3),
    ],
)
def test_feature_round_trip(feature):
    config = feature.get_config()
    assert Feature.from_config(config) == feature
    assert type(feature).from_config(config) == feature


def test_positional_signatures_follow_the_documented_order():
    bag = reczoo.MultiHot("genres", 20, 8, 3, "sum")
    assert (bag.vocabulary_size, bag.embedding_dim, bag.max_length, bag.combiner) == (
        20,
        8,
        3,
        "sum",
    )
    seq = reczoo.Sequence("history", 50, 8, 20)
    assert seq.max_length == 20


def test_spec_round_trip_and_tables():
    spec = tiny_spec()
    assert reczoo.FeatureSpec.from_config(spec.get_config()) == spec
    assert reczoo.FeatureSpec.from_json(spec.to_json()) == spec
    tables = spec.tables
    assert tables["item"].features == ("item_id", "history")
    assert tables["item"].vocabulary_size == 21
    assert set(tables) == {"user_id", "item", "genres"}


def test_conflicting_table_width_names_both_values():
    with pytest.raises(ValueError, match=r"table='item' with embedding_dim=16 .* and 32"):
        reczoo.FeatureSpec(
            [
                reczoo.Categorical("item_id", 100, 16, table="item"),
                reczoo.Sequence("history", 100, 32, max_length=5, table="item"),
            ]
        )


def test_conflicting_table_size_names_both_values():
    with pytest.raises(ValueError, match=r"vocabulary_size=100 .* and 101"):
        reczoo.FeatureSpec(
            [
                reczoo.Categorical("item_id", 100, 16, table="item"),
                reczoo.Sequence("history", 101, 16, max_length=5, table="item"),
            ]
        )


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: reczoo.Categorical("u", 0, 8), "vocabulary_size=0"),
        (lambda: reczoo.Categorical("u", 10, -1), "embedding_dim=-1"),
        (
            lambda: reczoo.Categorical("u", embedding_dim=8),
            "needs `vocabulary_size` or `hash_bins`",
        ),
        (lambda: reczoo.Categorical("u", 10, 8, hash_bins=5), "not both"),
        (lambda: reczoo.MultiHot("g", 10, 8, 3, combiner="median"), "combiner='median'"),
        (lambda: reczoo.Sequence("h", 10, 8, max_length=0), "max_length=0"),
        (lambda: reczoo.Numerical("x", dim=0), "dim=0"),
        (lambda: reczoo.Categorical("", 10, 8), "non-empty"),
    ],
)
def test_feature_validation(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_spec_rejects_duplicates_and_empty():
    with pytest.raises(ValueError, match=r"duplicates: \['u'\]"):
        reczoo.FeatureSpec([reczoo.Categorical("u", 3, 2), reczoo.Numerical("u")])
    with pytest.raises(ValueError, match="at least one"):
        reczoo.FeatureSpec([])
    with pytest.raises(TypeError):
        reczoo.FeatureSpec(reczoo.Numerical("x"))


def test_check_inputs_names_the_bad_value():
    spec = tiny_spec()
    batch = spec.dummy_inputs(4)
    assert set(spec.check_inputs(batch)) == set(spec.names)
    bad = dict(batch, item_id=np.array([1, 2, 21, 3]))
    with pytest.raises(
        ValueError, match=r"'item_id' has an id outside its vocabulary: 21 not in \[0, 21\)"
    ):
        spec.check_inputs(bad)
    missing = {k: v for k, v in batch.items() if k != "age"}
    with pytest.raises(ValueError, match=r"lack features \['age'\]"):
        spec.check_inputs(missing)
    wrong_shape = dict(batch, history=np.zeros((4, 6), dtype="int32"))
    with pytest.raises(ValueError, match=r"'history' expects .*\(None, 5\).*shape=\(4, 6\)"):
        spec.check_inputs(wrong_shape)
