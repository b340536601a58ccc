"""scikit-learn backend for tunelab: cross-validated tuning of estimators and pipelines.

- `SklearnTuner` (also ``kt.tuners.Sklearn``): KerasTuner's Sklearn tuner.
- `TuneSearchCV`: a drop-in for scikit-learn's ``RandomizedSearchCV`` driven by a tunelab
  oracle.
- The backend plugin: any tuner (``kt.RandomSearch``, ``kt.GridSearch``...) whose
  hypermodel returns an estimator cross-validates it with `SklearnBackend`.

Names load on first use, so that the plugin registry can import this package cheaply.

>>> import tunelab_sklearn
>>> tunelab_sklearn.SklearnTuner.__name__
'SklearnTuner'
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "SklearnBackend",
    "SklearnTuner",
    "TuneSearchCV",
    "UntrustedModelError",
    "load_estimator",
    "save_estimator",
]

_WHERE = {
    "SklearnBackend": "tunelab_sklearn.backend",
    "SklearnTuner": "tunelab_sklearn.tuner",
    "TuneSearchCV": "tunelab_sklearn.search_cv",
    "UntrustedModelError": "tunelab_sklearn.model_files",
    "load_estimator": "tunelab_sklearn.model_files",
    "save_estimator": "tunelab_sklearn.model_files",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tunelab_sklearn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
