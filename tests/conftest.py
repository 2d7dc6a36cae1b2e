import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras
import pytest


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)


@pytest.fixture
def data_dir():
    """The shared public datasets, or a skip when this machine has none."""
    value = os.environ.get("RECZOO_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("RECZOO_DATA_DIR is not set to a folder with the public datasets")
    return Path(value)
