"""Interaction blocks shared by reczoo models."""

from reczoo.layers.attention import CausalSelfAttention, InteractingLayer, TargetAttention
from reczoo.layers.cin import CIN
from reczoo.layers.fm import FMInteraction
from reczoo.layers.linear import FeatureLinear
from reczoo.layers.mlp import MLP
from reczoo.layers.position import PositionEmbedding
from reczoo.layers.product import InnerProduct, OuterProduct, OuterProductMap
from reczoo.layers.transformer import TransformerBlock

__all__ = [
    "CIN",
    "MLP",
    "CausalSelfAttention",
    "FMInteraction",
    "FeatureLinear",
    "InnerProduct",
    "InteractingLayer",
    "OuterProduct",
    "OuterProductMap",
    "PositionEmbedding",
    "TargetAttention",
    "TransformerBlock",
]
