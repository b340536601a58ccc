"""Random search: every trial draws each active hyperparameter independently."""

from __future__ import annotations

from typing import Any

from tunelab.oracles.base import Oracle
from tunelab.oracles.grid import is_finite, untried_grid_values

__all__ = ["RandomSearchOracle"]


class RandomSearchOracle(Oracle):
    """Random search oracle.

    Each trial draws its values at random from the space (log scales, steps and conditions
    respected), or from the initial design (`initial_design="lhs"` or `"sobol"` with
    `num_initial_points`). Tried values are never repeated; when random draws keep landing
    on tried values of a finite space, the untried ones are enumerated, so a small space is
    searched to the end before the oracle says it is exhausted.

    Parameters
    ----------
    See `Oracle`.

    Examples
    --------
    >>> import tunelab as kt
    >>> oracle = kt.oracles.RandomSearchOracle(objective=kt.Objective("loss", "min"),
    ...                                        max_trials=5, seed=1)
    >>> trial = oracle.ask()
    >>> x = trial.hyperparameters.Float("x", -2.0, 2.0)
    >>> _ = oracle.tell(trial, (x - 1.0) ** 2)
    """

    # Draws never depend on results; ASHAOracle inherits this (its rungs stop trials from
    # their reports, but what it proposes does not depend on them).
    learns_from_results = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._collisions = 0

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        trial = self._trial_for(trial_id)
        unit = self.design_point(trial)
        values = self.random_values(trial, unit)
        if not values:
            # Nothing is known of the space yet (define-by-run): the trial's code defines
            # it. Trials handed out meanwhile all look alike, and are not repeats of a
            # finite space (with many slots, 20 of them read as an exhausted space).
            return values
        if not self.tried(values):
            self._collisions = 0
            return self._response(values)
        self._collisions += 1
        if self._collisions >= 20 and is_finite(self.hyperparameters.space):
            self._collisions = 0
            return self._response(untried_grid_values(self, trial, shuffle=True))
        return self._response(values)  # a repeat: the study asks again
