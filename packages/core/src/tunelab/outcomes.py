"""What a trial returns, checked and turned into metrics and a score."""

from __future__ import annotations

import math
import traceback
from typing import Any

import numpy as np

from tunelab.objective import MultiObjective, Objective
from tunelab.trial import MetricsTracker

__all__ = ["format_error", "is_number", "latest_values", "metric_dicts", "objective_score"]


def is_number(value: Any) -> bool:
    """An int, a float, a numpy number or a 0-d array or tensor of numbers (not a bool).

    0-d arrays are what ``loss.item()``-less code returns: ``np.mean(...)`` of an array,
    a PyTorch, TensorFlow or JAX scalar tensor. They have ``ndim == 0`` and ``__float__``.
    """
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, (np.generic, np.ndarray)):
        kind = np.asarray(value).dtype.kind
        return np.ndim(value) == 0 and kind in "iuf"
    if getattr(value, "ndim", None) == 0 and hasattr(value, "__float__"):
        dtype = str(getattr(value, "dtype", ""))
        return "bool" not in dtype and "complex" not in dtype
    return False


def _as_float(value: Any) -> float:
    """`value` as a float; an integer beyond the float range is infinite (a trial whose
    objective is infinite ends INVALID, as one that returned inf)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def metric_dicts(objective: Objective, result: Any) -> list[dict[str, float]]:
    """One dict of metrics per execution from a trial's result; TypeError if malformed.

    A number is the objective's value; a dict maps metric names to numbers; a list holds one
    dict (or number) per execution. None (metrics were reported step by step) gives [].
    """
    if result is None:
        return []
    items = result if isinstance(result, list) else [result]
    out = []
    for item in items:
        if isinstance(item, dict):
            metrics = item
        elif is_number(item):
            if isinstance(objective, MultiObjective):
                raise TypeError(
                    f"result {item!r} is one number, but the objective {objective!r} needs a "
                    "dict of its metrics"
                )
            metrics = {objective.name: item}
        else:
            raise TypeError(
                f"result {item!r} has type {type(item).__name__}; expected a number, a dict "
                "of metric name -> number, or a list of such dicts (one per execution)"
            )
        checked = {}
        for name, value in metrics.items():
            if not isinstance(name, str) or not is_number(value):
                raise TypeError(f"metric {name!r}={value!r}: expected a metric name and a number")
            checked[name] = _as_float(value)
        out.append(checked)
    return out


def objective_score(
    objective: Objective, tracker: MetricsTracker
) -> tuple[float | None, int | None]:
    """The objective's best value over the steps, and that step (None when not reported)."""
    if isinstance(objective, MultiObjective):
        for o in objective.objectives:
            tracker.register(o.name, o.direction)
        best = {o.name: tracker.get_best_value(o.name) for o in objective.objectives}
        if any(v is None for v in best.values()):
            return None, None
        return objective.get_value(best), None  # type: ignore[arg-type]
    history = tracker.metrics.get(objective.name)
    if history is None:
        return None, None
    history.direction = objective.direction
    return history.get_best_value(), history.get_best_step()


def latest_values(tracker: MetricsTracker) -> dict[str, float]:
    """Each metric's value at its last step."""
    return {name: h.get_last_value() for name, h in tracker.metrics.items()}  # type: ignore[misc]


def format_error(error: BaseException | str | None) -> str | None:
    """An exception as its full traceback text (what a failed trial keeps)."""
    if error is None:
        return None
    if isinstance(error, BaseException):
        return "".join(traceback.format_exception(type(error), error, error.__traceback__))
    return str(error)
