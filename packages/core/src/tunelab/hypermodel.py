"""HyperModel: what a tuner builds (and optionally trains) for a set of hyperparameters."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from tunelab.hyperparameters import HyperParameters

__all__ = [
    "FunctionHyperModel",
    "HyperModel",
    "accepts",
    "as_hypermodel",
    "build_hypermodel",
    "names_parameter",
]


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


def accepts(function: Any, args: tuple, kwargs: dict[str, Any]) -> bool:
    """Whether ``function(hp, *args, **kwargs)`` can be called."""
    try:
        inspect.signature(function).bind(None, *args, **kwargs)
    except TypeError:
        return False
    except ValueError:  # no signature (a builtin): assume it takes what it is given
        return True
    return True


def names_parameter(function: Any, name: str) -> bool:
    """Whether `function` has a parameter called `name` (not just **kwargs)."""
    try:
        parameter = inspect.signature(function).parameters.get(name)
    except (TypeError, ValueError):
        return False
    return parameter is not None and parameter.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )


def build_hypermodel(
    hypermodel: HyperModel,
    hp: HyperParameters,
    args: tuple,
    kwargs: dict[str, Any],
    trial: Any = None,
) -> Any:
    """Build `hypermodel` with `hp`; a function hypermodel also gets the search's `args` and
    `kwargs` when it takes them (without ``verbose`` if it refuses that, with none if it
    takes none), and `trial` when it has a parameter named ``trial``."""
    if not isinstance(hypermodel, FunctionHyperModel):
        return hypermodel.build(hp)
    function = hypermodel.function
    if trial is not None and "trial" not in kwargs and names_parameter(function, "trial"):
        # A function objective that takes `trial` reports steps and asks whether to stop.
        kwargs = {**kwargs, "trial": trial}
    quiet = {k: v for k, v in kwargs.items() if k != "verbose"}
    for a, k in ((args, kwargs), (args, quiet), ((), {})):
        if accepts(function, a, k):
            return function(hp, *a, **k)
    raise TypeError(
        f"{getattr(function, '__name__', function)}{inspect.signature(function)} cannot be "
        f"called with the hyperparameters and the arguments given to search(): "
        f"{len(args)} positional, keywords {sorted(kwargs)}"
    )
