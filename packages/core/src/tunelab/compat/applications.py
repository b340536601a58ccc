"""``keras_tuner.applications`` under the alias: the Keras backend's ready-made hypermodels
(`HyperResNet`, `HyperXception`, `HyperEfficientNet`, `HyperImageAugment`), imported when one
is first read, so that installing the alias does not load Keras."""

from __future__ import annotations

import importlib
from typing import Any

from tunelab.distributions import install_hint

# The hypermodels are read from tunelab_keras.applications on first use (not listed in
# __all__, so that a star import does not load Keras).
_NAMES = ("HyperEfficientNet", "HyperImageAugment", "HyperResNet", "HyperXception")


def _applications() -> Any:
    try:
        return importlib.import_module("tunelab_keras.applications")
    except ImportError as error:
        raise ImportError(
            "keras_tuner.applications needs the tunelab-keras package: "
            + install_hint("tunelab-keras")
        ) from error


def __getattr__(name: str) -> Any:
    # Only the hypermodels' names load Keras: code that probes every module for a name
    # (pickle's and skops' whichmodule) must not.
    if name in _NAMES:
        return getattr(_applications(), name)
    raise AttributeError(f"module 'keras_tuner.applications' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(_NAMES) | set(globals()))
