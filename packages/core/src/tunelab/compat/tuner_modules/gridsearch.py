"""KerasTuner's `keras_tuner.tuners.gridsearch`: the grid tuner and its oracle."""

from tunelab.oracles import GridSearchOracle
from tunelab.tuners import GridSearch

__all__ = ["GridSearch", "GridSearchOracle"]
