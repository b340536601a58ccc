"""The median stopping rule (Golovin et al., "Google Vizier", KDD 2017) as a pruner.

A trial stops at a step when the best objective value it has reported so far is worse than
the median of the values that the completed trials reported at that same step.
"""

from __future__ import annotations

import math
import statistics
from typing import TYPE_CHECKING, Any

from tunelab.pruners.base import (
    Pruner,
    best_value,
    check_int,
    completed_curves,
    objective_curve,
    worse,
)
from tunelab.trial import Trial

if TYPE_CHECKING:
    from tunelab.oracles.base import Oracle

__all__ = ["MedianPruner"]


class MedianPruner(Pruner):
    """Stop a trial whose best value so far is worse than the median of the completed
    trials' values at the same step.

    Only COMPLETED trials make the median: trials still running report at different speeds
    (the median would depend on timing), and stopped trials are the ones that fell behind.

    Parameters
    ----------
    n_startup_trials : int
        No trial stops before this many trials have completed.
    n_warmup_steps : int
        No trial stops at a step below this one (noisy starts are forgiven).
    interval_steps : int
        Judge a trial once per this many steps from `n_warmup_steps` (at the first step it
        reports in each interval), not at every report.
    n_min_trials : int
        No trial stops at a step that fewer completed trials reported.

    Examples
    --------
    Four trials of a learning curve that falls with each step; the third starts far worse:

    >>> import tunelab as kt
    >>> oracle = kt.oracles.RandomSearchOracle(
    ...     kt.Objective("loss", "min"), pruner=kt.pruners.MedianPruner(n_startup_trials=2))
    >>> for offset in (0.1, 0.3, 0.9, 0.2):
    ...     trial = oracle.ask()
    ...     for step in range(1, 6):
    ...         if trial.report(offset + 1.0 / step, step=step) == "STOPPED":
    ...             break
    ...     _ = oracle.tell(trial)
    >>> [(t.status, len(t.metrics.get_history("loss"))) for t in oracle.trials.values()]
    [('COMPLETED', 5), ('COMPLETED', 5), ('STOPPED', 1), ('COMPLETED', 5)]
    """

    def __init__(
        self,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        n_min_trials: int = 1,
    ) -> None:
        self.n_startup_trials = check_int("n_startup_trials", n_startup_trials, 0)
        self.n_warmup_steps = check_int("n_warmup_steps", n_warmup_steps, 0)
        self.interval_steps = check_int("interval_steps", interval_steps, 1)
        self.n_min_trials = check_int("n_min_trials", n_min_trials, 1)

    def should_prune(self, trial: Trial, step: int, oracle: Oracle) -> bool:
        if step < self.n_warmup_steps:
            return False
        curve = objective_curve(oracle.objective, trial)
        if step not in curve or not self._judged_at(step, curve):
            return False
        completed = completed_curves(oracle)
        if len(completed) < self.n_startup_trials:
            return False
        others = [
            values[step]
            for trial_id, values in completed.items()
            if trial_id != trial.trial_id and step in values and math.isfinite(values[step])
        ]
        if len(others) < max(1, self.n_min_trials):
            return False
        direction = oracle.objective.direction
        best = best_value([v for s, v in curve.items() if s <= step], direction)
        if math.isnan(best):
            return True  # nothing but NaN or infinities so far: it is not learning
        return worse(best, statistics.median(others), direction)

    def _judged_at(self, step: int, curve: dict[int, float]) -> bool:
        """Whether `step` is the first step the trial reported in its interval (counted
        from `n_warmup_steps`): a trial that reports every step is judged every
        `interval_steps` steps, one that reports less often at each report."""
        if self.interval_steps == 1:
            return True
        window = (step - self.n_warmup_steps) // self.interval_steps
        earlier = [
            s
            for s in curve
            if self.n_warmup_steps <= s < step
            and (s - self.n_warmup_steps) // self.interval_steps == window
        ]
        return not earlier

    def get_config(self) -> dict[str, Any]:
        return {
            "n_startup_trials": self.n_startup_trials,
            "n_warmup_steps": self.n_warmup_steps,
            "interval_steps": self.interval_steps,
            "n_min_trials": self.n_min_trials,
        }
