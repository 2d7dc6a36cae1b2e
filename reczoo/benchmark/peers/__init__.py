"""Peer libraries run side by side with reczoo: DeepCTR's DeepFM, RecBole's
SASRec, NeuMF, BPR and ConvNCF, and TF Recommenders' basic retrieval model.

Each peer lives in its own virtual environment, outside reczoo's, found at
`$RECZOO_PEERS_DIR/<peer>/bin/python` (default `~/.cache/reczoo-peers`).
A comparison exports one split, trains reczoo on it, then runs the peer's
script (beside this file, executed by the peer's interpreter, never imported
here) with the same settings, and scores both libraries' predictions with
`reczoo.metrics`. It returns two result rows in `reczoo train`'s form.
"""

import dataclasses
import json
import os
import shlex
import tempfile
from pathlib import Path

import numpy as np

from reczoo import datasets
from reczoo.benchmark.peers.sidebyside import peer_row, run_peer
from reczoo.metrics import auc, logloss, ranking_metrics
from reczoo.training.runner import run


@dataclasses.dataclass(frozen=True)
class Peer:
    """A peer library: its environment's name and what installs it."""

    name: str
    requirements: tuple
    no_deps: tuple = ()

    def python(self):
        root = os.environ.get("RECZOO_PEERS_DIR") or Path.home() / ".cache" / "reczoo-peers"
        return Path(root) / self.name / "bin" / "python"

    def setup_command(self):
        """Shell commands that create the environment where `python()` looks."""
        env = f"${{RECZOO_PEERS_DIR:-$HOME/.cache/reczoo-peers}}/{self.name}"
        pip = f"{env}/bin/pip install"
        steps = [f"python3 -m venv {env}", f"{pip} {' '.join(map(shlex.quote, self.requirements))}"]
        if self.no_deps:
            steps.append(f"{pip} --no-deps {' '.join(map(shlex.quote, self.no_deps))}")
        return " && ".join(steps)


PEERS = {
    # DeepCTR is tested upstream with tf-keras; tf-keras goes in without its
    # dependencies, which would pull a second TensorFlow beside tensorflow-cpu.
    "deepctr": Peer(
        "deepctr",
        ("deepctr==0.9.4", "tensorflow-cpu==2.21.*", "numpy<3", "h5py", "requests"),
        ("tf-keras==2.21.*",),
    ),
    # torch==2.13.0 exactly: a range pulls a CUDA build of several GB.
    # RecBole 1.2.1 breaks on numpy 2 and on setuptools 81 (pkg_resources).
    "recbole": Peer(
        "recbole",
        ("torch==2.13.0", "recbole==1.2.1", "numpy<2", "scipy<1.14", "pandas<2.3", "setuptools<81"),
    ),
    # TFRS 0.7 imports only on tf-keras; both without their dependencies,
    # which would pull a second TensorFlow beside tensorflow-cpu.
    "tfrs": Peer(
        "tfrs",
        ("tensorflow-cpu==2.21.*", "numpy<3"),
        ("tf-keras==2.21.*", "tensorflow-recommenders==0.7.7"),
    ),
}

# BARS' DeepFM on Frappe, as the deepfm recipes of frappe and frappe-x1 hold
# it; DeepCTR is given the same.
DEEPCTR_SETTINGS = {
    "embedding_dim": 10,
    "hidden_units": [400, 400, 400],
    "dropout": 0.2,
    "batch_norm": True,
    "l2_embedding": 0.025,
    "learning_rate": 1e-3,
    "batch_size": 4096,
    "epochs": 100,
    "patience": 2,
}

# The next-item comparisons on Amazon Games, full softmax (RecBole's CE loss)
# at the recipes' width and history. RecBole takes minutes per epoch here, so
# it trains one epoch and reczoo `reczoo_epochs` (no early stopping either
# side): the test metrics compare reczoo after more epochs in less time, and
# the time to RecBole's validation score (validation after every epoch) says
# which library gets there first.
_RECBOLE_NEXT_ITEM = {
    "embedding_dim": 50,
    "max_length": 50,
    "learning_rate": 1e-3,
    "batch_size": 128,
    "loss": "ce",
    "epochs": 1,
    "reczoo_epochs": 6,
}
# SASRec: the sasrec-ce recipe's shape.
RECBOLE_SETTINGS = {**_RECBOLE_NEXT_ITEM, "num_blocks": 2, "num_heads": 1, "dropout": 0.5}
# GRU4Rec: the model's default GRU of 100 units and dropout 0.2.
RECBOLE_GRU4REC = {**_RECBOLE_NEXT_ITEM, "hidden_units": 100, "dropout": 0.2}
# The next-item comparisons: RecBole's model, the settings, those of them
# that are reczoo model settings, and the suite label that reproduces it.
RECBOLE_SEQUENTIAL = {
    "sasrec": ("SASRec", RECBOLE_SETTINGS,
               ("num_blocks", "num_heads", "dropout", "loss", "learning_rate"), "sasrec-ce"),
    "gru4rec": ("GRU4Rec", RECBOLE_GRU4REC,
                ("hidden_units", "dropout", "loss", "learning_rate"), "gru4rec"),
}  # fmt: skip


# The collaborative-filtering models against RecBole's, on MovieLens-100K
# leave-one-out with reczoo's saved 99 negatives: one setting each for both
# libraries, a fixed number of epochs (no early stopping), the same negatives
# per positive in training. reczoo's model settings, RecBole's names in
# recbole_general.py: RecBole's default NeuMF shape, no pre-training on
# either side (RecBole's needs runs of its own). BPR has no item bias or L2
# here because RecBole's has neither. reczoo trains as `reczoo train` does:
# several steps per call (`reczoo.training.loop.execution_steps`), one
# compiled loop for the models that compile with XLA (`training.fused`).
# RecBole's own embedding initialisers, given to reczoo too: NeuMF draws its
# tables from N(0, 0.01) (the NCF paper's), BPR uses Xavier's normal.
_RECBOLE_NEUMF_INIT = {"class_name": "RandomNormal", "config": {"stddev": 0.01}}
_RECBOLE_BPR_INIT = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "untruncated_normal"},
}
RECBOLE_CF = {
    "neumf": (
        "NeuMF",
        {"embedding_dim": 64, "mlp_embedding_dim": 64, "hidden_units": [128, 64],
         "dropout": 0.1, "learning_rate": 1e-3, "batch_size": 2048, "train_negatives": 4,
         "epochs": 15,
         "embeddings_initializer": _RECBOLE_NEUMF_INIT},
    ),
    "bpr_mf": (
        "BPR",
        {"embedding_dim": 64, "item_bias": False, "learning_rate": 1e-3, "batch_size": 256,
         "train_negatives": 4, "epochs": 15,
         "embeddings_initializer": _RECBOLE_BPR_INIT},
    ),
    "convncf": (
        "ConvNCF",
        {"embedding_dim": 32, "channels": 32, "dropout": 0.0, "reg_weights": [0.0, 0.0],
         "learning_rate": 1e-3, "batch_size": 256, "train_negatives": 1, "epochs": 3},
    ),
}  # fmt: skip


def missing(peer):
    """Why `peer` cannot run here (with the command that fixes it), or None."""
    python = PEERS[peer].python()
    if python.exists():
        return None
    return f"no {peer} environment at {python}; create it with: {PEERS[peer].setup_command()}"


def compare(peer, dataset, protocol, seed=0, verbose=1, model=None, precision="float32",
            settings=None):  # fmt: skip
    """reczoo then `peer` on one split of `dataset`; returns (ours, theirs) rows.

    `model` picks among a peer's comparisons (RecBole: `sasrec`, `gru4rec`,
    `neumf`, `bpr_mf`, `convncf`; TFRS: `two_tower`). `precision` is
    reczoo's dtype policy (`--precision`); the peer trains as it does by
    default, in float32, and its row says so. `settings` are run settings of
    reczoo's side on top of the pair's (`{"recent_weight": 3}`); the peer's
    are unchanged."""
    ours = {} if precision == "float32" else {"dtype": precision}
    ours.update(settings or {})
    if peer == "deepctr":
        return _deepctr(dataset, protocol, seed, verbose, ours)
    if peer == "recbole" and model in RECBOLE_CF:
        return _recbole_cf(model, dataset, protocol, seed, verbose, ours)
    if peer == "recbole":
        return _recbole(model or "sasrec", dataset, protocol, seed, verbose, ours)
    if peer == "tfrs":
        return _tfrs(dataset, protocol, seed, verbose, ours)
    raise ValueError(f"Unknown peer {peer!r}. Known peers: {', '.join(sorted(PEERS))}.")


def _command(label, dataset, seed):
    suffix = f" --seeds={seed}" if seed else ""
    return f"reczoo benchmark --suite=paper --peers --models={label} --datasets={dataset}{suffix}"


def _deepctr(dataset, protocol, seed, verbose, overrides):
    settings = {**DEEPCTR_SETTINGS, "seed": seed}
    data = datasets.load(dataset)
    split = datasets.split(data, protocol, seed=seed)
    # The deepfm recipe of this dataset holds the same settings (BARS').
    ours = run("deepfm", data, protocol=protocol, seed=seed, verbose=verbose, **overrides)
    with tempfile.TemporaryDirectory() as tmp:
        data_path, pred_path = Path(tmp) / "split.npz", Path(tmp) / "predictions.npz"
        _export_ctr(data_path, data, split)
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        peer, summary, wall = run_peer(
            PEERS["deepctr"].python(), "deepctr_deepfm.py", pred_path,
            [f"--data={data_path}", f"--config={json.dumps(settings)}"], env,
        )  # fmt: skip
    valid_y, test_y = data.labels[split.valid_rows], data.labels[split.test_rows]
    valid_p, test_p = peer["valid_predictions"], peer["test_predictions"]
    theirs = peer_row(
        "deepctr_deepfm", data, split, settings, summary,
        ({"auc": auc(test_y, test_p), "logloss": logloss(test_y, test_p)},
         {"auc": auc(valid_y, valid_p), "logloss": logloss(valid_y, valid_p)}),
        len(test_y), wall, _command("deepfm", dataset, seed),
        peer_mode="tf-keras (TF_USE_LEGACY_KERAS=1)", history=summary.get("history", []),
    )  # fmt: skip
    return dict(ours), theirs


def _export_ctr(path, data, split):
    arrays = {}
    columns = list(data.categorical)
    for stage in ("train", "valid", "test"):
        rows = split.rows(stage)
        for c in columns:
            arrays[f"{stage}_{c}"] = data.categorical[c][rows]
        arrays[f"{stage}_labels"] = data.labels[rows]
    vocab = {c: len(data.vocabularies[c]) for c in columns}
    np.savez(path, columns=json.dumps(columns), vocabulary_sizes=json.dumps(vocab), **arrays)


def export_sequences(directory, name, split):
    """RecBole's atomic file (position as timestamp) and reczoo's split with
    its saved negatives; returns the split's path."""
    folder = Path(directory) / name
    folder.mkdir(parents=True)
    histories = {}
    with open(folder / f"{name}.inter", "w") as f:
        f.write("user_id:token\titem_id:token\ttimestamp:float\n")
        for user, items in enumerate(split.histories):
            if len(items) == 0:
                continue
            histories[str(user)] = [int(i) for i in items]
            f.writelines(f"{user}\t{item}\t{t}\n" for t, item in enumerate(items))
    (Path(directory) / "histories.json").write_text(json.dumps(histories))
    split_path = Path(directory) / "split.npz"
    split.save(split_path)
    return split_path


def _recbole(model, dataset, protocol, seed, verbose, overrides):
    threads = os.cpu_count()
    recbole_model, shared, model_keys, label = RECBOLE_SEQUENTIAL[model]
    settings = {**shared, "seed": seed, "threads": threads}
    data = datasets.load(dataset)
    split = datasets.split(data, protocol, seed=seed)
    epochs = settings["reczoo_epochs"]
    ours = run(
        model, data, protocol=protocol, seed=seed, epochs=epochs, verbose=verbose,
        recipe="none", patience=epochs, eval_every=1,
        batch_size=settings["batch_size"], embedding_dim=settings["embedding_dim"],
        max_length=settings["max_length"], **{k: settings[k] for k in model_keys}, **overrides,
    )  # fmt: skip
    theirs = _run_recbole("recbole_sequential.py", recbole_model, data, split, settings, label)
    return dict(ours), theirs


def _run_recbole(script, recbole_model, data, split, settings, label):
    """RecBole's `script` on `split` (exported with its saved negatives);
    its row, with the candidates scored by reczoo's metrics."""
    threads = settings["threads"]
    with tempfile.TemporaryDirectory() as tmp:
        name = "reczoo_interactions"  # not a name RecBole ships a copy of
        split_path = export_sequences(tmp, name, split)
        output = Path(tmp) / "scores.npz"
        env = dict(os.environ, TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD="1", OMP_NUM_THREADS=str(threads))
        peer, summary, wall = run_peer(
            PEERS["recbole"].python(), script, output,
            [f"--data_dir={tmp}", f"--dataset={name}", f"--split={split_path}",
             f"--model={recbole_model}", f"--config={json.dumps(settings)}"],
            env, cwd=tmp,
        )  # fmt: skip
    valid_s, test_s = peer["valid_scores"], peer["test_scores"]
    # Validation after each epoch, scored here as reczoo's own history is.
    untimed = [None] * len(summary["losses"])
    by_epoch = peer.get("valid_scores_by_epoch", untimed)
    seconds = summary.get("epoch_train_seconds") or untimed
    history = []
    for i, (loss, scores, spent) in enumerate(
        zip(summary["losses"], by_epoch, seconds, strict=True)
    ):
        row = {"epoch": i + 1, "loss": loss}
        if scores is not None:
            row.update(_ranking(scores), train_seconds=spent)
        history.append(row)
    return peer_row(
        f"recbole_{recbole_model.lower()}", data, split, settings, summary,
        (_ranking(test_s), _ranking(valid_s)), test_s.size, wall,
        _command(label, data.name, settings["seed"]), monitor=None,
        max_epochs=settings["epochs"], history=history,
        peer_mode=f"torch CPU, {summary['threads']} threads",
    )  # fmt: skip


def _ranking(scores):
    """Ranking metrics of candidate scores whose first column is the held-out item."""
    labels = np.zeros(scores.shape, dtype="float32")
    labels[:, 0] = 1.0
    return ranking_metrics(scores, labels, (5, 10, 20))


def recbole_cf_settings(model):
    """reczoo's settings in the RecBole comparison of `model` (`RECBOLE_CF`),
    trained without a recipe."""
    # RecBole's ConvNCF has dropout and L2 weights that reczoo's lacks; both zero.
    recbole_only = ("reg_weights", "dropout") if model == "convncf" else ()
    return {k: v for k, v in RECBOLE_CF[model][1].items() if k not in recbole_only}


def _recbole_cf(model, dataset, protocol, seed, verbose, overrides):
    threads = os.cpu_count()
    recbole_model, shared = RECBOLE_CF[model]
    settings = {**shared, "seed": seed, "threads": threads}
    data = datasets.load(dataset)
    split = datasets.split(data, protocol, seed=seed)
    if not split.protocol.leave_one_out or split.valid_negatives is None:
        raise ValueError(
            f"The RecBole comparison scores saved negatives; {protocol!r} has none. Use ncf."
        )
    run_keys = ("embedding_dim", "batch_size", "train_negatives", "epochs")
    ours_settings = recbole_cf_settings(model)
    ours = run(
        model, data, protocol=protocol, seed=seed, verbose=verbose, recipe="none",
        patience=shared["epochs"], eval_every=1,
        **{k: ours_settings.pop(k) for k in run_keys}, **ours_settings, **overrides,
    )  # fmt: skip
    if model == "convncf":
        settings["conv_layers"] = int(np.log2(settings["embedding_dim"]))
    theirs = _run_recbole("recbole_general.py", recbole_model, data, split, settings, model)
    return dict(ours), theirs


# The TF Recommenders basic retrieval tutorial, as reczoo's
# two_tower-tfrs-tutorial recipe holds it; TFRS is given the same.
TFRS_SETTINGS = {"embedding_dim": 32, "learning_rate": 0.1, "batch_size": 8192, "epochs": 3}


def _tfrs(dataset, protocol, seed, verbose, overrides):
    from reczoo.metrics.evaluators import retrieval_metrics
    from reczoo.models.topk import Interactions

    settings = {**TFRS_SETTINGS, "seed": seed}
    data = datasets.load(dataset)
    split = datasets.split(data, protocol, seed=seed)
    ours = run(
        "two_tower", data, protocol=protocol, seed=seed, verbose=verbose,
        recipe=f"two_tower-tfrs-tutorial/{dataset}", **overrides,
    )  # fmt: skip
    users = np.asarray(data.vocabularies["user"].to_list(), dtype=object)
    titles = np.asarray([""] + [data.titles[i] for i in range(1, data.num_items + 1)])
    train, test = split.rows("train"), split.rows("test")
    with tempfile.TemporaryDirectory() as tmp:
        data_path, output = Path(tmp) / "split.npz", Path(tmp) / "vectors.npz"
        np.savez(
            data_path,
            train_users=users[data.users[train]].astype(str),
            train_titles=titles[data.items[train]],
            test_users=users[data.users[test]].astype(str),
            test_titles=titles[data.items[test]],
            item_titles=titles,
        )
        env = dict(os.environ, TF_USE_LEGACY_KERAS="1")
        peer, summary, wall = run_peer(
            PEERS["tfrs"].python(), "tfrs_retrieval.py", output,
            [f"--data={data_path}", f"--config={json.dumps(settings)}"], env,
        )  # fmt: skip
    seen = data.select(train)
    order = seen.order()
    seen = Interactions(seen.users[order], seen.items[order], data.num_users + 1)

    def score(queries, items):
        return retrieval_metrics(
            queries, items, data.items[test], users=data.users[test], seen=seen
        )

    metrics = score(peer["query_vectors"], peer["item_vectors"])
    # The tutorial's protocol has no validation split: the time to an
    # accuracy reads the test score after each epoch (nothing selects on it).
    metric = ours["monitor"]
    their_curve = [
        {"epoch": i + 1, "train_seconds": round(seconds, 2), metric: score(q, v)[metric]}
        for i, (seconds, q, v) in enumerate(zip(
            summary["epoch_train_seconds_without_train_metrics"],
            peer["epoch_query_vectors"], peer["epoch_item_vectors"], strict=True,
        ))
    ]  # fmt: skip
    ours = dict(ours)
    ours["test_curve"] = _test_curve(data, dataset, protocol, seed, ours, overrides)
    examples = summary["train_samples"]
    theirs = peer_row(
        "tfrs_retrieval", data, split, settings, summary, (metrics, {}),
        len(test) * data.num_items, wall, _command("two_tower", dataset, seed), monitor=None,
        max_epochs=settings["epochs"],
        history=[{"epoch": i + 1, "loss": v} for i, v in enumerate(summary["losses"])],
        peer_mode="tf-keras (TF_USE_LEGACY_KERAS=1), top-K metrics computed in training as "
        "in the tutorial",
        tfrs_reported=summary["tfrs_reported"],
        train_samples_per_sec_without_train_metrics=round(
            examples / summary["train_seconds_without_train_metrics"], 1
        ),
        test_curve=their_curve,
        test_curve_run="without TFRS's training metrics",
    )  # fmt: skip
    return ours, theirs


def _test_curve(data, dataset, protocol, seed, final, overrides):
    """reczoo's test score and training seconds after each epoch of the TFRS
    tutorial recipe: runs stopped after 1, 2, ... epochs (one seed trains the
    same first epochs), then the full run `final` itself."""
    metric = final["monitor"]
    curve = []
    for epochs in range(1, final["epochs"]):
        row = run(
            "two_tower", data, protocol=protocol, seed=seed, verbose=0, epochs=epochs,
            recipe=f"two_tower-tfrs-tutorial/{dataset}", **overrides,
        )  # fmt: skip
        curve.append({"epoch": epochs, "train_seconds": row["train_seconds"],
                      metric: row["metrics"][metric]})  # fmt: skip
    return [*curve, {"epoch": final["epochs"], "train_seconds": final["train_seconds"],
                     metric: final["metrics"][metric]}]  # fmt: skip
