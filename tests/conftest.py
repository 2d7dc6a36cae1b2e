import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # One pytest-xdist worker per core: each worker (and each command it runs
    # in a subprocess, which inherits this) computes an op on one thread
    # rather than two workers contending for both cores. The default tier
    # ran 6 min 01 s without this and 4 min 57 s with it, on 2 cores. One
    # op at a time as well (TensorFlow's inter-op pool is a thread per
    # core): the tier's test time summed over both workers went from 612 s
    # to 574 s (a test's model made smaller in the same run), on a slower
    # machine.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
# Downloads, cached splits and preset archives go to a folder of this test
# session, never to the user's ~/.keras (a test may still point it elsewhere).
_HOME = tempfile.mkdtemp(prefix="reczoo-tests-keras-home-")
os.environ["KERAS_HOME"] = _HOME
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)

import pytest  # noqa: E402

# TensorFlow and Keras are imported where tests run (a pytest-xdist worker,
# or the one process of `-n 0`), never in xdist's controller, which only
# hands tests out: its TensorFlow start-up (about 7 s here) came before any
# worker started.


@pytest.fixture(scope="session", autouse=True)
def _fewer_graph_rewrites():
    # Tests trace many small graphs and run each a few steps: Grappler's graph
    # optimisation (semantics-preserving, what users' long runs gain from) cost
    # about a fifth of the registry-wide tests' time (85 s -> 66 s in one process).
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})


@pytest.fixture(autouse=True)
def _seed():
    import keras

    keras.utils.set_random_seed(1234)


@pytest.fixture
def data_dir():
    """The shared public datasets, or a skip when this machine has none."""
    value = os.environ.get("RECZOO_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("RECZOO_DATA_DIR is not set to a folder with the public datasets")
    return Path(value)


def pytest_itemcollected(item):
    """Tests sharing a module-scoped fixture (a trained model, a read
    dataset) run on one pytest-xdist worker (`--dist loadgroup`): the
    fixture is built once, not once per worker."""
    if item.get_closest_marker("xdist_group"):
        return
    definitions = getattr(item, "_fixtureinfo", None)
    if definitions is None:
        return
    scopes = {d[-1].scope for d in definitions.name2fixturedefs.values() if d}
    if "module" in scopes:
        item.add_marker(pytest.mark.xdist_group(item.module.__name__))
