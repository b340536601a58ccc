"""Oracles decide which hyperparameter values to try next (KerasTuner's `kt.oracles`)."""

from __future__ import annotations

from typing import Any

from tunelab.oracles.asha import ASHAOracle
from tunelab.oracles.base import Oracle
from tunelab.oracles.bayesian import BayesianOptimizationOracle
from tunelab.oracles.grid import GridSearchOracle
from tunelab.oracles.hyperband import HyperbandOracle
from tunelab.oracles.nsga2 import NSGA2Oracle
from tunelab.oracles.parego import ParEGOOracle
from tunelab.oracles.random_search import RandomSearchOracle

__all__ = [
    "ASHA",
    "ASHAOracle",
    "BayesianOptimization",
    "BayesianOptimizationOracle",
    "GridSearch",
    "GridSearchOracle",
    "Hyperband",
    "HyperbandOracle",
    "NSGA2",
    "NSGA2Oracle",
    "Oracle",
    "ParEGO",
    "ParEGOOracle",
    "RandomSearch",
    "RandomSearchOracle",
]

# KerasTuner's older names.
RandomSearch = RandomSearchOracle
BayesianOptimization = BayesianOptimizationOracle
GridSearch = GridSearchOracle
Hyperband = HyperbandOracle
ASHA = ASHAOracle
NSGA2 = NSGA2Oracle
ParEGO = ParEGOOracle


def __getattr__(name: str) -> Any:
    raise AttributeError(f"module 'tunelab.oracles' has no attribute {name!r}")
