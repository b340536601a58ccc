"""`TuneSearchCV.fit`'s search: the one search loop (`tunelab.runner`) with an executor that
cross-validates clones of the estimator.

With several joblib workers, as many trials are asked at once and all their folds run in one
joblib call; each trial is saved as soon as its folds are in. Under Hyperband each trial
carries a budget (``tuner/epochs``) that `tunelab_sklearn.resources.Budget` turns into a
parameter value or a training subsample; trials that continue one of the previous round
continue its fold models when they can.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import joblib
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning

from tunelab.executors.worker import TrialOutcome
from tunelab.oracles.base import Oracle
from tunelab.runner import Runner
from tunelab.trial import Trial, TrialStatus
from tunelab_sklearn.cross_validation import (
    CandidateResult,
    CVJob,
    SearchData,
    check_error_score,
)
from tunelab_sklearn.parallel_trials import BLIND_BATCH_PER_WORKER, FoldBatchExecutor
from tunelab_sklearn.resources import N_SAMPLES, Budget
from tunelab_sklearn.search_space import SearchSpace

__all__ = ["SearchOutcome", "run_search"]

FINISHED = (TrialStatus.COMPLETED, TrialStatus.INVALID, TrialStatus.STOPPED)


@dataclass
class SearchOutcome:
    """Every finished trial of the project, as `cv_results_` rows."""

    params: list[dict[str, Any]] = field(default_factory=list)
    results: list[CandidateResult] = field(default_factory=list)
    # Under Hyperband: the resource each row was given, and whether it was the full budget.
    resources: list[float] = field(default_factory=list)
    full_budget: list[bool] = field(default_factory=list)


@dataclass
class _Settings:
    estimator: Any
    space: SearchSpace
    data: SearchData
    splits: list
    scorers: dict[str, Any]
    n_jobs: int | None
    error_score: Any
    return_train_score: bool
    verbose: int
    resource: str | None
    resource_per_epoch: float
    logger: Any = None


class _LoggerHooks:
    """The search loop's hooks that hand each ended trial to a KerasTuner-style logger
    (``report_trial_state``), e.g. `tunelab.tensorboard_log.TensorBoardLogger`."""

    def __init__(self, logger: Any) -> None:
        self.logger = logger

    def on_search_begin(self) -> None: ...

    def on_trial_begin(self, trial: Trial) -> None: ...

    def on_trial_end(self, trial: Trial) -> None:
        self.logger.report_trial_state(trial.trial_id, trial.get_config())

    def on_search_end(self) -> None: ...


def _budget(s: _Settings, oracle: Oracle, values: dict[str, Any], candidate: Any) -> Budget | None:
    if "tuner/epochs" not in values:
        return None
    return Budget.for_trial(
        candidate,
        s.resource or N_SAMPLES,
        s.resource_per_epoch,
        values["tuner/epochs"],
        getattr(oracle, "max_epochs", None),
    )


class _SearchCVExecutor(FoldBatchExecutor):
    """`TuneSearchCV`'s batches: each trial is a clone of the estimator with the trial's
    parameters (and, under Hyperband, its budget); failed folds follow ``error_score``."""

    def __init__(self, s: _Settings, oracle: Oracle, batch: int) -> None:
        super().__init__(
            batch,
            s.data,
            s.scorers,
            n_jobs=s.n_jobs,
            return_train_score=s.return_train_score,
            verbose=s.verbose,
        )
        self.s = s
        self.oracle = oracle
        self.names = list(s.scorers)
        self.max_epochs = getattr(oracle, "max_epochs", None)
        self.kept: dict[str, list[Any]] = {}  # fold models a next Hyperband round continues
        self.fits = 0  # this fit's folds
        self.errors: list[str] = []  # and their errors

    def prepare(self, trial: Trial) -> CVJob:
        s = self.s
        values = trial.hyperparameters.values
        candidate = clone(s.estimator).set_params(**s.space.params(values))
        budget = _budget(s, self.oracle, values, candidate)
        if budget is None:
            return CVJob(candidate, s.splits)
        # Under Hyperband each trial has its own folds (subsamples) or starting models.
        budget.apply(candidate)
        parent = self.kept.pop(values.get("tuner/trial_id"), None)
        start = budget.continue_from(parent) if budget.warm_start and parent else None
        # Only a trial below max_epochs may be continued by the next round.
        keep = budget.warm_start and values["tuner/epochs"] < (self.max_epochs or 0)
        splits = budget.splits(s.splits, s.data.y, candidate)
        return CVJob(candidate, splits, start, keep)

    def outcome(self, trial: Trial, job: CVJob, result: CandidateResult) -> TrialOutcome:
        s, names = self.s, self.names
        failed = result.failed
        self.fits += len(result.folds)
        self.errors.extend(f.error for f in failed)  # type: ignore[misc]
        if failed and s.error_score == "raise":
            # scikit-learn's error_score="raise": the fold's own exception ends the search.
            return TrialOutcome(
                trial.trial_id,  # type: ignore[arg-type]
                "error",
                error_kind="fatal",
                message=failed[0].error,
                error=failed[0].exception,
            )
        if job.keep_models and not failed:
            self.kept[trial.trial_id] = [f.estimator for f in result.folds]  # type: ignore[index]
        result.apply_error_score(check_error_score(s.error_score))  # type: ignore[arg-type]
        if s.verbose > 1:
            print(
                f"[trial {trial.trial_id}] "
                f"{s.space.params(trial.hyperparameters.values)}: "
                f"{names[0]}={result.test(names[0]).mean():.5g}"
            )
        return TrialOutcome(trial.trial_id, "result", result=result.to_metrics(names))  # type: ignore[arg-type]


def run_search(oracle: Oracle, settings: dict[str, Any]) -> SearchOutcome:
    """Run the search to the end and return every finished trial (this fit's and those of a
    resumed project). `settings` holds the `_Settings` fields."""
    s = _Settings(**settings)
    workers = max(1, joblib.effective_n_jobs(s.n_jobs))
    # An oracle that learns from results gets one trial per worker at a time; random and
    # grid search many more, so that a slow fit does not idle the other workers at the end
    # of each joblib call.
    if workers > 1 and not oracle.learns_from_results:
        workers *= BLIND_BATCH_PER_WORKER
    executor = _SearchCVExecutor(s, oracle, workers)
    hooks = _LoggerHooks(s.logger) if s.logger is not None else None
    Runner(oracle, executor, hooks=hooks).run()
    _warn_failures(executor.fits, executor.errors, s.error_score)
    return _outcome(oracle, s, list(s.scorers))


def _outcome(oracle: Oracle, s: _Settings, names: list[str]) -> SearchOutcome:
    out = SearchOutcome()
    max_epochs = getattr(oracle, "max_epochs", None)
    for trial in oracle.trials.values():
        if trial.status not in FINISHED:
            continue
        values = trial.hyperparameters.values
        params = s.space.params(values)
        metrics = {n: h.get_last_value() for n, h in trial.metrics.metrics.items()}
        if "tuner/epochs" in values:
            budget = _budget(s, oracle, values, clone(s.estimator).set_params(**params))
            assert budget is not None
            if budget.resource != N_SAMPLES:
                params[budget.resource] = int(budget.value)
            out.resources.append(budget.value)
            out.full_budget.append(values["tuner/epochs"] == max_epochs)
        out.params.append(params)
        out.results.append(
            CandidateResult.from_metrics(metrics, names, len(s.splits), s.return_train_score)
        )
    if not out.results:
        raise ValueError("no trial finished: n_trials is reached or the oracle proposed nothing")
    return out


def _warn_failures(total: int, errors: list[str], error_score: Any) -> None:
    """scikit-learn's behaviour: all fits failed is an error, some is a warning."""
    if errors and len(errors) == total:
        raise ValueError(f"All the {total} fits failed; the first error:\n{errors[0]}")
    if errors:
        warnings.warn(
            f"{len(errors)} fits failed out of a total of {total} and scored "
            f"error_score={error_score}; the first error:\n{errors[0]}",
            FitFailedWarning,
            stacklevel=4,
        )
