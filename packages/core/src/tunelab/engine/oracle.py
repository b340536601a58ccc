"""KerasTuner's `keras_tuner.engine.oracle`: `Oracle` and `Objective` (and `synchronized`)."""

from __future__ import annotations

from typing import Any

from tunelab.objective import Objective
from tunelab.oracles.base import Oracle

__all__ = ["Objective", "Oracle"]

# Read from `tunelab` when first used, so that this module follows wherever the core keeps
# them (and does not fail to import on a core that lacks one).
_FROM_TUNELAB = ("synchronized",)


def __getattr__(name: str) -> Any:
    if name in _FROM_TUNELAB:
        import tunelab

        return getattr(tunelab, name)
    raise AttributeError(f"module 'tunelab.engine.oracle' has no attribute {name!r}")
