"""Frappe (Baltrunas et al. 2015): the raw app-usage log, NFM's published
validation and test files, and BARS' Frappe_x1 built from both."""

from reczoo.datasets import loaders
from reczoo.datasets.catalog import DatasetInfo, register_dataset, register_source
from reczoo.datasets.sources import RemoteFile, Source

register_source(
    "frappe",
    Source(
        folder="frappe",
        files=(
            RemoteFile(
                "raw/frappe.csv",
                "409edc12f4e2153c5dd58ae171938735911d9b0f70961d5f1086b241656b2cb5",
                member="Mobile_Frappe/frappe/frappe.csv",
            ),
            RemoteFile(
                "raw/meta.csv",
                "de87f6b2e7cd0428f9179167e2e7826b5dd3bf490d5af680261b685763ac214f",
                member="Mobile_Frappe/frappe/meta.csv",
            ),
        ),
        archive_url="https://raw.githubusercontent.com/irecsys/CARSKit/"
        "0a1789fb0804b067cabd223c4b8fd8b4d2f6e881/context-aware_data_sets/Mobile_Frappe.zip",
        archive_sha256="4adc616de57170f282397f6e6e30215f97fa7ad1b7f40bd12ef5dceaaf3e9b4e",
        homepage="https://arxiv.org/abs/1505.03014",
        licence="Research use only, no redistribution; cite Baltrunas et al. 2015",
    ),
)

register_source(
    "frappe-nfm",
    Source(
        folder="frappe",
        files=(
            RemoteFile(
                "frappe.validation.libfm",
                "fdf4be563a7dd9b15f7a6e8b32671e90e6e7a2a2bd3af4e10bf13c5ad7e76e9e",
                url="https://raw.githubusercontent.com/hexiangnan/neural_factorization_machine/"
                "ca2a5d11b929816aa44c6e470e795af144608507/data/frappe/frappe.validation.libfm",
            ),
            RemoteFile(
                "frappe.test.libfm",
                "a2ebaef3a9af8e55f8bb0d08bc4923965e42e43760ebd7635ac2f8c5db99e097",
                url="https://raw.githubusercontent.com/hexiangnan/neural_factorization_machine/"
                "ca2a5d11b929816aa44c6e470e795af144608507/data/frappe/frappe.test.libfm",
            ),
        ),
        homepage="https://github.com/hexiangnan/neural_factorization_machine",
        licence="Research use only, no redistribution; cite Baltrunas et al. 2015",
    ),
)

register_dataset(
    DatasetInfo(
        "frappe", "frappe", loaders.read_frappe, "bars_ctr",
        "Frappe app-usage log with 2 sampled negatives per log, as in NFM",
        {"rows": 288_609, "users": 957, "items": 4_082},
    )
)  # fmt: skip
register_dataset(
    DatasetInfo(
        "frappe-nfm", "frappe-nfm", loaders.read_frappe_nfm, "bars_ctr",
        "NFM's published Frappe validation and test libFM files",
        {"rows": 86_582},
    )
)  # fmt: skip
register_dataset(
    DatasetInfo(
        "frappe-x1", "frappe-nfm", loaders.read_frappe_x1, "bars_x1",
        "BARS Frappe_x1: NFM's validation and test files, training rebuilt from the raw log",
        {"rows": 288_609, "users": 957, "items": 4_082},
    )
)  # fmt: skip
