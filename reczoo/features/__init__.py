"""Feature definitions and the shared embedding layer."""

from reczoo.features.embedding import FeatureEmbedding
from reczoo.features.spec import (
    Categorical,
    Feature,
    FeatureSpec,
    MultiHot,
    Numerical,
    Sequence,
)

__all__ = [
    "Categorical",
    "Feature",
    "FeatureEmbedding",
    "FeatureSpec",
    "MultiHot",
    "Numerical",
    "Sequence",
]
