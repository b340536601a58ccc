"""Asynchronous successive halving (ASHA; Li et al., MLSys 2020).

Every trial trains one configuration and reports its objective as it goes. The rungs are
the training lengths ``min_epochs * factor**k`` below `max_epochs`. When a trial first reports
at (or past) a rung, its value joins that rung's record, and it goes on only if it is in the
top ``1/factor`` of every value recorded at that rung so far (always when it is the best so
far). A decision is final and is taken at once: no trial waits for slower ones, so parallel
workers never sit idle, and new trials start whenever a worker is free.

The rung records live in the trial store (in one write transaction per decision), so trials
run by other processes on the same project count too.
"""

from __future__ import annotations

from typing import Any

from tunelab.checks import check_int
from tunelab.hyperparameters import HyperParameters
from tunelab.oracles.random_search import RandomSearchOracle
from tunelab.trial import Trial

__all__ = ["ASHAOracle", "asha_rungs"]

_META_KEY = "asha_rungs"


def asha_rungs(max_epochs: int, min_epochs: int = 1, factor: int = 3) -> list[int]:
    """The training lengths at which ASHA decides: ``min_epochs * factor**k < max_epochs``.

    Examples
    --------
    >>> asha_rungs(27, 1, 3)
    [1, 3, 9]
    >>> asha_rungs(100, 2, 3)
    [2, 6, 18, 54]
    """
    max_epochs = check_int("max_epochs", max_epochs, 1)
    min_epochs = check_int("min_epochs", min_epochs, 1)
    factor = check_int("factor", factor, 2)
    if min_epochs > max_epochs:
        raise ValueError(
            f"min_epochs={min_epochs} is larger than max_epochs={max_epochs}; "
            "expected min_epochs <= max_epochs"
        )
    rungs = []
    resource = min_epochs
    while resource < max_epochs:
        rungs.append(resource)
        resource *= factor
    return rungs


class ASHAOracle(RandomSearchOracle):
    """Asynchronous successive halving: stop the trials that fall behind at each rung.

    New configurations are drawn as by `RandomSearchOracle` (initial designs and enqueued
    trials included). Report the objective while training with ``trial.report(value, step)``
    or ``oracle.update_trial(trial, metrics, step)``, where `step` is the number of epochs (or
    other units of resource) done; a returned ``"STOPPED"`` means stop training and `tell`
    the trial. A trial that reaches `max_epochs` completes normally.

    Parameters
    ----------
    objective : str, Objective or list, optional
        What to optimize.
    max_epochs : int
        The most epochs one trial trains (the top rung).
    min_epochs : int
        Epochs before the first decision.
    factor : int
        Reduction factor (>= 2): about 1/factor of the trials pass each rung.
    max_trials : int, optional
        The most trials to start; None: ask until you stop.
    seed, hyperparameters, allow_new_entries, tune_new_entries, max_retries_per_trial,
    max_consecutive_failed_trials
        See `Oracle`.
    **kwargs
        `initial_trials`, `initial_design`, `num_initial_points`, `directory`,
        `project_name`, `overwrite` (see `Oracle`).

    Attributes
    ----------
    rungs : list of int
        The training lengths at which trials are judged (see `asha_rungs`).

    Examples
    --------
    >>> import tunelab as kt
    >>> oracle = ASHAOracle(kt.Objective("loss", "min"), max_epochs=9, max_trials=12, seed=0)
    >>> while (trial := oracle.ask()) is not None:
    ...     x = trial.hyperparameters.Float("x", 0.0, 1.0)
    ...     for epoch in range(1, 10):
    ...         if trial.report((x - 0.5) ** 2 + 1.0 / epoch, step=epoch) == "STOPPED":
    ...             break
    ...     _ = oracle.tell(trial)
    >>> {epochs: len(record) for epochs, record in oracle.rung_records().items()}
    {1: 12, 3: 6}
    """

    def __init__(
        self,
        objective: Any = None,
        max_epochs: int = 100,
        min_epochs: int = 1,
        factor: int = 3,
        max_trials: int | None = None,
        seed: int | None = None,
        hyperparameters: HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int | None = 3,
        **kwargs: Any,
    ) -> None:
        self.rungs = asha_rungs(max_epochs, min_epochs, factor)
        self.max_epochs, self.min_epochs, self.factor = (
            int(max_epochs),
            int(min_epochs),
            int(factor),
        )
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            **kwargs,
        )

    def should_stop(self, trial: Trial, step: int) -> bool:
        """Record the trial at each rung it reaches with this report; stop it unless it is
        in the top 1/factor of every such rung's record."""
        reached = [r for r in self.rungs if r <= step]
        value = self._objective_at(trial, step)
        if not reached or value is None:
            return False
        store = self.study.storage
        stop = False
        with store.transaction():  # read, decide and record as one step
            records: dict[str, dict[str, float]] = store.get_meta(_META_KEY) or {}
            changed = False
            for resource in reached:
                rung = records.setdefault(str(resource), {})
                if trial.trial_id in rung:
                    continue  # judged at this rung already: a decision is final
                rung[trial.trial_id] = value  # type: ignore[index]
                changed = True
                stop = stop or not self._in_top(value, rung)
            if changed:
                store.set_meta(_META_KEY, records)
        return stop

    def _in_top(self, value: float, rung: dict[str, float]) -> bool:
        """Whether `value` (already in `rung`) is among the best max(1, n // factor)."""
        keep = max(1, len(rung) // self.factor)
        if self.objective.direction == "max":
            ahead = sum(v > value for v in rung.values())
        else:
            ahead = sum(v < value for v in rung.values())
        return ahead < keep

    def _objective_at(self, trial: Trial, step: int) -> float | None:
        """The objective's value reported at `step`, or None when it was not reported."""
        metrics = {}
        for name, history in trial.metrics.metrics.items():
            for observation in history.get_history():
                if observation.step == step:
                    metrics[name] = observation.mean()
        if not self.objective.has_value(metrics):
            return None
        return self.objective.get_value(metrics)

    def rung_records(self) -> dict[int, dict[str, float]]:
        """Every rung's record: epochs -> {trial_id: objective value when it got there}."""
        records = self.study.storage.get_meta(_META_KEY) or {}
        return {int(k): dict(v) for k, v in sorted(records.items(), key=lambda kv: int(kv[0]))}

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "max_epochs": self.max_epochs,
            "min_epochs": self.min_epochs,
            "factor": self.factor,
        }
