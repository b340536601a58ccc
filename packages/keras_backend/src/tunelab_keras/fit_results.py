"""What a custom ``HyperModel.fit`` may return, and how it becomes a trial's metrics.

KerasTuner's contract: ``fit(hp, model, *args, **kwargs)`` returns a number (the objective's
value), a dict of metric name -> number, a ``keras.callbacks.History`` (its best epoch for
the objective counts), or a list of those (averaged, as executions are). Anything else
stops the search with a `tunelab_keras.errors.FitResultTypeError` naming what was returned: every trial would
fail the same way, so failing them one by one would only waste the budget.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from tunelab.hypermodel import FunctionHyperModel, HyperModel
from tunelab.outcomes import is_number
from tunelab_keras.callbacks import numeric_logs
from tunelab_keras.errors import FitResultTypeError

__all__ = [
    "ACCEPTED",
    "fit_metrics",
    "history_best",
    "history_values",
    "overrides_fit",
]

ACCEPTED = (
    "a number, a dict of metric name -> number, a keras.callbacks.History, or a list of "
    "them (one per execution)"
)


def overrides_fit(hypermodel: Any) -> bool:
    """Whether `hypermodel` is a `HyperModel` whose class defines its own ``fit``."""
    return (
        isinstance(hypermodel, HyperModel)
        and not isinstance(hypermodel, FunctionHyperModel)
        and type(hypermodel).fit is not HyperModel.fit
    )


def history_values(history: Any) -> dict[str, list[float]]:
    """A History's (or a ``{name: [per-epoch values]}`` dict's) numeric values."""
    raw = getattr(history, "history", history) or {}
    out = {}
    for name, values in raw.items():
        try:
            out[name] = [float(v) for v in values]
        except (TypeError, ValueError):
            continue  # a logged string or array is not a metric
    return out


def history_best(objective: Any, history: dict[str, list[float]]) -> dict[str, float] | None:
    """The metrics of the history's best epoch for `objective` (None without it)."""
    if not history or not objective.has_value({k: 0 for k in history}):
        return None
    epochs = max(len(v) for v in history.values())
    best, best_value = None, None
    for epoch in range(epochs):
        logs = {k: v[epoch] for k, v in history.items() if epoch < len(v)}
        if not objective.has_value(logs):
            continue
        value = objective.get_value(logs)
        if math.isfinite(value) and (
            best_value is None or objective.better_than(value, best_value)
        ):
            best, best_value = logs, value
    return best or {k: v[-1] for k, v in history.items() if v}


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__module__}.{type(value).__qualname__})".replace(
        "(builtins.", "("
    )


def fit_metrics(returned: Any, objective: Any) -> list[dict[str, float]]:
    """One dict of metrics per item of what a custom fit returned (not None).

    A number is the objective's value (``{objective.name: value}``); a History gives its best
    epoch's metrics. Raises `FitResultTypeError` (the search stops) for anything else.
    """
    items = list(returned) if isinstance(returned, (list, tuple)) else [returned]
    if not items:
        raise FitResultTypeError(
            f"HyperModel.fit() returned an empty {type(returned).__name__}; expected {ACCEPTED}"
        )
    out = []
    for item in items:
        if isinstance(item, keras.callbacks.History):
            out.append(history_best(objective, history_values(item)) or {})
        elif isinstance(item, dict):
            out.append(numeric_logs(item))
        elif is_number(item):
            out.append({objective.name: float(item)})
        else:
            what = _describe(returned)
            if item is not returned:
                what += f", whose item {_describe(item)} is not a result"
            raise FitResultTypeError(f"HyperModel.fit() returned {what}; expected {ACCEPTED}")
    return out
