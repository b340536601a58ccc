"""The one search loop: ask the oracle, hand the trial to an executor, tell the outcome.

Every search goes through `Runner`: the sequential search (an `InlineExecutor` that runs
the trial in this process), the process pool, Dask, and the scikit-learn searches that
cross-validate several trials in one joblib call. An executor only moves work and results;
the oracle and the store stay with the runner, which alone tells results. `tell_outcome`
is the one place where a trial's error becomes its status:

========================  =====================================================
the trial raised          what the runner does
========================  =====================================================
`SearchSetupError`        release the trial (it never trained) and raise
`FatalError`              tell it FAILED and raise
`InvalidTrialError`       tell it INVALID
`FailedTrialError`        tell it FAILED, with no retry
any other `Exception`     tell it FAILED (retried up to `max_retries_per_trial`)
`KeyboardInterrupt`       release every trial in flight and stop
(its worker died)         run it again once, then tell it FAILED
========================  =====================================================
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from tunelab.errors import FatalError, ObjectiveNotReportedError, SearchSetupError
from tunelab.executors.worker import TrialOutcome, WorkerJob, make_job, restore_metrics
from tunelab.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from tunelab.executors.base import Executor
    from tunelab.oracles.base import Oracle

__all__ = ["Runner", "run_search", "tell_outcome"]


def tell_outcome(oracle: Oracle, trial: Trial, outcome: TrialOutcome) -> None:
    """Finish `trial` in `oracle` with its `outcome`, wherever it ran.

    An outcome from a worker carries the trial's hyperparameters, metrics and store
    metadata (restored here) and its error as a message; an outcome from the driver's own
    process carries the error object, which is raised again as it was.
    """
    if outcome.hyperparameters is not None:
        outcome.hyperparameters._sampler = None
        trial.hyperparameters = outcome.hyperparameters
    if outcome.metrics is not None:
        trial.metrics = restore_metrics(outcome)
    if outcome.meta:
        store = oracle.study.storage
        for key, value in outcome.meta.items():
            store.set_meta(key, value)
    if outcome.kind == "error":
        message = outcome.message or "the trial failed in its worker"
        # A worker's error travels as its traceback; one caught here is kept as raised.
        error: BaseException | str = (
            outcome.error if outcome.message is None and outcome.error is not None else message
        )
        if outcome.error_kind == "setup":
            # The backend rejected the search's data or settings before fitting anything:
            # the trial goes back to the oracle, unrecorded, for a corrected search.
            oracle.release(trial)
            if outcome.error is not None:
                raise outcome.error
            raise SearchSetupError(f"the search cannot run (trial {trial.trial_id}):\n{message}")
        if outcome.error_kind == "fatal":
            oracle.tell(trial, error=error)
            if outcome.error is not None:
                raise outcome.error
            raise FatalError(f"trial {trial.trial_id} stopped the search:\n{message}")
        if outcome.error_kind == "invalid":
            oracle.tell(trial, status=TrialStatus.INVALID, error=error)
            return
        if outcome.error_kind == "failed":
            trial.retries = oracle.max_retries_per_trial  # no retries for this one
        oracle.tell(trial, error=error)
        return
    if outcome.kind == "lost":
        oracle.tell(trial, error=outcome.message or "its worker died")
        return
    if outcome.told:
        return  # run_trial finished it itself, in this process (oracle.end_trial)
    if outcome.ended_in_worker and outcome.status != TrialStatus.STOPPED:
        failed = outcome.status == TrialStatus.FAILED
        oracle.tell(trial, status=outcome.status, error=outcome.message if failed else None)
        return
    if outcome.status == TrialStatus.STOPPED:
        trial.status = TrialStatus.STOPPED
    try:
        oracle.tell(trial, outcome.result)
    except ObjectiveNotReportedError as error:
        # Before any trial has reported the objective, a result without it means a
        # misspelled objective: every trial would fail the same way after training.
        counts = oracle.study.storage.count_by_status()
        if not counts.get(TrialStatus.COMPLETED) and not counts.get(TrialStatus.STOPPED):
            oracle.release(trial)
            raise
        oracle.tell(trial, error=error)
    except (TypeError, ValueError) as error:
        oracle.tell(trial, error=error)


class _Flight:
    """The trials in flight, in the order they were asked, with their outcomes so far."""

    def __init__(self) -> None:
        self.trials: dict[str, Trial] = {}  # insertion order = ask order
        self.started: dict[str, float] = {}
        self.outcomes: dict[str, TrialOutcome] = {}

    def add(self, trial: Trial) -> None:
        self.trials[trial.trial_id] = trial  # type: ignore[index]
        self.started[trial.trial_id] = time.monotonic()  # type: ignore[index]

    def pop(self, trial_id: str) -> tuple[Trial, TrialOutcome | None]:
        self.started.pop(trial_id, None)
        return self.trials.pop(trial_id), self.outcomes.pop(trial_id, None)

    def running(self) -> list[str]:
        return [t for t in self.trials if t not in self.outcomes]

    def tellable(self, ordered: bool) -> list[str]:
        """Trials whose outcome may be told now: in ask order when `ordered` (the oracle
        then sees the same history whatever the timing), else every finished one."""
        if not ordered:
            return [t for t in self.trials if t in self.outcomes]
        ready = []
        for trial_id in self.trials:
            if trial_id not in self.outcomes:
                break
            ready.append(trial_id)
        return ready


class _NoHooks:
    """The tuner hooks of a search that has no tuner (`TuneSearchCV`)."""

    def on_search_begin(self) -> None: ...

    def on_trial_begin(self, trial: Trial) -> None: ...

    def on_trial_end(self, trial: Trial) -> None: ...

    def on_search_end(self) -> None: ...


class Runner:
    """Runs a search: asks `oracle` for trials while `executor` has room, and tells each
    trial's outcome as it comes back, until the oracle has no trial left.

    Parameters
    ----------
    oracle : Oracle
        Proposes the trials and keeps the books.
    executor : Executor
        Where the trials run (see `tunelab.executors`).
    tuner_id : str, optional
        Recorded with each trial asked.
    hooks : optional
        An object with the tuner's hooks (``on_search_begin``, ``on_trial_begin(trial)``,
        ``on_trial_end(trial)``, ``on_search_end``), usually the tuner.
    display : optional
        The progress display: ``on_trial_begin(trial, n)``, ``on_trial_end(trial, n)``,
        ``close()``.
    ordered : bool, optional
        Tell results in the order the trials were asked, so that a seeded search tries the
        same configurations whatever the timing (trial m is always asked knowing trials
        0..m-N). Default: the executor's `ordered`, else the oracle's
        `learns_from_results`. False tells each result as it arrives.
    trial_timeout : float, optional
        Seconds a trial may run; an executor that can stop a trial (`hard_timeout_grace`)
        has it stopped that long after.
    poll_interval : float
        Seconds between two asks while the oracle waits for trials other processes run
        (Hyperband's ``oracle.waiting``).
    on_interrupt : callable, optional
        Called on Ctrl-C once the trials in flight are released (the tuner prints where its
        trials are kept); without it the KeyboardInterrupt goes on.
    """

    def __init__(
        self,
        oracle: Oracle,
        executor: Executor,
        *,
        tuner_id: str | None = None,
        hooks: Any = None,
        display: Any = None,
        ordered: bool | None = None,
        trial_timeout: float | None = None,
        poll_interval: float = 1.0,
        on_interrupt: Callable[[], None] | None = None,
    ) -> None:
        self.oracle = oracle
        self.executor = executor
        self.tuner_id = tuner_id
        self.hooks = hooks if hooks is not None else _NoHooks()
        self.display = display
        if ordered is None:
            ordered = executor.ordered
        if ordered is None:
            # Random and grid search choose by trial number, never from results: the order
            # in which results arrive cannot change what they try, so no trial need wait.
            ordered = bool(getattr(oracle, "learns_from_results", True))
        self.ordered = ordered
        self.trial_timeout = trial_timeout
        self.poll_interval = poll_interval
        self.on_interrupt = on_interrupt
        self._flight = _Flight()
        self._deaths: dict[str, int] = {}
        self._waiting = False

    # ------------------------------------------------------------------------------------
    def run(self, job: WorkerJob | None = None) -> None:
        """Start the executor with `job` (what its workers need once) and run the search."""
        oracle, executor, flight = self.oracle, self.executor, self._flight
        self.hooks.on_search_begin()

        def serve_report(trial_id: str, metrics: dict[str, float], step: int) -> str:
            trial = flight.trials.get(trial_id)
            if trial is None:  # cancelled or released meanwhile: nobody waits for its result
                return TrialStatus.STOPPED
            return oracle.update_trial(trial, metrics, step=step)

        executor.report_handler = serve_report
        try:
            executor.start(job)  # type: ignore[arg-type]
            self._fill()
            while flight.trials or self._waiting:
                if not flight.trials:
                    # Every trial that could start depends on trials other processes run.
                    time.sleep(self.poll_interval)
                    self._fill()
                    continue
                for arrived in executor.wait(timeout=self._wait_timeout()):
                    flight.outcomes[arrived.trial_id] = arrived
                self._stop_overdue()
                for trial_id in flight.tellable(self.ordered):
                    self._finish(trial_id)
                    # Ask for the next trial before telling the following result: trial m
                    # is always asked knowing trials 0..m-N, whatever order they ended in.
                    self._fill()
                self._fill()
        except KeyboardInterrupt:
            self._release(everything=True)
            executor.shutdown()
            self._close_display()
            if self.on_interrupt is None:
                raise
            self.on_interrupt()
        except BaseException:
            self._release()
            raise
        finally:
            executor.shutdown()
            self._close_display()
        self.hooks.on_search_end()

    def _fill(self) -> None:
        """Ask for trials while the executor has room for them."""
        oracle, executor, flight = self.oracle, self.executor, self._flight
        self._waiting = False
        while executor.has_room(len(flight.trials)):
            trial = oracle.ask(self.tuner_id)
            if trial is None:
                self._waiting = bool(getattr(oracle, "waiting", False))
                return
            if self.display is not None:
                self.display.on_trial_begin(trial, (trial.number or 0) + 1)
            self.hooks.on_trial_begin(trial)
            flight.add(trial)
            executor.submit_trial(trial, oracle, self.trial_timeout)

    def _finish(self, trial_id: str) -> None:
        trial, outcome = self._flight.pop(trial_id)
        assert outcome is not None
        if outcome.kind == "lost" and self._deaths.get(trial_id, 0) == 0:
            # A worker lost once (killed from outside, or a crash): run it again at no cost
            # to the trial's retries.
            self._deaths[trial_id] = 1
            self.oracle.release(trial)
            return
        tell_outcome(self.oracle, trial, outcome)
        self.hooks.on_trial_end(trial)
        if self.display is not None:
            self.display.on_trial_end(trial, (trial.number or 0) + 1)

    def _close_display(self) -> None:
        if self.display is not None:
            self.display.close()

    def _release(self, everything: bool = False) -> None:
        """Put every unfinished trial back, to run again when the search is resumed (on
        Ctrl-C also one asked but not yet in flight: the interrupt may land in `ask`)."""
        held = dict(self._flight.trials)
        if everything:
            held = {**self.oracle.study.running, **held}
        for trial in held.values():
            if trial.status == TrialStatus.RUNNING:
                # The store may be what failed; the next run reclaims the trial then.
                with contextlib.suppress(Exception):
                    self.oracle.release(trial)

    def _wait_timeout(self) -> float | None:
        """Seconds to wait for outcomes: until the next running trial is overdue, and no
        longer than `poll_interval` while the oracle waits for other processes' trials."""
        timeout = None
        grace = self.executor.hard_timeout_grace
        running = [self._flight.started[t] for t in self._flight.running()]
        if self.trial_timeout is not None and grace is not None and running:
            limit = self.trial_timeout + grace
            timeout = max(0.0, min(running) + limit - time.monotonic())
        if self._waiting:
            timeout = self.poll_interval if timeout is None else min(timeout, self.poll_interval)
        return timeout

    def _stop_overdue(self) -> None:
        """Cancel trials past `trial_timeout` that did not stop by themselves: they fail."""
        grace = self.executor.hard_timeout_grace
        if self.trial_timeout is None or grace is None:
            return
        limit = self.trial_timeout + grace
        now = time.monotonic()
        flight = self._flight
        for trial_id in flight.running():
            if now - flight.started[trial_id] >= limit and self.executor.cancel(trial_id):
                flight.outcomes[trial_id] = TrialOutcome(
                    trial_id,
                    "error",
                    error_kind="failed",
                    message=(
                        f"trial {trial_id} ran longer than trial_timeout={self.trial_timeout} "
                        "s and did not stop; its worker was stopped"
                    ),
                )


class SearchingTuner(Protocol):
    """What `run_search` needs of a tuner (`tunelab.tuner.BaseTuner` is one): its oracle,
    id and trial timeout, `run_trial` for the executor, the hooks, the progress display and
    what to do on Ctrl-C. (A Protocol: the tuner imports the runner, not the reverse.)"""

    oracle: Any
    tuner_id: str
    trial_timeout: float | None

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> Any: ...

    def on_search_begin(self) -> None: ...

    def on_trial_begin(self, trial: Trial) -> None: ...

    def on_trial_end(self, trial: Trial) -> None: ...

    def on_search_end(self) -> None: ...

    def _progress(self, verbose: Any) -> Any: ...

    def _interrupted(self) -> None: ...


def run_search(
    tuner: SearchingTuner,
    executor: Executor,
    fit_args: tuple,
    fit_kwargs: dict[str, Any],
    ordered: bool | None = None,
) -> None:
    """Run `tuner`'s search with its trials on `executor` (see `BaseTuner.search`).

    An executor that runs trials in this process (`Executor.in_driver`) gets the tuner
    itself; one with workers gets a copy that holds a `WorkerOracle`. `ordered`: see
    `Runner`.
    """
    if executor.in_driver:
        job = WorkerJob(tuner, fit_args, fit_kwargs, 0)
    else:
        job = make_job(tuner, fit_args, fit_kwargs)
    runner = Runner(
        tuner.oracle,
        executor,
        tuner_id=tuner.tuner_id,
        hooks=tuner,
        display=tuner._progress(fit_kwargs.get("verbose", 1)),
        ordered=ordered,
        trial_timeout=tuner.trial_timeout,
        poll_interval=getattr(tuner, "poll_interval", 1.0),
        on_interrupt=tuner._interrupted,
    )
    runner.run(job)
