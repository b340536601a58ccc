"""tunelab: hyperparameter tuning with the KerasTuner API.

>>> import tunelab as kt
>>> hp = kt.HyperParameters()
>>> hp.Int("units", min_value=32, max_value=128, step=32, default=64)
64

Backend-specific names (`kt.Tuner`, `kt.applications`, `kt.tuners.Sklearn`) load their
backend package on first use, and say which package to install when it is missing.
"""

from __future__ import annotations

from typing import Any

from tunelab import errors, oracles, pruners, tuners
from tunelab.errors import FailedTrialError, FatalError, InvalidTrialError
from tunelab.hypermodel import HyperModel
from tunelab.hyperparameters import HyperParameters
from tunelab.objective import Objective
from tunelab.oracles import (
    ASHAOracle,
    BayesianOptimizationOracle,
    GridSearchOracle,
    HyperbandOracle,
    Oracle,
    RandomSearchOracle,
)
from tunelab.oracles.ask_tell import synchronized
from tunelab.trial import Trial, TrialStatus
from tunelab.tuner import BaseTuner
from tunelab.tuners import BayesianOptimization, GridSearch, Hyperband, RandomSearch

__version__ = "0.1.0"

__all__ = [
    "ASHAOracle",
    "BaseTuner",
    "BayesianOptimization",
    "BayesianOptimizationOracle",
    "FailedTrialError",
    "FatalError",
    "GridSearch",
    "GridSearchOracle",
    "Hyperband",
    "HyperbandOracle",
    "HyperModel",
    "HyperParameters",
    "InvalidTrialError",
    "Objective",
    "Oracle",
    "RandomSearch",
    "RandomSearchOracle",
    "Trial",
    "TrialStatus",
    "errors",
    "oracles",
    "pruners",
    "synchronized",
    "tuners",
]

_LAZY = {
    "Tuner": ("tunelab_keras", "Tuner", "tunelab-keras"),
    "applications": ("tunelab_keras.applications", None, "tunelab-keras"),
    "SklearnTuner": ("tunelab_sklearn", "SklearnTuner", "tunelab-sklearn"),
}
# KerasTuner's module paths (`kt.engine.trial`...) and the `keras_tuner` alias: imported on
# first use, so that `import tunelab` does not pay for them.
_SUBPACKAGES = ("compat", "engine")


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"tunelab.{name}")
    if name in _LAZY:
        import importlib

        from tunelab.distributions import install_hint

        module_name, attribute, package = _LAZY[name]
        if attribute is None:
            try:
                return importlib.import_module(module_name)
            except ImportError as error:
                raise ImportError(
                    f"kt.{name} needs the {package} package: {install_hint(package)}"
                ) from error
        return tuners.lazy_backend_name(module_name, attribute, package, f"kt.{name}")
    raise AttributeError(f"module 'tunelab' has no attribute {name!r}")
