"""Criteo's Kaggle display-advertising log, and DeepCTR's 200-row sample."""

from reczoo.datasets import loaders, shards
from reczoo.datasets.catalog import DatasetInfo, register_dataset, register_source
from reczoo.datasets.sources import RemoteFile, Source

register_source(
    "criteo",
    Source(
        folder="criteo",
        files=(RemoteFile("train.txt", None, member="train.txt"),),
        archive_url="https://go.criteo.net/"
        "criteo-research-kaggle-display-advertising-challenge-dataset.tar.gz",
        archive_sha256=None,
        homepage="https://ailab.criteo.com/ressources/",
        licence="Criteo Labs Data Terms of Use: non-commercial, no redistribution",
    ),
)

register_source(
    "criteo-sample",
    Source(
        folder="criteo-sample",
        files=(
            RemoteFile(
                "criteo_sample.txt",
                "08b84f12a22438fb534e989a5e4fa245726b2bda001983556bc2aea2f094f724",
                url="https://raw.githubusercontent.com/shenweichen/DeepCTR/"
                "1b5fe40e158d1ee6af8b1d9df217a5ed5aea9136/examples/criteo_sample.txt",
            ),
        ),
        homepage="https://github.com/shenweichen/DeepCTR",
        licence="Criteo Labs Data Terms of Use: non-commercial, no redistribution",
    ),
)

register_dataset(
    DatasetInfo(
        "criteo", "criteo", lambda folder, sha256: shards.cached_criteo(
            folder / "train.txt", "criteo", sha256, min_count=10
        ), "shards",
        "Criteo Kaggle display-advertising train.txt (45.8M rows), converted once "
        "into shards (8:1:1, values seen 10 times) and streamed",
        {"rows": 45_840_617},
    )
)  # fmt: skip
register_dataset(
    DatasetInfo(
        "criteo-sample", "criteo-sample", lambda folder, sha256: loaders.read_criteo(
            folder / "criteo_sample.txt", "criteo-sample", sha256
        ), "bars_ctr",
        "DeepCTR's 200-row Criteo sample (CSV)",
        {"rows": 200},
    )
)  # fmt: skip
