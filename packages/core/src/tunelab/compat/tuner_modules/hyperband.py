"""KerasTuner's `keras_tuner.tuners.hyperband`: the Hyperband tuner and its oracle."""

from tunelab.oracles import HyperbandOracle
from tunelab.tuners import Hyperband

__all__ = ["Hyperband", "HyperbandOracle"]
