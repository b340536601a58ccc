"""The search loop with trials in workers: the driver asks, submits, waits and tells.

The oracle and the store stay in the driver, which alone writes to the store. Workers only
run trials and send outcomes back.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any

from tunelab.errors import FatalError, SearchSetupError
from tunelab.executors.base import Executor
from tunelab.executors.worker import TrialOutcome, make_job, restore_metrics, task_for
from tunelab.oracles.grid import GridSearchOracle
from tunelab.oracles.random_search import RandomSearchOracle
from tunelab.trial import Trial, TrialStatus

if TYPE_CHECKING:
    from tunelab.tuner import BaseTuner

__all__ = ["run_search", "tell_outcome"]


def tell_outcome(tuner: BaseTuner, trial: Trial, outcome: TrialOutcome) -> None:
    """Finish `trial` in the oracle with what its worker sent back (as the inline loop
    would have, had the trial run in the driver)."""
    oracle = tuner.oracle
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
        if outcome.error_kind == "setup":
            # The backend rejected the search's data or settings before fitting anything:
            # as in the inline loop, the trial goes back to the oracle, unrecorded.
            oracle.release(trial)
            raise SearchSetupError(f"the search cannot run (trial {trial.trial_id}):\n{message}")
        if outcome.error_kind == "fatal":
            oracle.tell(trial, error=message)
            raise FatalError(f"trial {trial.trial_id} stopped the search:\n{message}")
        if outcome.error_kind == "invalid":
            oracle.tell(trial, status=TrialStatus.INVALID, error=message)
            return
        if outcome.error_kind == "failed":
            trial.retries = oracle.max_retries_per_trial  # no retries for this one
        oracle.tell(trial, error=message)
        return
    if outcome.kind == "lost":
        oracle.tell(trial, error=outcome.message or "its worker died")
        return
    if outcome.ended_in_worker and outcome.status != TrialStatus.STOPPED:
        failed = outcome.status == TrialStatus.FAILED
        oracle.tell(trial, status=outcome.status, error=outcome.message if failed else None)
        return
    if outcome.status == TrialStatus.STOPPED:
        trial.status = TrialStatus.STOPPED
    try:
        oracle.tell(trial, outcome.result)
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


def run_search(
    tuner: BaseTuner,
    executor: Executor,
    fit_args: tuple,
    fit_kwargs: dict[str, Any],
    ordered: bool | None = None,
) -> None:
    """Run `tuner`'s search with trials on `executor` (see `BaseTuner.search`).

    Parameters
    ----------
    ordered : bool, optional
        Default: the executor's `ordered`, and when that is None, True except for random and
        grid search. Tell results to the oracle in the order trials were asked, so a seeded search tries
        the same configurations whatever the timing (a worker that finishes early waits for
        the oldest trial in flight before the next trial is asked). False tells each result
        as it arrives: faster when trial durations vary a lot, not reproducible for
        model-based oracles.
    """
    if ordered is None:
        ordered = executor.ordered
    if ordered is None:
        # Random and grid search choose by trial number, never from results: the order in
        # which results arrive cannot change what they try, so no worker need wait.
        ordered = type(tuner.oracle) not in (RandomSearchOracle, GridSearchOracle)
    oracle = tuner.oracle
    display = tuner._progress(fit_kwargs.get("verbose", 1))
    flight = _Flight()
    deaths: dict[str, int] = {}
    tuner.on_search_begin()

    def serve_report(trial_id: str, metrics: dict[str, float], step: int) -> str:
        trial = flight.trials.get(trial_id)
        if trial is None:  # cancelled or released meanwhile: nobody waits for its result
            return TrialStatus.STOPPED
        return oracle.update_trial(trial, metrics, step=step)

    executor.report_handler = serve_report
    executor.start(make_job(tuner, fit_args, fit_kwargs))

    def fill() -> None:
        while len(flight.trials) < executor.max_parallel_trials:
            trial = oracle.ask(tuner.tuner_id)
            if trial is None:
                return
            display.on_trial_begin(trial, (trial.number or 0) + 1)
            tuner.on_trial_begin(trial)
            executor.submit(task_for(trial, oracle, tuner.trial_timeout))
            flight.add(trial)

    try:
        fill()
        while flight.trials:
            for arrived in executor.wait(timeout=_next_deadline(tuner, executor, flight)):
                flight.outcomes[arrived.trial_id] = arrived
            _stop_overdue(tuner, executor, flight)
            for trial_id in flight.tellable(ordered):
                trial, outcome = flight.pop(trial_id)
                assert outcome is not None
                if outcome.kind == "lost" and deaths.get(trial_id, 0) == 0:
                    # A worker lost once (killed from outside, or a crash): run it again at
                    # no cost to the trial's retries.
                    deaths[trial_id] = 1
                    oracle.release(trial)
                else:
                    tell_outcome(tuner, trial, outcome)
                    tuner.on_trial_end(trial)
                    display.on_trial_end(trial, (trial.number or 0) + 1)
                # Ask for the next trial before telling the following result: trial m is
                # always asked knowing trials 0..m-N, whatever order they finished in.
                fill()
            fill()
    except KeyboardInterrupt:
        _release(tuner, flight)
        executor.shutdown()
        tuner._interrupted()
    except BaseException:
        _release(tuner, flight)
        raise
    finally:
        executor.shutdown()
        display.close()
    tuner.on_search_end()


def _release(tuner: BaseTuner, flight: _Flight) -> None:
    """Put every unfinished trial back, to run again when the search is resumed."""
    for trial in flight.trials.values():
        if trial.status == TrialStatus.RUNNING:
            # The store may be what failed; the next run reclaims the trial then.
            with contextlib.suppress(Exception):
                tuner.oracle.release(trial)


def _next_deadline(tuner: BaseTuner, executor: Executor, flight: _Flight) -> float | None:
    """Seconds until the next running trial is overdue (None: no limit)."""
    if tuner.trial_timeout is None or executor.hard_timeout_grace is None:
        return None
    limit = tuner.trial_timeout + executor.hard_timeout_grace
    now = time.monotonic()
    starts = [flight.started[t] for t in flight.running()]
    if not starts:
        return None
    return max(0.0, min(starts) + limit - now)


def _stop_overdue(tuner: BaseTuner, executor: Executor, flight: _Flight) -> None:
    """Cancel trials past `trial_timeout` that did not stop by themselves: they fail."""
    if tuner.trial_timeout is None or executor.hard_timeout_grace is None:
        return
    limit = tuner.trial_timeout + executor.hard_timeout_grace
    now = time.monotonic()
    for trial_id in flight.running():
        if now - flight.started[trial_id] >= limit and executor.cancel(trial_id):
            flight.outcomes[trial_id] = TrialOutcome(
                trial_id,
                "error",
                error_kind="failed",
                message=(
                    f"trial {trial_id} ran longer than trial_timeout={tuner.trial_timeout} s "
                    "and did not stop; its worker was stopped"
                ),
            )
