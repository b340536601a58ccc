"""Several trials at once: all their folds in one joblib call, each trial told as it ends.

With ``n_jobs=2`` and 5 folds, one trial at a time keeps both workers busy for only 4 of its
5 folds (3 rounds of fits for 5 fits of work, at best 1.67x faster than one worker). Asking
the oracle for 2 trials gives 10 fits in 5 full rounds. In general a batch holds the
fewest trials whose folds fill every worker in every round (at most ``n_jobs`` trials);
random and grid search, which do not learn from results, get batches of many trials, so
that one slow fit does not leave the other workers idle at the end of each call.

`FoldBatchExecutor` is an executor of the one search loop (`tunelab.runner`): the runner
asks for a batch, the executor runs the batch's folds in one joblib call and hands each
trial back as soon as its last fold is in, and the runner saves it then (not at the end of
the batch). The next batch is asked once every trial of this one is told, so an oracle
that learns from results sees the same history as it would one batch at a time.
`SklearnTuner` (here) and `TuneSearchCV` (`tunelab_sklearn.search_loop`) each say how a
trial becomes a cross-validation job and how its folds become the trial's outcome.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

from sklearn.base import is_classifier

from tunelab.executors import Executor
from tunelab.executors.worker import TrialOutcome, WorkerJob, error_kind
from tunelab.runner import SearchingTuner, run_search
from tunelab.trial import Trial
from tunelab_sklearn.backend import NotAnEstimatorError, SearchInputError, evaluate
from tunelab_sklearn.cross_validation import (
    CandidateResult,
    CVJob,
    SearchData,
    check_splits,
    cross_validate_each,
    is_estimator,
)

if TYPE_CHECKING:
    from tunelab.hyperparameters import HyperParameters
    from tunelab.oracles.base import Oracle
    from tunelab_sklearn.backend import CVSettings

__all__ = ["FoldBatchExecutor", "batch_size", "run_batched_search"]


class BatchTuner(SearchingTuner, Protocol):
    """What a batched search needs of its tuner (`tunelab_sklearn.tuner.SklearnTuner` is
    one; a Protocol because that tuner imports this module): what `run_search` needs, and
    its checked settings, the search's data and building the hypermodel."""

    settings: CVSettings
    _data: SearchData | None

    def _build(self, hp: HyperParameters, args: tuple, kwargs: dict[str, Any]) -> Any: ...

    def _discover_space(self) -> None: ...


# Trials per worker in one batch when the oracle does not learn from results: a long
# joblib call, so that a slow fit does not leave the other workers waiting at its end.
BLIND_BATCH_PER_WORKER = 8


def batch_size(workers: int, n_splits: int, oracle: Any = None) -> int:
    """Trials per joblib call: for an oracle that learns from results, the fewest whose
    folds fill `workers` in every round (at most `workers`); else many more.

    >>> batch_size(2, 5), batch_size(2, 4), batch_size(4, 3), batch_size(1, 5)
    (2, 1, 4, 1)
    """
    if workers > 1 and oracle is not None and not oracle.learns_from_results:
        return BLIND_BATCH_PER_WORKER * workers
    return max(1, min(workers, workers // math.gcd(workers, n_splits)))


def error_outcome(trial: Trial, error: Exception) -> TrialOutcome:
    """The outcome of a trial whose error was caught in this process (kept as raised)."""
    return TrialOutcome(trial.trial_id, "error", error_kind=error_kind(error), error=error)  # type: ignore[arg-type]


class FoldBatchExecutor(Executor):
    """Cross-validates batches of trials in this process, their folds in one joblib call.

    Subclasses say how a trial becomes a `CVJob` (`prepare`) and how its folds become the
    trial's outcome (`outcome`).

    Parameters
    ----------
    batch : int
        Trials per joblib call.
    data : SearchData
        What every fold fits on.
    scorers : dict
        The scorers, by metric name.
    n_jobs : int, optional
        joblib workers.
    return_train_score : bool
        Also score each fold on its training rows.
    verbose : int
        joblib's verbosity plus one.
    """

    in_driver = True

    def __init__(
        self,
        batch: int,
        data: SearchData,
        scorers: dict[str, Any],
        n_jobs: int | None = None,
        return_train_score: bool = False,
        verbose: int = 0,
    ) -> None:
        self.batch = batch
        self.max_parallel_trials = batch
        self.data = data
        self.scorers = scorers
        self.n_jobs = n_jobs
        self.return_train_score = return_train_score
        self.verbose = verbose
        self._queued: list[tuple[Trial, CVJob]] = []
        self._ready: list[TrialOutcome] = []  # trials that failed before any fold ran
        self._running: list[tuple[Trial, CVJob]] = []
        self._stream: Iterator[tuple[int, CandidateResult]] | None = None
        self._left = 0

    # -- what subclasses say ---------------------------------------------------------------
    def prepare(self, trial: Trial) -> CVJob | TrialOutcome:
        """The cross-validation of `trial`, or its outcome when it cannot run."""
        raise NotImplementedError

    def outcome(self, trial: Trial, job: CVJob, result: CandidateResult) -> TrialOutcome:
        """`trial`'s outcome from its folds."""
        raise NotImplementedError

    def limit(self) -> int:
        """Trials in the next batch."""
        return self.batch

    # -- the executor ----------------------------------------------------------------------
    def start(self, job: WorkerJob | None) -> None:
        self._queued, self._ready, self._running = [], [], []

    def has_room(self, in_flight: int) -> bool:
        # A batch starts only once every trial of the previous one is told: an oracle that
        # learns from results then asks knowing all of them, as it would batch by batch.
        batched = len(self._queued) + len(self._ready)
        return self._stream is None and in_flight == batched and batched < self.limit()

    def submit_trial(self, trial: Trial, oracle: Oracle, timeout: float | None) -> None:
        job = self.prepare(trial)
        if isinstance(job, TrialOutcome):
            self._ready.append(job)
        else:
            self._queued.append((trial, job))

    def submit(self, task: Any) -> None:
        raise TypeError("FoldBatchExecutor runs trials in this process: use submit_trial")

    def wait(self, timeout: float | None = None) -> list[TrialOutcome]:
        ready, self._ready = self._ready, []
        if self._stream is None and self._queued:
            self._running, self._queued = self._queued, []
            self._left = len(self._running)
            self._stream = cross_validate_each(
                [job for _, job in self._running],
                self.data,
                self.scorers,
                n_jobs=self.n_jobs,
                return_train_score=self.return_train_score,
                verbose=self.verbose,
            )
        if ready or self._stream is None:
            return ready
        index, result = next(self._stream)
        self._left -= 1
        if self._left == 0:
            self._close()
        trial, job = self._running[index]
        return [self.outcome(trial, job, result)]

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()  # type: ignore[attr-defined]

    def shutdown(self) -> None:
        self._close()
        self._queued, self._running = [], []


class TunerBatchExecutor(FoldBatchExecutor):
    """`SklearnTuner`'s batches: each trial's estimator is its hypermodel, built here with
    the trial's values; its metrics are the backend's (`tunelab_sklearn.backend.evaluate`)."""

    def __init__(self, tuner: BatchTuner, batch: int, data: SearchData) -> None:
        settings = tuner.settings
        super().__init__(
            batch,
            data,
            settings.scorers(),
            n_jobs=settings.n_jobs,
            return_train_score=settings.return_train_score,
        )
        self.tuner = tuner
        self._splits: dict[bool, list] = {}  # folds are stratified for classifiers only

    def start(self, job: WorkerJob | None) -> None:
        super().start(job)
        assert job is not None
        self._args = job.args
        self._quiet = {k: v for k, v in job.kwargs.items() if k != "verbose"}

    def limit(self) -> int:
        # A define-by-run space is known only once a trial has built the hypermodel: until
        # then, one trial at a time (an oracle would see an empty space).
        return self.batch if self.tuner.oracle.hyperparameters.space else 1

    def prepare(self, trial: Trial) -> CVJob | TrialOutcome:
        try:
            model = self.tuner._build(trial.hyperparameters, self._args, self._quiet)
            if not is_estimator(model):
                raise NotAnEstimatorError(
                    f"the hypermodel returned {type(model).__module__}."
                    f"{type(model).__qualname__}; kt.tuners.Sklearn needs a scikit-learn "
                    "estimator (an object with fit and get_params, e.g. a Pipeline)"
                )
            kind = is_classifier(model)
            if kind not in self._splits:
                try:
                    self._splits[kind] = check_splits(
                        self.tuner.settings.splitter(), self.data, model
                    )
                except ValueError as error:
                    raise SearchInputError(str(error)) from None
        except Exception as error:
            return error_outcome(trial, error)
        return CVJob(model, self._splits[kind])

    def outcome(self, trial: Trial, job: CVJob, result: CandidateResult) -> TrialOutcome:
        try:
            metrics = evaluate(result, self.scorers, self.tuner.settings.error_score)
        except Exception as error:
            return error_outcome(trial, error)
        return TrialOutcome(trial.trial_id, "result", result=metrics)  # type: ignore[arg-type]


def run_batched_search(
    tuner: BatchTuner, args: tuple, kwargs: dict[str, Any], workers: int, n_splits: int
) -> None:
    """`BaseTuner.search`, with up to `batch_size` trials cross-validated together."""
    data = tuner._data
    assert data is not None
    if not tuner.oracle.hyperparameters.space and not tuner.oracle.trials:
        tuner._discover_space()  # build with defaults, as search_space_summary() does
    executor = TunerBatchExecutor(tuner, batch_size(workers, n_splits, tuner.oracle), data)
    run_search(tuner, executor, args, kwargs)
