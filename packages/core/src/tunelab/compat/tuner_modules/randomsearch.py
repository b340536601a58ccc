"""KerasTuner's `keras_tuner.tuners.randomsearch`: the random tuner and its oracle."""

from tunelab.oracles import RandomSearchOracle
from tunelab.tuners import RandomSearch

__all__ = ["RandomSearch", "RandomSearchOracle"]
