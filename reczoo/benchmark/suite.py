"""Runs a benchmark suite into an output folder, resumably.

    reczoo benchmark --suite=quick --output=DIR

Every entry of the suite (`reczoo.benchmark.suites`) runs once per seed, in
this process, one after the other, so that two runs never share the cores.
Its rows go to `DIR/results.jsonl` (rewritten whole after each entry under
the folder's lock, so an interrupted suite loses at most the entry it was
running, and two suites on one folder keep each other's rows) and
`DIR/results.csv`; at the end `DIR/report.md` and `DIR/plots/` are built
from the rows (`reczoo.benchmark.report`). The same command on the same
folder skips the entries that finished; failed and skipped entries run again.
An entry that fails is recorded with its error, and the suite goes on.
"""

import contextlib
import dataclasses
import os
import shlex
import shutil
import signal
import sys
import time
import traceback
from pathlib import Path

from reczoo.benchmark import devices
from reczoo.benchmark import report as reports
from reczoo.benchmark import suites as suite_entries
from reczoo.benchmark.rows import RESULTS, read_rows, update_rows
from reczoo.datasets.sources import MissingFiles
from reczoo.dtypes import check_supported
from reczoo.provenance import folder_lock, run_record
from reczoo.terminal import native_stderr_held

# Runs estimated at less than this many seconds start without timing the
# machine first (`calibrate`: a few seconds of its own).
CALIBRATE_ABOVE_S = 120.0


def run_suite(suite="quick", models=None, datasets=None, output="benchmark-results",
              device="auto", precision="float32", jit="auto", seeds=(0,), peers=False,
              quiet=False, data=None, data_flags=None, protocol=None, max_minutes=None,
              backends=None, tensorboard_dir=None):  # fmt: skip
    """Runs `suite` into `output`; returns every row in the folder.

    Args:
        suite: a suite name (`reczoo.benchmark.list_suites()`) or a list of
            `Entry`s.
        models: wildcards over the entries' labels and models (`"deepfm,sas*"`).
        datasets: dataset names (or throughput shapes) to keep.
        output: the output folder; rows already there are kept, and entries
            that finished there are skipped.
        device: `"auto"`, `"cpu"` or `"gpu"` (an error without a GPU).
        precision: `"float32"`, `"mixed_float16"` or `"mixed_bfloat16"`.
        jit: XLA: `"auto"` (`devices.JIT_AUTO` for throughput shapes: off, as
            measured; a training run keeps its model's own default, XLA for
            MF-BPR only), `"on"`, `"off"`.
        seeds: seeds to run every entry with; reports give mean ± sd.
        peers: also run the peer libraries' entries (DeepCTR, RecBole); one
            whose environment is missing is recorded as skipped, with the
            command that creates it.
        quiet: one line per entry instead of Keras' progress.
        data: your dataset (`reczoo.datasets.load_table`) for a suite made
            for any data (`"ranking"`); or give a public one in `datasets`.
        data_flags: the flags that read `data` (`{flag: value}`), for the
            rows' and the entries' commands.
        protocol: the protocol of such a suite (default: the data's own).
        max_minutes: the minutes its training runs may take in all (default:
            the suite's own, `suites.TIME_BUDGETS`): each trains for at most
            its share of the time left, by its estimate (`SuiteBudget`).
        backends: the Keras backends to keep, of a suite that runs its
            entries under several (`"jax"`); an entry under a named backend
            runs in a process of its own.
        tensorboard_dir: each training run's TensorBoard logs, in a subfolder.

    Returns:
        Every row in `output` (a list of dicts), this run's and earlier ones';
        `output` holds them as `results.jsonl` and `results.csv`, with
        `report.md` and `plots/`.

    Example:
        ```python
        reczoo.datasets.write_examples()
        data = reczoo.datasets.load_table(
            "shop_clicks.csv", label="clicked", categorical=["C1", "C2", "C3", "C4", "C5", "C6"],
            numerical=["I1", "I2", "I3"], multi={"tags": "|"}, drop=["id"],
        )
        rows = reczoo.run_suite("ranking", models="fm,pop", data=data, output="shop_bench",
                                quiet=True, max_minutes=1)
        print(open("shop_bench/report.md").read()[:300])
        ```
    """
    devices.check(precision, jit)
    _check_minutes(max_minutes)
    seeds = _seeds(seeds)
    name, chosen, data = _chosen(
        suite, models, datasets, (peers, backends), (data, data_flags, protocol)
    )
    output = _output_folder(output)
    kind = devices.select(device)  # an absent GPU is refused before anything is written
    check_supported(precision)  # and bfloat16 on a CPU whose oneDNN cannot multiply it
    output.mkdir(parents=True, exist_ok=True)
    jit_on = devices.jit_compile(jit, kind)
    context = {"suite": name, "precision": precision, "jit": jit_on}
    plan, todo = _plan(output, chosen, seeds, context)
    strategy = devices.strategy(kind)
    if max_minutes is None and isinstance(suite, str):
        max_minutes = suite_entries.TIME_BUDGETS.get(name)
    estimates, budget = _estimates(todo, strategy, max_minutes, data)
    progress = Progress(len(plan), len(plan) - len(todo), estimates)
    if len(todo) < len(plan):  # after the estimate's line
        print(f"{len(plan) - len(todo)} of {len(plan)} runs already in {output}; skipping them.")
    device_fields = devices.record(kind, precision, jit_on)
    for index, (entry, seed) in enumerate(todo):
        progress.start(f"{entry.label} on {entry.dataset}" + (f", seed {seed}" if seed else "")
                       + (f", {entry.backend}" if entry.backend else ""))  # fmt: skip
        started = time.perf_counter()
        run_id = _run_id(entry, seed, context)
        checkpoints = output / "checkpoints" / reports.slug(run_id)  # a killed run resumes
        logs = tensorboard_dir and str(Path(tensorboard_dir) / reports.slug(run_id))
        options = (precision, jit_on, kind, quiet, budget.share(index), jit, logs)
        new = _attempt(entry, seed, strategy, options, checkpoints, (data, data_flags))
        seconds = time.perf_counter() - started
        budget.ran(index, seconds)
        command = suite_command(name, entry, seed, precision, jit, device, data_flags)
        shared = {"suite": name, "entry": entry.key, "run_id": run_id, "kind": entry.kind,
                  "seed": seed, "suite_command": command, "entry_seconds": round(seconds, 2)}  # fmt: skip
        _complete(new, entry, shared, device_fields, seconds)
        update_rows(output, new)
        if all(r["status"] == "ok" for r in new):
            _drop_checkpoints(output, checkpoints)
        progress.done(seconds, new)
        _clear_session()
    return _finish(output, {_run_id(e, s, context) for e, s in plan})


def _plan(output, chosen, seeds, context):
    """Every (entry, seed) of the suite, and those `output` holds no finished
    row of: a suite run again skips what finished."""
    plan = [(entry, seed) for entry in chosen for seed in seeds]
    finished = {r["run_id"] for r in read_rows(output) if r.get("status") == "ok"}
    return plan, [(e, s) for e, s in plan if _run_id(e, s, context) not in finished]


def _check_minutes(max_minutes):
    from reczoo.training.settings import is_minutes

    if not is_minutes(max_minutes):
        raise ValueError(f"--max_minutes must be a positive number. Received: {max_minutes!r}")


def _finish(output, runs):
    """Builds the folder's report from all its rows; prints this run's table."""
    with folder_lock(output):
        rows = read_rows(output)  # with rows another suite added meanwhile
        reports.build(output, rows)
    print(reports.summary_table(rows, runs=runs))
    print(f"Rows: {output / RESULTS}, {output / 'results.csv'}; report: {output / 'report.md'}")
    return rows


def _estimates(todo, strategy, max_minutes, data=None):
    """`(estimates, SuiteBudget)`: the runs' estimates for this machine, timed
    first where they are long (the suite's first line says what it found),
    and the budget they share. A run that will be skipped (`_skips`) is
    estimated at 0 s: it neither calls for the timing nor takes a share."""
    estimates = _timed_estimates(todo, strategy, max_minutes, data)
    runs = [(e.kind, s) for (e, _), s in zip(todo, estimates, strict=True)]
    return estimates, SuiteBudget(max_minutes, runs)


def _skips(entry, data=None):
    """Why `entry` will be skipped when it runs (its public dataset's files
    are neither here nor downloadable, or its peer's environment is
    missing), or None. Reads and downloads nothing."""
    from reczoo import datasets

    if entry.kind == "peer":
        from reczoo.benchmark import peers

        reason = peers.missing(entry.peer)
        if reason:
            return reason
    elif entry.kind not in ("accuracy", "transfer") or data is not None:
        return None  # synthetic shapes, or the user's own data
    try:
        return datasets.unobtainable(entry.dataset)
    except ValueError:  # not a public dataset's name: the run says what it is
        return None


def _timed_estimates(todo, strategy, max_minutes, data=None):
    skipped = [_skips(e, data) is not None for e, _ in todo]
    estimates = [0.0 if skip else e.estimate_s for (e, _), skip in zip(todo, skipped, strict=True)]
    if sum(estimates) < CALIBRATE_ABOVE_S:
        return estimates
    with strategy.scope(), native_stderr_held():
        scale, said = calibrate()
    _clear_session()
    estimates = [e * scale for e in estimates]
    total = sum(estimates)
    runs = len(todo) - sum(skipped)
    line = f"Estimate for this machine: about {_clock(total)} for {runs} runs ({said})"
    if any(skipped):
        line += f"; {sum(skipped)} more will be skipped, each saying why"
    if max_minutes is not None:
        line += (f"; at most about {_clock(60 * max_minutes)} of training runs: each trains "
                 "for its share of the time left")  # fmt: skip
    print(line + ".", flush=True)
    return estimates


class SuiteBudget:
    """A suite's minutes of accuracy runs, shared as it goes.

    Before each accuracy run, the time left is split by the estimates of the
    accuracy runs left; the run's training budget (`max_minutes`) is its
    share less a fifth of its estimate (reading, the final evaluation). A run
    that ends early leaves its time to the next; time in other entries
    (peers, throughput) is not counted. No budget: no share.
    """

    def __init__(self, minutes, runs):
        self.minutes, self.runs = minutes, list(runs)  # runs: (kind, estimate)
        self.left = None if minutes is None else 60.0 * minutes

    def share(self, index):
        """Minutes of training for run `index`, or None."""
        kind, estimate = self.runs[index]
        if self.left is None or kind != "accuracy":
            return None
        rest = sum(e for k, e in self.runs[index:] if k == "accuracy")
        seconds = self.left * estimate / max(rest, 1e-9) - 0.2 * estimate
        return round(max(seconds, 6.0) / 60.0, 2)

    def ran(self, index, seconds):
        if self.left is not None and self.runs[index][0] == "accuracy":
            self.left = max(0.0, self.left - seconds)


def _output_folder(output):
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise FileExistsError(f"--output must be a folder. Received: output={str(output)!r}")
    return output


def _chosen(suite, models, datasets, kinds, given):
    """`(suite name, entries, data)`: a named suite's entries, filtered; a
    data suite's (`ranking`) on your data (or one public dataset) under its
    protocol; or a list of entries as given."""
    data, data_flags, protocol = given
    if isinstance(suite, str) and suite in suite_entries.DATA_SUITES:
        data = _suite_data(suite, data, datasets)
        if protocol is not None:
            entries = suite_entries.for_data(suite, data.name, data.kind, protocol, models)
            return suite, entries, data
        from reczoo.training import default_protocol

        # Each model under the data's protocol, or one it fits (a retriever
        # on interactions: a split of rows).
        source = _source(data, data_flags)
        protocol = default_protocol(data, source)
        entries = suite_entries.for_data(suite, data.name, data.kind, protocol, models)
        fitting = [default_protocol(data, source, e.model) for e in entries]
        entries = [
            dataclasses.replace(e, protocol=p) for e, p in zip(entries, fitting, strict=True)
        ]
        return suite, entries, data
    if data is not None:
        raise ValueError(f"Suite {suite!r} runs its own datasets; on your data run "
                         f"--suite={' or '.join(suite_entries.DATA_SUITES)}.")  # fmt: skip
    if isinstance(suite, str):
        peers, backends = kinds
        return suite, suite_entries.entries(suite, models, datasets, peers, backends), None
    return "custom", list(suite), None


def _source(data, data_flags):
    """Where a data suite's data came from, as `default_protocol` names it:
    a public dataset, or your click log, split files or interactions file."""
    if not data_flags:
        return "dataset"
    if getattr(data, "fixed_split", None) is not None:
        return "split_files"
    return "click_log" if data.kind == "ctr" else "data_file"


def _suite_data(suite, data, names):
    """The dataset a data suite runs on: yours, or one public one by name."""
    if data is not None:
        if names:
            raise ValueError("Give your data or --datasets=NAME, not both.")
        return data
    wanted = suite_entries._split(names or [])
    if len(wanted) != 1:
        raise ValueError(
            f"Suite {suite!r} runs on one dataset: your own (--data_file with its columns, or "
            "--schema) or a public one (--datasets=NAME)."
        )
    from reczoo import datasets

    return datasets.load(wanted[0])


def _attempt(entry, seed, strategy, options, checkpoints, given=(None, None)):
    """The rows of one entry at one seed; a failure is a row, and the suite goes on."""
    if entry.backend and not _CHILD:
        return _attempt_elsewhere(entry, seed, options, checkpoints)
    try:
        # TensorFlow's native log lines (oneDNN fallbacks, ...) are held,
        # and shown only if the entry fails.
        with strategy.scope(), native_stderr_held():
            return _run_entry(entry, seed, options, checkpoints, given)
    except KeyboardInterrupt:
        raise
    except MissingFiles as error:
        # Files the user places by hand (Criteo_x1, MovieLens-1M's ratings):
        # not a failure of the entry; the reason says where they go.
        return [{"status": "skipped", "error": " ".join(str(error).split()),
                 "protocol": entry.protocol}]  # fmt: skip
    except Exception as error:  # recorded; the suite goes on
        return [_failed(entry, error)]


# Set in the child process `_attempt_elsewhere` starts.
_CHILD = False


def _attempt_elsewhere(entry, seed, options, checkpoints):
    """The rows of an entry under a named Keras backend: a Keras process runs
    one backend, so the entry runs in a child process under its own (`python
    -c "...attempt_here(REQUEST)"`), which writes its rows back. Entries of
    either backend do, so that the two are measured alike, and the suite's
    memory is one entry's at a time (a TensorFlow process that had run the
    Criteo shapes held 13.6 GB, and with a JAX child beside it ran out of
    24 GB)."""
    import dataclasses
    import importlib.util
    import json
    import subprocess
    import tempfile

    if entry.backend == "jax" and importlib.util.find_spec("jax") is None:
        return [{"status": "skipped", "backend": entry.backend,
                 "error": 'JAX is not installed: pip install "keras-reczoo[jax]"'}]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="reczoo-entry-") as tmp:
        request, answer = Path(tmp) / "request.json", Path(tmp) / "rows.json"
        request.write_text(json.dumps({
            "entry": dataclasses.asdict(entry), "seed": seed, "options": list(options),
            "checkpoints": str(checkpoints), "rows": str(answer),
        }))  # fmt: skip
        env = {**os.environ, "KERAS_BACKEND": entry.backend}
        if options[2] == "cpu":
            env["JAX_PLATFORMS"] = "cpu"  # as `devices.select` hides GPUs from TensorFlow
        child = f"from reczoo.benchmark.suite import attempt_here; attempt_here({str(request)!r})"
        done = subprocess.run([sys.executable, "-c", child], env=env, stderr=subprocess.PIPE,
                              text=True, check=False)  # fmt: skip
        if answer.exists():
            return json.loads(answer.read_text())
    if done.returncode < 0:
        # Killed (out of memory, or stopped by hand): its last words are noise.
        how = f"was killed by signal {-done.returncode} ({signal.Signals(-done.returncode).name})"
    else:
        how = f"exited with status {done.returncode}: " + " | ".join(
            done.stderr.strip().splitlines()[-3:])  # fmt: skip
    return [_failed(entry, RuntimeError(f"the {entry.backend} process {how}"))]


def attempt_here(request_file):
    """The child's side of `_attempt_elsewhere`."""
    import json

    global _CHILD
    _CHILD = True

    from reczoo.benchmark.suites import Entry
    from reczoo.terminal import import_tensorflow

    import_tensorflow()
    request = json.loads(Path(request_file).read_text())
    fields = request["entry"]
    fields["settings"] = tuple(tuple(pair) for pair in fields["settings"])
    entry = Entry(**fields)
    options = tuple(request["options"])
    devices.select(options[2])
    strategy = devices.strategy(options[2])
    rows = _attempt(entry, request["seed"], strategy, options, Path(request["checkpoints"]))
    Path(request["rows"]).write_text(json.dumps(rows, default=str))


def _drop_checkpoints(output, checkpoints):
    shutil.rmtree(checkpoints, ignore_errors=True)
    with contextlib.suppress(OSError):
        (output / "checkpoints").rmdir()  # only when empty


def _complete(new, entry, shared, device_fields, seconds):
    """Adds to an entry's rows what the suite knows: the entry, its seed and
    command, the device, and provenance where the row has none."""
    provenance = run_record()
    for row in new:
        row.update({**shared, "label": row.get("label") or entry.label})
        # A peer's row says None: its framework is in its versions.
        row.setdefault("backend", entry.backend or provenance["backend"])
        for key, value in device_fields.items():
            # A row's own precision and XLA (a peer's, say) stand.
            if key in ("precision", "jit"):
                row.setdefault(key, value)
            else:
                row[key] = value
        row.setdefault("model", entry.model)
        row.setdefault("dataset", entry.dataset)
        row.setdefault("wall_seconds", round(seconds, 2))
        for key, value in provenance.items():
            row.setdefault(key, value)


def _seeds(seeds):
    if isinstance(seeds, str):
        seeds = [s for s in seeds.split(",") if s.strip()]
    try:
        out = [int(s) for s in seeds]
    except (TypeError, ValueError):
        raise ValueError(
            f"--seeds must be integers separated by commas. Received: {seeds!r}"
        ) from None
    if not out or any(s < 0 for s in out) or len(set(out)) != len(out):
        raise ValueError(f"--seeds must be distinct non-negative integers. Received: {seeds!r}")
    return out


def _run_id(entry, seed, context):
    return f"{entry.key}|seed={seed}|{context['precision']}|jit={context['jit']}"


def _run_entry(entry, seed, options, checkpoint_dir=None, given=(None, None)):
    """The rows of one entry; `options` are `(precision, jit_on, device kind,
    quiet, minutes of training or None, the --jit flag, TensorBoard folder or
    None)`."""
    from reczoo.benchmark.throughput import latency
    from reczoo.training.runner import run

    precision, jit_on, _, quiet, share, jit, tensorboard_dir = options
    verbose = 0 if quiet else 2
    if entry.kind == "accuracy":
        overrides = dict(entry.overrides)
        if precision != "float32":
            overrides["dtype"] = precision
        if jit != "auto":
            # auto leaves each model its own (XLA for MF-BPR, GMF, MLP and NeuMF, measured).
            overrides["jit_compile"] = jit == "on"
        if share is not None and "max_minutes" not in overrides:
            overrides["max_minutes"] = share
        epochs = overrides.pop("epochs", None)
        data, data_flags = given
        result = run(entry.model, data if data is not None else entry.dataset,
                     protocol=entry.protocol, seed=seed, epochs=epochs,
                     recipe=entry.recipe or "none", verbose=verbose,
                     checkpoint_dir=checkpoint_dir, data_file=data_flags,
                     tensorboard_dir=tensorboard_dir, **overrides)  # fmt: skip
        p50, p99 = latency(result.model)
        row = {**dict(result), "status": "ok", "latency_batch_size": 1,
               "latency_ms_p50": p50, "latency_ms_p99": p99}  # fmt: skip
        if entry.settings or share is not None:
            row["capped"] = capped(entry, row, share)
        return [row]
    if entry.kind == "throughput":
        from reczoo.benchmark.throughput import measure

        rows, task, shape = measure(entry.model, entry.dataset, precision, jit_on, seed=seed,
                                    **entry.overrides)  # fmt: skip
        common = {"model": entry.model, "dataset": entry.dataset, "protocol": None,
                  "metrics": {}, "epochs": None, "params": int(task.count_params()),
                  "shape": shape.source}  # fmt: skip
        return [{**common, **r, "status": "skipped" if "error" in r else "ok"} for r in rows]
    if entry.kind == "served":
        from reczoo.benchmark.serving import measure_served

        rows, task, shape = measure_served(entry.model, entry.dataset, seed=seed, **entry.overrides)
        common = {"model": entry.model, "dataset": entry.dataset, "protocol": None,
                  "metrics": {}, "epochs": None, "params": int(task.count_params()),
                  "shape": shape.source}  # fmt: skip
        return [{**common, "train_samples_per_sec": None, **r, "status": "ok"} for r in rows]
    if entry.kind == "transfer":
        from reczoo.benchmark.transfer import temporal_finetune

        rows = temporal_finetune(entry.model, entry.dataset, entry.recipe, seed=seed,
                                 verbose=verbose, **entry.overrides)  # fmt: skip
        return [{**row, "status": "ok"} for row in rows]
    if entry.kind == "peer":
        from reczoo.benchmark import peers

        reason = peers.missing(entry.peer)
        if reason:
            return [{"status": "skipped", "error": reason, "peer": entry.peer,
                     "protocol": entry.protocol}]  # fmt: skip
        ours, theirs = peers.compare(entry.peer, entry.dataset, entry.protocol, seed, verbose,
                                     model=entry.model, precision=precision,
                                     settings=entry.overrides)  # fmt: skip
        ours.update(status="ok", side_by_side=entry.peer)
        theirs.update(status="ok", peer=entry.peer, peer_of=entry.label,
                      label=f"{entry.peer}_{entry.model}")  # fmt: skip
        return [ours, theirs]
    raise ValueError(f"Unknown entry kind {entry.kind!r}")


def capped(entry, row, share=None):
    """What an entry changed from its recipe (or the defaults), and what
    that did to its run, in words: the report's `capped` column. `share`:
    the minutes of training the suite's budget gave it."""
    from reczoo import registry
    from reczoo.training.settings import EPOCH_BASE

    said, overrides = [], dict(entry.overrides)
    epochs = overrides.pop("epochs", None)
    if epochs is not None:
        text = f"epochs {epochs}"
        if entry.recipe:
            full = registry.get_recipe(entry.recipe).training.get("epochs", EPOCH_BASE["epochs"])
            text += f" of the recipe's {full}"
        if row.get("best_epoch") == row.get("epochs") and not row.get("stopped_by"):
            text += ", best at the last"
        said.append(text)
    budget = overrides.pop("max_minutes", None)
    if budget is None and share is not None:
        budget = share
        said.append(f"its share of the suite's time: {share:g} min of training")
    elif budget is not None:
        said.append(f"at most {budget:g} min of training")
    if budget is not None:
        text = said.pop()
        if row.get("stopped_by") == "time budget":
            text += f": stopped by it after {row.get('epochs')} epochs"
        said.append(text)
    said += [f"{key}={value}" for key, value in sorted(overrides.items())]
    return "; ".join(said)


def _failed(entry, error):
    text = " ".join(str(error).split()) or repr(error)
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    return {
        "status": "failed",
        "error": f"{type(error).__name__}: {text}"[:2000],
        "where": [f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames],
        "protocol": entry.protocol,
    }


def _clear_session():
    import keras

    keras.utils.clear_session(free_memory=True)


def suite_command(suite, entry, seed, precision, jit, device, data_flags=None):
    """The `reczoo benchmark` command that runs this entry alone."""
    parts = ["reczoo", "benchmark", f"--suite={suite}", f"--models={entry.label}"]
    if data_flags:
        from reczoo.training.command import data_flags as flags_of

        parts += flags_of(data_flags)
        if suite in suite_entries.DATA_SUITES:
            parts.append(f"--protocol={entry.protocol}")
    else:
        parts.append(f"--datasets={entry.dataset}")
    if seed:
        parts.append(f"--seeds={seed}")
    if entry.kind == "peer":
        parts.append("--peers")
    if entry.backend:
        parts.append(f"--backends={entry.backend}")
    for flag, value, default in (("precision", precision, "float32"), ("jit", jit, "auto"),
                                 ("device", device, "auto")):  # fmt: skip
        if value != default:
            parts.append(f"--{flag}={value}")
    command = " ".join(shlex.quote(p) for p in parts)
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA")
    if limit:
        # What the CPU's kernels were allowed to use is part of the run.
        command = f"ONEDNN_MAX_CPU_ISA={shlex.quote(limit)} {command}"
    return command


def calibrate(calibration=suite_entries.CALIBRATION):
    """`(scale, words)`: how much longer than on the machine that timed the
    estimates a suite's runs should take here, from a few training steps of
    `calibration`'s model on its shape, and that measurement in words."""
    from reczoo.benchmark.throughput import train_speed

    measured = train_speed(calibration.model, calibration.shape, calibration.batch_size)
    scale = calibration.examples_per_sec / measured
    said = (
        f"{calibration.model} trained at {measured:,.0f} examples/s here, "
        f"{calibration.examples_per_sec:,.0f} on {calibration.machine}"
    )
    return scale, said


class Progress:
    """One line per run over the suite: done/total, elapsed, time left.

    Time left scales the remaining entries' estimates by how the finished
    ones compared with theirs on this machine.
    """

    def __init__(self, total, done, estimates):
        self.total, self.done_count = total, done
        self.estimates = list(estimates)
        self.spent = self.estimated = 0.0
        self.begin = time.perf_counter()

    def _left(self):
        remaining = sum(self.estimates)
        scale = self.spent / self.estimated if self.estimated else 1.0
        return remaining * scale

    def start(self, what):
        elapsed = time.perf_counter() - self.begin
        print(
            f"[{self.done_count + 1}/{self.total}] {what} | elapsed {_clock(elapsed)}, "
            f"about {_clock(self._left())} left",
            flush=True,
        )

    def done(self, seconds, rows):
        self.done_count += 1
        self.spent += seconds
        self.estimated += self.estimates.pop(0)
        states = sorted({r.get("status") for r in rows})
        line = f"    {'/'.join(states)} in {_clock(seconds)}"
        errors = [r["error"] for r in rows if r.get("status") != "ok" and r.get("error")]
        if errors:
            line += f": {errors[0][:300]}"
        print(line, file=sys.stdout, flush=True)


def _clock(seconds):
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
