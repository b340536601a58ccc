"""Run unchanged KerasTuner code: `install_keras_tuner_alias` makes ``import keras_tuner``
import tunelab.

Most code needs only ``import tunelab as kt``. For code (or a library) that writes
``import keras_tuner`` and should not be edited, call `install_keras_tuner_alias()` once, before
that code is imported. The alias lives in this process's ``sys.modules`` only: it installs
nothing, and a real keras-tuner package stays usable in every other process.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ["install_keras_tuner_alias", "remove_keras_tuner_alias"]

# KerasTuner's name, and `kerastuner`, its name before 1.0.2 (still found in older code).
ALIASES = ("keras_tuner", "kerastuner")

# KerasTuner's public module paths and the tunelab modules that play their part. All are
# light: names that need a backend (Tuner, SklearnTuner, the applications) load it when
# first read.
MODULES = {
    "": "tunelab",
    ".engine": "tunelab.engine",
    ".engine.base_tuner": "tunelab.engine.base_tuner",
    ".engine.hypermodel": "tunelab.engine.hypermodel",
    ".engine.hyperparameters": "tunelab.engine.hyperparameters",
    ".engine.metrics_tracking": "tunelab.engine.metrics_tracking",
    ".engine.objective": "tunelab.engine.objective",
    ".engine.oracle": "tunelab.engine.oracle",
    ".engine.trial": "tunelab.engine.trial",
    ".engine.tuner": "tunelab.engine.tuner",
    ".errors": "tunelab.errors",
    ".oracles": "tunelab.oracles",
    ".tuners": "tunelab.tuners",
    ".tuners.bayesian": "tunelab.tuners.bayesian",
    ".tuners.gridsearch": "tunelab.tuners.gridsearch",
    ".tuners.hyperband": "tunelab.tuners.hyperband",
    ".tuners.randomsearch": "tunelab.tuners.randomsearch",
    ".tuners.sklearn_tuner": "tunelab.tuners.sklearn_tuner",
    ".applications": "tunelab.compat.applications",
}


class KerasTunerAliasError(ImportError):
    """The ``keras_tuner`` alias cannot be installed: a real keras_tuner is imported."""


def install_keras_tuner_alias() -> None:
    """Make ``import keras_tuner`` (and its submodules) import tunelab, in this process.

    After the call, ``import keras_tuner as kt`` gives the `tunelab` module, and KerasTuner's
    module paths resolve to tunelab's: ``keras_tuner.engine.hyperparameters``,
    ``keras_tuner.engine.trial``, ``keras_tuner.engine.tuner``, ``keras_tuner.oracles``,
    ``keras_tuner.tuners.randomsearch`` (and ``gridsearch``, ``bayesian``, ``hyperband``,
    ``sklearn_tuner``), ``keras_tuner.applications``, ``keras_tuner.errors``... The old name
    ``kerastuner`` gets the same paths. Calling it again does nothing.

    Call it before anything imports ``keras_tuner``. An installed keras-tuner package is
    shadowed in this process only (it is not touched on disk).

    Raises
    ------
    KerasTunerAliasError
        (an ImportError) when a real keras_tuner is already imported in this process: its
        objects would then mix with tunelab's. Install the alias first, in a fresh process.

    Examples
    --------
    >>> import tunelab
    >>> from tunelab.compat import install_keras_tuner_alias, remove_keras_tuner_alias
    >>> install_keras_tuner_alias()
    >>> import keras_tuner
    >>> keras_tuner is tunelab
    True
    >>> from keras_tuner.engine.hyperparameters import HyperParameters
    >>> HyperParameters is tunelab.HyperParameters
    True
    >>> remove_keras_tuner_alias()
    """
    real = _real_keras_tuner_modules()
    if real:
        location = getattr(sys.modules[real[0]], "__file__", None) or "an unknown location"
        top = real[0].split(".")[0]
        raise KerasTunerAliasError(
            f"install_keras_tuner_alias(): the real {top} is already imported "
            f"({real[0]} from {location}), so `{top}` cannot also name tunelab in this "
            "process. Call tunelab.compat.install_keras_tuner_alias() before anything imports "
            "keras_tuner (at the top of the main script), or use `import tunelab as kt`."
        )
    for suffix, target in MODULES.items():
        module = importlib.import_module(target)
        for alias in ALIASES:
            sys.modules[alias + suffix] = module


def remove_keras_tuner_alias() -> None:
    """Undo `install_keras_tuner_alias`: ``import keras_tuner`` finds the real package again
    (if one is installed). Modules that already imported the alias keep tunelab's objects."""
    for suffix, target in MODULES.items():
        for alias in ALIASES:
            module = sys.modules.get(alias + suffix)
            if module is not None and module is sys.modules.get(target):
                del sys.modules[alias + suffix]


def _real_keras_tuner_modules() -> list[str]:
    """The names of imported keras_tuner (or kerastuner) modules that are not this alias."""
    ours = {id(sys.modules.get(target)) for target in MODULES.values()}
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name.split(".")[0] in ALIASES
        and isinstance(module, ModuleType)
        and id(module) not in ours
    )
