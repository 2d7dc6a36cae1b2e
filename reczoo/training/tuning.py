"""`reczoo tune`: KerasTuner searches a model's settings on the validation
split of your data (or a public dataset), then retrains the best once.

Each trial is a `reczoo.run` with the recipe (or the adaptive defaults) and
the trial's settings on top, with its own early stopping, scored by the
protocol's validation metric; the test split is never scored during the
search. The search lives in its folder: KerasTuner's state (so that a killed
search started again with the same command resumes, finished trials kept),
`trials.jsonl` (a row per trial), `recipe.json` (the best trial's settings,
which `reczoo train --recipe=FOLDER/recipe.json` takes), `final.json` (the
one run that scores the test split: the best settings retrained),
`report.md` and `search.png`.
"""

import dataclasses
import json
import math
import time
from pathlib import Path

from reczoo import provenance, registry

ALGORITHMS = ("bayesian", "hyperband", "random")
# KerasTuner's objective: the monitored validation metric, signed so that
# larger is better (`-rmse` for a rating model).
OBJECTIVE = "validation_score"


@dataclasses.dataclass
class TuneResult:
    """What a search found: the trial rows, the best one, the recipe file and
    the final run's row (test metrics included)."""

    trials: list
    best: dict
    recipe_file: Path
    final: dict
    folder: Path


def tune(
    model, dataset, protocol=None, recipe=None, trials=20, max_hours=None, algorithm="bayesian",
    output="tune", seed=0, verbose=1, data_file=None, tensorboard_dir=None,
):  # fmt: skip
    """Searches `model`'s space (`registry.search_space`) on `dataset`.

    Args:
        model: a registered model name.
        dataset: a dataset name or a loaded dataset (your own file).
        protocol: the split; default: the dataset's own.
        recipe: the recipe the trials start from (name or JSON file);
            default: the (model, dataset, protocol) recipe, or the adaptive
            defaults.
        trials: trials in all, those already in `output` included.
        max_hours: start no trial after this many hours of this search.
        algorithm: `"bayesian"` (Gaussian process), `"hyperband"` (trials
            of growing epoch budgets; each trains from scratch) or
            `"random"`.
        output: the search's folder; a search started again there resumes.
        seed: the split's and every trial's seed, and the tuner's.
        verbose: 1 for a line per trial.
        data_file: the flags that read your own file, for the commands.
        tensorboard_dir: TensorBoard logs of each trial in a subfolder.

    Returns:
        A `TuneResult`.

    Raises:
        ValueError: `trials` is not a positive integer, or `algorithm` is
            unknown.
        RuntimeError: no trial finished, so there is nothing to retrain.

    Example:
        ```python
        reczoo.datasets.write_examples()
        data = reczoo.datasets.load_interactions("ratings.csv", user="userId", item="movieId")
        search = reczoo.tune(
            "bpr_mf", data, protocol="loo_full", trials=2, output="bpr_search", verbose=0
        )
        ```
    """
    keras_tuner = _keras_tuner()
    if algorithm not in ALGORITHMS:
        raise ValueError(f"--algorithm must be one of {ALGORITHMS}. Received: {algorithm!r}")
    if trials < 1:
        raise ValueError(f"--trials must be a positive integer. Received: {trials}")
    from reczoo import datasets
    from reczoo.training import default_protocol, run

    space = registry.search_space(model)
    protocol = protocol or default_protocol(dataset, model=model)
    data = datasets.load(dataset) if isinstance(dataset, str) else dataset
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    search = _Search(
        model, data, protocol, recipe, seed, space, (verbose, data_file, tensorboard_dir)
    )
    search.check()
    tuner = _tuner(keras_tuner, search, algorithm, trials, max_hours, folder)
    with provenance.folder_lock(folder, wait=False):
        tuner.search(verbose=0)  # a line per trial of our own (`verbose`)
        rows = _read_trials(folder)
        if not rows:
            raise RuntimeError(f"No trial finished in {folder}: nothing to retrain.")
        best = max(rows, key=lambda r: r["score"])
        recipe_file = _write_recipe(folder, best, search)
        final = run(model, data, protocol=protocol, seed=seed, recipe=str(recipe_file),
                    verbose=0, data_file=data_file)  # fmt: skip
        final = {**dict(final), "best_trial": best["trial"]}
        (folder / "final.json").write_text(json.dumps(final, indent=2, default=str))
        _report(folder, rows, best, final, search)
    return TuneResult(rows, best, recipe_file, final, folder)


def _keras_tuner():
    try:
        import keras_tuner
    except ImportError:
        raise ValueError(
            "reczoo tune searches with KerasTuner, which is not installed: "
            "pip install 'keras-reczoo[tune]'."
        ) from None
    return keras_tuner


class _Search:
    """One search's fixed parts, and a trial's run."""

    def __init__(self, model, data, protocol, recipe, seed, space, options):
        self.model, self.data, self.protocol, self.recipe = model, data, protocol, recipe
        self.seed, self.space = seed, space
        self.verbose, self.data_file, self.tensorboard_dir = options
        self.monitor = self.base = None

    def check(self):
        """Refuses, before any training, a space whose settings the model
        does not take (each drawn at its lowest)."""
        from reczoo.training.settings import RunSettings

        if not self.space:
            raise ValueError(f"{self.model} has nothing to tune (an empty search space).")
        lowest = {name: _lowest(how) for name, how in self.space.items()}
        try:
            RunSettings.build(self.model, self.data.name, self.protocol, lowest,
                              recipe=self.recipe, seed=self.seed)  # fmt: skip
        except TypeError as error:
            raise ValueError(
                f"The search space of {self.model} (registry.search_space) sets what the model "
                f"does not take: {error}"
            ) from None

    def declare(self, hp):
        """The trial's settings, drawn from KerasTuner's `hp`, each with the
        recipe's (or the defaults') value as its default and among its
        choices: KerasTuner's first trial is the recipe itself, so the
        search ends at least where the recipe is."""
        if self.base is None:
            self.base = self._base()
        return {name: _draw(hp, name, how, self.base.get(name)) for name, how in self.space.items()}

    def _base(self):
        """The settings a run without the trial's would use."""
        from reczoo.training.settings import RunSettings

        settings = RunSettings.build(self.model, self.data.name, self.protocol, {},
                                     recipe=self.recipe, seed=self.seed)  # fmt: skip
        values = {**settings.training(), **dict(settings.model_settings)}
        optimizer = values.get("optimizer")
        if "learning_rate" not in values:
            from_config = optimizer.get("config", {}) if isinstance(optimizer, dict) else {}
            task = registry.model_info(self.model).task
            values["learning_rate"] = from_config.get("learning_rate", task.default_learning_rate)
        return values

    def run(self, settings, epochs, trial_id):
        from reczoo.training import run

        logs = f"{self.tensorboard_dir}/trial-{trial_id}" if self.tensorboard_dir else None
        result = run(
            self.model, self.data, protocol=self.protocol, seed=self.seed, recipe=self.recipe,
            epochs=epochs, verbose=0, data_file=self.data_file, evaluate_test=False,
            tensorboard_dir=logs, **settings,
        )  # fmt: skip
        self.monitor = result["monitor"]
        return result


def _tuner(keras_tuner, search, algorithm, trials, max_hours, folder):
    objective = keras_tuner.Objective(OBJECTIVE, direction="max")
    if algorithm == "bayesian":
        oracle = keras_tuner.oracles.BayesianOptimizationOracle(
            objective=objective, max_trials=trials, seed=search.seed
        )
    elif algorithm == "random":
        oracle = keras_tuner.oracles.RandomSearchOracle(
            objective=objective, max_trials=trials, seed=search.seed
        )
    else:
        # Hyperband counts its own brackets; `trials` caps them all the same.
        oracle = keras_tuner.oracles.HyperbandOracle(
            objective=objective, max_epochs=27, factor=3, seed=search.seed
        )
    cls = _tuner_class(keras_tuner)
    return cls(search, trials, max_hours, oracle=oracle, directory=str(folder),
               project_name="keras_tuner", overwrite=False)  # fmt: skip


def _tuner_class(keras_tuner):
    class ReczooTuner(keras_tuner.Tuner):
        """Trials are `reczoo.run`s; KerasTuner keeps the search's state."""

        def __init__(self, search, trials, max_hours, **kwargs):
            super().__init__(**kwargs)
            self.reczoo_search, self.trials, self.max_hours = search, trials, max_hours
            self.started = time.monotonic()

        def run_trial(self, trial, *args, **kwargs):
            search = self.reczoo_search
            values = trial.hyperparameters.values
            settings = search.declare(trial.hyperparameters)
            epochs = values.get("tuner/epochs")
            start = time.perf_counter()
            result = search.run(settings, epochs, trial.trial_id)
            metric = result["monitor"]
            value = result["valid_metrics"].get(metric)
            value = float("nan") if value is None else float(value)
            sign = -1.0 if metric in ("rmse", "mae", "logloss") else 1.0
            row = {
                "trial": trial.trial_id, "settings": settings, "monitor": metric,
                "valid_metrics": result["valid_metrics"], "score": sign * value,
                "epochs": result.get("epochs"), "best_epoch": result.get("best_epoch"),
                "stopped_by": result.get("stopped_by"), "seconds": round(time.perf_counter() - start, 2),
                "hyperparameters": result["hyperparameters"], "command": result["command"],
            }  # fmt: skip
            with open(Path(self.project_dir).parent / "trials.jsonl", "a") as out:
                out.write(json.dumps(row, default=str) + "\n")
            if search.verbose:
                print(f"trial {trial.trial_id}: valid {metric}={value:.4f} "
                      f"({row['seconds']:.0f} s) {json.dumps(settings)}", flush=True)  # fmt: skip
            return {OBJECTIVE: sign * value if math.isfinite(value) else -1e9}

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            done = len([t for t in self.oracle.trials.values() if t.status == "COMPLETED"])
            hours = (time.monotonic() - self.started) / 3600
            if done >= self.trials or (self.max_hours is not None and hours >= self.max_hours):
                # The oracle hands out no further trial.
                self.oracle.max_trials = len(self.oracle.trials)

    return ReczooTuner


def _lowest(how):
    kind = how[0]
    if kind == "choice":
        return how[1][0]
    if kind == "l2":
        return {"class_name": "L2", "config": {"l2": how[1]}}
    return how[1]


def _draw(hp, name, how, base=None):
    """`hp`'s value of `name`, drawn as `how` says; `base` (the recipe's
    value) is the default where it lies in the range, and always a choice."""
    kind = how[0]
    if kind == "l2":
        factor = (base or {}).get("config", {}).get("l2") if isinstance(base, dict) else None
        value = hp.Float(name, how[1], how[2], sampling="log", default=_within(factor, how))
        return {"class_name": "L2", "config": {"l2": value}}
    if kind == "log":
        return hp.Float(name, how[1], how[2], sampling="log", default=_within(base, how))
    if kind == "float":
        return hp.Float(name, how[1], how[2], step=how[3], default=_within(base, how))
    if kind == "int":
        return hp.Int(name, how[1], how[2], step=how[3], default=_within(base, how))
    if kind == "choice":
        # KerasTuner's choices are scalars: lists travel as JSON.
        values = [json.dumps(v) for v in how[1]]
        default = json.dumps(base) if base is not None else None
        if default is not None and default not in values:
            values.append(default)
        return json.loads(hp.Choice(name, values, default=default))
    raise ValueError(f"Unknown kind {kind!r} of search-space setting {name!r}.")


def _within(value, how):
    low, high = how[1], how[2]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if low <= value <= high else None


def _read_trials(folder):
    path = folder / "trials.jsonl"
    if not path.exists():
        return []
    rows = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["trial"]] = row  # a trial run again after a kill: its last row
    return sorted(rows.values(), key=lambda r: r["trial"])


def _write_recipe(folder, best, search):
    """The best trial's settings, whole (the recipe's and the trial's), as a
    recipe file."""
    from reczoo.training.settings import TRAINING_FIELDS

    values = {k: v for k, v in best["hyperparameters"].items() if v is not None}
    recipe = {
        "model": search.model,
        "dataset": search.data.name,
        "protocol": search.protocol if isinstance(search.protocol, str) else search.protocol.name,
        "training": {k: v for k, v in values.items() if k in TRAINING_FIELDS},
        "model_settings": {k: v for k, v in values.items() if k not in TRAINING_FIELDS},
        "source": (f"reczoo tune: trial {best['trial']}, valid {best['monitor']} "
                   f"{best['valid_metrics'][best['monitor']]:.4f}"),
    }  # fmt: skip
    path = folder / "recipe.json"
    path.write_text(json.dumps(recipe, indent=2) + "\n")
    return path


def _report(folder, rows, best, final, search):
    """report.md (every trial, the best first) and search.png."""
    metric = best["monitor"]
    names = list(search.space)
    lines = [
        f"# reczoo tune: {search.model} on {search.data.name}", "",
        f"{len(rows)} trials, chosen by validation {metric}; the test split scored once, by "
        f"the best settings retrained (`{final['command']}`): "
        + ", ".join(f"{k} {v:.4f}" for k, v in final["metrics"].items()
                    if isinstance(v, float)) + ".",
        "", "![the search](search.png)", "",
        "| trial | valid " + metric + " | epochs | seconds | " + " | ".join(names) + " |",
        "|" + "---|" * (4 + len(names)),
    ]  # fmt: skip
    for row in sorted(rows, key=lambda r: -r["score"]):
        mark = " (best)" if row is best else ""
        cells = [row["trial"] + mark, f"{row['valid_metrics'].get(metric, float('nan')):.4f}",
                 str(row["epochs"]), f"{row['seconds']:.0f}",
                 *(json.dumps(row["settings"].get(n)) for n in names)]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    (folder / "report.md").write_text("\n".join(lines) + "\n")
    _plot(folder / "search.png", rows, metric)


def _plot(path, rows, metric):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    values = [r["valid_metrics"].get(metric, float("nan")) for r in rows]
    sign = 1.0 if rows[0]["score"] >= 0 or math.isnan(values[0]) else -1.0
    best, so_far = [], None
    for value in values:
        so_far = value if so_far is None or sign * value > sign * so_far else so_far
        best.append(so_far)
    figure, axes = plt.subplots(figsize=(6, 3.5), dpi=100)
    axes.plot(range(1, len(values) + 1), values, "o", label="trial")
    axes.plot(range(1, len(values) + 1), best, "-", label="best so far")
    axes.set_xlabel("trial")
    axes.set_ylabel(f"validation {metric}")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
