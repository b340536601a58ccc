"""KerasTuner's `keras_tuner.engine.hyperparameters`: the hyperparameter classes, and
`serialize` / `deserialize` of a hyperparameter or a `HyperParameters`."""

from __future__ import annotations

from typing import Any

from tunelab.hyperparameters import (
    Boolean,
    Choice,
    Fixed,
    Float,
    HyperParameter,
    HyperParameters,
    Int,
)

__all__ = [
    "Boolean",
    "Choice",
    "Fixed",
    "Float",
    "HyperParameter",
    "HyperParameters",
    "Int",
]

# Read from `tunelab.hyperparameters` when first used: that package owns them.
_FROM_HYPERPARAMETERS = ("serialize", "deserialize")


def __getattr__(name: str) -> Any:
    if name in _FROM_HYPERPARAMETERS:
        from tunelab import hyperparameters

        try:
            return getattr(hyperparameters, name)
        except AttributeError:
            raise AttributeError(
                f"kt.engine.hyperparameters.{name} is not available in this tunelab "
                "version; use get_config() / kt.HyperParameters.from_config()"
            ) from None
    raise AttributeError(f"module 'tunelab.engine.hyperparameters' has no attribute {name!r}")
