"""HyperModel: what a tuner builds (and optionally trains) for a set of hyperparameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tunelab.hyperparameters import HyperParameters

__all__ = ["FunctionHyperModel", "HyperModel", "as_hypermodel"]


class HyperModel:
    """Subclass and implement `build(hp)`; override `fit(hp, model, *args, **kwargs)` to
    tune training as well.

    `build` may return a model (a backend such as tunelab-keras or tunelab-sklearn trains
    and evaluates it) or, for code that is not a model, the result of the trial itself: a
    number or a dict of metrics.

    Examples
    --------
    >>> class MyHyperModel(HyperModel):
    ...     def build(self, hp):
    ...         return (hp.Float("x", -1.0, 1.0) - 0.5) ** 2
    """

    def __init__(self, name: str | None = None, tunable: bool = True) -> None:
        self.name = name
        self.tunable = tunable

    def build(self, hp: HyperParameters) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement build(hp)")

    def declare_hyperparameters(self, hp: HyperParameters) -> None:
        """Register hyperparameters ahead of `build` (optional)."""

    def fit(self, hp: HyperParameters, model: Any, *args: Any, **kwargs: Any) -> Any:
        """Train `model`; the default calls `model.fit(*args, **kwargs)`."""
        return model.fit(*args, **kwargs)


class FunctionHyperModel(HyperModel):
    """A plain function `fn(hp, *args, **kwargs)` used as a hypermodel."""

    def __init__(self, function: Callable[..., Any]) -> None:
        super().__init__(name=getattr(function, "__name__", None))
        self.function = function

    def build(self, hp: HyperParameters, *args: Any, **kwargs: Any) -> Any:
        return self.function(hp, *args, **kwargs)


def as_hypermodel(hypermodel: Any) -> HyperModel | None:
    """Wrap a function as a HyperModel; reject anything else with a clear error."""
    if hypermodel is None or isinstance(hypermodel, HyperModel):
        return hypermodel
    if callable(hypermodel):
        return FunctionHyperModel(hypermodel)
    raise TypeError(
        f"hypermodel={hypermodel!r}: expected a kt.HyperModel or a function that takes a "
        "HyperParameters and returns a model or a result"
    )
