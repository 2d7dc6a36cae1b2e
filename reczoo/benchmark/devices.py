"""Where a benchmark runs: the device, the precision, XLA, the strategy.

`--device=gpu` without a visible GPU is an error, never a silent CPU run.
`--jit=auto` follows measurement: on this project's 2-core CPU the
throughput suite (benchmarks/results/throughput) found XLA slower at the
batch sizes the recipes train with (DeepFM on Frappe at 4,096: 0.87x,
DCN-v2 0.64x, SASRec at 128: 0.60x); only Criteo-sized embedding tables
gained (DCN-v2 2.0x at 4,096). So auto leaves it off on CPU. It is off on
GPUs too until measured there: benchmarks/gpu_check.sh times on against off
(and float32 against mixed_float16), and no GPU has been available to this
project yet; `JIT_AUTO` is the one place to change once it has. A model
may set its own default (`compile_defaults`), which auto keeps in training
runs: MF-BPR compiles with XLA (2.6x faster on this CPU, same metrics; its
step is a few dozen tiny ops), and so do GMF, MLP and NeuMF, whose dropout
draws its mask from a hash (reczoo.layers.HashDropout) rather than from
XLA's random numbers, which are slow on CPU (a running NeuMF epoch on
MovieLens-100K: 0.65 s compiled, 1.24 s op by op; with Keras' dropout,
16.6 s compiled). A training run shorter than 1,000 steps trains them op by
op (`reczoo.training.loop.XLA_MIN_STEPS`): the compilation, 1-3 s here,
costs more than its steps save. On an x86 CPU with AVX2 and without
AVX-512, where TensorFlow's oneDNN kernels run them slowly, DeepFM, DCN-v2,
xDeepFM, IPNN, OPNN, AutoInt, AutoInt+ and FinalMLP compile too (1.3-1.8x
faster steady epochs on a 2-core AMD EPYC; `reczoo.training.loop.XLA_ON_AVX2`).

Under the JAX backend `--jit` does not apply: every JAX step is compiled
with XLA (Keras' `jit_compile=False` there would run ops one at a time), and
rows record `jit: true`.
"""

import os
import shutil
import subprocess

from reczoo.provenance import cpu_name

DEVICES = ("auto", "cpu", "gpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
JIT = ("auto", "on", "off")
JIT_AUTO = {"cpu": False, "gpu": False}


def _choice(name, value, allowed):
    if value not in allowed:
        raise ValueError(
            f"--{name} must be one of {', '.join(allowed)}. Received: {name}={value!r}"
        )
    return value


def select(device="auto"):
    """Makes TensorFlow use `device`; returns `"cpu"` or `"gpu"`.

    Must run before TensorFlow places anything: hiding the GPUs for `cpu`
    cannot be undone in the same process.
    """
    import tensorflow as tf

    _choice("device", device, DEVICES)
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise ValueError(
            "--device=gpu, but TensorFlow sees no GPU. Install reczoo with the `and-cuda` "
            "extra (`pip install 'keras-reczoo[and-cuda]'`) on a machine whose NVIDIA driver "
            "works (`nvidia-smi`), or use --device=cpu."
        )
    if device == "cpu" and gpus:
        tf.config.set_visible_devices([], "GPU")
        return "cpu"
    return "gpu" if gpus else "cpu"


def check(precision="float32", jit="auto"):
    """Refuses an unknown precision or jit setting, before any work."""
    _choice("precision", precision, PRECISIONS)
    _choice("jit", jit, JIT)


def jit_compile(jit, kind):
    """`--jit` (`auto`, `on`, `off`) as Keras' `jit_compile` on `kind`."""
    return JIT_AUTO[kind] if jit == "auto" else jit == "on"


def strategy(kind):
    """`MirroredStrategy` over every visible GPU when there are several, else
    the default strategy."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU") if kind == "gpu" else []
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([g.name for g in gpus])
    return tf.distribute.get_strategy()


def gpu_details():
    """Name, count and memory (GiB) of the visible NVIDIA GPUs, from
    nvidia-smi; TensorFlow's device name where nvidia-smi is absent."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return {"gpu": None, "gpu_count": 0, "gpu_memory_gib": None}
    name, memory = None, None
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits"],
                capture_output=True, text=True, timeout=20,
            ).stdout.strip().splitlines()  # fmt: skip
            if out:
                name, mib = (p.strip() for p in out[0].split(",", 1))
                memory = round(float(mib) / 1024, 1)
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
    if name is None:
        name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
    return {"gpu": name, "gpu_count": len(gpus), "gpu_memory_gib": memory}


def record(kind, precision, jit):
    """The device fields of a benchmark row."""
    return {
        "device_kind": kind,
        "cpu": cpu_name(),
        "cpu_cores": os.cpu_count(),
        **gpu_details(),
        "precision": precision,
        "jit": jit,
    }
