"""Where a result or a preset came from: library versions, device, git commit,
file hashes. One place, used by presets and result rows."""

import hashlib
import os
import platform
import subprocess
from pathlib import Path

from reczoo.version import __version__


def sha256_of(path, chunk_size=1 << 20):
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


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
    out["numpy"] = np.__version__
    out["python"] = platform.python_version()
    return out


def cpu_name():
    """The CPU's model name and core count."""
    model = platform.processor() or "CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model} ({os.cpu_count()} cores)"


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
