"""What a Pareto search reads from its trials: each completed trial's objective vector
(every objective as a value to minimize) and how far it is from meeting the constraints.

The arithmetic (fronts, ranks, crowding, hypervolume) is `tunelab.pareto`'s; this module
only turns stored trials into its arrays, for `Oracle.get_pareto_front`,
`Oracle.get_best_trials` of a Pareto search, the results' rank column and the
multi-objective oracles.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunelab.objective import MultiObjective, Objective
from tunelab.pareto import rank_order
from tunelab.storage.base import Storage, StoredTrial
from tunelab.trial import MetricsTracker, TrialStatus

__all__ = [
    "ParetoRanking",
    "check_constraints",
    "objective_vector",
    "objectives_of",
    "rank_trials",
]


def objectives_of(objective: Objective) -> list[Objective]:
    """The objectives a Pareto search trades off: those of an objective list, or the one."""
    if isinstance(objective, MultiObjective):
        return list(objective.objectives)
    return [objective]


def check_constraints(constraints: Any) -> dict[str, float]:
    """`constraints=` as ``{metric name: upper bound}``.

    Accepts a dict ``{"latency": 0.05}`` or a list of ``(name, bound)`` pairs; a trial is
    feasible when every named metric's last reported value is at most its bound.
    """
    if constraints is None:
        return {}
    items: Any
    if isinstance(constraints, Mapping):
        items = list(constraints.items())
    elif isinstance(constraints, Sequence) and not isinstance(constraints, str):
        items = list(constraints)
    else:
        raise TypeError(
            f"constraints={constraints!r}; expected a dict {{metric name: upper bound}} or a "
            "list of (name, bound) pairs"
        )
    checked: dict[str, float] = {}
    for item in items:
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise TypeError(
                f"constraints={constraints!r}: entry {item!r} is not a (name, bound) pair"
            )
        name, bound = item
        if not isinstance(name, str) or not name:
            raise ValueError(f"constraints={constraints!r}: metric name {name!r} is not a name")
        if (
            isinstance(bound, bool)
            or not isinstance(bound, (int, float))
            or not math.isfinite(bound)
        ):
            raise ValueError(
                f"constraints={constraints!r}: bound of {name!r} is {bound!r}; expected a "
                "finite number (the largest value allowed)"
            )
        checked[name] = float(bound)
    return checked


@dataclass
class ParetoRanking:
    """Completed trials ranked for a Pareto search.

    Attributes
    ----------
    trials : list of StoredTrial
        The completed trials with a value for every objective, by trial number.
    values : numpy.ndarray, shape (n, m)
        Each trial's objective values, as reported (directions as the objectives say).
    minimized : numpy.ndarray, shape (n, m)
        The same, every column to minimize.
    violations : numpy.ndarray, shape (n,)
        How far each trial is over its constraints' bounds (0: feasible).
    order : numpy.ndarray
        Indices into `trials`, best first (`tunelab.pareto.rank_order`).
    ranks : numpy.ndarray
        Each trial's rank (0: the feasible Pareto front).
    """

    trials: list[StoredTrial]
    values: np.ndarray
    minimized: np.ndarray
    violations: np.ndarray
    order: np.ndarray
    ranks: np.ndarray

    def front(self) -> list[StoredTrial]:
        """The feasible non-dominated trials, best spread first."""
        return [self.trials[i] for i in self.order if self.ranks[i] == 0 and self.feasible(i)]

    def feasible(self, index: int) -> bool:
        return bool(self.violations[index] <= 0)


# Objective vectors of finished trials, by (store path, trial id, ended_at): a finished
# trial never changes, and every proposal of a multi-objective oracle rereads them all.
_VECTORS: dict[tuple[str, str, float | None, tuple[str, ...]], tuple[list[float], float]] = {}


def objective_vector(
    tracker: MetricsTracker, objectives: list[Objective], constraints: dict[str, float]
) -> tuple[list[float], float] | None:
    """A trial's objective values (each objective's best over the steps, as the summed
    score takes them) and its constraint violation; None when an objective is missing."""
    values = []
    for objective in objectives:
        history = tracker.metrics.get(objective.name)
        if history is None:
            return None
        history.direction = objective.direction
        best = history.get_best_value()
        if best is None or not math.isfinite(best):
            return None
        values.append(float(best))
    violation = 0.0
    for name, bound in constraints.items():
        history = tracker.metrics.get(name)
        last = None if history is None else history.get_last_value()
        if last is None or not math.isfinite(last):
            violation = math.inf  # never reported: cannot be shown to be feasible
            continue
        violation += max(0.0, float(last) - bound) / max(abs(bound), 1e-12)
    return values, violation


def rank_trials(
    storage: Storage,
    objective: Objective,
    constraints: dict[str, float] | None = None,
    trials: list[StoredTrial] | None = None,
) -> ParetoRanking:
    """Rank the completed trials of `storage` (or `trials`) for a Pareto search over the
    objectives of `objective`, feasible ones first (see `tunelab.pareto.rank_order`)."""
    objectives = objectives_of(objective)
    constraints = constraints or {}
    if trials is None:
        trials = storage.get_trials((TrialStatus.COMPLETED,))
    key_tail = tuple(f"{o.name}:{o.direction}" for o in objectives) + tuple(
        f"{n}<={b!r}" for n, b in constraints.items()
    )
    kept, rows, violations = [], [], []
    for stored in trials:
        if stored.status != TrialStatus.COMPLETED:
            continue
        key = (storage.path, stored.trial_id, stored.ended_at, key_tail)
        found = _VECTORS.get(key) if storage.path not in ("", ":memory:") else None
        if found is None:
            found = objective_vector(stored.metrics, objectives, constraints)
            if found is None:
                continue
            if storage.path not in ("", ":memory:"):
                _VECTORS[key] = found
        kept.append(stored)
        rows.append(found[0])
        violations.append(found[1])
    m = len(objectives)
    values = np.array(rows, dtype=float).reshape(len(rows), m)
    signs = np.array([-1.0 if o.direction == "max" else 1.0 for o in objectives])
    minimized = values * signs
    violation = np.array(violations, dtype=float)
    order, ranks = rank_order(minimized, violations=violation)
    return ParetoRanking(kept, values, minimized, violation, order, ranks)
