"""Where a result or a preset came from: library versions, device, git commit,
file hashes; and how a folder of results is written: whole, or not at all.
One place each, used by presets, exports, downloads, shards and result rows."""

import contextlib
import ctypes
import datetime
import errno
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from reczoo.version import __version__


def sha256_of(path, chunk_size=1 << 20):
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def default_mode():
    """The mode a new folder gets under this process's umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o777 & ~umask


@contextlib.contextmanager
def staged_folder(target, overwrite=False):
    """Yields a new, empty folder beside `target` to write into; once the
    block ends, it takes `target`'s place in one step.

    A reader (or a kill) at any instant sees the old `target` whole or the
    new one whole: a failure or an interruption inside the block removes the
    staged folder and leaves `target` untouched; an existing `target` is
    swapped with the new one atomically (Linux `renameat2(RENAME_EXCHANGE)`;
    elsewhere it is renamed aside, the new one renamed in, the old deleted)
    and only then deleted. Staged names are unique per process, so two
    writers never share one.

    Args:
        target: the folder to write.
        overwrite: replace a non-empty `target`; without it, a non-empty
            `target` is refused before the block runs.

    Raises:
        FileExistsError: `target` is a file, or a non-empty folder without
            `overwrite`.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{str(target)!r} exists and is not a folder.")
    if not overwrite and target.is_dir() and any(target.iterdir()):
        raise FileExistsError(
            f"{str(target)!r} exists and is not empty; pass overwrite=True (--overwrite) to "
            "replace it once the new one is complete."
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.staged-", dir=target.parent))
    try:
        # mkdtemp makes the folder private (0700); these folders are shared like any other.
        staging.chmod(default_mode())
        yield staging
        _put_in_place(staging, target, overwrite)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_atomically(path, write, durable=False):
    """Writes the file `path` whole or not at all: `write(tmp)` fills a file
    beside it under a name of this process's own (two writers never share
    one), which is then renamed over `path`. With `durable`, the bytes are
    synced to disk before the rename (a power cut keeps the old or the new)."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


LOCK_FILE = ".reczoo.lock"


class FolderInUse(FileExistsError):
    """Another process holds a folder's lock."""


@contextlib.contextmanager
def file_lock(path, wait=True, what=None):
    """Holds the lock file `path` (made if missing) for the block: one
    process at a time. Without `wait`, another holder is refused at once
    with `FolderInUse`, naming `what` (default: the lock's folder)."""
    from filelock import FileLock, Timeout

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=-1 if wait else 0)
    except Timeout:
        raise FolderInUse(
            f"{str(what or path.parent)!r} is in use by another reczoo process (it holds "
            f"{path.name} there): wait for it to end, or choose another folder."
        ) from None
    try:
        yield path
    finally:
        lock.release()


@contextlib.contextmanager
def folder_lock(folder, wait=True):
    """Holds `folder`'s lock file (`.reczoo.lock`, made if missing) for the
    block: one reczoo process at a time reads-and-writes the folder.

    Args:
        folder: the folder (made if missing).
        wait: wait for another holder to finish; with `False`, refuse at
            once with `FolderInUse`, naming the folder.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{str(folder)!r} is a file, not a folder.")
    with file_lock(folder / LOCK_FILE, wait=wait, what=folder):
        yield folder


def _put_in_place(staging, target, overwrite):
    if not target.exists():
        try:
            staging.rename(target)
            return
        except OSError as e:
            # Another writer made `target` meanwhile: swap below, or refuse.
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY) or not overwrite:
                raise FileExistsError(f"{str(target)!r} appeared while it was written.") from e
    if _exchange(staging, target):
        # `staging` now holds the old folder.
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    old.rmdir()
    target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        old.rename(target)
        raise
    shutil.rmtree(old, ignore_errors=True)


_RENAME_EXCHANGE = 2


def _exchange(a, b):
    """Swaps two paths in one step where the kernel can; False where not."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return done == 0


def versions():
    """reczoo, Keras, TensorFlow, keras-rs, numpy and Python versions."""
    import keras
    import numpy as np

    out = {"reczoo": __version__, "keras": keras.__version__}
    try:
        import tensorflow as tf

        out["tensorflow"] = tf.__version__
    except ImportError:
        pass
    try:
        import keras_rs

        out["keras_rs"] = keras_rs.__version__
    except ImportError:
        pass
    jax = sys.modules.get("jax")  # only where a run imported it (KERAS_BACKEND=jax)
    if jax is not None:
        out["jax"] = jax.__version__
    out["numpy"] = np.__version__
    out["python"] = platform.python_version()
    return out


def keras_home():
    """`$KERAS_HOME`, else `~/.keras`: where reczoo keeps its downloads,
    cached splits and machine probes, as Keras keeps its own."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home)


def _cpuinfo():
    """The CPU's model name and instruction-set flags (Linux' /proc/cpuinfo;
    the platform's processor name and no flags elsewhere)."""
    model, flags = platform.processor() or "CPU", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and model in ("CPU", platform.processor()):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    return model, flags


def cpu_flags():
    """The CPU's instruction-set flags (`avx2`, `avx512f`, ...); empty where
    the system does not list them."""
    return _cpuinfo()[1]


def cpu_name():
    """The CPU's model name, core count and widest vector instructions.

    The vector width is named because it changes float rounding: the same
    run on an AVX2 and an AVX-512 machine of one model name differs in the
    fifth decimal after a few epochs.
    """
    model, flags = _cpuinfo()
    vector = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else None
    limit = os.environ.get("ONEDNN_MAX_CPU_ISA")
    if vector and limit and limit.upper() not in ("ALL", "DEFAULT"):
        # TensorFlow's own kernels are built for AVX2; oneDNN's pick the
        # widest the CPU has, unless this caps them.
        vector += f" off: ONEDNN_MAX_CPU_ISA={limit}" if vector == "AVX-512" else f" ({limit})"
    return f"{model} ({os.cpu_count()} cores{', ' + vector if vector else ''})"


def device_name():
    """The accelerator's name and count, else the CPU's model and core count."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"{details.get('device_name', 'GPU')} x{len(gpus)}"
    return cpu_name()


def git_commit():
    """The commit of the reczoo checkout, or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def run_record():
    """The provenance fields of a result row: device, Keras backend,
    versions, git commit, date and the machine's load average at the end of
    the run."""
    import keras

    return {
        "device": device_name(),
        "backend": keras.backend.backend(),
        "versions": versions(),
        "git_commit": git_commit(),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


def finite(value):
    """`value` (a row) with every NaN or infinite float replaced by None, so
    that it is standard JSON: a metric that could not be computed is null."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def portable_command(command):
    """A recorded command without paths of the machine it ran on.

    A peer's interpreter becomes `$PEERS/<env>/bin/python`, any other absolute
    folder `DIR`, and a private `--output_dir` is dropped (the default holds
    the committed rows); relative paths stay as they are.
    """
    import re

    def peer(match):
        path = match.group(1)
        tail = path.split("/peers/", 1)[1] if "/peers/" in path else "/".join(path.split("/")[-3:])
        return f"--peer_python=$PEERS/{tail}"

    command = re.sub(r"--peer_python=(/\S+)", peer, command)
    command = re.sub(r" --output_dir=/\S+", "", command)
    return re.sub(r"(--[\w-]+)=/\S+", r"\1=DIR", command)


def script_command(script, argv):
    """`python SCRIPT ARGS` as a benchmark row records it (`portable_command`)."""
    import shlex

    return portable_command(" ".join(["python", script, *(shlex.quote(a) for a in argv)]))
