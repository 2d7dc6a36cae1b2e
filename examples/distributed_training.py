"""Training with a distribution strategy

`reczoo.run(..., strategy="mirrored")` trains with TensorFlow's
`MirroredStrategy`: every replica holds the whole model, each takes a share of
the global batch, and the gradients are summed across replicas before each
update. On a machine with GPUs the replicas are the GPUs; without one, the CPU
can be split into logical devices to try it, as here, which must happen
before TensorFlow starts.

The same click log as the ranking example trains under one device and under
two replicas, with the same global batch: the metrics agree to the noise of
the summation order. For several machines, `strategy="multi_worker"` reads
`TF_CONFIG` (docs/distributed.md).
"""

from reczoo.distribute import configure_cpu_devices

configure_cpu_devices(2)  # two logical CPU devices; first thing in the program

import reczoo  # noqa: E402

reczoo.datasets.write_examples()
data = reczoo.datasets.load_table(
    "shop_clicks.csv", label="clicked", categorical=["C1", "C2", "C3", "C4", "C5", "C6"],
    numerical=["I1", "I2", "I3"], numerical_transform="log1p", multi={"tags": "|"},
    drop=["id"],
)  # fmt: skip
for strategy in (None, "mirrored"):
    result = reczoo.run("deepfm", data, protocol="random_split", epochs=3, batch_size=256,
                        strategy=strategy, verbose=0)  # fmt: skip
    m = result["metrics"]
    print(f"{strategy or 'one device':>10}: {result['replicas']} replica(s), "
          f"test AUC {m['auc']:.4f}, logloss {m['logloss']:.4f}")  # fmt: skip
