"""The pruner base, and what every pruner reads: a trial's objective per step, and the
finished trials' curves and shared records in the project's store.

A pruner decides one thing: whether a running trial that has just reported a step stops
now. It is asked by the oracle that keeps the books (in the driver, also for trials that run
in worker processes or on Dask), after the report is stored. Everything a pruner remembers
lives in the store, so several processes sharing one project prune from the same records.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from tunelab.checks import check_int
from tunelab.objective import Objective
from tunelab.study import Study
from tunelab.trial import MetricsTracker, Trial, TrialStatus

__all__ = ["Pruner", "check_int", "check_pruner", "objective_curve", "worse"]


class Oracle(Protocol):
    """What a pruner reads of the oracle that asks it: the objective, and the study whose
    storage holds the trials and the pruner's records."""

    objective: Objective
    study: Study


class Pruner:
    """Base class of the pruners: decides, at each reported step, whether a trial stops.

    A pruner is given to a tuner (``pruner=``) or to an oracle; any pruner works with any
    oracle (random, grid, Bayesian...) and any executor. A subclass implements one method,
    `should_prune`. It may read the oracle's objective and trials; what it must remember
    between calls goes in the project's store (see `SuccessiveHalvingPruner`), so that the
    decision is the same whichever process asks.

    Examples
    --------
    A pruner that stops every trial whose loss is above 1 after step 3:

    >>> import tunelab as kt
    >>> class Threshold(kt.pruners.Pruner):
    ...     def should_prune(self, trial, step, oracle):
    ...         value = kt.pruners.objective_curve(oracle.objective, trial).get(step)
    ...         return step >= 3 and value is not None and value > 1.0
    >>> oracle = kt.oracles.RandomSearchOracle("loss", max_trials=1, pruner=Threshold())
    >>> trial = oracle.ask()
    >>> [trial.report(2.0, step) for step in (1, 2, 3)]
    ['RUNNING', 'RUNNING', 'STOPPED']
    """

    def should_prune(self, trial: Trial, step: int, oracle: Oracle) -> bool:
        """Whether `trial`, which has just reported `step` (its metrics include it), stops.

        Parameters
        ----------
        trial : Trial
            The running trial; ``trial.metrics`` holds every step it reported.
        step : int
            The step just reported (epochs, iterations: any growing count of resource).
        oracle : Oracle
            The oracle that keeps the books: its `objective`, its `trials`.
        """
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """The pruner's arguments (shown by `repr`)."""
        return {}

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def check_pruner(pruner: Any) -> Pruner | None:
    """`pruner` if it is a `Pruner` (or None); a TypeError naming the argument otherwise."""
    if pruner is not None and not isinstance(pruner, Pruner):
        raise TypeError(
            f"pruner={pruner!r}; expected a kt.pruners.Pruner (MedianPruner, "
            "SuccessiveHalvingPruner, HyperbandPruner or a subclass of Pruner) or None"
        )
    return pruner


def objective_curve(objective: Any, trial: Trial | MetricsTracker) -> dict[int, float]:
    """The objective's value at each step where the trial reported it: step -> value.

    Steps whose report lacks one of the objective's metrics are left out.
    """
    tracker = trial.metrics if isinstance(trial, Trial) else trial
    by_step: dict[int, dict[str, float]] = {}
    for name, history in tracker.metrics.items():
        for observation in history.get_history():
            by_step.setdefault(observation.step, {})[name] = observation.mean()
    return {
        step: float(objective.get_value(metrics))
        for step, metrics in sorted(by_step.items())
        if objective.has_value(metrics)
    }


def worse(value: float, than: float, direction: str) -> bool:
    """Whether `value` is strictly worse than `than` for an objective of `direction`."""
    return value < than if direction == "max" else value > than


def best_value(values: list[float], direction: str) -> float:
    """The best finite value (NaN when there is none)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan
    return max(finite) if direction == "max" else min(finite)


# ----------------------------------------------------------------------------------------
# Reading the project's store. These two functions are the only places where a pruner
# touches the store: porting the pruners to another storage means rewriting them alone.
# ----------------------------------------------------------------------------------------
# store -> (how many COMPLETED trials, their curves); an entry goes with its store.
_curves_cache: weakref.WeakKeyDictionary[Any, tuple[int, dict[str, dict[int, float]]]] = (
    weakref.WeakKeyDictionary()
)


def completed_curves(oracle: Oracle) -> dict[str, dict[int, float]]:
    """The objective curves of the project's COMPLETED trials: trial_id -> {step: value}.

    A finished trial never changes, so the curves are read again only when the number of
    completed trials changes (one count per report instead of reading every trial).
    """
    store = oracle.study.storage
    count = store.count_by_status().get(TrialStatus.COMPLETED, 0)
    cached = _curves_cache.get(store)
    if cached is not None and cached[0] == count:
        return cached[1]
    curves = {
        trial.trial_id: objective_curve(oracle.objective, trial.metrics)
        for trial in store.get_trials((TrialStatus.COMPLETED,))
    }
    _curves_cache[store] = (len(curves), curves)
    return curves


def update_records(oracle: Oracle, key: str, decide: Callable[[dict[str, Any]], bool]) -> bool:
    """Read the records kept under `key` in the project's store, let `decide` change them
    (in place) and return its decision, and write them back: all in one write transaction,
    so that processes sharing the project decide one after the other, each seeing the
    records of the decisions before it."""
    store = oracle.study.storage
    with store.transaction():
        records: dict[str, Any] = store.get_meta(key) or {}
        before = repr(records)
        decision = decide(records)
        if repr(records) != before:
            store.set_meta(key, records)
    return decision


def read_records(oracle: Oracle, key: str) -> dict[str, Any]:
    """The records kept under `key` in the project's store ({} when there are none)."""
    return oracle.study.storage.get_meta(key) or {}
