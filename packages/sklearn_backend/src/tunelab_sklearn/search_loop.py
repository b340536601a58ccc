"""The loop of `TuneSearchCV.fit`: ask the oracle, cross-validate, tell, until it is done.

With several joblib workers, as many trials are asked at once and all their folds run in one
joblib call. Under Hyperband each trial carries a budget (``tuner/epochs``) that
`tunelab_sklearn.resources.Budget` turns into a parameter value or a training subsample;
trials that continue one of the previous round continue its fold models when they can.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import joblib
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning

from tunelab.oracles.base import Oracle
from tunelab.trial import TrialStatus
from tunelab_sklearn.cross_validation import (
    CandidateResult,
    SearchData,
    check_error_score,
    cross_validate_candidates,
)
from tunelab_sklearn.parallel_trials import BLIND_BATCH_PER_WORKER, learns_from_results
from tunelab_sklearn.resources import N_SAMPLES, Budget
from tunelab_sklearn.search_space import SearchSpace

__all__ = ["SearchOutcome", "run_search"]

_FINISHED = (TrialStatus.COMPLETED, TrialStatus.INVALID, TrialStatus.STOPPED)


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


def run_search(oracle: Oracle, settings: dict[str, Any]) -> SearchOutcome:
    """Run the search to the end and return every finished trial (this fit's and those of a
    resumed project). `settings` holds the `_Settings` fields."""
    s = _Settings(**settings)
    workers = max(1, joblib.effective_n_jobs(s.n_jobs))
    # An oracle that learns from results gets one trial per worker at a time; random and
    # grid search many more, so that a slow fit does not idle the other workers at the end
    # of each joblib call.
    if workers > 1 and not learns_from_results(oracle):
        workers *= BLIND_BATCH_PER_WORKER
    names = list(s.scorers)
    kept: dict[str, list[Any]] = {}  # fold models a next Hyperband round may continue
    fits: tuple[list[int], list[str]] = ([0], [])  # this fit's folds, and their errors
    max_epochs = getattr(oracle, "max_epochs", None)
    while True:
        trials = []
        for _ in range(workers):
            trial = oracle.ask()
            if trial is None:
                break
            trials.append(trial)
        if not trials:
            break
        # Without budgets all the trials' folds run in one joblib call; under Hyperband
        # each trial has its own folds (subsamples) or starting models.
        groups: list[tuple[Budget | None, list, list, list]] = []
        for trial in trials:
            values = trial.hyperparameters.values
            candidate = clone(s.estimator).set_params(**s.space.params(values))
            budget = _budget(s, oracle, values, candidate)
            if budget is None:
                if not groups:
                    groups.append((None, [], [], []))
                for part, item in zip(groups[0][1:], (trial, candidate, None), strict=True):
                    part.append(item)
                continue
            budget.apply(candidate)
            parent = kept.pop(values.get("tuner/trial_id"), None)
            start = budget.continue_from(parent) if budget.warm_start and parent else None
            groups.append((budget, [trial], [candidate], [start]))
        raised = None
        for budget, group, candidates, starts in groups:
            splits = (
                s.splits if budget is None else budget.splits(s.splits, s.data.y, candidates[0])
            )
            keep = (
                budget is not None
                and budget.warm_start
                and group[0].hyperparameters.values["tuner/epochs"] < (max_epochs or 0)
            )
            results = cross_validate_candidates(
                candidates,
                s.data,
                splits,
                s.scorers,
                n_jobs=s.n_jobs,
                return_train_score=s.return_train_score,
                verbose=s.verbose,
                start_models=starts,
                keep_models=keep,
            )
            for trial, result in zip(group, results, strict=True):
                failed = result.failed
                fits[0][0] += len(result.folds)
                fits[1].extend(f.error for f in failed)
                if failed and s.error_score == "raise":
                    oracle.tell(trial, error=failed[0].error)
                    raised = raised or failed[0].exception
                    continue
                if keep and not failed:
                    kept[trial.trial_id] = [f.estimator for f in result.folds]
                result.apply_error_score(check_error_score(s.error_score))  # type: ignore[arg-type]
                oracle.tell(trial, result.to_metrics(names))
                if s.verbose > 1:
                    print(
                        f"[trial {trial.trial_id}] "
                        f"{s.space.params(trial.hyperparameters.values)}: "
                        f"{names[0]}={result.test(names[0]).mean():.5g}"
                    )
        if raised is not None:
            raise raised
    _warn_failures(fits[0][0], fits[1], s.error_score)
    return _outcome(oracle, s, names)


def _outcome(oracle: Oracle, s: _Settings, names: list[str]) -> SearchOutcome:
    out = SearchOutcome()
    max_epochs = getattr(oracle, "max_epochs", None)
    for trial in oracle.trials.values():
        if trial.status not in _FINISHED:
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
