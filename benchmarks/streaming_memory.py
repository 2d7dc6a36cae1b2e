"""Peak memory of the streaming path as the rows grow 10x.

    python benchmarks/streaming_memory.py --output=benchmarks/results/streaming

For each size (100,000 and 1,000,000 rows by default) a synthetic click log
in Criteo's format is written to a temporary folder, then each step runs in a
process of its own and reports its peak resident memory (`VmHWM`):

- `convert (min_count)`: `reczoo shards --input=LOG --min_count=10`;
- `convert (hashing)`: `reczoo shards --input=LOG --hash_buckets=1048576`
  (both in blocks of 16,384 rows, so that the smallest log already fills
  the conversion's pipeline);
- `convert (schema)`: `reczoo shards --input=LOG --schema=schema.json`, the
  same log read under a schema file (label, 13 numerical columns with
  `log1p`, 26 categorical with `min_count` 10), as your own click log is:
  the general converter, in the same blocks;
- `train from shards`: `reczoo train --model=deepfm --shards=... --epochs=1`
  on the min_count shards (batch 4096, shuffle buffer 20,000 rows, which
  the smallest log's 80,000 training rows fill): one
  epoch, then validation and test streamed;
- `load in memory`: `reczoo.datasets.loaders.read_criteo(LOG)`, the loader
  that holds every row (for comparison; what the streaming path replaces).

Writes `results.json`, `report.md` and `memory.png` into `--output`.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The process's own high-water mark (VmHWM): `ru_maxrss` would carry the
# parent's over fork and exec (Linux keeps it), this script's included, which
# has just written the logs.
PEAK = (
    "import json, re, sys, time; start = time.perf_counter(); {body}; "
    "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1); "
    "print(json.dumps({{'peak_mb': int(hwm) / 1024, 'seconds': time.perf_counter() - start}}))"
)


def _measure(body):
    """Runs `body` in a fresh interpreter; returns its peak MB and seconds."""
    code = PEAK.format(body=body)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli(args):
    return f"from reczoo import cli; assert cli.main(['reczoo', {', '.join(map(repr, args))}]) == 0"


def steps(log, work):
    shards, hashed = work / "shards", work / "hashed"
    return {
        "convert (min_count)": _cli(
            [
                "shards",
                f"--input={log}",
                f"--output={shards}",
                "--min_count=10",
                "--block_rows=16384",
            ]
        ),
        "convert (hashing)": _cli(
            [
                "shards",
                f"--input={log}",
                f"--output={hashed}",
                "--hash_buckets=1048576",
                "--block_rows=16384",
            ]
        ),
        "convert (schema)": _cli(
            [
                "shards",
                f"--input={log}",
                f"--output={work / 'by_schema'}",
                f"--schema={_schema(work)}",
                "--block_rows=16384",
            ]
        ),
        "train from shards": _cli(
            [
                "train",
                "--model=deepfm",
                f"--shards={shards}",
                "--epochs=1",
                "--quiet",
                "--set=batch_size=4096",
                "--set=shuffle_buffer=20000",
            ]
        ),
        "load in memory": (
            f"from reczoo.datasets import loaders; loaders.read_criteo({str(log)!r})"
        ),
    }


def _schema(work):
    """Criteo's layout as a schema file (no header: columns by position)."""
    columns = {"0": "label"}
    columns.update({str(k): {"role": "numerical", "transform": "log1p"} for k in range(1, 14)})
    columns.update({str(k): {"role": "categorical", "min_count": 10} for k in range(14, 40)})
    path = work / "schema.json"
    path.write_text(json.dumps({"format": {"sep": "\t", "header": False}, "columns": columns}))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--rows", default="100000,1000000")
    args = parser.parse_args()
    from reczoo import datasets, provenance

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for rows in [int(r) for r in args.rows.split(",")]:
        with tempfile.TemporaryDirectory(prefix="reczoo-streaming-") as tmp:
            work = Path(tmp)
            start = time.perf_counter()
            log = datasets.synthetic_criteo(work / "train.txt", rows)
            size_mb = log.stat().st_size / 2**20
            print(
                f"{rows:,} rows ({size_mb:.0f} MB) written in {time.perf_counter() - start:.0f} s"
            )
            for step, body in steps(log, work).items():
                found = _measure(body)
                row = {"rows": rows, "file_mb": round(size_mb, 1), "step": step,
                       "peak_mb": round(found["peak_mb"], 1),
                       "seconds": round(found["seconds"], 1)}  # fmt: skip
                print(json.dumps(row), flush=True)
                results.append(row)
    record = {
        "command": "python benchmarks/streaming_memory.py --output=benchmarks/results/streaming"
        + (f" --rows={args.rows}" if args.rows != "100000,1000000" else ""),
        **provenance.run_record(),
        "results": results,
    }
    (out / "results.json").write_text(json.dumps(record, indent=1) + "\n")
    (out / "report.md").write_text(report(record))
    plot(results, out / "memory.png")


def report(record):
    results = record["results"]
    sizes = sorted({r["rows"] for r in results})
    by = {(r["step"], r["rows"]): r for r in results}
    head = ["step", *(f"peak MB at {n:,} rows" for n in sizes), "growth", "seconds (largest)"]
    lines = [
        "# Streaming memory: peak resident memory as the rows grow",
        "",
        f"Regenerate: `{record['command']}` (synthetic Criteo-format logs; each step",
        "in a process of its own; peak resident memory, `VmHWM`).",
        f"Machine: {record['device']}; {record['date'][:10]}; reczoo {record['versions']['reczoo']},"
        f" TensorFlow {record['versions']['tensorflow']}.",
        "",
        "| " + " | ".join(head) + " |",
        "| " + " | ".join("---" for _ in head) + " |",
    ]
    for step in dict.fromkeys(r["step"] for r in results):
        peaks = [by[(step, n)]["peak_mb"] for n in sizes]
        growth = f"{peaks[-1] / peaks[0]:.2f}x"
        cells = [step, *(f"{p:,.0f}" for p in peaks), growth, f"{by[(step, sizes[-1])]['seconds']}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for step in dict.fromkeys(r["step"] for r in results):
        points = sorted((r["rows"], r["peak_mb"]) for r in results if r["step"] == step)
        ax.plot(*zip(*points, strict=True), marker="o", label=step)
    ax.set_xscale("log")
    ax.set_xlabel("rows in the click log")
    ax.set_ylabel("peak resident memory (MB)")
    ax.set_title("Streaming from shards: memory as the rows grow 10x")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main()
