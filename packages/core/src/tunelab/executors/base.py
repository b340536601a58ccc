"""The executor interface: where the trials of a search run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tunelab.checks import check_int
from tunelab.executors.worker import task_for

if TYPE_CHECKING:
    from tunelab.executors.worker import Reporter, TrialOutcome, TrialTask, WorkerJob
    from tunelab.oracles.base import Oracle
    from tunelab.trial import Trial

__all__ = ["Executor", "check_max_parallel_trials"]


def check_max_parallel_trials(value: Any) -> int | None:
    """`max_parallel_trials` as an int >= 1 (or None), or a ValueError naming it."""
    return check_int("max_parallel_trials", value, 1, allow_none=True)


class Executor:
    """Base class of executors: run trials somewhere and hand their outcomes back.

    The runner (`tunelab.runner`, in the driver process) asks the oracle for trials while
    the executor `has_room`, hands each one over with `submit_trial`, `wait`s for outcomes
    and tells the oracle; an executor only moves work and results.

    Attributes
    ----------
    max_parallel_trials : int
        How many trials run at the same time (known once `start` has run).
    hard_timeout_grace : float or None
        Seconds after `trial_timeout` at which the loop cancels a trial that did not stop by
        itself (None: the executor cannot stop a trial, e.g. a Dask task in a thread).
    ordered : bool or None
        Whether results reach the oracle in the order trials were asked (reproducible
        searches; see `tunelab.runner.Runner`). None: only for oracles that learn from
        results (`Oracle.learns_from_results`).
    in_driver : bool
        Whether trials run in the driver's process, on the tuner itself (`start` then gets
        a job holding the real tuner, not a copy with a `WorkerOracle`).
    report_handler : callable or None
        Set by the search loop before `start`: ``handler(trial_id, metrics, step)`` records
        a running trial's report in the driver's oracle and returns its status. An executor
        serves its workers' reports with it while it `wait`s, so the oracle can stop trials
        early (ASHA); `wait` may then return [] before any trial ends.
    """

    max_parallel_trials: int = 1
    hard_timeout_grace: float | None = None
    ordered: bool | None = None
    in_driver: bool = False
    report_handler: Reporter | None = None

    def has_room(self, in_flight: int) -> bool:
        """Whether the runner may hand over one more trial while `in_flight` trials are
        running or waiting to be told."""
        return in_flight < self.max_parallel_trials

    def submit_trial(self, trial: Trial, oracle: Oracle, timeout: float | None) -> None:
        """Run `trial` (the runner's call): the default sends its `TrialTask` to `submit`."""
        self.submit(task_for(trial, oracle, timeout))

    def start(self, job: WorkerJob) -> None:
        """Start the workers (if needed) and send them `job` once."""
        raise NotImplementedError

    def submit(self, task: TrialTask) -> None:
        """Run one trial on a free worker."""
        raise NotImplementedError

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        """Block until at least one trial ends (or `timeout` seconds pass: then [])."""
        raise NotImplementedError

    def cancel(self, trial_id: str) -> bool:
        """Stop a running trial (it gives no outcome); False when that is not possible."""
        return False

    def shutdown(self) -> None:
        """Stop the workers this executor started; safe to call twice."""
