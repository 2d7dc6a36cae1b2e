"""Interaction blocks shared by reczoo models."""

from reczoo.layers.attention import CausalSelfAttention, InteractingLayer, TargetAttention
from reczoo.layers.cin import CIN
from reczoo.layers.dropout import HashDropout
from reczoo.layers.factorized import (
    EnsembleDistillation,
    FactorizedInteraction,
    FieldGate,
    FinalBlock,
)
from reczoo.layers.fm import FMInteraction
from reczoo.layers.fusion import BilinearFusion, FeatureSelection
from reczoo.layers.linear import FeatureLinear
from reczoo.layers.mlp import MLP
from reczoo.layers.patch_conv import PatchConv2D
from reczoo.layers.position import PositionEmbedding
from reczoo.layers.product import InnerProduct, OuterProduct, OuterProductMap
from reczoo.layers.transformer import TransformerBlock

__all__ = [
    "CIN",
    "MLP",
    "BilinearFusion",
    "CausalSelfAttention",
    "EnsembleDistillation",
    "FMInteraction",
    "FactorizedInteraction",
    "FeatureLinear",
    "FeatureSelection",
    "FieldGate",
    "FinalBlock",
    "HashDropout",
    "InnerProduct",
    "InteractingLayer",
    "OuterProduct",
    "OuterProductMap",
    "PatchConv2D",
    "PositionEmbedding",
    "TargetAttention",
    "TransformerBlock",
]
