"""BARS' Criteo_x1 and Avazu_x1 (Zhu et al., SIGIR 2022): the fixed train,
validation and test files of the AFN paper's splits (Cheng et al., AAAI
2020) as reczoo's Datasets repository publishes them in CSV, on which BARS
ranks CTR models (FinalNet and FinalMLP lead both tables).

The files are large (Criteo_x1: 45.8M rows, 11 GB of CSV; Avazu_x1: 40.4M
rows) and published with no sha256, so reczoo does not download them: place
`train.csv`, `valid.csv` and `test.csv` in `$RECZOO_DATA_DIR/criteo-x1/`
(or `avazu-x1/`). Their row counts are the check; the first load converts
them into shards in the reczoo cache (vocabularies from the training rows,
every value kept, as BARS' `min_categr_count: 1`), later loads stream those.
"""

from reczoo.datasets import shards
from reczoo.datasets.catalog import DatasetInfo, register_dataset, register_source
from reczoo.datasets.sources import RemoteFile, Source

_SPLIT = ("train", "valid", "test")
_LICENCE = {
    "criteo-x1": "Criteo Labs Data Terms of Use: non-commercial, no redistribution",
    "avazu-x1": "Avazu CTR Prediction (Kaggle) competition terms: no redistribution",
}
# The files' columns, as BARS' dataset_config.yaml of each declares them.
SCHEMAS = {
    "criteo-x1": {
        "format": {"sep": ",", "header": True},
        "columns": {
            "label": {"role": "label"},
            **{f"I{i}": {"role": "numerical"} for i in range(1, 14)},
            **{f"C{i}": {"role": "categorical"} for i in range(1, 27)},
        },
    },
    "avazu-x1": {
        "format": {"sep": ",", "header": True},
        "columns": {
            "label": {"role": "label"},
            **{f"feat_{i}": {"role": "categorical"} for i in range(1, 23)},
        },
    },
}
# Rows per part, as BARS' logs of FuxiCTR runs report them.
PUBLISHED = {
    "criteo-x1": {"train_rows": 33_003_326, "valid_rows": 8_250_124, "test_rows": 4_587_167},
    "avazu-x1": {"train_rows": 28_300_276, "valid_rows": 4_042_897, "test_rows": 8_085_794},
}


def _reader(name):
    def read(folder, sha256):
        files = {part: folder / f"{part}.csv" for part in _SPLIT}
        return shards.cached_split(files, name, sha256, SCHEMAS[name])

    return read


for _name, _release in (("criteo-x1", "Criteo_x1"), ("avazu-x1", "Avazu_x1")):
    register_source(
        _name,
        Source(
            folder=_name,
            files=tuple(RemoteFile(f"{part}.csv") for part in _SPLIT),
            archive_url=f"https://huggingface.co/datasets/reczoo/{_release}/resolve/main/"
            f"{_release}.zip",
            archive_sha256=None,
            homepage=f"https://github.com/reczoo/Datasets/tree/main/{_release.split('_')[0]}/"
            f"{_release}",
            licence=_LICENCE[_name],
        ),
    )
    register_dataset(
        DatasetInfo(
            _name, _name, _reader(_name), "bars_x1",
            f"BARS {_release}: the AFN split's fixed train/valid/test CSV files, "
            "converted once into shards and streamed",
            {"rows": sum(PUBLISHED[_name].values()), **PUBLISHED[_name]},
        )
    )  # fmt: skip
