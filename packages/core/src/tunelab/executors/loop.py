"""The search loop with trials in workers, now the one loop of `tunelab.runner`.

Kept for code that imports `run_search` or `tell_outcome` from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tunelab.runner import run_search
from tunelab.runner import tell_outcome as _tell_outcome

if TYPE_CHECKING:
    from tunelab.executors.worker import RunsTrials, TrialOutcome
    from tunelab.trial import Trial

__all__ = ["run_search", "tell_outcome"]


def tell_outcome(tuner: RunsTrials, trial: Trial, outcome: TrialOutcome) -> None:
    """Finish `trial` in the tuner's oracle with its outcome (see `tunelab.runner`)."""
    _tell_outcome(tuner.oracle, trial, outcome)
