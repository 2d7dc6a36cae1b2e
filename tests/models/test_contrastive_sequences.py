"""CL4SRec's augmentations and InfoNCE, BERT4Rec's cloze task, and both on
real data."""

import keras
import numpy as np
import pytest
from keras import ops

import reczoo
from reczoo import datasets
from reczoo.models import augment
from reczoo.training import run
from reczoo.training.plans import NextItemPlan
from reczoo.training.settings import RunSettings

IDS = np.array([[0, 0, 0, 4, 5, 6, 7, 8], [0, 0, 0, 0, 0, 0, 9, 3], [1, 2, 3, 4, 5, 6, 7, 8]])


def _rows(ids):
    return [row[row != 0].tolist() for row in np.asarray(ids)]


def test_crop_keeps_a_contiguous_right_aligned_share():
    seed = keras.random.SeedGenerator(0)
    for _ in range(5):
        out = ops.convert_to_numpy(augment.crop(IDS, 0.6, seed))
        for original, row, cropped in zip(_rows(IDS), out, _rows(out), strict=True):
            # floor(0.6 n) items, at least one, left-padded.
            assert len(cropped) == max(1, int(0.6 * len(original)))
            assert (row[: len(row) - len(cropped)] == 0).all()
            text = ",".join(map(str, original))
            assert ",".join(map(str, cropped)) in text


def test_mask_hides_real_items_only_and_reorder_shuffles_one_span():
    seed = keras.random.SeedGenerator(1)
    masked = ops.convert_to_numpy(augment.mask(IDS, 0.5, 99, seed))
    assert ((masked == 99) <= (IDS != 0)).all()  # padding is never masked
    assert ((masked == IDS) | (masked == 99)).all()
    assert (masked == 99).any()
    for _ in range(5):
        out = ops.convert_to_numpy(augment.reorder(IDS, 0.6, seed))
        for original, row in zip(IDS, out, strict=True):
            assert sorted(row.tolist()) == sorted(original.tolist())
            changed = np.flatnonzero(row != original)
            if len(changed):  # one contiguous span of at most floor(0.6 n) items
                real = int((original != 0).sum())
                assert changed.max() - changed.min() + 1 <= int(0.6 * real)
                assert (original[changed] != 0).all()


def _spec(items=12, length=6):
    return reczoo.FeatureSpec(
        [reczoo.Sequence("history", items + 2, 8, max_length=length, table="item")]
    )


def test_bert4rec_asks_for_the_next_item_at_an_appended_mask_token():
    task = reczoo.get_model("bert4rec", feature_spec=_spec(), num_heads=2)
    backbone = task.backbone
    assert backbone.mask_token == 13 and task.num_scored == 13
    history = np.array([[0, 0, 3, 4, 5, 6]], "int32")
    shifted = np.array([[0, 3, 4, 5, 6, 13]], "int32")
    want = ops.convert_to_numpy(backbone({"history": shifted})["sequence_output"])[:, -1]
    np.testing.assert_allclose(task.last_state(history), want, rtol=1e-5, atol=1e-6)
    # The mask token's row is never an item: scores cover items 0..12.
    assert task.score_items(history).shape == (1, 13)
    top = task.recommend(history, k=12, exclude_seen=False).items
    assert 13 not in top and 0 not in top


def test_the_cloze_plan_masks_each_history_and_labels_only_masked_positions():
    data = reczoo.datasets.InteractionDataset(
        "toy",
        users=np.repeat(np.arange(1, 31), 6),
        items=np.tile(np.arange(1, 7), 30) + np.repeat(np.arange(30) % 5, 6),
        timestamps=np.tile(np.arange(6), 30),
        vocabularies={"user": datasets.Vocabulary("user", list(range(1, 31))),
                      "item": datasets.Vocabulary("item", list(range(1, 12)))},
    )  # fmt: skip
    split = datasets.split(data, "loo_full", cache=False)
    task = reczoo.get_model("bert4rec", feature_spec=_spec(items=11), mask_probability=0.3)
    settings = RunSettings.build("bert4rec", "toy", "loo_full", {"max_length": 6,
                                 "batch_size": 8, "bucket_by_length": False})  # fmt: skip
    plan = NextItemPlan(data, split, task, settings, seed=0)
    for x, y in plan.epoch_batches(1):
        ids = x["history"]
        hidden = ids == task.backbone.mask_token
        assert hidden.any(axis=1).all()  # at least one masked item per history
        assert ((y != 0) == hidden).all()  # labels exactly where masked
        assert (y[hidden] >= 1).all() and (y[hidden] <= 11).all()


@pytest.fixture(scope="module")
def movielens_pop():
    import os

    if not os.path.isdir(os.environ.get("RECZOO_DATA_DIR") or "/nonexistent"):
        pytest.skip("RECZOO_DATA_DIR is not set to a folder with the public datasets")
    return run("pop", "movielens-100k", protocol="sasrec", verbose=0)


# MovieLens-100K's long histories (106 items on average) train a sequence
# model in seconds; on a small Amazon Games subset (9 items per user) a few
# epochs do not get BERT4Rec past popularity. Slow tier: about 30 s together,
# and the default run stays under 10 minutes (`pytest -m slow` runs them).
@pytest.mark.slow
@pytest.mark.parametrize(
    "name,epochs,margin,settings",
    [
        ("cl4srec", 5, 0.05, {"contrastive_weight": 0.1, "contrastive_similarity": "cos",
                              "contrastive_temperature": 0.2}),
        ("bert4rec", 10, 0.01, {"mask_probability": 0.2}),
    ],
)  # fmt: skip
def test_beats_popularity_on_movielens(movielens_pop, name, epochs, margin, settings):
    row = run(name, "movielens-100k", protocol="sasrec", epochs=epochs, eval_every=5,
              verbose=0, loss="ce", learning_rate=3e-3, dropout=0.2, batch_size=64,
              embedding_dim=32, max_length=50, **settings)  # fmt: skip
    assert row["metrics"]["ndcg@10"] > movielens_pop["metrics"]["ndcg@10"] + margin
