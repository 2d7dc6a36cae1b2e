"""Dtype helpers shared by layers and tasks (TensorFlow imported only by
`bfloat16_runs`, and only under its backend)."""

import contextlib
import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import ml_dtypes
import numpy as np

# TensorFlow's oneDNN kernels multiply bfloat16 matrices from AVX-512's core
# instructions up (natively with AVX512_BF16 or AMX); held below them, by
# the CPU or by ONEDNN_MAX_CPU_ISA, a bfloat16 matmul ends the process with a
# segmentation fault (2-core AMD EPYC, TensorFlow 2.21, ONEDNN_MAX_CPU_ISA=AVX2).
_AVX512_CORE = {"avx512f", "avx512bw", "avx512vl", "avx512dq"}
_PROBE = (
    "import tensorflow as tf; a = tf.ones((8, 8), tf.bfloat16); "
    "print(float(tf.reduce_sum(tf.matmul(a, a))))"
)


def lowest(dtype):
    """The most negative finite value of a float dtype: the mask value that
    never overflows (`-1e9` is `-inf` in float16)."""
    name = str(getattr(dtype, "name", dtype))
    if name == "bfloat16":
        return float(ml_dtypes.finfo(ml_dtypes.bfloat16).min)
    return float(np.finfo(np.dtype(name)).min)


def bfloat16_runs():
    """Whether TensorFlow multiplies bfloat16 matrices on this machine
    without crashing.

    Always under another backend, on a GPU, or with oneDNN off
    (`TF_ENABLE_ONEDNN_OPTS=0`: TensorFlow's own kernels, slower). On a CPU
    with AVX-512's core instructions whose oneDNN is not held below them
    (`ONEDNN_MAX_CPU_ISA`), at once; elsewhere a bfloat16 matmul is tried
    in a child process (a TensorFlow start-up: seconds), since in this one
    it would end the process. The child's answer is kept in
    `$KERAS_HOME/reczoo/probes.json` for this CPU, TensorFlow version and
    oneDNN setting, so that it is tried once per machine, not once per
    process.

    Returns:
        True where a bfloat16 model can train here.
    """
    import keras

    if keras.backend.backend() != "tensorflow" or os.environ.get("TF_ENABLE_ONEDNN_OPTS") == "0":
        return True
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        return True
    from reczoo.provenance import cpu_flags

    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL").upper()
    if cpu_flags() >= _AVX512_CORE and limit.startswith(("ALL", "DEFAULT", "AVX512", "AVX10")):
        return True
    return _matmul_in_a_child(limit)


def check_supported(policy):
    """Refuses a bfloat16 policy where TensorFlow cannot multiply bfloat16
    matrices (`bfloat16_runs`), rather than let the first matmul crash the
    process.

    Args:
        policy: a Keras dtype policy (or its name).

    Raises:
        ValueError: the policy computes in bfloat16 and a bfloat16 matmul
            crashed here; the message names the ways around it.
    """
    import keras

    policy = keras.dtype_policies.get(policy)
    if policy.compute_dtype != "bfloat16" or bfloat16_runs():
        return
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA", "ALL")
    raise ValueError(
        f"dtype {policy.name!r} computes in bfloat16, and TensorFlow's oneDNN kernels cannot "
        f"multiply bfloat16 matrices on this CPU (they need AVX-512; ONEDNN_MAX_CPU_ISA="
        f"{limit}): a bfloat16 matmul tried in a child process crashed it. Train in "
        "float32 (the default), use the JAX backend (KERAS_BACKEND=jax), or start Python "
        "with TF_ENABLE_ONEDNN_OPTS=0 (TensorFlow's own bfloat16 kernels, slower)."
    )


@functools.cache
def _matmul_in_a_child(limit):
    # `limit` keys the cache: the child inherits the environment.
    key = _probe_key(limit)
    # Processes started together (pytest-xdist workers, a launcher's
    # workers) wait for the first one's child rather than each start one.
    with _held(_probes_file().with_suffix(".lock")):
        known = _probes().get(key)
        if isinstance(known, bool):
            return known
        try:
            done = subprocess.run(
                [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=300,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return False
        runs = done.returncode == 0 and done.stdout.strip().endswith("512.0")
        _keep_probe(key, runs)
        return runs


@contextlib.contextmanager
def _held(path):
    """An exclusive lock on `path` where the system offers one (POSIX);
    without it, or where the folder cannot be written, no lock."""
    with contextlib.ExitStack() as stack:
        try:
            import fcntl

            path.parent.mkdir(parents=True, exist_ok=True)
            handle = stack.enter_context(open(path, "a"))
        except (ImportError, OSError):
            handle = None
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, handle, fcntl.LOCK_UN)
        yield


def _probes_file():
    from reczoo.provenance import keras_home

    return keras_home() / "reczoo" / "probes.json"


def _probe_key(limit):
    """What the child's answer depends on: the probe itself, the CPU (model
    and flags), TensorFlow's version and oneDNN's settings."""
    import tensorflow as tf

    from reczoo.provenance import _cpuinfo

    model, flags = _cpuinfo()
    cpu = hashlib.sha256(" ".join([model, *sorted(flags)]).encode()).hexdigest()[:16]
    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "")
    probe = hashlib.sha256(_PROBE.encode()).hexdigest()[:8]
    return f"bfloat16-matmul {probe} cpu={cpu} tf={tf.__version__} isa={limit} onednn={onednn}"


def _probes():
    try:
        found = json.loads(_probes_file().read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _keep_probe(key, runs):
    # Written whole into a temporary file, then renamed over the record: a
    # process reading it meanwhile sees the old record or the new, never a
    # part. An unwritable home only costs the next process the child again.
    path = _probes_file()
    record = {**_probes(), key: runs}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".probes-", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(record, f, indent=1, sort_keys=True)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
