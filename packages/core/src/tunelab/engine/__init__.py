"""KerasTuner's `keras_tuner.engine` module paths, for code that imports them.

Each submodule re-exports tunelab's own objects under KerasTuner's module name, so that
``kt.engine.hyperparameters.HyperParameters is kt.HyperParameters``. Importing them costs
nothing beyond ``import tunelab``: `kt.engine.tuner.Tuner` loads the Keras backend only when
it is first read.

>>> import tunelab as kt
>>> kt.engine.trial.TrialStatus is kt.TrialStatus
True
>>> from tunelab.engine.hyperparameters import HyperParameters
>>> HyperParameters is kt.HyperParameters
True
"""

from __future__ import annotations

from tunelab.engine import (
    base_tuner,
    hypermodel,
    hyperparameters,
    metrics_tracking,
    objective,
    oracle,
    trial,
    tuner,
)

__all__ = [
    "base_tuner",
    "hypermodel",
    "hyperparameters",
    "metrics_tracking",
    "objective",
    "oracle",
    "trial",
    "tuner",
]
