"""What a trial returns, checked and turned into metrics and a score."""

from __future__ import annotations

import math
import statistics
import traceback
from typing import Any

import numpy as np

from tunelab.errors import FatalTypeError
from tunelab.objective import MultiObjective, Objective
from tunelab.trial import MetricsTracker, Trial, TrialStatus

__all__ = [
    "ACCEPTED_RESULTS",
    "ResultTypeError",
    "checked_result",
    "format_error",
    "history_metrics",
    "is_history",
    "is_number",
    "latest_values",
    "metric_dicts",
    "objective_score",
    "run_trial_result",
    "trial_result",
]

# What a trial may return, as the errors say it.
ACCEPTED_RESULTS = (
    "a number, a dict of metric name -> number, a Keras History (any object with a "
    "`.history` dict of metric name -> per-epoch values), or a list of these (one per "
    "execution)"
)


class ResultTypeError(FatalTypeError):
    """A trial returned something that is not a result (a string, None with nothing
    reported...): a bug in the code, not in the configuration, so the search stops instead of
    failing every trial the same way (KerasTuner raises its FatalTypeError there)."""


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


def is_history(value: Any) -> bool:
    """A Keras ``History`` or anything shaped like one: a ``.history`` dict of metric name ->
    per-epoch values. (Duck-typed: the core never imports Keras.)"""
    return not isinstance(value, dict) and isinstance(getattr(value, "history", None), dict)


def history_metrics(objective: Objective, history: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The metrics of the best epoch of `history` for `objective`, and that epoch.

    As KerasTuner: the first epoch with the best objective value wins. Epochs whose value is
    not finite are passed over; without the objective in the history, the last epoch's
    metrics are returned (telling them then names the missing objective).
    """
    epochs = max((len(values) for values in history.values()), default=0)
    logs = [{k: v[e] for k, v in history.items() if e < len(v)} for e in range(epochs)]
    if not logs:
        return {}, 0
    best: int | None = None
    best_value = math.nan
    for epoch, metrics in enumerate(logs):
        if not objective.has_value(metrics):
            continue
        value = objective.get_value(metrics)
        if best is None or (
            math.isfinite(value)
            and (not math.isfinite(best_value) or objective.better_than(value, best_value))
        ):
            best, best_value = epoch, value
    if best is None:
        best = len(logs) - 1
    return logs[best], best


def checked_result(value: Any, objective: Objective, source: str) -> tuple[Any, int | None]:
    """`value`, returned by `source` (e.g. ``"MyTuner.run_trial()"``), as a result for
    `Oracle.tell`, and the step to record it at (None: where `tell` puts it).

    Numbers, dicts and lists of them are returned as they are (a list's executions are
    averaged by `tell`). A History becomes the metrics of its best epoch, recorded at that
    epoch; a list holding Histories becomes one dict per execution, recorded at the mean of
    their best epochs (rounded down), as KerasTuner records them. Anything else, None
    included, raises `ResultTypeError`.
    """
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list) and not value:
        _refuse(value, source, value)
    for item in items:
        if not (isinstance(item, dict) or is_number(item) or is_history(item)):
            _refuse(value, source, item)
    if not any(is_history(item) for item in items):
        return value, None
    executions, steps = [], []
    for item in items:
        if is_history(item):
            metrics, step = history_metrics(objective, item.history)
        else:
            metrics = item if isinstance(item, dict) else {objective.name: item}
            step = 0
        executions.append(metrics)
        steps.append(step)
    return executions, int(statistics.mean(steps))


def _refuse(value: Any, source: str, item: Any) -> None:
    detail = "" if item is value else f" (it holds {type(item).__name__} {item!r:.80})"
    raise ResultTypeError(
        f"{source} returned {type(value).__name__} {value!r:.80}{detail}; expected "
        f"{ACCEPTED_RESULTS}, or None after reporting the objective with "
        "self.oracle.update_trial(trial.trial_id, metrics, step)"
    )


def trial_result(value: Any, trial: Trial, objective: Objective, source: str | None) -> Any:
    """What a `run_trial` override (`source`, e.g. ``"MyTuner.run_trial()"``; None for the
    default `run_trial`) returned for `trial`, as the result the oracle is told.

    KerasTuner's rules: a number, a dict, a History (its best epoch's metrics, at that
    epoch) or a list of them (one per execution, averaged); None once metrics were reported
    with ``self.oracle.update_trial``. Anything else, and None with nothing reported, stops
    the search with `ResultTypeError`. (A result returned after reports is recorded one step
    after the last report, where KerasTuner drops it once the objective was reported.)
    """
    if trial.status in TrialStatus.FINISHED and trial.status != TrialStatus.STOPPED:
        return None  # run_trial ended the trial itself (oracle.end_trial)
    reported = latest_values(trial.metrics)
    if value is None:
        if reported or source is None:
            return None
        raise ResultTypeError(
            f"{source} returned None and reported no metrics: return the trial's result "
            f"({ACCEPTED_RESULTS}), or report it with self.oracle.update_trial("
            f"trial.trial_id, {{{objective.names[0]!r}: value}}) before returning"
        )
    result, step = checked_result(value, objective, source or "the trial")
    if step is None:
        return result
    # A History's metrics go at its best epoch, as KerasTuner records them.
    for execution in metric_dicts(objective, result):
        for name, metric in execution.items():
            trial.metrics.update(name, metric, step)
    return None


def run_trial_result(tuner: Any, trial: Trial, args: tuple, kwargs: dict[str, Any]) -> Any:
    """Run `trial` with ``tuner.run_trial`` and return its result for `Oracle.tell`: checked
    and converted by the tuner's ``_trial_result(trial, value)`` when it has one (every
    `BaseTuner`), so that a bad return stops the search wherever the trial ran, and a
    History is turned into metrics before it travels back from a worker."""
    value = tuner.run_trial(trial, *args, **kwargs)
    check = getattr(tuner, "_trial_result", None)
    return value if check is None else check(trial, value)


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
