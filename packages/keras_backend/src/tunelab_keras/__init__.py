"""Keras 3 backend for tunelab: tune Keras models with the KerasTuner API.

Installing this package registers the ``keras`` backend: any tuner whose hypermodel returns
a `keras.Model` trains it with the arguments given to ``search``. It also provides
``kt.Tuner`` (the KerasTuner class to subclass) and ``kt.applications``.

Examples
--------
>>> import tunelab as kt
>>> kt.Tuner.__name__
'Tuner'
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["KerasBackend", "KerasOptions", "Tuner"]


def __getattr__(name: str) -> Any:
    # Keras (and TensorFlow) load only when one of these names is used.
    if name == "Tuner":
        from tunelab_keras.tuner import Tuner

        return Tuner
    if name == "KerasBackend":
        from tunelab_keras.backend import KerasBackend

        return KerasBackend
    if name == "KerasOptions":
        from tunelab_keras.options import KerasOptions

        return KerasOptions
    raise AttributeError(f"module 'tunelab_keras' has no attribute {name!r}")
