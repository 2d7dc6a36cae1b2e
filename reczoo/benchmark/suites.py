"""Benchmark suites: which runs make up a table.

A suite is a list of `Entry`s. An accuracy entry names a recipe
(`reczoo recipes`), optionally capped or overridden: the model, dataset,
protocol and training procedure live in the recipe, and `reczoo train` uses
the same one. A throughput entry names a model and a dataset shape
(`reczoo.benchmark.throughput.SHAPES`). A peer entry names a peer runner
(`reczoo.benchmark.peers.PEERS`), run only with `--peers`. A transfer entry
names a recipe whose model is pre-trained on a dataset's first period, then
fine-tuned and trained from scratch on the next
(`reczoo.benchmark.transfer`).

Plain data; no Keras.
"""

import dataclasses
import fnmatch

from reczoo import registry


@dataclasses.dataclass(frozen=True)
class Entry:
    """One run of a suite.

    Attributes:
        label: the name shown in tables: the model, or a variant's label
            (`"sasrec-ce"`).
        kind: `"accuracy"`, `"throughput"`, `"served"` (an exported
            SavedModel's latency beside the Keras model's), `"peer"` or
            `"transfer"`.
        model: the registered model.
        dataset: the dataset (accuracy, peer) or dataset shape (throughput).
        recipe: the recipe an accuracy entry runs (`"deepfm/frappe-x1"`), or
            `None` for the adaptive defaults.
        protocol: the protocol, where no recipe gives it.
        settings: overrides on top of the recipe, as `(name, value)` pairs
            (`(("epochs", 30),)`): a cap that keeps a quick suite quick.
        peer: the peer runner of a peer entry (`"deepctr"`).
        estimate_s: how long the entry took on the machine that timed the
            estimates (`CALIBRATION`), scaled to this one by the suite's
            first steps (`reczoo.benchmark.suite.calibrate`).
        backend: the Keras backend to run under (`"tensorflow"`, `"jax"`),
            in a process of its own where it is not this one's; `None`: this
            process's.
    """

    label: str
    kind: str
    model: str
    dataset: str
    recipe: str | None = None
    protocol: str | None = None
    settings: tuple = ()
    peer: str | None = None
    estimate_s: float = 60.0
    backend: str | None = None

    @property
    def key(self):
        """What identifies the entry's row in an output folder (with its seed,
        precision and jit)."""
        extra = ",".join(f"{k}={v}" for k, v in self.settings)
        parts = [self.kind, self.label, self.dataset, self.protocol or "", self.peer or "", extra]
        if self.backend:
            parts.append(f"backend={self.backend}")
        return "/".join(parts)

    @property
    def overrides(self):
        return dict(self.settings)


@dataclasses.dataclass(frozen=True)
class Calibration:
    """How a suite scales its entries' estimates to the machine it runs on:
    a few training steps of `model` on the throughput shape `shape` at
    `batch_size` (synthetic values), timed before the first entry, against
    `examples_per_sec`, the same steps on the machine of `machine` that
    timed the entries' `estimate_s`."""

    model: str
    shape: str
    batch_size: int
    examples_per_sec: float
    machine: str


CALIBRATION = Calibration(
    "deepfm", "frappe", 4096, examples_per_sec=64_000.0,
    machine="a 2-core AMD EPYC under ONEDNN_MAX_CPU_ISA=AVX2 (AVX-512 off), Dec 2026",
)  # fmt: skip


def _recipe(name, label=None, estimate_s=300.0, **settings):
    recipe = registry.get_recipe(name)
    return Entry(
        label=label or name.split("/")[0],
        kind="accuracy",
        model=recipe.model,
        dataset=recipe.dataset,
        recipe=recipe.name,
        protocol=recipe.protocol,
        settings=tuple(sorted(settings.items())),
        estimate_s=estimate_s,
    )


def _throughput(model, shape, estimate_s=40.0, backend=None):
    return Entry(model, "throughput", model, shape, estimate_s=estimate_s, backend=backend)


def _served(model, shape, estimate_s=60.0):
    # Export stays on TensorFlow: one backend.
    return Entry(model, "served", model, shape, estimate_s=estimate_s, backend="tensorflow")


# The Keras backends reczoo supports; JAX needs the `jax` extra
# (`pip install "keras-reczoo[jax]"`).
BACKENDS = ("tensorflow", "jax")


def on_backends(entries, backends=BACKENDS):
    """Each of `entries` once per backend, side by side."""
    return [dataclasses.replace(e, backend=b) for e in entries for b in backends]


def _transfer(name, budgets, estimate_s, **settings):
    recipe = registry.get_recipe(name)
    return Entry(
        label=recipe.model, kind="transfer", model=recipe.model, dataset=recipe.dataset,
        recipe=recipe.name, protocol=recipe.protocol,
        settings=(("budgets", tuple(budgets)), *sorted(settings.items())),
        estimate_s=estimate_s,
    )  # fmt: skip


def _peer(peer, label, model, dataset, protocol, estimate_s, **settings):
    # `settings`: reczoo's side only, on top of the pair's; the peer trains as before.
    return Entry(label, "peer", model, dataset, protocol=protocol, peer=peer,
                 settings=tuple(sorted(settings.items())), estimate_s=estimate_s)  # fmt: skip


# BARS' Frappe models, on its own rows (frappe-x1) and on a random split of
# the rebuilt log (frappe).
_FRAPPE = ("fm", "mlp", "deepfm", "ipnn", "opnn", "autoint", "autoint_plus", "dcnv2", "xdeepfm")
# The leaders of BARS' Frappe_x1 table, on its rows only.
_FRAPPE_LEADERS = ("finalmlp", "finalnet")
_GAMES = ("sasrec", "sasrec-ce", "sasrec-gbce", "gru4rec", "caser", "cl4srec", "bert4rec")
# Collaborative filtering on MovieLens-100K, under NCF's protocol and full ranking.
_CF = ("bpr_mf", "gmf", "mlp", "neumf", "convncf")
_CF_SECONDS = {"bpr_mf": 300, "gmf": 90, "mlp": 120, "neumf": 240, "convncf": 900}

# Peer runners: the same split and settings, reczoo then the peer, back to back.
_PEERS = (
    _peer("deepctr", "deepfm", "deepfm", "frappe-x1", "bars_x1", 450),
    _peer("recbole", "sasrec-ce", "sasrec", "amazon-games", "sasrec", 600),
    _peer("recbole", "gru4rec", "gru4rec", "amazon-games", "sasrec", 600),
    _peer("recbole", "neumf", "neumf", "movielens-100k", "ncf", 300),
    _peer("recbole", "bpr_mf", "bpr_mf", "movielens-100k", "ncf", 200),
    # MF-BPR as reczoo's default run trains it under a leave-last-out split:
    # each user's latest fifth of training interactions counted three times
    # (`recent_weight`, reczoo.models.procedures.RECENT_DEFAULTS); the rest
    # of the pair's settings, and RecBole's side, as in the entry above.
    _peer("recbole", "bpr_mf-recent", "bpr_mf", "movielens-100k", "ncf", 200, recent_weight=3),
    _peer("recbole", "convncf", "convncf", "movielens-100k", "ncf", 500),
    _peer("tfrs", "two_tower", "two_tower", "movielens-100k", "tfrs_retrieval", 120),
)


def _quick():
    # One entry per family of the model table, on real data, within ten
    # minutes on 2 cores without AVX-512: a popularity baseline,
    # contrastive two-tower retrieval and NCF on MovieLens-100K;
    # factorization, cross and product models on BARS' Frappe rows;
    # convolutional, recurrent and attention next-item models on Amazon
    # Games. Each is capped in epochs (timed where CALIBRATION was), and
    # trains for at most its share of the suite's minutes
    # (TIME_BUDGETS), so that a slower machine stops runs early rather
    # than running over; the cheap runs first leave what they do not use
    # to the rest.
    return [
        Entry("pop", "accuracy", "pop", "movielens-100k", protocol="ncf", estimate_s=1),
        _recipe("two_tower/movielens-100k", estimate_s=12),
        _recipe(
            "neumf/movielens-100k", epochs=6, pretrain=False, learning_rate=1e-3, estimate_s=17
        ),
        _recipe("deepfm/frappe-x1", epochs=12, estimate_s=78),
        _recipe("dcnv2/frappe-x1", epochs=8, estimate_s=51),
        _recipe("ipnn/frappe-x1", epochs=6, estimate_s=45),
        _recipe("caser/amazon-games", epochs=4, estimate_s=40),
        _recipe("gru4rec/amazon-games", epochs=2, estimate_s=80),
        _recipe("sasrec/amazon-games", epochs=20, estimate_s=87),
        *_PEERS[:1],
    ]


def _suites():
    quick = _quick()
    # One exported model per task kind beside its Keras model
    # (`reczoo.benchmark.serving`); export stays on TensorFlow.
    served = [
        _served("deepfm", "frappe", 30),
        _served("sasrec", "amazon-games", 120),
        _served("two_tower", "movielens-100k", 30),
    ]
    return {
        "quick": quick,
        # Each model under its paper's or BARS' protocol and recipe, on every
        # dataset with a published reference.
        "paper": [
            *(_recipe(f"{m}/frappe-x1") for m in (*_FRAPPE, *_FRAPPE_LEADERS)),
            # BARS' larger x1 files, placed by hand: skipped where they are
            # not (tens of millions of rows: hours an epoch on 2 cores).
            *(
                _recipe(f"{m}/{d}", estimate_s=36_000)
                for m in _FRAPPE_LEADERS
                for d in ("criteo-x1", "avazu-x1")
            ),
            *(_recipe(f"{m}/amazon-games", estimate_s=2400) for m in _GAMES),
            _recipe("din/movielens-100k-ctr", estimate_s=120),
            _recipe("mlp/movielens-100k-ctr", estimate_s=60),
            *(
                _recipe(f"{m}/{suffix}", estimate_s=_CF_SECONDS[m] * (2 if full else 1))
                for suffix, full in (("movielens-100k", False), ("movielens-100k-full", True))
                for m in _CF
            ),
            Entry("pop", "accuracy", "pop", "movielens-100k", protocol="ncf", estimate_s=15),
            Entry("pop", "accuracy", "pop", "movielens-100k", protocol="loo_full", estimate_s=30),
            # Two-tower retrieval under the TF Recommenders tutorial's split.
            _recipe("two_tower/movielens-100k", estimate_s=40),
            _recipe("two_tower-tfrs-tutorial/movielens-100k", estimate_s=20),
            _recipe("youtube_dnn/movielens-100k", estimate_s=60),
            *_PEERS,
        ],
        # The peer comparisons alone (their environments are needed).
        "peers": list(_PEERS),
        # Pre-train on a first period, then fine-tune against training from
        # scratch on the next, at equal epoch budgets (benchmarks/README.md).
        "finetune": [
            _transfer("two_tower/movielens-100k", (1, 2, 4, 8, 16), 120),
            _transfer("sasrec/amazon-games", (1, 2, 5, 10, 20), 1800, pretrain_epochs=100),
        ],
        # The same recipes on a random split of the rebuilt Frappe log.
        "frappe": [_recipe(f"{m}/frappe") for m in _FRAPPE],
        # Speed only: real feature shapes, synthetic values; each model under
        # both Keras backends.
        "throughput": [
            *on_backends(
                [
                    *(
                        _throughput(m, "frappe")
                        for m in ("fm", "deepfm", "dcnv2", "ipnn", "autoint")
                    ),
                    *(_throughput(m, "criteo", estimate_s=90) for m in ("deepfm", "dcnv2")),
                    *(
                        _throughput(m, "amazon-games", estimate_s=60)
                        for m in ("sasrec", "gru4rec", "caser")
                    ),
                    _throughput("mlp", "movielens-100k"),
                ]
            ),
            *served,
        ],
        # The exported models alone.
        "served": served,
        # The quick suite's runs (one per family, the same caps) under both
        # Keras backends: accuracy and speed of JAX against TensorFlow.
        "backends": on_backends([e for e in quick if e.kind == "accuracy"]),
    }


# Minutes the accuracy runs of a suite may take in all (`reczoo benchmark
# --max_minutes` sets another): the quick suite's promise, less a margin for
# the calibration, reading data and the report.
TIME_BUDGETS = {"quick": 9.0}

# The ranking roster run on your own data (`--suite=ranking --data_file=...`),
# each model with defaults adapted to the data: CTR models on a click log,
# collaborative filtering and feature rankers on interactions. `--models`
# reaches past it to every registered model the data can train (`--models='*'`:
# each model's default run on your file, and how long it took).
RANKING = {
    "ctr": ("fm", "mlp", "deepfm", "ipnn", "dcnv2", "xdeepfm", "autoint"),
    "interactions": ("pop", "bpr_mf", "gmf", "mlp", "neumf", "deepfm", "dcnv2"),
}
# Suites made from the data they are given rather than from recipes.
DATA_SUITES = ("ranking",)


def for_data(suite, name, kind, protocol, models=None):
    """The entries of a data suite on the dataset `name` (a `"ctr"` or
    `"interactions"` dataset) under `protocol`: its roster, or with `models`
    (wildcards) every registered model they match that trains on `kind`
    data (a click log's rows feed rankers only), the roster's first."""
    if suite not in DATA_SUITES:
        raise ValueError(
            f"Suite {suite!r} runs its own datasets; on your data run --suite="
            f"{' or '.join(DATA_SUITES)}."
        )
    names = list(RANKING[kind])
    if models:
        patterns = [p.strip() for p in _split(models)]
        eligible = [m for m in registry.list_models() if kind == "interactions" or _is_ranker(m)]
        names = [m for m in [*names, *sorted(set(eligible) - set(names))] if m in eligible]
        names = [m for m in names if any(fnmatch.fnmatch(m, p) for p in patterns)]
        if not names:
            raise ValueError(
                f"No model of suite {suite!r} matches models={models!r} on {kind} data. "
                f"Models that train on it: {', '.join(sorted(eligible))}."
            )
    # A model fit by counting (popularity) takes a second, not a training run's minute.
    return [
        Entry(model, "accuracy", model, name, protocol=protocol,
              estimate_s=1.0 if registry.model_info(model).backbone.fit_by == "adapt" else 60.0)
        for model in names
    ]  # fmt: skip


def _is_ranker(model):
    return registry.model_info(model).kind == "ranking"


def list_suites():
    return sorted([*_suites(), *DATA_SUITES])


def entries(suite, models=None, datasets=None, peers=False, backends=None):
    """The entries of `suite`, filtered.

    Args:
        suite: a suite name (`list_suites()`).
        models: wildcard patterns over labels (`"deepfm,sas*"`): a model's
            name, or a variant's (`sasrec-ce`).
        datasets: dataset names (or throughput shapes) to keep.
        peers: keep the peer entries (they need the peers' environments).
        backends: the Keras backends to keep, of a suite that runs under
            several (`"jax"`); default: all.
    """
    suites = _suites()
    if suite in DATA_SUITES:
        raise ValueError(
            f"Suite {suite!r} runs on your data: give --data_file (with its columns) or "
            "--datasets=NAME."
        )
    if suite not in suites:
        raise ValueError(f"Unknown suite {suite!r}. Known suites: {', '.join(sorted(suites))}.")
    keep_peers = peers or suite == "peers"
    chosen = filtered(suite, [e for e in suites[suite] if keep_peers or e.kind != "peer"], models)
    if datasets:
        wanted = set(_split(datasets))
        known = {e.dataset for e in suites[suite]}
        unknown = sorted(wanted - known)
        if unknown:
            raise ValueError(
                f"Suite {suite!r} has no dataset {', '.join(map(repr, unknown))}. "
                f"Its datasets: {', '.join(sorted(known))}."
            )
        chosen = [e for e in chosen if e.dataset in wanted]
    if backends:
        wanted = set(_split(backends))
        unknown = sorted(wanted - set(BACKENDS))
        if unknown:
            raise ValueError(
                f"Unknown backend {', '.join(map(repr, unknown))}. Known: {', '.join(BACKENDS)}."
            )
        chosen = [e for e in chosen if (e.backend or "tensorflow") in wanted]
    if not chosen:
        raise ValueError(f"No entry of suite {suite!r} matches models={models!r}.")
    return chosen


def filtered(suite, chosen, models):
    """The entries whose label matches one of `models`' wildcards (all when None)."""
    if models:
        patterns = [p.strip() for p in _split(models)]
        chosen = [e for e in chosen if any(fnmatch.fnmatch(e.label, p) for p in patterns)]
        if not chosen:
            raise ValueError(f"No entry of suite {suite!r} matches models={models!r}.")
    return chosen


def _split(value):
    if isinstance(value, str):
        return [v for v in value.split(",") if v.strip()]
    return list(value)
