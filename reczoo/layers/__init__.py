"""Interaction blocks shared by reczoo models."""

from reczoo.layers.fm import FMInteraction
from reczoo.layers.mlp import MLP

__all__ = ["MLP", "FMInteraction"]
