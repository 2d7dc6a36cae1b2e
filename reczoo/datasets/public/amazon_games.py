"""Amazon Video Games, as preprocessed for SASRec (Kang & McAuley, ICDM 2018)."""

from reczoo.datasets import loaders
from reczoo.datasets.catalog import DatasetInfo, register_dataset, register_source
from reczoo.datasets.sources import RemoteFile, Source

register_source(
    "amazon-games",
    Source(
        folder="amazon-games",
        files=(
            RemoteFile(
                "Video.txt",
                "b7376fe24430743f411dc7f567285657b2adb3f74361cc7ba0aee94f3024b651",
                url="https://raw.githubusercontent.com/kang205/SASRec/"
                "e3738967fddab206d6eeb4fda433e7a7034dd8b1/data/Video.txt",
            ),
        ),
        homepage="https://github.com/kang205/SASRec",
        licence="Derived from J. McAuley's Amazon reviews; cite Kang & McAuley, ICDM 2018",
    ),
)

register_dataset(
    DatasetInfo(
        "amazon-games", "amazon-games", loaders.read_amazon_games, "sasrec",
        "Amazon Video Games sequences as preprocessed for SASRec",
        {"interactions": 287_107, "users": 31_013, "items": 23_715},
    )
)  # fmt: skip
