"""Pruners decide whether a running trial stops early, from the steps it reports.

Give one to any tuner or oracle (``pruner=``): it works with random, grid and Bayesian
search alike, in this process, in a process pool and on Dask.

>>> import tunelab as kt
>>> kt.pruners.MedianPruner(n_startup_trials=3)
MedianPruner(n_startup_trials=3, n_warmup_steps=0, interval_steps=1, n_min_trials=1)
"""

from __future__ import annotations

from tunelab.pruners.base import Pruner, objective_curve
from tunelab.pruners.hyperband import HyperbandPruner
from tunelab.pruners.median import MedianPruner
from tunelab.pruners.successive_halving import SuccessiveHalvingPruner

__all__ = [
    "HyperbandPruner",
    "MedianPruner",
    "Pruner",
    "SuccessiveHalvingPruner",
    "objective_curve",
]
