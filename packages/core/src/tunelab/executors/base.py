"""The executor interface: where the trials of a search run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tunelab.executors.worker import Reporter, TrialOutcome, TrialTask, WorkerJob

__all__ = ["Executor", "check_max_parallel_trials"]


def check_max_parallel_trials(value: Any) -> int | None:
    """`max_parallel_trials` as an int >= 1 (or None), or a ValueError naming it."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_parallel_trials={value!r}; expected an int >= 1 or None")
    return value


class Executor:
    """Base class of executors: run trials somewhere and hand their outcomes back.

    The search loop (in the driver process) asks the oracle for trials, `submit`s them,
    `wait`s for outcomes and tells the oracle; an executor only moves work and results.

    Attributes
    ----------
    max_parallel_trials : int
        How many trials run at the same time (known once `start` has run).
    hard_timeout_grace : float or None
        Seconds after `trial_timeout` at which the loop cancels a trial that did not stop by
        itself (None: the executor cannot stop a trial, e.g. a Dask task in a thread).
    ordered : bool or None
        Whether results reach the oracle in the order trials were asked (reproducible
        searches; see `tunelab.executors.loop.run_search`). None: only for oracles that
        learn from results.
    report_handler : callable or None
        Set by the search loop before `start`: ``handler(trial_id, metrics, step)`` records
        a running trial's report in the driver's oracle and returns its status. An executor
        serves its workers' reports with it while it `wait`s, so the oracle can stop trials
        early (ASHA); `wait` may then return [] before any trial ends.
    """

    max_parallel_trials: int = 1
    hard_timeout_grace: float | None = None
    ordered: bool | None = None
    report_handler: Reporter | None = None

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
