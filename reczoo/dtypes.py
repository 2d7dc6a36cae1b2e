"""Dtype helpers shared by layers and tasks (no TensorFlow)."""

import ml_dtypes
import numpy as np


def lowest(dtype):
    """The most negative finite value of a float dtype: the mask value that
    never overflows (`-1e9` is `-inf` in float16)."""
    name = str(getattr(dtype, "name", dtype))
    if name == "bfloat16":
        return float(ml_dtypes.finfo(ml_dtypes.bfloat16).min)
    return float(np.finfo(np.dtype(name)).min)
