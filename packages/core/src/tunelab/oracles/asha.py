"""ASHA as an oracle (KerasTuner-style): random search with a successive-halving pruner.

Every trial trains one configuration and reports its objective as it goes; trials that fall
behind at a rung stop (see `tunelab.pruners.SuccessiveHalvingPruner`, which holds the rule
and keeps the rung records in the trial store). The same pruner works with any oracle:
``kt.BayesianOptimization(..., pruner=kt.pruners.SuccessiveHalvingPruner(...))``.
"""

from __future__ import annotations

from typing import Any

from tunelab.checks import check_int
from tunelab.hyperparameters import HyperParameters
from tunelab.oracles.random_search import RandomSearchOracle
from tunelab.pruners.successive_halving import SuccessiveHalvingPruner, halving_rungs

__all__ = ["ASHAOracle", "asha_rungs"]


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
    return halving_rungs(min_epochs, factor, max_epochs)


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
    pruner : kt.pruners.SuccessiveHalvingPruner
        The rule and its records.

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
        if "pruner" in kwargs:
            raise TypeError(
                f"ASHAOracle got pruner={kwargs['pruner']!r}, but it prunes with successive "
                "halving (max_epochs, min_epochs, factor); for another pruner use "
                "RandomSearchOracle(pruner=...)"
            )
        self._halving = SuccessiveHalvingPruner(self.min_epochs, self.factor, self.max_epochs)
        super().__init__(
            objective=objective,
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            pruner=self._halving,
            **kwargs,
        )

    def rung_records(self) -> dict[int, dict[str, float]]:
        """Every rung's record: epochs -> {trial_id: objective value when it got there}."""
        return self._halving.records(self)

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "max_epochs": self.max_epochs,
            "min_epochs": self.min_epochs,
            "factor": self.factor,
        }
