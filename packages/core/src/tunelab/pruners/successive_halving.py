"""Asynchronous successive halving (ASHA; Li et al., MLSys 2020) as a pruner.

The rungs are the resources (steps: epochs, iterations) ``min_resource * factor**k``, below
`max_resource` when it is given. When a trial first reports at (or past) a rung, its
objective value joins that rung's record, and it goes on only if it is in the top
``1/factor`` of every value recorded at that rung so far (always when it is the best so far).
A decision is final and is taken at once: no trial waits for slower ones, so parallel
workers never sit idle, and new trials start whenever a worker is free.

The rung records live in the project's store, read, decided and written in one write
transaction per decision, so trials run by other processes on the same project count too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunelab.pruners.base import (
    Pruner,
    check_int,
    objective_curve,
    read_records,
    update_records,
    worse,
)
from tunelab.trial import Trial

if TYPE_CHECKING:
    from tunelab.oracles.base import Oracle

__all__ = ["SuccessiveHalvingPruner", "halving_rungs"]


def halving_rungs(min_resource: int, factor: int, below: int) -> list[int]:
    """The rungs ``min_resource * factor**k`` that are smaller than `below`.

    Examples
    --------
    >>> halving_rungs(1, 3, 27)
    [1, 3, 9]
    >>> halving_rungs(2, 3, 100)
    [2, 6, 18, 54]
    """
    rungs = []
    resource = min_resource
    while resource < below:
        rungs.append(resource)
        resource *= factor
    return rungs


class SuccessiveHalvingPruner(Pruner):
    """Asynchronous successive halving: stop the trials that fall behind at each rung.

    Report the objective while training with ``trial.report(value, step)``, where `step`
    counts the resource used so far (epochs, iterations); a returned ``"STOPPED"`` means
    stop training (the trial ends STOPPED with the score it reached).

    Parameters
    ----------
    min_resource : int
        Steps before the first decision (the first rung).
    factor : int
        Reduction factor (>= 2): about 1/factor of the trials pass each rung, and each
        rung is `factor` times the previous one.
    max_resource : int, optional
        The most steps one trial trains: no rung at or above it (a trial that gets there
        is never stopped). None: rungs go on as long as trials report.

    Attributes
    ----------
    rungs : list of int
        The rungs below `max_resource` (empty list with None: see `rungs_until`).

    Examples
    --------
    >>> import tunelab as kt
    >>> pruner = kt.pruners.SuccessiveHalvingPruner(min_resource=1, factor=3, max_resource=9)
    >>> pruner.rungs
    [1, 3]
    >>> oracle = kt.oracles.BayesianOptimizationOracle(
    ...     kt.Objective("loss", "min"), max_trials=9, seed=0, pruner=pruner)
    >>> while (trial := oracle.ask()) is not None:
    ...     x = trial.hyperparameters.Float("x", 0.0, 1.0)
    ...     for epoch in range(1, 10):
    ...         if trial.report((x - 0.5) ** 2 + 1.0 / epoch, step=epoch) == "STOPPED":
    ...             break
    ...     _ = oracle.tell(trial)
    >>> {rung: len(record) for rung, record in pruner.records(oracle).items()}
    {1: 9, 3: 3}
    """

    # Where the rung records live in the store's metadata (ASHAOracle's key: a project
    # written by it keeps its records).
    record_key = "asha_rungs"

    def __init__(
        self, min_resource: int = 1, factor: int = 3, max_resource: int | None = None
    ) -> None:
        self.min_resource = check_int("min_resource", min_resource, 1)
        self.factor = check_int("factor", factor, 2)
        self.max_resource = check_int("max_resource", max_resource, 1, allow_none=True)
        if self.max_resource is not None and self.min_resource > self.max_resource:
            raise ValueError(
                f"min_resource={min_resource} is larger than max_resource={max_resource}; "
                "expected min_resource <= max_resource"
            )
        self.rungs = [] if self.max_resource is None else self.rungs_until(self.max_resource)

    def rungs_until(self, step: int) -> list[int]:
        """The rungs at or below `step` (and below `max_resource`)."""
        below = step + 1
        if self.max_resource is not None:
            below = min(below, self.max_resource)
        return halving_rungs(self.min_resource, self.factor, below)

    def should_prune(self, trial: Trial, step: int, oracle: Oracle) -> bool:
        """Record the trial at each rung it reaches with this report; stop it unless it is
        in the top 1/factor of every such rung's record."""
        reached = self.rungs_until(step)
        curve = objective_curve(oracle.objective, trial)
        value = curve.get(step)
        if not reached or value is None:
            return False
        # Rungs at or below the trial's previous report were judged then: between rungs,
        # a report costs no write transaction (and no wait for other processes' writes).
        previous = max((s for s in curve if s < step), default=None)
        if previous is not None and reached[-1] <= previous:
            return False
        trial_id = str(trial.trial_id)
        direction = oracle.objective.direction

        def decide(records: dict[str, Any]) -> bool:
            stop = False
            for resource in reached:
                rung = records.setdefault(str(resource), {})
                if trial_id in rung:
                    continue  # judged at this rung already: a decision is final
                rung[trial_id] = value
                stop = stop or not self._in_top(value, rung, direction)
            return stop

        return update_records(oracle, self.record_key, decide)

    def _in_top(self, value: float, rung: dict[str, float], direction: str) -> bool:
        """Whether `value` (already in `rung`) is among the best max(1, n // factor)."""
        keep = max(1, len(rung) // self.factor)
        ahead = sum(worse(value, other, direction) for other in rung.values())
        return ahead < keep

    def records(self, oracle: Oracle) -> dict[int, dict[str, float]]:
        """Every rung's record in `oracle`'s project: rung -> {trial_id: value when the
        trial got there}."""
        records = read_records(oracle, self.record_key)
        return {int(k): dict(v) for k, v in sorted(records.items(), key=lambda kv: int(kv[0]))}

    def get_config(self) -> dict[str, Any]:
        return {
            "min_resource": self.min_resource,
            "factor": self.factor,
            "max_resource": self.max_resource,
        }
