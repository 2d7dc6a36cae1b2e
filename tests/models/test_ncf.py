"""GMF and NeuMF: hand-computed outputs and the pair they need."""

import numpy as np
import pytest

import reczoo


def _spec(user_dim=2, item_dim=2):
    return reczoo.FeatureSpec(
        [reczoo.Categorical("user_id", 4, user_dim), reczoo.Categorical("item_id", 5, item_dim)]
    )


def _assign(embedding, users, items):
    embedding.embedding_table("user_id").embeddings.assign(np.array(users, "float32"))
    embedding.embedding_table("item_id").embeddings.assign(np.array(items, "float32"))


USERS = [[0, 0], [1, 2], [3, 4], [0, 0]]
ITEMS = [[0, 0], [5, 6], [7, 8], [0, 0], [0, 0]]
PAIRS = {"user_id": np.array([1, 2]), "item_id": np.array([2, 1])}


def test_gmf_is_the_element_wise_product_weighted_by_one_unit():
    model = reczoo.get_model("gmf", feature_spec=_spec())
    _assign(model.backbone.get_layer("feature_embedding"), USERS, ITEMS)
    out = model.backbone.predict(PAIRS, verbose=0)
    # (1, 2) * (7, 8) and (3, 4) * (5, 6)
    np.testing.assert_allclose(out["features"], [[7, 16], [15, 24]])
    head = model.get_layer("logit")
    head.set_weights([np.array([[0.5], [-0.25]], "float32"), np.array([0.1], "float32")])
    logits = np.array([7 * 0.5 - 16 * 0.25 + 0.1, 15 * 0.5 - 24 * 0.25 + 0.1])
    np.testing.assert_allclose(model.score(PAIRS), 1 / (1 + np.exp(-logits)), rtol=1e-5)


def test_neumf_fuses_the_gmf_product_and_the_mlp_tower():
    model = reczoo.get_model("neumf", feature_spec=_spec(), hidden_units=[3], mlp_embedding_dim=4)
    backbone = model.backbone
    _assign(backbone.get_layer("gmf_embedding"), USERS, ITEMS)
    mlp_users = np.arange(16, dtype="float32").reshape(4, 4) / 10
    mlp_items = np.arange(20, dtype="float32").reshape(5, 4) / 10
    _assign(backbone.get_layer("mlp_embedding"), mlp_users, mlp_items)
    kernel, bias = backbone.get_layer("tower").get_weights()[:2]
    out = backbone.predict(PAIRS, verbose=0)["features"]
    concat = np.concatenate([mlp_users[[1, 2]], mlp_items[[2, 1]]], axis=1)
    tower = np.maximum(concat @ kernel + bias, 0)
    np.testing.assert_allclose(out, np.concatenate([[[7, 16], [15, 24]], tower], 1), rtol=1e-5)
    # GMF tables take the spec's width, the MLP's their own.
    assert backbone.get_layer("gmf_embedding").embedding_table("item_id").embeddings.shape == (5, 2)
    assert backbone.get_layer("mlp_embedding").embedding_table("item_id").embeddings.shape == (5, 4)


@pytest.mark.parametrize("name", ["gmf", "neumf"])
def test_the_user_and_item_features_are_named_when_missing_or_mismatched(name):
    spec = reczoo.FeatureSpec([reczoo.Categorical("user", 4, 2), reczoo.Categorical("item", 5, 2)])
    with pytest.raises(ValueError, match=r"needs the features \['user_id', 'item_id'\]"):
        reczoo.get_model(name, feature_spec=spec)
    model = reczoo.get_model(name, feature_spec=spec, user_feature="user", item_feature="item")
    assert model.backbone.user_feature == "user"
    with pytest.raises(ValueError, match="one width"):
        reczoo.get_model(name, feature_spec=_spec(user_dim=2, item_dim=3))


@pytest.mark.parametrize("name", ["gmf", "neumf", "bpr_mf", "convncf"])
def test_the_embedding_initializer_reaches_every_table_and_the_config(name):
    spec = reczoo.FeatureSpec(
        [reczoo.Categorical("user_id", 400, 8), reczoo.Categorical("item_id", 500, 8)]
    )
    normal = {"class_name": "RandomNormal", "config": {"stddev": 0.01, "seed": 3}}
    model = reczoo.get_model(name, feature_spec=spec, embeddings_initializer=normal)
    tables = [w for w in model.backbone.weights if w.shape[0] in (400, 500) and w.shape[1] == 8]
    assert len(tables) == (4 if name == "neumf" else 2)
    for table in tables:
        # Uniform in +-0.05 (the default) has a std of 0.029; this one 0.01.
        assert 0.008 < float(np.std(table.numpy())) < 0.012
    config = model.backbone.get_config()["embeddings_initializer"]
    assert config["class_name"] == "RandomNormal" and config["config"]["stddev"] == 0.01
    default = reczoo.get_model(name, feature_spec=spec).backbone.get_config()
    assert default["embeddings_initializer"]["class_name"] == "RandomUniform"
