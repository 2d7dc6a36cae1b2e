"""MovieLens (GroupLens): 100K, 1M, latest-small, 20M and 25M ratings.

Archive hashes as pinned by tensorflow-datasets' url_checksums/movielens.txt;
member hashes as verified in this project's shared data.
"""

from reczoo.datasets import loaders
from reczoo.datasets.catalog import DatasetInfo, reader, register_dataset, register_source
from reczoo.datasets.preprocessing import history_ctr
from reczoo.datasets.sources import RemoteFile, Source

_GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
_GROUPLENS_LICENCE = "GroupLens research licence: no redistribution, cite Harper & Konstan 2015"

register_source(
    "movielens-100k",
    Source(
        folder="ml-100k",
        files=(
            RemoteFile(
                "u.data",
                "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
                member="ml-100k/u.data",
            ),
            RemoteFile(
                "u.user",
                "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
                member="ml-100k/u.user",
            ),
            RemoteFile(
                "u.item",
                "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
                member="ml-100k/u.item",
            ),
        ),
        archive_url=_GROUPLENS + "ml-100k.zip",
        archive_sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        homepage="https://grouplens.org/datasets/movielens/100k/",
        licence=_GROUPLENS_LICENCE,
    ),
)

register_source(
    "movielens-1m",
    Source(
        folder="ml-1m",
        files=(
            RemoteFile("ratings.dat", None, member="ml-1m/ratings.dat"),
            RemoteFile(
                "users.dat",
                "1dc3a95300cb19f7c10e027daf29b8cdf1d908dab65b5edfb45950aa389a10a3",
                member="ml-1m/users.dat",
            ),
            RemoteFile(
                "movies.dat",
                "0140fc2356357c1a851d0f52e893a1e4d3696df632c4141cea8d5bc3d621f0b9",
                member="ml-1m/movies.dat",
            ),
        ),
        archive_url=_GROUPLENS + "ml-1m.zip",
        archive_sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        homepage="https://grouplens.org/datasets/movielens/1m/",
        licence=_GROUPLENS_LICENCE,
    ),
)

register_source(
    "movielens-latest",
    Source(
        folder="ml-latest-small",
        files=(
            RemoteFile("ratings.csv", None, member="ml-latest-small/ratings.csv"),
            RemoteFile("movies.csv", None, member="ml-latest-small/movies.csv"),
        ),
        archive_url=_GROUPLENS + "ml-latest-small.zip",
        archive_sha256="696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        homepage="https://grouplens.org/datasets/movielens/latest/",
        licence=_GROUPLENS_LICENCE,
    ),
)

register_source(
    "movielens-20m",
    Source(
        folder="ml-20m",
        files=(
            RemoteFile("ratings.csv", None, member="ml-20m/ratings.csv"),
            RemoteFile("movies.csv", None, member="ml-20m/movies.csv"),
        ),
        archive_url=_GROUPLENS + "ml-20m.zip",
        archive_sha256="96f243c338a8665f6bcc89c53edf6ee39162a846940de6b7c8c48aeada765ff3",
        homepage="https://grouplens.org/datasets/movielens/20m/",
        licence=_GROUPLENS_LICENCE,
    ),
)

register_source(
    "movielens-25m",
    Source(
        folder="ml-25m",
        files=(
            RemoteFile("ratings.csv", None, member="ml-25m/ratings.csv"),
            RemoteFile("movies.csv", None, member="ml-25m/movies.csv"),
        ),
        archive_url=_GROUPLENS + "ml-25m.zip",
        archive_sha256="8b21cfb7eb1706b4ec0aac894368d90acf26ebdfb6aced3ebd4ad5bd1eb9c6aa",
        homepage="https://grouplens.org/datasets/movielens/25m/",
        licence=_GROUPLENS_LICENCE,
    ),
)

register_dataset(
    DatasetInfo(
        "movielens-100k", "movielens-100k", loaders.read_movielens_100k, "ncf",
        "MovieLens 100K ratings with user and movie attributes",
        {"interactions": 100_000, "users": 943, "items": 1_682},
    )
)  # fmt: skip
register_dataset(
    DatasetInfo(
        "movielens-100k-ctr", "movielens-100k",
        lambda folder, sha256: history_ctr(
            loaders.read_movielens_100k(folder, sha256), name="movielens-100k-ctr"
        ),
        "random_split",
        "MovieLens 100K as CTR (rating >= 4) with each user's earlier items as history",
        {"rows": 100_000, "users": 943, "items": 1_682},
    )
)  # fmt: skip
register_dataset(
    DatasetInfo(
        "movielens-1m", "movielens-1m", loaders.read_movielens_1m, "ncf",
        "MovieLens 1M ratings with user and movie attributes",
        {"interactions": 1_000_209, "users": 6_040, "items": 3_706},
    )
)  # fmt: skip
register_dataset(
    DatasetInfo(
        "movielens-latest", "movielens-latest",
        reader(loaders.read_movielens_csv, "movielens-latest"), "ncf",
        "MovieLens latest-small (the full ml-latest changes in place and cannot be pinned)",
        {"interactions": 100_836, "users": 610, "items": 9_724},
    )
)  # fmt: skip
register_dataset(
    DatasetInfo(
        "movielens-20m", "movielens-20m", reader(loaders.read_movielens_csv, "movielens-20m"),
        "ncf", "MovieLens 20M ratings",
        {"interactions": 20_000_263, "users": 138_493, "items": 26_744},
    )
)  # fmt: skip
register_dataset(
    DatasetInfo(
        "movielens-25m", "movielens-25m", reader(loaders.read_movielens_csv, "movielens-25m"),
        "ncf", "MovieLens 25M ratings",
        {"interactions": 25_000_095, "users": 162_541, "items": 59_047},
    )
)  # fmt: skip
