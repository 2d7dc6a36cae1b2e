"""Fine-tuning a preset on new data: known ids keep their rows, new ids get new ones."""

import json

import numpy as np
import pytest

import reczoo
from reczoo import datasets
from reczoo.training.finetuning import KeepRows, finetune, transfer

# GRU4Rec: the quickest next-item model to trace; the rows kept and grown are
# the shared item table's and the user vocabulary's, whatever the backbone.
SETTINGS = {"embedding_dim": 8, "max_length": 8, "batch_size": 16}


def _log(path, users, items, seed, rated=False):
    """A click log: each user clicks 8 items in time order (`rated`: with
    stars, 1 to 5)."""
    rng = np.random.default_rng(seed)
    lines = ["user_id,item_id,ts" + ",stars" * rated]
    for u in users:
        for t, i in enumerate(rng.choice(items, size=8, replace=False)):
            lines.append(f"u{u},i{i},{t}" + f",{1 + (u * i) % 5}" * rated)
    path.write_text("\n".join(lines) + "\n")
    return datasets.load_interactions(path, time="ts", rating="stars" if rated else None)


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("finetune")
    old = _log(folder / "old.csv", range(30), range(40), seed=0)
    reczoo.run("gru4rec", old, protocol="loo_full", epochs=2, verbose=0,
               output=folder / "preset", **SETTINGS)  # fmt: skip
    # Ten users and ten items appear; users 0..9 are gone.
    new = _log(folder / "new.csv", range(10, 40), range(10, 50), seed=1)
    return folder, new


def _items(task):
    return task.item_embedding.embeddings.numpy()


@pytest.mark.jax
def test_known_ids_keep_their_rows_and_new_ids_get_rows(pretrained, tmp_path):
    folder, new = pretrained
    parent = reczoo.from_preset(folder / "preset")
    result = finetune(folder / "preset", new, epochs=1, verbose=0, freeze="embeddings",
                      output=tmp_path / "tuned")  # fmt: skip
    growth = result["vocabulary_growth"]
    old_items = parent.vocabularies["item"]
    added = sorted(set(new.vocabularies["item"].to_list()[1:]) - set(old_items))
    known = len(old_items)
    assert growth["item"] == {"known": known, "grown": known + len(added)}
    assert growth["user"] == {"known": 31, "grown": 41}
    before, after = _items(parent), _items(result.model)
    assert after.shape == (known + len(added), before.shape[1])
    # Frozen pretrained rows are bit-identical after training.
    np.testing.assert_array_equal(after[:known], before)
    tuned = reczoo.from_preset(tmp_path / "tuned")
    np.testing.assert_array_equal(_items(tuned)[:known], before)
    # A raw id keeps its index; the new ones come after the known ones.
    new_items = tuned.vocabularies["item"]
    assert new_items[:known] == old_items
    assert sorted(new_items[known:]) == added
    assert tuned.preset_metadata["parent"]["preset"] == "preset"
    # Fine-tuning leaves no constraint behind.
    assert not any(isinstance(v.constraint, KeepRows) for v in result.model.weights)


@pytest.mark.jax
def test_ids_absent_from_the_new_data_keep_their_rows(pretrained):
    folder, new = pretrained
    parent = reczoo.from_preset(folder / "preset")
    result = finetune(folder / "preset", new, epochs=1, verbose=0, learning_rate=0.05)
    before, after = _items(parent), _items(result.model)
    known = len(before)
    trained = np.unique(result.split.train.items)
    absent = np.setdiff1d(np.arange(1, known), trained)
    assert len(absent) and len(np.intersect1d(trained, np.arange(1, known)))
    np.testing.assert_array_equal(after[absent], before[absent])
    known_trained = trained[trained < known]
    assert not np.allclose(after[known_trained], before[known_trained])


@pytest.mark.jax
def test_backbone_freeze_trains_only_new_rows(pretrained):
    folder, new = pretrained
    parent = reczoo.from_preset(folder / "preset")
    result = finetune(folder / "preset", new, epochs=1, verbose=0, freeze="backbone",
                      learning_rate=0.05)  # fmt: skip
    for old, now in zip(parent.weights, result.model.weights, strict=True):
        rows = old.shape[0] if len(old.shape) else None
        np.testing.assert_array_equal(now.numpy()[:rows], old.numpy())
    grown = _items(result.model)[len(_items(parent)) :]
    assert len(grown) and not np.allclose(grown, 0)


def test_bad_freeze_and_missing_settings_are_refused(pretrained, tmp_path):
    folder, new = pretrained
    with pytest.raises(ValueError, match="freeze must be one of"):
        finetune(folder / "preset", new, freeze="all")
    bare = reczoo.from_preset(folder / "preset")
    bare.save_to_preset(tmp_path / "bare", metadata={"dataset": "toy"})
    with pytest.raises(reczoo.PresetError, match="does not record the model and settings"):
        finetune(tmp_path / "bare", new)


def test_default_learning_rate_is_a_tenth_of_the_presets(pretrained):
    folder, new = pretrained
    parent = json.loads((folder / "preset" / "metadata.json").read_text())
    result = finetune(folder / "preset", new, epochs=1, verbose=0)
    assert result["hyperparameters"]["learning_rate"] == pytest.approx(
        parent["hyperparameters"].get("learning_rate", 1e-3) / 10
    )


def test_finetune_command_reads_a_data_file(pretrained, tmp_path):
    from reczoo import cli

    folder, _ = pretrained
    args = ["reczoo", "finetune", f"--preset={folder / 'preset'}",
            f"--data_file={folder / 'new.csv'}", "--time_col=ts", "--epochs=1",
            "--freeze=embeddings", f"--output={tmp_path / 'tuned'}", "--quiet"]  # fmt: skip
    assert cli.main(args) == 0
    meta = json.loads((tmp_path / "tuned" / "metadata.json").read_text())
    assert meta["freeze"] == "embeddings" and meta["parent"]["preset"] == "preset"
    assert meta["vocabulary_growth"]["user"] == {"known": 31, "grown": 41}
    # The output is checked before any work, and never overwritten unasked.
    assert cli.main(args) == 1


def test_rows_of_absent_ids_are_kept_when_nothing_grew(pretrained, tmp_path):
    folder, _ = pretrained
    parent = reczoo.from_preset(folder / "preset")
    # Known users and only the first half of the known items: no vocabulary grows.
    known = sorted(int(v[1:]) for v in parent.vocabularies["item"][1:])
    same = _log(tmp_path / "same.csv", range(30), known[:20], seed=2)
    result = finetune(folder / "preset", same, epochs=1, verbose=0, learning_rate=0.05)
    growth = result["vocabulary_growth"]
    assert all(g["known"] == g["grown"] for g in growth.values())
    before, after = _items(parent), _items(result.model)
    index = {v: i for i, v in enumerate(parent.vocabularies["item"])}
    absent = [index[f"i{i}"] for i in known[20:]]
    present = [index[f"i{i}"] for i in known[:20]]
    np.testing.assert_array_equal(after[absent], before[absent])
    assert not np.allclose(after[present], before[present])


def test_data_of_another_kind_is_refused_naming_the_features():
    from reczoo.presets import PresetError

    def fm(*names):
        return reczoo.get_model(
            "fm", feature_spec=reczoo.FeatureSpec([reczoo.Categorical(n, 5, 2) for n in names])
        )

    with pytest.raises(PresetError, match=r"missing: \['genre'\], new: none"):
        transfer(fm("user_id", "item_id", "genre"), fm("user_id", "item_id"), {})


def test_a_presets_recent_weighting_stays_with_its_leave_last_out_protocol(tmp_path):
    # MF-BPR, GMF and FM's default runs weight recent interactions under
    # leave-last-out; fine-tuning under a split of rows drops that setting.
    rated = _log(tmp_path / "rated.csv", range(30), range(40), seed=0, rated=True)
    reczoo.run("fm", rated, protocol="loo_full", epochs=1, verbose=0, recent_weight=2,
               output=tmp_path / "fm", embedding_dim=8)  # fmt: skip
    again = finetune(tmp_path / "fm", rated, epochs=1, verbose=0)
    assert again["hyperparameters"]["recent_weight"] == 2
    rows = finetune(
        tmp_path / "fm", rated, protocol="random_split", epochs=1, verbose=0, objective="regression"
    )  # its ratings, as a split of rows reads them
    assert "recent_weight" not in rows["hyperparameters"]
    assert "recent_share" not in rows["hyperparameters"]
