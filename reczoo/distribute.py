"""Training on several devices or machines with tf.distribute.

- `mirrored`: `tf.distribute.MirroredStrategy` over every local GPU (or,
  without one, over the logical CPU devices `configure_cpu_devices` made:
  a way to test the path on a laptop). Training goes through Keras `fit`.
- `multi_worker`: `tf.distribute.MultiWorkerMirroredStrategy`, one process
  per worker, the cluster in `TF_CONFIG`. Keras 3's `fit` fails under it
  (keras-team/keras#20585), so `fit_loop` trains with the strategy's own
  primitives: a distributed dataset, `strategy.run(task.train_step)` and a
  cross-replica mean of the loss, driving the very callbacks `fit` would
  (evaluation, early stopping, learning-rate decay, checkpoints).

In both, the batch size of a run is the global batch: each replica takes
`batch_size / replicas` rows of it, and the learning rate is the recipe's.
Variables (embedding tables included) are mirrored: every replica holds a
whole copy and the gradients are all-reduced.

- `model_parallel` (JAX backend): `keras.distribution.ModelParallel` over a
  mesh of devices. Every embedding table of the shared `FeatureEmbedding`
  has its rows split across the mesh's `model` axis (each device holds
  1/n of the rows, and of the optimizer's slots for them), the dense
  layers are replicated, and each batch is split across the `batch` axis.
  The same model code runs; XLA partitions the lookups. Tables get rows
  added up to a multiple of the shard count (ids never reach them).
  keras-rs' `DistributedEmbedding` shards tables only on TPU SparseCore;
  on a TPU host `sharded_embedding_backend()` names it, untested here.

The row records the placement (`describe`).
"""

import contextlib
import contextvars
import json
import math
import os
import re

STRATEGIES = ("default", "mirrored", "multi_worker", "model_parallel")
_STRATEGY = {}
# Set while a `FeatureEmbedding` creates its tables (see `ShardedTables`).
_BUILDING_TABLES = contextvars.ContextVar("reczoo_building_tables", default=False)


def _tf():
    import tensorflow as tf

    return tf


def configure_cpu_devices(count):
    """Splits the CPU into `count` logical devices (for `mirrored` on a
    machine without GPUs). Must run before TensorFlow starts its runtime."""
    tf = _tf()
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError:
        found = len(tf.config.list_logical_devices("CPU"))
        if found != count:
            raise RuntimeError(
                f"TensorFlow has started with {found} logical CPU device(s); cpu_devices="
                f"{count} must be set before anything runs on it (first thing in the program)."
            ) from None


def configure_jax_cpu_devices(count):
    """Splits the host into `count` JAX CPU devices (for `model_parallel` on a
    machine without accelerators). Must run before JAX starts its backend."""
    flags = re.sub(r"--xla_force_host_platform_device_count=\d+", "",
                   os.environ.get("XLA_FLAGS", ""))  # fmt: skip
    os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()
    import jax

    found = len(jax.devices("cpu"))
    if found != count:
        raise RuntimeError(
            f"JAX has started with {found} CPU device(s); cpu_devices={count} must be set "
            "before anything runs on it (first thing in the program)."
        )


def get_strategy(name="default", cpu_devices=None, mesh=None):
    """The strategy called `name` (created once per process).

    Args:
        name: `"default"` (one device), `"mirrored"`, `"multi_worker"` (both
            `tf.distribute` strategies) or `"model_parallel"` (a
            `ShardedTables` on `keras.distribution`, JAX backend).
        cpu_devices: without GPUs, split the CPU into this many devices:
            logical TensorFlow devices for `mirrored`, JAX host devices
            (`XLA_FLAGS=--xla_force_host_platform_device_count`) for
            `model_parallel`.
        mesh: for `model_parallel`, the device mesh: `"8"` (one axis: rows
            and batch both split 8 ways) or `"2x4"` (batch split 2 ways,
            rows 4 ways); None for every device on one axis.

    Returns:
        A `tf.distribute.Strategy`, or a `ShardedTables`.

    Raises:
        ValueError: an unknown name, a backend the strategy cannot use, a
            mesh that does not divide the devices, or a missing `TF_CONFIG`.

    Example:
        ```python
        strategy = reczoo.distribute.get_strategy("default")
        reczoo.distribute.describe(strategy)["strategy"]  # 'default'
        ```
    """
    if name is None or not isinstance(name, str):
        return name  # a strategy object, or None for the default
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}. Known strategies: {list(STRATEGIES)}")
    if mesh is not None and name != "model_parallel":
        raise ValueError(f"--mesh is for --strategy=model_parallel. Received: strategy={name!r}")
    _check_backend(name)
    if name == "model_parallel":
        if cpu_devices:
            configure_jax_cpu_devices(cpu_devices)
        key = (name, mesh)
        if key not in _STRATEGY:
            _STRATEGY[key] = ShardedTables(mesh)
        return _STRATEGY[key]
    if name in _STRATEGY:
        return _STRATEGY[name]
    tf = _tf()
    if name == "default":
        strategy = tf.distribute.get_strategy()
    elif name == "mirrored":
        if cpu_devices:
            configure_cpu_devices(cpu_devices)
        gpus = tf.config.list_logical_devices("GPU")
        devices = gpus or tf.config.list_logical_devices("CPU")
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
    else:
        config = os.environ.get("TF_CONFIG")
        if not config:
            raise ValueError(
                "--strategy=multi_worker needs the cluster in the TF_CONFIG environment "
                'variable, e.g. TF_CONFIG=\'{"cluster": {"worker": ["host1:12345", '
                '"host2:12345"]}, "task": {"type": "worker", "index": 0}}\' on the first '
                "worker and index 1 on the second (docs/distributed.md)."
            )
        try:
            json.loads(config)
        except json.JSONDecodeError as e:
            raise ValueError(f"TF_CONFIG is not valid JSON ({e}): {config!r}") from None
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    _STRATEGY[name] = strategy
    return strategy


def _check_backend(name):
    """tf.distribute strategies replicate TensorFlow variables: a model built
    under another Keras backend would ignore them. `keras.distribution`
    shards variables on the JAX backend only."""
    import keras

    backend = keras.backend.backend()
    if name == "model_parallel" and backend != "jax":
        raise ValueError(
            f"--strategy=model_parallel shards tables with keras.distribution, which needs the "
            f"JAX backend; this process runs Keras on {backend!r}: run with KERAS_BACKEND=jax "
            "(or --backend=jax)."
        )
    if name not in ("default", "model_parallel") and backend != "tensorflow":
        raise ValueError(
            f"--strategy={name} is a tf.distribute strategy and needs the TensorFlow backend; "
            f"this process runs Keras on {backend!r} (KERAS_BACKEND). Run with "
            "KERAS_BACKEND=tensorflow, or drop --strategy to train on one device."
        )


def is_multi_worker(strategy):
    if isinstance(strategy, ShardedTables):
        return False
    tf = _tf()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def parse_mesh(mesh, devices):
    """`(batch, model)` shard counts of a `--mesh` value over `devices`
    devices: `"8"` is `(8, 8)` on one axis, `"2x4"` is `(2, 4)` on two."""
    if mesh is None:
        return devices, devices, 1
    text = str(mesh).strip().lower()
    if not re.fullmatch(r"[1-9][0-9]*(x[1-9][0-9]*)?", text):
        raise ValueError(
            f"--mesh must be N (rows and batch split N ways) or BxM (batch split B ways, "
            f"rows M ways), e.g. --mesh=8 or --mesh=2x4. Received: {mesh!r}"
        )
    sizes = [int(p) for p in text.split("x")]
    used = math.prod(sizes)
    if devices % used:
        raise ValueError(
            f"--mesh={mesh} spans {used} devices, which does not divide the {devices} devices "
            f"here; use a mesh of {', '.join(str(d) for d in _divisors(devices))} devices."
        )
    if len(sizes) == 1:
        return sizes[0], sizes[0], 1
    return sizes[0], sizes[1], 2


def _divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


class ShardedTables:
    """`--strategy=model_parallel`: embedding tables split by rows across a
    device mesh with `keras.distribution.ModelParallel` (JAX backend).

    Every table a `FeatureEmbedding` creates inside `scope()` is laid out
    `("model", None)`: its rows split across the mesh's model axis (the
    table gets rows up to a multiple of that count). Its exact variable path
    goes into the `LayoutMap` the distribution reads, so the optimizer's
    slots for it follow the same layout. Other variables are replicated;
    batches are split across the batch axis. Training runs Keras' own `fit`.

    Args:
        mesh: `"N"` (one axis of N devices for rows and batch) or `"BxM"`
            (B-way batch, M-way rows); None for every device on one axis.

    Attributes:
        distribution: the `keras.distribution.ModelParallel`.
        row_shards: how many ways each table's rows are split.
        batch_shards: how many ways each batch is split.
    """

    num_replicas_in_sync = 1  # one SPMD program: the batch is the global batch

    def __init__(self, mesh=None):
        import keras

        _check_backend("model_parallel")
        devices = keras.distribution.list_devices()
        self.batch_shards, self.row_shards, axes = parse_mesh(mesh, len(devices))
        if axes == 1:
            shape, names = (self.row_shards,), ("model",)
            batch_axis = "model"
        else:
            shape, names = (self.batch_shards, self.row_shards), ("batch", "model")
            batch_axis = "batch"
        used = devices[: math.prod(shape)]
        self.mesh = keras.distribution.DeviceMesh(shape, list(names), devices=used)
        self.layout_map = keras.distribution.LayoutMap(self.mesh)
        self.distribution = _TableParallel(self, batch_axis)
        self.devices = len(used)
        self.tables = {}  # variable path: (rows, dim)

    def scope(self):
        """Builds and trains under the distribution (and pads new tables)."""
        self.tables = {}
        return self.distribution.scope()

    def table_layout(self, variable):
        """Records `variable` (a table being created) in the layout map and
        returns its row-sharded layout."""
        import keras

        layout = keras.distribution.TensorLayout(("model", None), self.mesh)
        self.layout_map[re.escape(variable.path) + "$"] = layout
        self.tables[variable.path] = tuple(variable.shape)
        return self.layout_map[variable.path]


def _table_parallel_class():
    import keras

    class TableParallel(keras.distribution.ModelParallel):
        """`ModelParallel` whose layout map gains each embedding table as it
        is created, keyed on the variable's exact path."""

        def __init__(self, owner, batch_axis):
            super().__init__(layout_map=owner.layout_map, batch_dim_name=batch_axis)
            self.owner = owner

        def get_variable_layout(self, variable):
            if _BUILDING_TABLES.get() and getattr(variable, "_layout", None) is None:
                return self.owner.table_layout(variable)
            return super().get_variable_layout(variable)

    return TableParallel


def _TableParallel(owner, batch_axis):
    return _table_parallel_class()(owner, batch_axis)


def check_placement(strategy, tables, name):
    """Refuses, before training, a model `strategy` cannot place: one with no
    embedding table to shard under `model_parallel`, or whose tables'
    training state exceeds one device's memory (`check_tables_fit`).
    `tables` is `{variable path: (rows, dim)}` of the model's tables
    (`reczoo.features.embedding.model_tables`); `name` names the model."""
    sharded = isinstance(strategy, ShardedTables)
    if sharded and not tables:
        raise ValueError(
            f"--strategy=model_parallel shards embedding tables, and {name!r} has none "
            "to shard; train it without --strategy."
        )
    if sharded and not strategy.tables:
        raise ValueError(
            f"{name!r} was built outside --strategy=model_parallel's scope: its tables "
            "are not sharded. Build it inside `strategy.scope()`."
        )
    check_tables_fit(tables, strategy.row_shards if sharded else 1)


def batch_shards():
    """How many ways the active `keras.distribution` splits each batch (1
    without one): Keras needs every batch to divide evenly."""
    import keras

    if keras.backend.backend() != "jax":
        return 1
    distribution = keras.distribution.distribution()
    axis = getattr(distribution, "batch_dim_name", None)
    if distribution is None or axis is None:
        return 1
    mesh = distribution.device_mesh
    return int(mesh.shape[list(mesh.axis_names).index(axis)])


def whole_batches(data):
    """A `tf.data.Dataset` of batches without its batches that do not split
    evenly across the active distribution's batch axis (an epoch's last,
    short batch); anything else as it is."""
    shards = batch_shards()
    if shards == 1:
        return data
    tf = _tf()
    if not isinstance(data, tf.data.Dataset):
        return data

    def whole(*batch):
        first = tf.nest.flatten(batch)[0]
        return tf.equal(tf.shape(first)[0] % shards, 0)

    return data.filter(whole)


def padded(x, batch_size=None):
    """`x` (arrays, or a dict or list of them) padded with copies of its last
    row to a multiple of the active distribution's batch split, with its row
    count; `x` itself, and None, where nothing needs padding. (`predict`'s
    batches then split evenly too, when its `batch_size` does.)

    With `batch_size`, an `x` of more than one batch is also padded to whole
    batches: every batch then has one shape, and `predict` traces (and with
    XLA compiles) its step once rather than again for the last, short batch.
    """
    import numpy as np

    shards = batch_shards()
    leaves = _leaves(x)
    if not leaves or not all(isinstance(a, np.ndarray) for a in leaves):
        return x, None
    rows = len(leaves[0])
    multiple = shards
    if batch_size and rows > batch_size:
        multiple = math.lcm(shards, int(batch_size))
    extra = (-rows) % multiple
    if extra == 0:
        return x, None

    def pad(a):
        return np.concatenate([a, np.repeat(a[-1:], extra, axis=0)])

    return _map(pad, x), rows


def cut(outputs, rows):
    """`outputs` cut back to the first `rows` rows (None: as they are)."""
    if rows is None:
        return outputs
    return _map(lambda a: a[:rows], outputs)


def _leaves(x):
    if isinstance(x, dict):
        return list(x.values())
    if isinstance(x, list | tuple):
        return list(x)
    return [x]


def _map(fn, x):
    if isinstance(x, dict):
        return {k: fn(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return type(x)(fn(v) for v in x)
    return fn(x)


_ROW_MULTIPLE = contextvars.ContextVar("reczoo_row_multiple", default=None)


@contextlib.contextmanager
def rows_multiple_of(multiple):
    """Builds `FeatureEmbedding` tables with rows rounded up to a multiple of
    `multiple` inside, whatever the distribution: a preset trained with its
    tables split keeps their padded rows, and loads with them anywhere."""
    token = _ROW_MULTIPLE.set(int(multiple))
    try:
        yield
    finally:
        _ROW_MULTIPLE.reset(token)


def table_row_multiple():
    """How many ways the active distribution splits table rows (1 outside
    `--strategy=model_parallel`, or what `rows_multiple_of` sets): a
    `FeatureEmbedding` rounds its tables' rows up to a multiple of it."""
    import keras

    if _ROW_MULTIPLE.get() is not None:
        return _ROW_MULTIPLE.get()
    if keras.backend.backend() != "jax":
        return 1
    distribution = keras.distribution.distribution()
    owner = getattr(distribution, "owner", None)
    return owner.row_shards if isinstance(owner, ShardedTables) else 1


@contextlib.contextmanager
def building_tables():
    """Marks the variables created inside as embedding tables."""
    token = _BUILDING_TABLES.set(True)
    try:
        yield
    finally:
        _BUILDING_TABLES.reset(token)


_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 10**3, "kib": 2**10, "m": 2**20, "mb": 10**6,
          "mib": 2**20, "g": 2**30, "gb": 10**9, "gib": 2**30, "t": 2**40, "tb": 10**12,
          "tib": 2**40}  # fmt: skip
# Bytes a float32 table weight takes in training: itself and Adam's two slots.
TRAINING_BYTES_PER_WEIGHT = 4 * 3


def parse_bytes(text):
    """Bytes in `text`: `"123456"`, `"512MiB"`, `"2GB"`, `"1.5g"`."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
    unit = match and match.group(2).lower()
    if not match or unit not in _UNITS:
        raise ValueError(
            f"RECZOO_DEVICE_MEMORY must be a size such as 2GiB, 512MB or 1000000 (bytes). "
            f"Received: {text!r}"
        )
    return int(float(match.group(1)) * _UNITS[unit])


def device_memory():
    """One device's memory for embedding tables, in bytes, and where the
    figure comes from: `RECZOO_DEVICE_MEMORY` where set, else an
    accelerator's limit as JAX reports it; None on a CPU host (tables live
    in host memory; no cap is assumed)."""
    text = os.environ.get("RECZOO_DEVICE_MEMORY")
    if text:
        return parse_bytes(text), "RECZOO_DEVICE_MEMORY"
    import keras

    if keras.backend.backend() == "jax":
        import jax

        device = jax.devices()[0]
        if device.platform != "cpu":
            limit = (device.memory_stats() or {}).get("bytes_limit")
            if limit:
                return int(limit), f"{device.device_kind}'s memory"
    return None, None


def check_tables_fit(tables, shards=1):
    """Refuses embedding tables whose training state would not fit one
    device: `tables` is `{name: (rows, dim)}`, `shards` how many ways their
    rows are split. The state counted is float32 weights and Adam's two
    slots (12 bytes a weight), over `device_memory()`.

    Raises:
        ValueError: the tables, per device, exceed the cap; the message
            names `--strategy=model_parallel` and the share it would need.
    """
    cap, source = device_memory()
    if cap is None or not tables:
        return
    need = {n: rows * dim * TRAINING_BYTES_PER_WEIGHT for n, (rows, dim) in tables.items()}
    per_device = sum(need.values()) / shards
    if per_device <= cap:
        return
    largest = max(need, key=need.get)
    devices = math.ceil(sum(need.values()) / cap)
    where = "unsharded on one device" if shards == 1 else f"with rows split {shards} ways"
    advice = (
        f"shard them with --strategy=model_parallel (KERAS_BACKEND=jax) over {devices} or "
        "more devices"
        if shards == 1
        else f"split the rows over {devices} or more devices (--mesh)"
    )
    raise ValueError(
        f"The embedding tables need {_size(per_device)} per device {where} (weights and "
        f"Adam's two slots; largest: {largest!r}, {_size(need[largest])}), more than the "
        f"{_size(cap)} one device has ({source}): {advice}, or make the tables smaller "
        "(min_count, hash_bins, embedding_dim)."
    )


def _size(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024:
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n:.1f} TiB"


def sharded_embedding_backend():
    """What shards the tables on this host: keras-rs' `DistributedEmbedding`
    where a TPU is present (its SparseCore path; untested here: no TPU was
    reachable), else `keras.distribution` row sharding."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        if any(d.platform == "tpu" for d in jax.devices()):
            return "keras_rs.layers.DistributedEmbedding (TPU SparseCore)"
    return "keras.distribution.ModelParallel (rows split across the mesh's model axis)"


def worker_index(strategy):
    """This worker's index (0 is the chief)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return int(resolver.task_id or 0) if resolver is not None else 0


def describe(strategy):
    """What the row records: strategy, replicas, workers, table placement.

    Args:
        strategy: a strategy from `get_strategy`, or None for one device.

    Returns:
        A dict: `strategy`, `replicas`, `workers`, `embedding`.

    Example:
        ```python
        reczoo.distribute.describe(None)["embedding"]  # 'keras Embedding tables, one device'
        ```
    """
    if isinstance(strategy, ShardedTables):
        return {
            "strategy": "model_parallel",
            "replicas": strategy.batch_shards,
            "workers": 1,
            "mesh": f"{strategy.batch_shards}x{strategy.row_shards}"
            if strategy.mesh.shape != (strategy.row_shards,)
            else str(strategy.row_shards),
            "embedding": f"keras Embedding tables, rows split {strategy.row_shards} ways "
            f"over {strategy.devices} devices ({len(strategy.tables)} tables)",
        }
    tf = _tf()
    if strategy is None or strategy is tf.distribute.get_strategy():
        name, workers = "default", 1
    elif is_multi_worker(strategy):
        name = "multi_worker"
        workers = len(strategy.cluster_resolver.cluster_spec().as_dict().get("worker", [])) or 1
    else:
        name, workers = "mirrored", 1
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    return {
        "strategy": name,
        "replicas": replicas,
        "workers": workers,
        "embedding": "keras Embedding tables"
        + (f", mirrored on each of {replicas} replicas" if replicas > 1 else ", one device"),
    }


def replicated(model):
    """Whether `model` was built under a strategy of several replicas."""
    strategy = getattr(model, "distribute_strategy", None)
    return strategy is not None and strategy.num_replicas_in_sync > 1


def forward(model):
    """A function from a batch of features to the model's outputs that runs
    on one replica: under a strategy, Keras' `predict_on_batch` would run
    the batch on every replica and concatenate the copies."""
    fn = getattr(model, "_reczoo_forward", None)
    if fn is None:
        tf = _tf()
        fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
        model._reczoo_forward = fn
    return lambda x: fn(x).numpy()


def distributed_stream(strategy, stream_fn):
    """The training batches for `strategy`: `stream_fn(input_context)` gives
    each worker's per-replica batches when it takes an input context (shards
    read by worker), else `stream_fn(None)` is the global stream, split by
    tf.distribute (every worker reads it and keeps its share of each batch)."""
    tf = _tf()
    if getattr(stream_fn, "per_worker", False):
        return strategy.distribute_datasets_from_function(stream_fn)
    stream = stream_fn(None)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return strategy.experimental_distribute_dataset(stream.with_options(options))


def local_cluster(workers=2):
    """`TF_CONFIG` values for `workers` processes on this host, on free ports:
    the i-th process runs with `TF_CONFIG=local_cluster(n)[i]`."""
    import socket

    ports = []
    for _ in range(workers):
        with socket.socket() as s:
            s.bind(("localhost", 0))
            ports.append(s.getsockname()[1])
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    return [
        json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
        for i in range(workers)
    ]


class LoopHistory:
    """What `fit` returns that `train` reads: epochs run and their losses."""

    def __init__(self):
        self.epoch, self.history = [], {"loss": []}


def fit_loop(task, strategy, stream_fn, callbacks, initial_epoch, epochs, steps_per_epoch):
    """Keras `fit` for `MultiWorkerMirroredStrategy`, on its own primitives.

    Each epoch runs `steps_per_epoch` steps of `strategy.run(task.train_step)`
    (Keras' own step: loss scaled for the replicas, gradients all-reduced by
    the optimizer) on the distributed stream, then calls the callbacks'
    `on_epoch_end` with the cross-replica mean loss, as `fit` does. Every
    worker evaluates the same mirrored weights, so every worker takes the
    same early-stopping decision and the collective steps stay in step.
    """
    tf = _tf()
    for callback in callbacks:
        callback.set_model(task)
    with strategy.scope():
        if not task.optimizer.built:
            task.optimizer.build(task.trainable_variables)
    iterator = iter(distributed_stream(strategy, stream_fn))

    @tf.function
    def run_steps(iterator, steps):
        # Keras' loss tracker averages over the period on each replica: the
        # last step's value, averaged over replicas, is the period's loss.
        loss = tf.constant(0.0)
        for _ in tf.range(steps):
            logs = strategy.run(task.train_step, args=(next(iterator),))
            loss = strategy.reduce(tf.distribute.ReduceOp.MEAN, logs["loss"], axis=None)
        return loss

    history = LoopHistory()
    task.stop_training = False
    for callback in callbacks:
        callback.on_train_begin()
    for epoch in range(initial_epoch, epochs):
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        task.reset_metrics()
        loss = float(run_steps(iterator, tf.constant(steps_per_epoch)))
        logs = {"loss": loss}
        for callback in callbacks:
            callback.on_epoch_end(epoch, logs)
        history.epoch.append(epoch)
        history.history["loss"].append(loss)
        if task.stop_training:
            break
    for callback in callbacks:
        callback.on_train_end()
    return history
