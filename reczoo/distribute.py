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
whole copy and the gradients are all-reduced. keras-rs' `DistributedEmbedding`
shards tables only on TPU SparseCore; on CPUs and GPUs it would fall back to
the same mirrored tables, so reczoo keeps its own embedding layer and
records the placement in the row (`describe`).
"""

import json
import os

STRATEGIES = ("default", "mirrored", "multi_worker")
_STRATEGY = {}


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


def get_strategy(name="default", cpu_devices=None):
    """The `tf.distribute.Strategy` called `name` (created once per process).

    Args:
        name: `"default"` (one device), `"mirrored"` or `"multi_worker"`.
        cpu_devices: for `mirrored` without GPUs, replicate over this many
            logical CPU devices.
    """
    if name is None or not isinstance(name, str):
        return name  # a strategy object, or None for the default
    if name not in STRATEGIES:
        raise ValueError(f"Unknown strategy {name!r}. Known strategies: {list(STRATEGIES)}")
    if name in _STRATEGY:
        return _STRATEGY[name]
    _check_backend(name)
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
    under another Keras backend would ignore them."""
    import keras

    backend = keras.backend.backend()
    if name != "default" and backend != "tensorflow":
        raise ValueError(
            f"--strategy={name} is a tf.distribute strategy and needs the TensorFlow backend; "
            f"this process runs Keras on {backend!r} (KERAS_BACKEND). Run with "
            "KERAS_BACKEND=tensorflow, or drop --strategy to train on one device."
        )


def is_multi_worker(strategy):
    tf = _tf()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def worker_index(strategy):
    """This worker's index (0 is the chief)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return int(resolver.task_id or 0) if resolver is not None else 0


def describe(strategy):
    """What the row records: strategy, replicas, workers, table placement."""
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
