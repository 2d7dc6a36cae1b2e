"""Ranking and pointwise metrics, and evaluators that run a model over a split."""

from reczoo.metrics.pointwise import auc, logloss, mae, rmse
from reczoo.metrics.ranking import ranking_metrics

__all__ = ["auc", "logloss", "mae", "ranking_metrics", "rmse"]
