"""The collaborative-filtering family: BPR, ConvNCF's interaction map, NeuMF's
pre-training, and each model against popularity on real data."""

import os

import keras
import numpy as np
import pytest

import reczoo
from reczoo.datasets.pipelines import shuffled_stacks


def _spec(dim=4, users=5, items=7):
    return reczoo.FeatureSpec(
        [reczoo.Categorical("user_id", users, dim), reczoo.Categorical("item_id", items, dim)]
    )


def test_the_outer_product_map_holds_every_pair_of_dimensions():
    p = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]], "float32")
    q = np.array([[3.0, -1.0, 2.0], [2.0, 4.0, 1.0]], "float32")
    out = keras.ops.convert_to_numpy(reczoo.layers.OuterProductMap()([p, q]))
    assert out.shape == (2, 3, 3, 1)
    np.testing.assert_allclose(out[0, :, :, 0], [[3, -1, 2], [6, -2, 4], [-3, 1, -2]])
    np.testing.assert_allclose(out[1, :, :, 0], [[1, 2, 0.5], [0, 0, 0], [6, 12, 3]])


def test_convncf_halves_the_map_to_one_cell_and_needs_a_power_of_two():
    model = reczoo.get_model("convncf", feature_spec=_spec(dim=8), channels=3)
    convs = [layer for layer in model.backbone.layers if layer.name.startswith("conv_")]
    assert [c.output.shape[1:] for c in convs] == [(4, 4, 3), (2, 2, 3), (1, 1, 3)]
    assert model.objective == "bpr"
    with pytest.raises(ValueError, match="power of two"):
        reczoo.get_model("convncf", feature_spec=_spec(dim=6))


def _tiny(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("user,item\na,x\na,y\nb,x\nb,z\nc,w\nc,y\n")
    return reczoo.datasets.load_interactions(path, user="user", item="item")


def test_bpr_pairs_stay_together_and_broken_pairs_are_refused(tmp_path):
    data = _tiny(tmp_path)
    features, labels = data.training_pairs(negatives=2, seed=0, pairwise=True)
    assert labels.tolist() == [1.0, 0.0] * 12
    users, items = features["user_id"], features["item_id"]
    assert (users[0::2] == users[1::2]).all()
    seen = set(zip(data.users.tolist(), data.items.tolist(), strict=True))
    assert all((u, i) in seen for u, i in zip(users[0::2], items[0::2], strict=True))
    assert not any((u, i) in seen for u, i in zip(users[1::2], items[1::2], strict=True))
    for x, y in shuffled_stacks({"row": np.arange(24)}, labels, 5, seed=1, group=2):
        rows = x["row"].reshape(-1)
        assert (rows[0::2] % 2 == 0).all() and (rows[1::2] == rows[0::2] + 1).all()
        assert y.shape[1] in (10, 4)
    model = reczoo.get_model("bpr_mf", feature_spec=data.feature_spec(4))
    with pytest.raises(ValueError, match=r"pair 1 \(rows 2 and 3\) has labels \[0.0, 0.0\]"):
        model.fit(features, np.array([1.0, 0.0, 0.0, 0.0] * 6), verbose=0)
    with pytest.raises(ValueError, match="batch_size` must be even"):
        model.fit(features, labels, batch_size=3, verbose=0)
    model.fit(features, labels, batch_size=4, epochs=1, verbose=0)


def test_bpr_mf_scores_the_dot_product_plus_an_item_bias():
    model = reczoo.get_model("bpr_mf", feature_spec=_spec(dim=2, users=3, items=4))
    tables = model.backbone.get_layer("feature_embedding")
    tables.embedding_table("user_id").embeddings.assign([[0, 0], [1, 2], [-1, 0.5]])
    tables.embedding_table("item_id").embeddings.assign([[0, 0], [3, 1], [0, 2], [1, 1]])
    model.backbone.get_layer("item_bias").embeddings.assign([[0], [0.5], [0], [-1]])
    scores = model.score({"user_id": np.array([1, 2, 1]), "item_id": np.array([1, 2, 3])})
    np.testing.assert_allclose(scores, [3 + 2 + 0.5, 1.0, 1 + 2 - 1], rtol=1e-6)


def _trained(name, spec, **settings):
    model = reczoo.get_model(name, feature_spec=spec, **settings)
    for variable in model.trainable_variables:
        variable.assign(np.random.default_rng(len(variable.path)).normal(size=variable.shape))
    return model


def test_neumf_from_gmf_and_mlp_gives_the_fused_logit_before_training():
    spec, wide = _spec(dim=4), _spec(dim=8)
    gmf, mlp = _trained("gmf", spec), _trained("mlp", wide, hidden_units=[8, 4])
    neumf = reczoo.get_model(
        "neumf", feature_spec=spec, hidden_units=[8, 4], mlp_embedding_dim=8,
        pretrained_gmf=gmf, pretrained_mlp=mlp, pretrain_alpha=0.3,
    )  # fmt: skip
    pairs = {"user_id": np.array([1, 2, 3, 4]), "item_id": np.array([1, 3, 5, 6])}

    def logit(model):
        p = model.score(pairs).astype("float64")
        return np.log(p / (1 - p))

    # He et al. (2017), eq. 13: h = [alpha h_GMF ; (1 - alpha) h_MLP].
    np.testing.assert_allclose(logit(neumf), 0.3 * logit(gmf) + 0.7 * logit(mlp), atol=1e-4)
    with pytest.raises(ValueError, match="both `pretrained_gmf` and `pretrained_mlp`"):
        reczoo.get_model("neumf", feature_spec=spec, pretrained_gmf=gmf)
    with pytest.raises(ValueError, match="shapes"):
        reczoo.get_model(
            "neumf", feature_spec=spec, hidden_units=[8, 4], pretrained_gmf=gmf, pretrained_mlp=mlp
        )
    with pytest.raises(ValueError, match="must be a trained GMF"):
        reczoo.get_model("neumf", feature_spec=spec, pretrained_gmf=mlp, pretrained_mlp=mlp)


@pytest.fixture(scope="module")
def movielens_subset():
    if not os.environ.get("RECZOO_DATA_DIR"):
        pytest.skip("RECZOO_DATA_DIR is not set to a folder with the public datasets")
    data = reczoo.datasets.load("movielens-100k")
    subset = data.select(data.users <= 400, name="movielens-100k-users-1-400")
    pop = reczoo.run("pop", subset, protocol="ncf", verbose=0)
    return subset, pop["metrics"]["hr@10"]


@pytest.mark.parametrize(
    "name, settings",
    [
        ("bpr_mf", {"embedding_dim": 32, "learning_rate": 5e-3}),
        # The same runner and evaluation as MF-BPR's, 6-12 s each on a 2-core
        # AVX2 CPU: the slow tier runs them, the default tier stays under its
        # 5 minutes there.
        pytest.param("gmf", {"learning_rate": 5e-3}, marks=pytest.mark.slow),
        pytest.param("neumf", {"learning_rate": 3e-3}, marks=pytest.mark.slow),
        # The slowest to train (the outer-product CNN); the slow tier runs it.
        pytest.param(
            "convncf", {"embedding_dim": 8, "learning_rate": 5e-3}, marks=pytest.mark.slow
        ),
    ],
)
def test_beats_popularity_on_a_movielens_100k_subset(movielens_subset, name, settings):
    data, pop = movielens_subset
    ours = reczoo.run(name, data, protocol="ncf", epochs=4, batch_size=512, verbose=0,
                      steps_per_execution=16, **settings)  # fmt: skip
    assert ours["metrics"]["hr@10"] > pop + 0.03, (ours["metrics"]["hr@10"], pop)
