"""The rows of a benchmark folder: results.jsonl, and results.csv made from it.

Both are written whole and atomically (a temporary file renamed over), and
only when their content changes; rows are added under the folder's lock.
"""

import csv
import io
import json
from pathlib import Path

from reczoo.provenance import finite, folder_lock, write_atomically

RESULTS = "results.jsonl"

CSV_FIELDS = (
    "suite", "label", "kind", "status", "model", "dataset", "protocol", "recipe", "seed",
    "train_samples_per_sec", "infer_samples_per_sec", "latency_ms_p50", "latency_ms_p99",
    "batch_size", "epochs", "best_epoch", "wall_seconds", "train_seconds", "params",
    "device", "device_kind", "cpu", "cpu_cores", "gpu", "gpu_count", "gpu_memory_gib",
    "precision", "jit", "versions", "git_commit", "date", "command", "suite_command", "error",
)  # fmt: skip


def read_rows(output):
    """The rows of an output folder (`results.jsonl`), oldest first."""
    path = Path(output) / RESULTS
    if not path.exists():
        return []
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}, line {number}: not a JSON row ({e.msg}).") from None
    return rows


def update_rows(output, new):
    """Puts `new` rows in `output`'s results under the folder's lock, in
    place of earlier rows of the same runs; returns all the rows.

    The rows are read again under the lock, never taken from an earlier
    read: two suites writing one folder keep each other's rows.
    """
    runs = {r.get("run_id") for r in new}
    with folder_lock(output):
        rows = [r for r in read_rows(output) if r.get("run_id") not in runs] + list(new)
        write_rows(output, rows)
    return rows


def write_rows(output, rows):
    """Writes `results.jsonl` and `results.csv`, each whole, each atomically."""
    text = "".join(json.dumps(finite(r), sort_keys=True, allow_nan=False) + "\n" for r in rows)
    write_if_changed(Path(output) / RESULTS, text)
    write_if_changed(Path(output) / "results.csv", csv_text(rows))


def write_if_changed(path, content):
    """Writes `content` (str or bytes) to `path` unless it already holds it;
    atomically (a temporary file renamed over). Returns whether it wrote."""
    path = Path(path)
    data = content.encode() if isinstance(content, str) else content
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, lambda tmp: tmp.write_bytes(data))
    return True


def metric_names(rows):
    return sorted({k for r in rows for k in (r.get("metrics") or {}) if k != "users"})


def csv_text(rows):
    """The rows as CSV: the fixed fields, then one `test_<metric>` column per
    metric any row has."""
    metrics = metric_names(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_FIELDS, *(f"test_{m}" for m in metrics)])
    for row in rows:
        values = []
        for field in CSV_FIELDS:
            value = row.get(field)
            if isinstance(value, dict):
                value = ";".join(f"{k}={v}" for k, v in sorted(value.items()))
            values.append("" if value is None else value)
        values += ["" if (row.get("metrics") or {}).get(m) is None else row["metrics"][m]
                   for m in metrics]  # fmt: skip
        writer.writerow(values)
    return out.getvalue()
