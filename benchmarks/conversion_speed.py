"""Shard conversion: rows/s and peak memory as the log grows to 100M rows,
and the speed against an earlier converter, measured in one run.

    git worktree add $REF d49522e      # the last commit before the pyarrow converter
    python benchmarks/conversion_speed.py --reference=$REF \
        --output=benchmarks/results/conversion

1. Memory: `synthetic_long_tail` logs (a click log whose `user`, `item` and
   `query` columns gain distinct values as it grows, 7 columns) of each
   `--sizes` row count are converted under `LONG_TAIL_SCHEMA` by
   `reczoo shards --schema=...`, each in a process of its own, recording
   its peak resident memory (`VmHWM`), its seconds and rows/s.
2. Speed: a 1M-row log in Criteo's layout with long-tailed columns
   (`synthetic_criteo`, each column's distinct values 50x the default,
   at most 1M) is converted by `reczoo shards --input=LOG` (vocabularies at
   `min_count` 10) and under a schema file (the same 40 columns), by this
   checkout and by the checkout at `--reference` (imported through
   PYTHONPATH), in turn, `--repeats` times: the ratio is taken run by run.

Writes `results.json` and `report.md` into `--output`. The logs go to
`--work` (a temporary folder by default; 100M rows take about 4 GB).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Peak memory is the process's VmHWM: ru_maxrss would carry over the parent's
# high-water mark across fork and exec (Linux keeps it), this benchmark's
# own included, which has just written the logs.
PEAK = (
    "import json, re, time; start = time.perf_counter(); {body}; "
    "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
    "print(json.dumps({{'peak_mb': int(hwm) / 1024, 'seconds': time.perf_counter() - start}}))"
)


def _measure(body, checkout=None):
    """Runs `body` in a fresh interpreter (importing reczoo from `checkout`
    when given); returns its peak MB and wall seconds, imports included."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    code = PEAK.format(body=body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=checkout or ROOT)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _shards(args):
    return f"from reczoo import cli; assert cli.main(['reczoo', 'shards', {', '.join(map(repr, args))}]) == 0"


def _long_tail_schema(work):
    from reczoo.datasets.synthetic import LONG_TAIL_SCHEMA

    path = work / "long_tail_schema.json"
    path.write_text(json.dumps(LONG_TAIL_SCHEMA))
    return path


def _criteo_schema(work):
    """Criteo's 40 columns as a schema file: a headerless file's columns are
    named by position."""
    columns = {"0": "label"}
    columns.update({str(i): {"role": "numerical", "transform": "log1p"} for i in range(1, 14)})
    columns.update({str(i): {"role": "categorical", "min_count": 10} for i in range(14, 40)})
    path = work / "criteo_schema.json"
    path.write_text(json.dumps({"format": {"sep": "\t", "header": False}, "columns": columns}))
    return path


def memory(work, sizes):
    from reczoo import datasets

    schema = _long_tail_schema(work)
    rows = []
    for size in sizes:
        log = work / f"long_tail_{size}.csv"
        if not log.is_file():
            datasets.synthetic_long_tail(log, size)
        out = work / f"shards_{size}"
        got = _measure(_shards([f"--input={log}", f"--schema={schema}", f"--output={out}",
                                "--overwrite"]))  # fmt: skip
        manifest = json.loads((out / "manifest.json").read_text())
        kept = {c: e["size"] for c, e in manifest["encoding"].items()}
        rows.append({"rows": size, "file_mb": round(log.stat().st_size / 2**20),
                     "peak_mb": round(got["peak_mb"], 1), "seconds": round(got["seconds"], 2),
                     "rows_per_second": round(size / got["seconds"]), "vocabulary": kept})  # fmt: skip
        print(json.dumps(rows[-1]), flush=True)
    return rows


def speed(work, reference, repeats):
    from reczoo import datasets
    from reczoo.datasets.synthetic import DEFAULT_CARDINALITY

    log = work / "criteo_long_tail_1m.txt"
    if not log.is_file():
        cardinality = tuple(min(c * 50, 1_000_000) for c in DEFAULT_CARDINALITY)
        datasets.synthetic_criteo(log, 1_000_000, seed=0, cardinality=cardinality)
    schema = _criteo_schema(work)
    ways = {
        "criteo layout, min_count 10": [f"--input={log}", "--min_count=10"],
        "schema file (40 columns)": [f"--input={log}", f"--schema={schema}"],
    }
    rows = []
    for name, args in ways.items():
        for run in range(repeats):
            got = {}
            for who, checkout in (("reference", reference), ("this", None)):
                out = work / f"speed_{who}"
                got[who] = _measure(_shards([*args, f"--output={out}", "--overwrite"]), checkout)
            rows.append({
                "input": name, "run": run + 1,
                "reference_seconds": round(got["reference"]["seconds"], 2),
                "this_seconds": round(got["this"]["seconds"], 2),
                "reference_peak_mb": round(got["reference"]["peak_mb"], 1),
                "this_peak_mb": round(got["this"]["peak_mb"], 1),
                "speedup": round(got["reference"]["seconds"] / got["this"]["seconds"], 2),
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return rows


def report(results):
    lines = [
        "# Shard conversion: speed and memory",
        "",
        f"`{results['command']}`",
        "",
        f"Machine: {results['machine']}. Commit: {results['commit']}; reference: "
        f"{results['reference_commit']}.",
        "",
        "## Memory as the log grows (`synthetic_long_tail`, `LONG_TAIL_SCHEMA`)",
        "",
        "| rows | file MB | peak MB | growth | seconds | rows/s | kept values (user, item, query) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    first = results["memory"][0]["peak_mb"] if results["memory"] else None
    for r in results["memory"]:
        v = r["vocabulary"]
        lines.append(
            f"| {r['rows']:,} | {r['file_mb']:,} | {r['peak_mb']:,.0f} | "
            f"{r['peak_mb'] / first:.2f}x | {r['seconds']:,.1f} | {r['rows_per_second']:,} | "
            f"{v['user'] - 1:,}, {v['item'] - 1:,}, {v['query'] - 1:,} |"
        )
    lines += [
        "",
        "Seconds and peak memory are the whole `reczoo shards` process's, imports included.",
        "",
        "## Speed against the reference converter (1M rows, Criteo's layout, long tail)",
        "",
        "| input | run | reference s | this s | speedup | reference peak MB | this peak MB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results["speed"]:
        lines.append(
            f"| {r['input']} | {r['run']} | {r['reference_seconds']} | {r['this_seconds']} | "
            f"{r['speedup']:.2f}x | {r['reference_peak_mb']:,.0f} | {r['this_peak_mb']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


def _commit(checkout):
    done = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.strip() or "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--reference", help="a checkout of an earlier converter")
    parser.add_argument("--sizes", default="1000000,10000000,100000000")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--work", help="where the logs go (default: a temporary folder)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="reczoo-conversion-") as tmp:
        work = Path(args.work or tmp)
        work.mkdir(parents=True, exist_ok=True)
        results = {
            "command": "python benchmarks/conversion_speed.py --reference=$REF "
            f"--sizes={args.sizes} --repeats={args.repeats} --output={args.output}",
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "commit": _commit(ROOT),
            "reference_commit": _commit(args.reference) if args.reference else None,
            "memory": memory(work, sizes),
            "speed": speed(work, Path(args.reference), args.repeats) if args.reference else [],
        }
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    (output / "report.md").write_text(report(results))
    print(report(results))


if __name__ == "__main__":
    main()
