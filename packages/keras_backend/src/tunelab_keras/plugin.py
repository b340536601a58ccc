"""The tunelab plugin of the Keras backend (entry point ``tunelab: keras``).

Importing this module is cheap: Keras is imported only when a hook needs it, and a model can
be a Keras model only if Keras is already imported.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import Any

from tunelab.hookspecs import hookimpl

# options.py imports no Keras (and nothing else of this package): still cheap.
from tunelab_keras.options import OPTIONS

__all__ = ["OPTIONS", "tunelab_backend_for", "tunelab_backend_named", "tunelab_backend_options"]


@lru_cache(maxsize=1)
def _backend() -> Any:
    from tunelab_keras.backend import KerasBackend

    return KerasBackend()


def is_keras_model(model: Any) -> bool:
    """Whether `model` is a Keras 3 model (without importing Keras when it is not loaded)."""
    keras = sys.modules.get("keras")
    if keras is None or isinstance(model, type):
        return False
    return isinstance(model, keras.Model)


@hookimpl
def tunelab_backend_for(model: Any) -> Any:
    """The Keras backend for a `keras.Model`, else None."""
    return _backend() if is_keras_model(model) else None


@hookimpl
def tunelab_backend_named(name: str) -> Any:
    """The Keras backend for ``backend="keras"`` (also ``"tensorflow"``)."""
    return _backend() if name in ("keras", "tensorflow", "tf") else None


@hookimpl
def tunelab_backend_options() -> list[str]:
    return list(OPTIONS)
