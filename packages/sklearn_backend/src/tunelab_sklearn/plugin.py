"""The tunelab plugin of the scikit-learn backend (entry point ``tunelab: sklearn``).

Importing this module is cheap: scikit-learn is imported only when a hook needs it, and a
model can be a scikit-learn estimator only if scikit-learn is already imported.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any

from tunelab.hookspecs import hookimpl

# options.py imports nothing (no scikit-learn): still cheap.
from tunelab_sklearn.options import OPTIONS

__all__ = ["OPTIONS", "tunelab_backend_for", "tunelab_backend_named", "tunelab_backend_options"]


@lru_cache(maxsize=1)
def _backend() -> Any:
    from tunelab_sklearn.backend import SklearnBackend

    return SklearnBackend()


def _is_sklearn_estimator(model: Any) -> bool:
    base = sys.modules.get("sklearn.base")
    if base is None or isinstance(model, type):
        return False  # scikit-learn is not even imported: this is not one of its estimators
    if not (callable(getattr(model, "fit", None)) and callable(getattr(model, "get_params", None))):
        return False
    if isinstance(model, base.BaseEstimator):
        return True
    # Estimators that follow the API without deriving from BaseEstimator.
    module = type(model).__module__.split(".")[0]
    return module == "sklearn" or hasattr(model, "__sklearn_tags__")


@hookimpl
def tunelab_backend_for(model: Any) -> Any:
    """The sklearn backend for a scikit-learn estimator (or Pipeline), else None."""
    return _backend() if _is_sklearn_estimator(model) else None


@hookimpl
def tunelab_backend_named(name: str) -> Any:
    """The sklearn backend for ``backend="sklearn"`` (also ``"scikit-learn"``)."""
    return _backend() if name in ("sklearn", "scikit-learn") else None


@hookimpl
def tunelab_backend_options() -> list[str]:
    return list(OPTIONS)
