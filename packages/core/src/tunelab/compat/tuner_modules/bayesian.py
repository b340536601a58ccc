"""KerasTuner's `keras_tuner.tuners.bayesian`: the Bayesian-optimization tuner and its oracle."""

from tunelab.oracles import BayesianOptimizationOracle
from tunelab.tuners import BayesianOptimization

__all__ = ["BayesianOptimization", "BayesianOptimizationOracle"]
