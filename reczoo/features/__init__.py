"""Feature definitions and the shared embedding layer.

The definitions import no Keras (datasets and `reczoo datasets` use them
without starting TensorFlow); `FeatureEmbedding` loads Keras on first use.
"""

from reczoo.features.spec import (
    Categorical,
    Feature,
    FeatureSpec,
    MultiHot,
    Numerical,
    Sequence,
)


def __getattr__(name):
    if name == "FeatureEmbedding":
        from reczoo.features.embedding import FeatureEmbedding

        return FeatureEmbedding
    raise AttributeError(f"module 'reczoo.features' has no attribute {name!r}")


__all__ = [
    "Categorical",
    "Feature",
    "FeatureEmbedding",
    "FeatureSpec",
    "MultiHot",
    "Numerical",
    "Sequence",
]
