"""Trials in the tuner's own process, one at a time: the default executor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunelab.executors.base import Executor
from tunelab.executors.worker import RunsTrials, TrialOutcome, WorkerJob, error_kind
from tunelab.outcomes import run_trial_result
from tunelab.timeout import time_limit
from tunelab.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from tunelab.oracles.base import Oracle

__all__ = ["InlineExecutor", "run_in_driver"]


def run_in_driver(
    tuner: RunsTrials, trial: Trial, args: tuple, kwargs: dict[str, Any], timeout: float | None
) -> TrialOutcome:
    """Run `trial` with `tuner.run_trial` in this process and describe how it went.

    The trial is the oracle's own: a `run_trial` that reports with
    ``self.oracle.update_trial`` or reads ``self.oracle.get_trial`` works as it always did.
    The trial's own errors are kept in the outcome; KeyboardInterrupt goes on.
    """
    outcome = TrialOutcome(trial.trial_id, "result")  # type: ignore[arg-type]
    try:
        with time_limit(timeout, trial.trial_id):
            outcome.result = run_trial_result(tuner, trial, args, kwargs)
    except Exception as error:
        outcome.kind, outcome.error_kind, outcome.error = "error", error_kind(error), error
        return outcome
    outcome.status = trial.status
    # run_trial may have finished the trial itself (oracle.end_trial); STOPPED is only the
    # oracle's request to stop, and the result still has to be told.
    outcome.told = trial.status in TrialStatus.FINISHED and trial.status != TrialStatus.STOPPED
    return outcome


class InlineExecutor(Executor):
    """Run each trial in the tuner's process, one at a time (``executor="inline"``, the
    default): the runner hands the trial over and `wait` runs it."""

    max_parallel_trials = 1
    in_driver = True

    def __init__(self) -> None:
        self._job: WorkerJob | None = None
        self._queue: list[tuple[Trial, float | None]] = []

    def __repr__(self) -> str:
        return "InlineExecutor()"

    def start(self, job: WorkerJob) -> None:
        self._job = job
        self._queue = []

    def submit_trial(self, trial: Trial, oracle: Oracle, timeout: float | None) -> None:
        self._queue.append((trial, timeout))

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        if not self._queue or self._job is None:
            return []
        trial, limit = self._queue.pop(0)
        job = self._job
        return [run_in_driver(job.tuner, trial, job.args, job.kwargs, limit)]

    def shutdown(self) -> None:
        self._queue = []
