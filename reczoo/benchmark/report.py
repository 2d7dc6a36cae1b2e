"""Reports from benchmark rows: results.csv, report.md and PNG plots.

    reczoo benchmark report DIR           # rebuilds DIR/report.md, DIR/plots/, DIR/results.csv
    reczoo benchmark report DIR --check   # writes nothing; exit 1 if one is stale

Everything here is computed from the rows in `DIR/results.jsonl` alone, so a
report rebuilt from the same rows is the same bytes: a file is written only
when its content changes, and the rows themselves are never touched. A plot
carries the hash of what it shows, so `--check` judges it by its content,
whatever matplotlib version drew it.
"""

import hashlib
import io
import json
import statistics
from pathlib import Path

from reczoo.benchmark.references import reference
from reczoo.benchmark.rows import csv_text, metric_names, read_rows, write_if_changed
from reczoo.terminal import table

HEADLINE = (
    "auc", "logloss", "hr@10", "ndcg@10", "rmse",
    "top_10_accuracy", "top_100_accuracy", "recall@100",
)  # fmt: skip


# --- grouping ---------------------------------------------------------------


def _variant(row):
    """What makes two rows the same cell, seeds aside."""
    settings = row.get("entry", "").split("|")[0].split("/")[-1]
    trained = (row.get("trained_by") or {}).get("protocol")
    if trained and trained != row.get("protocol"):
        settings = f"trained under {trained}, scored from its preset"
    label = row.get("label") or row["model"]
    if row.get("side_by_side"):
        label = f"{label} (vs {row['side_by_side']})"
    return (label, row.get("precision"), row.get("jit"), settings, _backend(row))


def _backend(row):
    # Rows from before the backend was recorded ran on TensorFlow.
    return row.get("backend", "tensorflow")


def _cells(rows, kinds=("accuracy",)):
    """Rows of `kinds` grouped by (dataset, protocol), then by variant, seeds together."""
    tables = {}
    for row in rows:
        if row.get("kind") not in kinds or row.get("status") != "ok":
            continue
        key = (row["dataset"], row.get("protocol"))
        tables.setdefault(key, {}).setdefault(_variant(row), []).append(row)
    return tables


def _value(rows, getter, digits):
    values = [v for v in (getter(r) for r in rows) if v is not None]
    if not values:
        return "", None
    mean = statistics.fmean(values)
    if len(values) == 1:
        return f"{mean:,.{digits}f}", mean
    sd = statistics.stdev(values)
    return f"{mean:,.{digits}f} ± {sd:,.{digits}f} ({len(values)})", mean


def _number(value, digits=0):
    if value is None:
        return ""
    return f"{value:,.{digits}f}"


def _head(header):
    """A markdown table's header row and rule."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]


def _headline(rows):
    names = metric_names(rows)
    return [m for m in HEADLINE if m in names]


# --- report.md ----------------------------------------------------------------


def markdown(rows):
    """report.md's text."""
    lines = ["# Benchmark report", ""]
    lines += _provenance(rows)
    tables = _cells(rows, ("accuracy", "peer"))
    for (dataset, protocol), variants in sorted(tables.items(), key=lambda t: str(t[0])):
        ours = {v: r for v, r in variants.items() if r[0].get("kind") == "accuracy"}
        lines += [f"## {dataset} · {protocol}", ""]
        lines += _accuracy_table(ours, dataset, protocol)
        lines += _peer_table(rows, dataset, protocol)
        lines += [f"![accuracy against training throughput](plots/{slug(dataset, protocol)}.png)",
                  ""]  # fmt: skip
    lines += _transfer_tables(rows)
    lines += _throughput_tables(rows)
    lines += _served_tables(rows)
    lines += _curves(rows)
    lines += _problems(rows)
    return "\n".join(lines).rstrip() + "\n"


def _provenance(rows):
    def distinct(field):
        return sorted({str(r.get(field)) for r in rows if r.get(field) is not None})

    dates = sorted(r["date"][:10] for r in rows if r.get("date"))
    versions = sorted({
        ", ".join(f"{k} {v}" for k, v in sorted(r["versions"].items()))
        for r in rows if r.get("versions") and not r.get("peer")
    })  # fmt: skip
    lines = [
        f"Suite: {', '.join(distinct('suite')) or 'none'}; {len(rows)} rows"
        + (f", run {dates[0]} to {dates[-1]}." if dates else "."),
        f"CPU: {'; '.join(distinct('cpu')) or 'unknown'}. GPU: {'; '.join(_gpus(rows)) or 'none'}.",
        f"Precision: {', '.join(distinct('precision'))}; "
        f"XLA: {', '.join(sorted({'on' if r.get('jit') else 'off' for r in rows}))}.",
        f"Versions: {'; '.join(versions)}." if versions else "",
        f"reczoo commit: {', '.join(c[:10] for c in distinct('git_commit'))}.",
        "",
        "Each row's command reproduces it (`suite_command` in results.jsonl); "
        "this report is rebuilt from the rows by `reczoo benchmark report DIR`. "
        "With several seeds a cell reads mean ± sd (count). A reference is "
        "compared only under its own protocol; `settings` lists what an entry "
        "changed from its recipe, and `capped` what that did (a quick suite caps "
        'epochs and minutes of training; "best at the last" means it was still '
        "improving when capped).",
        "",
    ]
    return [line for line in lines if line is not None]


def _gpus(rows):
    return sorted({
        f"{r['gpu']} x{r.get('gpu_count')}" + (f" ({r['gpu_memory_gib']} GiB)"
                                               if r.get("gpu_memory_gib") else "")
        for r in rows if r.get("gpu")
    })  # fmt: skip


def _accuracy_table(variants, dataset, protocol):
    if not variants:
        return []
    all_rows = [r for rs in variants.values() for r in rs]
    metrics = _headline(all_rows)
    with_caps = any(r.get("capped") for r in all_rows)
    # A backend column where a table holds runs on another than TensorFlow.
    backends = any(_backend(r) != "tensorflow" for r in all_rows)
    header = ["model", *(["backend"] if backends else []), "settings",
              *(["capped"] if with_caps else []), *metrics, "reference", "Δ", "epochs",
              "train ex/s", "infer ex/s", "wall s", "precision", "XLA"]  # fmt: skip
    lines = _head(header)
    for (label, precision, jit, settings, backend), rs in sorted(variants.items(), key=str):
        cells = [label, *([str(backend)] if backends else []), settings.replace(",", ", ")]
        if with_caps:
            cells.append(" / ".join(dict.fromkeys(r["capped"] for r in rs if r.get("capped"))))
        means = {}
        for m in metrics:
            text, means[m] = _value(rs, lambda r, m=m: (r.get("metrics") or {}).get(m), 4)
            cells.append(text)
        ref = reference(label, dataset, protocol)
        if ref is None:
            cells += ["", ""]
        else:
            shown = [m for m in ref.metrics if m in means]
            cells.append(", ".join(f"{m} {ref.metrics[m]:.4f}" for m in shown)
                         + f" ({ref.source})")  # fmt: skip
            cells.append(", ".join(f"{means[m] - ref.metrics[m]:+.4f}" for m in shown
                                   if means[m] is not None))  # fmt: skip
        cells.append(_value(rs, lambda r: r.get("epochs"), 0)[0])
        cells.append(_value(rs, lambda r: r.get("train_samples_per_sec"), 0)[0])
        cells.append(_value(rs, lambda r: r.get("infer_samples_per_sec"), 0)[0])
        cells.append(_value(rs, lambda r: r.get("wall_seconds"), 0)[0])
        cells += [str(precision), "on" if jit else "off"]
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _peer_table(rows, dataset, protocol):
    """Peers against reczoo on the same split, trained back to back in one entry."""
    by_run = {}
    for row in rows:
        same_split = (row["dataset"], row.get("protocol")) == (dataset, protocol)
        if row.get("kind") == "peer" and row.get("status") == "ok" and same_split:
            by_run.setdefault(row["run_id"], []).append(row)
    pairs = []
    for run in by_run.values():
        ours = [r for r in run if r.get("side_by_side")]
        theirs = [r for r in run if r.get("peer")]
        if ours and theirs:
            pairs.append((ours[0], theirs[0]))
    if not pairs:
        return []
    metrics = _headline([r for pair in pairs for r in pair])
    header = ["library", "model", *metrics, "epochs", "train s", "train ex/s",
              "ratio reczoo / peer", "s to peer's valid", "command"]  # fmt: skip
    lines = [
        "Peers, same split and settings, trained one after the other in one run. "
        "*s to peer's valid*: training seconds (evaluation excluded) until the "
        "library's validation score first reached the peer's final one (the "
        "metric each run early-stops on), from the validation after every epoch; "
        "*not reached* if it never did, with reczoo's best score against the "
        "peer's. Where the protocol has no validation split "
        "(the TF Recommenders tutorial's), the peer's final test score, read from "
        "the test score after every epoch, which nothing selects on (TF "
        "Recommenders' from its training without per-batch metrics).",
        "",
        *_head(header),
    ]
    for ours, theirs in sorted(
        pairs, key=lambda p: (p[1]["label"], _pair_name(p[0]), p[1]["seed"])
    ):
        ratio = ours["train_samples_per_sec"] / theirs["train_samples_per_sec"]
        reach = time_to_accuracy(ours, theirs)
        for row, library in ((ours, "reczoo"), (theirs, theirs["peer"])):
            cells = [library, _pair_name(row)]
            cells += [_number((row.get("metrics") or {}).get(m), 4) for m in metrics]
            cells += [str(row.get("epochs", "")), _number(row.get("train_seconds")),
                      _number(row.get("train_samples_per_sec"))]  # fmt: skip
            cells += [f"{ratio:.2f}x" if row is ours else "", _reached(reach, row is ours),
                      f"`{row['suite_command']}`" if row is ours else ""]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    notes = [*_own_settings(p[0] for p in pairs),
             *(_without_train_metrics(ours, theirs) for ours, theirs in pairs)]  # fmt: skip
    notes = [n for n in notes if n]
    return [*lines, "", *notes, *([""] if notes else []), *_seed_summary(pairs, metrics)]


def _own_settings(rows):
    """A line for each reczoo variant of a pair whose side trained with
    settings of its own on top of the pair's (a peer entry's settings, the
    last part of its `entry` key: `.../recbole/recent_weight=3`)."""
    said = {}
    for row in rows:
        parts = (row.get("entry") or "").split("/")
        if len(parts) > 5 and parts[5] and not parts[5].startswith("backend="):
            said.setdefault(_pair_name(row), parts[5].replace(",", ", "))
    return [
        f"- {name}: reczoo's side trained with {settings} on top of the pair's settings; "
        "the peer's are those of its other pairs."
        for name, settings in said.items()
    ]


def _precision(row):
    # Rows from before the precision was recorded trained in float32.
    return row.get("precision") or "float32"


def _pair_name(row):
    """A peer table's model cell: the label, and a precision other than
    float32 (reczoo's side of a pair run with --precision)."""
    name = row.get("label") or row["model"]
    precision = _precision(row)
    return name if precision == "float32" else f"{name} ({precision.replace('mixed_', '')})"


def _seeds(rows):
    seeds = sorted(r["seed"] for r in rows)
    if seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _mean_curve(rows, field):
    """The epoch-by-epoch mean of `rows`' `field` curves (their common
    length, the keys every entry has), or None where one has none."""
    curves = [r.get(field) or [] for r in rows]
    length = min(len(c) for c in curves)
    if not length:
        return None
    mean = []
    for entries in zip(*(c[:length] for c in curves), strict=True):
        keys = set.intersection(*(set(e) for e in entries))
        mean.append(
            {k: statistics.fmean(e[k] for e in entries) for k in keys
             if all(isinstance(e[k], (int, float)) for e in entries)}
        )  # fmt: skip
    return mean


def _mean_row(rows):
    """One row standing for several seeds' rows: their mean metrics and
    curves, for `time_to_accuracy`."""

    def mean(field):
        values = [r.get(field) or {} for r in rows]
        keys = set.intersection(*(set(v) for v in values))
        return {k: statistics.fmean(v[k] for v in values) for k in keys}

    return {
        "monitor": rows[0].get("monitor"),
        "metrics": mean("metrics"),
        "valid_metrics": mean("valid_metrics"),
        "history": _mean_curve(rows, "history"),
        "test_curve": _mean_curve(rows, "test_curve"),
    }


def _seed_summary(pairs, metrics):
    """Models compared under several seeds: each library's mean ± sd over
    them, the ratio per seed, and the time to the peer's accuracy read from
    the mean curves, where one seed's noise cannot decide it."""
    by_label = {}
    for ours, theirs in pairs:
        key = (theirs["label"], _pair_name(ours))
        by_label.setdefault(key, []).append((ours, theirs))
    several = {k: v for k, v in sorted(by_label.items()) if len(v) > 1}
    if not several:
        return []
    header = ["library", "model", "seeds", *metrics, "train ex/s", "ratio reczoo / peer",
              "s to peer's valid", "reached per seed"]  # fmt: skip
    lines = [
        "Over seeds, mean ± sd (runs): one seed's draw of the split and the "
        "initialisation moves a test score more than most differences between "
        "the libraries above. *ratio*: the lowest and highest of the seeds. "
        "*s to peer's valid*: as above, read from the mean of each library's "
        "curves over the seeds, to the mean of the peer's final scores. "
        "*reached per seed*: the runs in which reczoo reached the peer's score "
        "of the same seed.",
        "",
        *_head(header),
    ]
    margins = []
    for runs in several.values():
        ours_rows, theirs_rows = [p[0] for p in runs], [p[1] for p in runs]
        ratios = [o["train_samples_per_sec"] / t["train_samples_per_sec"] for o, t in runs]
        reach = time_to_accuracy(_mean_row(ours_rows), _mean_row(theirs_rows))
        per_seed = [time_to_accuracy(o, t) for o, t in runs]
        margins.append(_margin(runs, per_seed))
        known = [r["reczoo"] for r in per_seed if r and r["reczoo"] is not None]
        for rows, ours in ((ours_rows, True), (theirs_rows, False)):
            first = rows[0]
            cells = ["reczoo" if ours else first["peer"], _pair_name(first), _seeds(rows)]
            cells += [_value(rows, lambda r, m=m: (r.get("metrics") or {}).get(m), 4)[0]
                      for m in metrics]  # fmt: skip
            cells += [_value(rows, lambda r: r.get("train_samples_per_sec"), 0)[0]]
            cells += [f"{min(ratios):.2f}-{max(ratios):.2f}x" if ours else "",
                      _reached(reach, ours),
                      f"{sum(v is not False for v in known)} of {len(known)}"
                      if ours and known else ""]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    notes = [n for n in margins if n]
    for runs in several.values():
        without = [(o["train_samples_per_sec"] / t["train_samples_per_sec_without_train_metrics"],
                    t) for o, t in runs if t.get("train_samples_per_sec_without_train_metrics")]  # fmt: skip
        if without:
            low, high = min(r for r, _ in without), max(r for r, _ in without)
            notes.append(
                f"- Seeds {_seeds([t for _, t in without])}: reczoo / {without[0][1]['peer']} "
                f"without its per-batch training metrics = {low:.2f}-{high:.2f}x."
            )
    return [*lines, "", *notes, *([""] if notes else [])]


def _margin(runs, reaches):
    """A line on how far reczoo's best score came past (or short of) the
    peer's final one, seed by seed (`reaches`: `time_to_accuracy` of each of
    `runs`): their mean and its standard error, so a verdict on the mean
    curves can be told from the seeds' noise."""
    per_seed = [r for r in reaches if r and r.get("reczoo_best") is not None]
    if len(per_seed) < 2:
        return ""
    metric, split = per_seed[0]["metric"], per_seed[0]["split"]
    sign = -1.0 if metric in _LOWER_IS_BETTER else 1.0
    gaps = [sign * (r["reczoo_best"] - r["target"]) for r in per_seed]
    error = statistics.stdev(gaps) / len(gaps) ** 0.5
    ours, theirs = runs[0]
    return (
        f"- {_pair_name(ours)} against {theirs['label']}: reczoo's best "
        f"{split} {metric} past the peer's final, seed by seed: "
        f"{statistics.fmean(gaps):+.4f} ± {error:.4f} (mean ± standard error of {len(gaps)}; "
        "negative: short of it)."
    )


def _without_train_metrics(ours, theirs):
    """A line on the peer's second training without its per-batch training
    metrics (TF Recommenders' tutorial), where the row has one."""
    rate = theirs.get("train_samples_per_sec_without_train_metrics")
    if not rate:
        return ""
    return (
        f"- Seed {theirs['seed']}: {theirs['peer']} without its per-batch training metrics "
        f"trained at {rate:,.0f} examples/s; reczoo / it = "
        f"{ours['train_samples_per_sec'] / rate:.2f}x."
    )


# Metrics where lower is better; every other validation metric is maximised.
_LOWER_IS_BETTER = ("logloss", "rmse", "mae")


def time_to_accuracy(ours, theirs):
    """Time to the peer's accuracy: `{"metric", "target", "split", "reczoo",
    "peer"}` or None where the rows cannot tell (no monitored metric, or no
    timed history).

    The target is the peer's final validation score on the metric reczoo's
    run monitors; each library's entry is the training seconds (evaluation
    excluded) at its first validation at or past it, `False` when none was,
    None when its history has no timings; `reczoo_best` is reczoo's best
    score on the curve read (None without timings). Where the protocol has no
    validation split and both rows carry a `test_curve` (the test score
    after each epoch, which nothing selects on), the target is the peer's
    final test score and the curves are read instead (`split` says which).
    """
    metric = ours.get("monitor")
    target = (theirs.get("valid_metrics") or {}).get(metric)
    split, curve = "valid", "history"
    if target is None and ours.get("test_curve") and theirs.get("test_curve"):
        target = (theirs.get("metrics") or {}).get(metric)
        split, curve = "test", "test_curve"
    if metric is None or target is None:
        return None
    lower = metric in _LOWER_IS_BETTER

    def timed(row):
        return [h for h in row.get(curve) or [] if "train_seconds" in h and metric in h]

    def first(row):
        points = timed(row)
        if not points:
            return None
        hits = [h for h in points if (h[metric] <= target if lower else h[metric] >= target)]
        return hits[0]["train_seconds"] if hits else False

    scores = [h[metric] for h in timed(ours)]
    best = (min if lower else max)(scores) if scores else None
    return {"metric": metric, "target": target, "split": split,
            "reczoo": first(ours), "peer": first(theirs), "reczoo_best": best}  # fmt: skip


def _reached(reach, ours):
    if reach is None:
        return ""
    value = reach["reczoo" if ours else "peer"]
    if value is None:
        return ""
    if value is False:
        # reczoo's cell gives its best score beside the target. A peer's cell
        # says "not reached" alone: its mean curve can stop short of the mean
        # of its seeds' final scores (each seed ends at its own epoch, the
        # mean curve at the shortest).
        best = reach.get("reczoo_best") if ours else None
        if best is None:
            return "not reached"
        return f"not reached (best {reach['metric']} {best:.4f} vs {reach['target']:.4f})"
    cell = f"{value:,.1f}"
    split = "test " if reach.get("split") == "test" else ""
    return f"{cell} ({split}{reach['metric']} {reach['target']:.4f})" if ours else cell


def _transfer_tables(rows):
    """Pre-training, then fine-tuning against training from scratch at equal
    epoch budgets (`reczoo.benchmark.transfer`)."""
    done = [r for r in rows if r.get("kind") == "transfer" and r.get("status") == "ok"]
    lines = []
    for dataset in sorted({r["dataset"] for r in done}):
        mine = [r for r in done if r["dataset"] == dataset]
        about = mine[0]["transfer"]
        metrics = [m for m in _headline(mine) if all(m in r["metrics"] for r in mine)]
        lines += [
            f"## Fine-tuning · {dataset} ({about['split']})",
            "",
            f"Pre-training data: {_stats(about['pretrain_data'])}; later period: "
            f"{_stats(about['later_data'])}.",
            "",
            "| run | protocol | budget (epochs) | epochs run | steps | "
            + " | ".join(metrics)
            + " |",
            "| --- | --- | --- | --- | --- | " + " | ".join("---" for _ in metrics) + " |",
        ]
        for r in mine:
            budget = r["transfer"].get("budget_epochs")
            lines.append(
                f"| {r['label']} | `{r['protocol']}` | {budget if budget else '-'} | "
                f"{r['epochs']} | {r['steps']} | "
                + " | ".join(f"{r['metrics'][m]:.4f}" for m in metrics)
                + " |"
            )
        lines.append("")
    return lines


def _stats(stats):
    return ", ".join(f"{v:,} {k}" for k, v in stats.items() if k != "density")


def _throughput_tables(rows):
    measured = [r for r in rows if r.get("kind") == "throughput"]
    if not measured:
        return []
    lines = [
        "## Throughput",
        "",
        "Real feature shapes, synthetic values. Training: median of timed `fit` "
        "epochs after warm-up; inference: one `predict_on_batch` call, p50 and "
        "p99 over at least 100 calls. On next-item shapes an example is one "
        "history of 50 items (SASRec and GRU4Rec train a target at each of its "
        "positions, Caser the item after it).",
        "",
    ]
    for shape in sorted({r["dataset"] for r in measured}):
        group = [r for r in measured if r["dataset"] == shape]
        lines += [f"### {shape}", "", group[0].get("shape", ""), ""]
        header = ["model", "backend", "batch", "train ex/s", "infer ex/s", "latency p50 ms",
                  "latency p99 ms", "params", "precision", "XLA",
                  "train, infer vs TensorFlow float32 without XLA"]  # fmt: skip
        base = {(r["model"], r["batch_size"]): r for r in group
                if r.get("status") == "ok" and not r.get("jit")
                and r.get("precision") in (None, "float32") and _backend(r) == "tensorflow"}  # fmt: skip
        lines += _head(header)
        order = sorted(group, key=lambda r: (r["model"], str(r.get("precision")),
                                             str(r.get("jit")), _backend(r) != "tensorflow",
                                             r.get("batch_size") or 0))  # fmt: skip
        for r in order:
            if r.get("status") != "ok":
                cells = [r["model"], _backend(r), str(r.get("batch_size", "")),
                         r.get("error", r["status"]), "", "", "", "", "", "", ""]  # fmt: skip
            else:
                cells = [r["model"], _backend(r), f"{r['batch_size']:,}",
                         _number(r["train_samples_per_sec"]),
                         _number(r["infer_samples_per_sec"]), _number(r["latency_ms_p50"], 2),
                         _number(r["latency_ms_p99"], 2), f"{r['params']:,}",
                         str(r.get("precision")), "on" if r.get("jit") else "off",
                         _ratios(r, base.get((r["model"], r["batch_size"])))]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
        lines += ["", f"![throughput against batch size](plots/throughput-{slug(shape)}.png)", ""]
    return lines


def _served_tables(rows):
    """The exported SavedModels' latency beside the Keras models'."""
    measured = [r for r in rows if r.get("kind") == "served" and r.get("status") == "ok"]
    if not measured:
        return []
    lines = [
        "## Served: the exported SavedModel against the Keras model",
        "",
        "`reczoo export`'s SavedModel (raw values in, raw ids out, vocabularies in the graph) "
        "called through `serving_default` in the same process, as TensorFlow Serving calls "
        "it (without its network and batching), against the Keras model answering the same "
        "question from integer ids. Real feature shapes, synthetic values; p50 and p99 over "
        "at least 100 calls after warm-up (`reczoo.benchmark.serving`).",
        "",
    ]
    header = ["model", "shape", "batch", "runtime", "call", "examples/s", "latency p50 ms",
              "latency p99 ms", "SavedModel vs Keras (examples/s)"]  # fmt: skip
    lines += _head(header)
    keras_rows = {(r["model"], r["dataset"], r["batch_size"]): r for r in measured
                  if r.get("runtime") == "keras"}  # fmt: skip
    order = sorted(measured, key=lambda r: (r["model"], r["dataset"], r["batch_size"],
                                            r.get("runtime") != "keras"))  # fmt: skip
    for r in order:
        base = keras_rows.get((r["model"], r["dataset"], r["batch_size"]))
        ratio = ""
        if r.get("runtime") == "savedmodel" and base:
            ratio = f"{r['infer_samples_per_sec'] / base['infer_samples_per_sec']:.2f}x"
        cells = [r["model"], r["dataset"], f"{r['batch_size']:,}", r.get("runtime", ""),
                 f"`{r.get('call', '')}`", _number(r["infer_samples_per_sec"]),
                 _number(r["latency_ms_p50"], 2), _number(r["latency_ms_p99"], 2), ratio]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def _ratios(row, base):
    """Training and inference speed of `row` over its float32, no-XLA twin."""
    if base is None or base is row:
        return ""
    parts = []
    for key in ("train_samples_per_sec", "infer_samples_per_sec"):
        if row.get(key) and base.get(key):
            parts.append(f"{row[key] / base[key]:.2f}x")
    return ", ".join(parts)


def _curves(rows):
    runs = [r for r in rows if _has_curve(r)]
    if not runs:
        return []
    lines = ["## Validation curves", ""]
    for r in sorted(runs, key=_curve_name):
        lines.append(f"![{r.get('label')} on {r['dataset']}](plots/{_curve_name(r)}.png)")
    return [*lines, ""]


def _problems(rows):
    bad = [r for r in rows if r.get("status") not in ("ok", None)
           and r.get("kind") not in ("throughput", "served")]  # fmt: skip
    if not bad:
        return []
    lines = ["## Failed or skipped", "", "| entry | seed | status | why |", "|---|---|---|---|"]
    for r in bad:
        why = str(r.get("error", "")).replace("|", "\\|")
        lines.append(
            f"| {r.get('label')} on {r['dataset']} | {r.get('seed')} | {r['status']} | {why} |"
        )
    return [*lines, ""]


# --- plots ----------------------------------------------------------------------


def slug(*parts):
    text = "-".join(str(p) for p in parts if p)
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


def _has_curve(row):
    history = row.get("history") or []
    return row.get("status") == "ok" and any(len(h) > 3 for h in history)


def _curve_name(row):
    label = row.get("label") or row["model"]
    suffix = f"seed{row['seed']}" if row.get("seed") else ""
    variant = "" if row.get("precision") in (None, "float32") else row["precision"]
    return "curve-" + slug(label, row["dataset"], row.get("protocol"), variant, suffix,
                            "xla" if row.get("jit") else "")  # fmt: skip


_SOURCE = b"reczoo-plot-source:"


def _figure_source(figure):
    """What a figure shows (titles, labels, every plotted point and text),
    independent of how a matplotlib version renders it."""
    parts = [figure.get_suptitle()]
    for ax in figure.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        parts += [(line.get_label(), line.get_xydata().tolist()) for line in ax.get_lines()]
        parts += [c.get_offsets().tolist() for c in ax.collections]
        parts += [text.get_text() for text in ax.texts]
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()


def _png(figure, render=True):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not render:
        # What `--check` compares: the hash of what is plotted, without the
        # seconds that drawing the pixels takes.
        return _SOURCE + _figure_source(figure).encode()
    FigureCanvasAgg(figure)
    figure.tight_layout()
    out = io.BytesIO()
    # No software or date stamp: the same rows give the same bytes. The
    # hash of what is plotted goes in, so that `--check` can tell a stale
    # plot from one drawn by another matplotlib version.
    comment = (_SOURCE + _figure_source(figure).encode()).decode()
    figure.savefig(out, format="png", dpi=90, metadata={"Software": None, "Comment": comment})
    return out.getvalue()


def plot_source(data):
    """The plotted-content hash a PNG of `plots()` carries, or None."""
    at = data.find(_SOURCE)
    return None if at < 0 else data[at + len(_SOURCE) : at + len(_SOURCE) + 64]


def plots(rows, render=True):
    """`{file name: PNG bytes}` for every plot the rows support (without
    `render`, what each PNG's `plot_source` would be, as bytes)."""
    from matplotlib.figure import Figure

    out = {}
    for (dataset, protocol), variants in _cells(rows, ("accuracy", "peer")).items():
        all_rows = [r for rs in variants.values() for r in rs]
        metric = next(
            (m for m in ("auc", "hr@10", "rmse", "top_100_accuracy") if m in _headline(all_rows)),
            None,
        )
        if metric is None:
            continue
        figure = Figure(figsize=(6, 4))
        ax = figure.add_subplot()
        for (label, precision, jit, settings, backend), rs in sorted(variants.items(), key=str):
            xs = [r.get("train_samples_per_sec") for r in rs]
            ys = [(r.get("metrics") or {}).get(metric) for r in rs]
            points = [(x, y) for x, y in zip(xs, ys, strict=True) if x and y is not None]
            if not points:
                continue
            peer = bool(rs[0].get("peer"))
            x, y = statistics.fmean(p[0] for p in points), statistics.fmean(p[1] for p in points)
            ax.scatter([x], [y], marker="s" if peer else "o", color="tab:red" if peer else
                       "tab:blue")  # fmt: skip
            name = label + (f" ({settings})" if settings else "")
            if precision not in (None, "float32"):
                name += f" {precision.replace('mixed_', '')}"
            name += " JAX" if backend == "jax" else " XLA" if jit else ""
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
        ax.set_xscale("log")
        ax.margins(x=0.25, y=0.15)  # room for the labels
        ax.set_xlabel("training examples per second (log)")
        ax.set_ylabel(f"test {metric}")
        ax.set_title(f"{dataset} · {protocol}: accuracy against training speed", fontsize=9)
        ax.grid(True, alpha=0.3)
        out[f"{slug(dataset, protocol)}.png"] = _png(figure, render)
    out.update(_throughput_plots(rows, render))
    for row in rows:
        if _has_curve(row):
            out[f"{_curve_name(row)}.png"] = _curve_plot(row, render)
    return out


def _throughput_plots(rows, render=True):
    from matplotlib.figure import Figure

    out = {}
    measured = [r for r in rows if r.get("kind") == "throughput" and r.get("status") == "ok"]
    for shape in sorted({r["dataset"] for r in measured}):
        figure = Figure(figsize=(8, 3.5))
        train_ax, infer_ax = figure.subplots(1, 2)
        group = [r for r in measured if r["dataset"] == shape]

        def series(r):
            return r["model"], str(r.get("precision")), bool(r.get("jit")), _backend(r)

        for model, precision, jit, backend in sorted({series(r) for r in group}):
            mine = sorted((r for r in group if series(r) == (model, precision, jit, backend)),
                          key=lambda r: r["batch_size"])  # fmt: skip
            name = model + (" JAX" if backend == "jax" else " XLA" if jit else "")
            name += "" if precision == "float32" else f" {precision.replace('mixed_', '')}"
            trained = [r for r in mine if r.get("train_samples_per_sec")]
            train_ax.plot(
                [r["batch_size"] for r in trained],
                [r["train_samples_per_sec"] for r in trained],
                marker="o",
                label=name,
            )
            infer_ax.plot(
                [r["batch_size"] for r in mine],
                [r["infer_samples_per_sec"] for r in mine],
                marker="o",
                label=name,
            )
        for ax, what in ((train_ax, "training"), (infer_ax, "inference")):
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("batch size")
            ax.set_ylabel(f"{what} examples/s")
            ax.grid(True, alpha=0.3)
        infer_ax.legend(fontsize=7)
        figure.suptitle(f"{shape}: throughput", fontsize=9)
        out[f"throughput-{slug(shape)}.png"] = _png(figure, render)
    return out


def _curve_plot(row, render=True):
    from matplotlib.figure import Figure

    history = [h for h in row["history"] if len(h) > 3]
    x_key = "epoch" if all(h.get("epoch") is not None for h in history) else "step"
    xs = [h[x_key] for h in history]
    metrics = [
        m for m in ("auc", "hr@10", "ndcg@10", "rmse", "top_100_accuracy") if m in history[0]
    ]
    figure = Figure(figsize=(6, 3.2))
    loss_ax, metric_ax = figure.subplots(1, 2)
    loss_ax.plot(xs, [h.get("loss") for h in history], marker=".")
    loss_ax.set_ylabel("training loss")
    for m in metrics:
        metric_ax.plot(xs, [h[m] for h in history], marker=".", label=f"valid {m}")
    best = row.get("best_epoch") if x_key == "epoch" else row.get("best_step")
    if best:
        metric_ax.axvline(best, color="grey", linestyle="--", linewidth=0.8, label="kept")
    metric_ax.legend(fontsize=7)
    for ax in (loss_ax, metric_ax):
        ax.set_xlabel(x_key)
        ax.grid(True, alpha=0.3)
    figure.suptitle(f"{row.get('label') or row['model']} on {row['dataset']} "
                    f"({row.get('protocol')}), seed {row.get('seed')}", fontsize=9)  # fmt: skip
    return _png(figure, render)


# --- building -------------------------------------------------------------------


def build(output, rows=None, check=False):
    """Writes report.md, results.csv and plots/ of `output` from its rows.

    With `check`, writes nothing and returns the files that are stale
    (missing or different); otherwise returns the files it wrote.
    """
    output = Path(output)
    if rows is None:
        if not (output / "results.jsonl").exists():
            raise FileNotFoundError(f"No results.jsonl in {output}: nothing to report.")
        rows = read_rows(output)
    files = {output / "report.md": markdown(rows), output / "results.csv": csv_text(rows)}
    files.update({output / "plots" / name: data for name, data in plots(rows, not check).items()})
    changed = []
    for path, content in files.items():
        data = content.encode() if isinstance(content, str) else content
        if check:
            if not path.exists():
                changed.append(path)
            elif path.suffix == ".png":
                if plot_source(path.read_bytes()) != plot_source(data):
                    changed.append(path)
            elif path.read_bytes() != data:
                changed.append(path)
        elif write_if_changed(path, data):
            changed.append(path)
    return changed


def summary_table(rows, runs=None):
    """A readable table of the rows (of `runs` only, where given)."""
    shown = [r for r in rows if runs is None or r.get("run_id") in runs]
    lines = []
    accuracy = [r for r in shown if r.get("kind") not in ("throughput", "served")]
    if accuracy:
        metrics = _headline([r for r in accuracy if r.get("status") == "ok"])
        header = ["model", "dataset", "seed", "status", *metrics, "reference", "train ex/s",
                  "wall s"]  # fmt: skip
        body = []
        for r in accuracy:
            m = r.get("metrics") or {}
            ref = reference(r.get("label") or r["model"], r["dataset"], r.get("protocol"))
            body.append([
                r.get("label") or r["model"], r["dataset"], r.get("seed"), r.get("status"),
                *(_number(m.get(k), 4) for k in metrics),
                ", ".join(f"{k} {v:.4f}" for k, v in ref.metrics.items()) if ref else "",
                _number(r.get("train_samples_per_sec")), _number(r.get("wall_seconds")),
            ])  # fmt: skip
        lines.append(table(body, header))
    throughput = [r for r in shown if r.get("kind") in ("throughput", "served")]
    if throughput:
        header = ["model", "backend", "shape", "batch", "train ex/s", "infer ex/s", "p50 ms",
                  "p99 ms"]  # fmt: skip
        body = [[r["model"] + (f" ({r['runtime']})" if r.get("runtime") else ""), _backend(r),
                 r["dataset"], r.get("batch_size"),
                 _number(r.get("train_samples_per_sec")),
                 _number(r.get("infer_samples_per_sec")), _number(r.get("latency_ms_p50"), 2),
                 _number(r.get("latency_ms_p99"), 2)] for r in throughput]  # fmt: skip
        lines.append(table(body, header))
    return "\n\n".join(lines)
