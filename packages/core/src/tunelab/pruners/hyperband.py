"""Hyperband's brackets (Li et al., JMLR 2018) as a pruner.

Successive halving must choose how early it judges: judge early, and slow starters are
stopped; judge late, and resources go to hopeless trials. Hyperband hedges by running
several successive-halving brackets side by side, from the most aggressive (first rung at
`min_resource`) to one that never stops a trial (first rung at `max_resource`). Each trial
belongs to one bracket, chosen from its trial number (so the same in every process), and is
judged only against the trials of its bracket. Brackets receive trials in the proportions
Hyperband gives them: more to the aggressive brackets, whose trials cost less.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from tunelab.pruners.base import Pruner, check_int
from tunelab.pruners.successive_halving import SuccessiveHalvingPruner
from tunelab.trial import Trial

if TYPE_CHECKING:
    from tunelab.oracles.base import Oracle

__all__ = ["HyperbandPruner"]


def _interleave(weights: list[int]) -> list[int]:
    """A cycle of indices where index i appears weights[i] times, spread evenly (smooth
    weighted round robin), so that a short search still visits every bracket."""
    total = sum(weights)
    credit = [0] * len(weights)
    order = []
    for _ in range(total):
        credit = [c + w for c, w in zip(credit, weights, strict=True)]
        pick = credit.index(max(credit))
        credit[pick] -= total
        order.append(pick)
    return order


class HyperbandPruner(Pruner):
    """Hyperband: several successive-halving brackets, each trial judged in one of them.

    Parameters
    ----------
    max_resource : int
        The most steps one trial trains (R in the paper, e.g. `max_epochs`).
    min_resource : int
        The first rung of the most aggressive bracket (r in the paper).
    factor : int
        Reduction factor (>= 2), as in `SuccessiveHalvingPruner`.

    Attributes
    ----------
    brackets : list of SuccessiveHalvingPruner
        Bracket b's first rung is ``min_resource * factor**b``; the last one never stops a
        trial.
    trials_per_cycle : list of int
        How many of each cycle of trials go to each bracket (Hyperband's
        ``ceil(B / (s + 1) * factor**s)`` for a bracket with s rungs among B brackets).

    Examples
    --------
    >>> import tunelab as kt
    >>> pruner = kt.pruners.HyperbandPruner(max_resource=27, factor=3)
    >>> [b.rungs for b in pruner.brackets]
    [[1, 3, 9], [3, 9], [9], []]
    >>> pruner.trials_per_cycle
    [27, 12, 6, 4]
    >>> [pruner.bracket_of(number) for number in range(8)]
    [0, 1, 0, 2, 0, 3, 0, 1]
    """

    def __init__(self, max_resource: int, min_resource: int = 1, factor: int = 3) -> None:
        self.max_resource = check_int("max_resource", max_resource, 1)
        self.min_resource = check_int("min_resource", min_resource, 1)
        self.factor = check_int("factor", factor, 2)
        if self.min_resource > self.max_resource:
            raise ValueError(
                f"min_resource={min_resource} is larger than max_resource={max_resource}; "
                "expected min_resource <= max_resource"
            )
        self.brackets: list[SuccessiveHalvingPruner] = []
        first = self.min_resource
        while first <= self.max_resource:
            bracket = SuccessiveHalvingPruner(first, self.factor, self.max_resource)
            # Each bracket keeps its own records: trials are judged within their bracket.
            bracket.record_key = f"hyperband_rungs/{len(self.brackets)}"
            self.brackets.append(bracket)
            first *= self.factor
        count = len(self.brackets)
        self.trials_per_cycle = [
            math.ceil(count / (len(b.rungs) + 1) * self.factor ** len(b.rungs))
            for b in self.brackets
        ]
        self._cycle = _interleave(self.trials_per_cycle)

    def bracket_of(self, trial: Trial | int) -> int:
        """The bracket of a trial (or of a trial number)."""
        number = trial if isinstance(trial, int) else (trial.number or 0)
        return self._cycle[number % len(self._cycle)]

    def should_prune(self, trial: Trial, step: int, oracle: Oracle) -> bool:
        return self.brackets[self.bracket_of(trial)].should_prune(trial, step, oracle)

    def records(self, oracle: Oracle) -> dict[int, dict[int, dict[str, float]]]:
        """Each bracket's rung records (see `SuccessiveHalvingPruner.records`)."""
        return {b: bracket.records(oracle) for b, bracket in enumerate(self.brackets)}

    def get_config(self) -> dict[str, Any]:
        return {
            "max_resource": self.max_resource,
            "min_resource": self.min_resource,
            "factor": self.factor,
        }
