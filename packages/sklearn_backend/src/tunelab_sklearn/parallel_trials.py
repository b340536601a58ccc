"""Several trials at once for `SklearnTuner`: all their folds in one joblib call.

With ``n_jobs=2`` and 5 folds, one trial at a time keeps both workers busy for only 4 of its
5 folds (3 rounds of fits for 5 fits of work, at best 1.67x faster than one worker). Asking
the oracle for 2 trials gives 10 fits in 5 full rounds. In general a batch holds the
fewest trials whose folds fill every worker in every round (at most ``n_jobs`` trials);
random and grid search, which do not learn from results, get batches of many trials, so
that one slow fit does not leave the other workers idle at the end of each call.

The oracle sees the batch's trials as running at the same time, as it does when several
workers share a project; model-based oracles account for the pending ones.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from sklearn.base import is_classifier

from tunelab.display import Display
from tunelab.errors import FatalError, InvalidTrialError
from tunelab.oracles import GridSearchOracle, RandomSearchOracle
from tunelab.trial import Trial, TrialStatus
from tunelab_sklearn.backend import NotAnEstimatorError, SearchInputError, evaluate
from tunelab_sklearn.cross_validation import check_splits, cross_validate_candidates, is_estimator

if TYPE_CHECKING:
    from tunelab_sklearn.tuner import SklearnTuner

__all__ = ["batch_size", "run_batched_search"]


# Trials per worker in one batch when the oracle does not learn from results: a long
# joblib call, so that a slow fit does not leave the other workers waiting at its end.
BLIND_BATCH_PER_WORKER = 8


def learns_from_results(oracle: Any) -> bool:
    """Whether `oracle` picks its trials from earlier results. Random and grid search do
    not, so a batch may hold many of their trials without hurting the search."""
    return not isinstance(oracle, (RandomSearchOracle, GridSearchOracle))


def batch_size(workers: int, n_splits: int, oracle: Any = None) -> int:
    """Trials per joblib call: for an oracle that learns from results, the fewest whose
    folds fill `workers` in every round (at most `workers`); else many more.

    >>> batch_size(2, 5), batch_size(2, 4), batch_size(4, 3), batch_size(1, 5)
    (2, 1, 4, 1)
    """
    if workers > 1 and oracle is not None and not learns_from_results(oracle):
        return BLIND_BATCH_PER_WORKER * workers
    return max(1, min(workers, workers // math.gcd(workers, n_splits)))


def _build(tuner: SklearnTuner, trial: Trial, args: tuple, quiet: dict[str, Any]) -> Any:
    model = tuner._build(trial.hyperparameters, args, quiet)
    if not is_estimator(model):
        raise NotAnEstimatorError(
            f"the hypermodel returned {type(model).__module__}.{type(model).__qualname__}; "
            "kt.tuners.Sklearn needs a scikit-learn estimator (an object with fit and "
            "get_params, e.g. a Pipeline)"
        )
    return model


def _tell(tuner: SklearnTuner, trial: Trial, result: Any, scorers: dict[str, Any]) -> None:
    """Tell the oracle one trial's outcome, as the tuner loop does for a single trial."""
    oracle = tuner.oracle
    try:
        metrics = evaluate(result, scorers, tuner.settings.error_score)
    except InvalidTrialError as error:
        oracle.tell(trial, status=TrialStatus.INVALID, error=error)
        return
    except Exception as error:
        oracle.tell(trial, error=error)
        return
    oracle.tell(trial, metrics)


def run_batched_search(
    tuner: SklearnTuner, args: tuple, kwargs: dict[str, Any], workers: int, n_splits: int
) -> None:
    """`BaseTuner.search`, with up to `batch_size` trials cross-validated together."""
    data = tuner._data
    assert data is not None
    settings = tuner.settings
    scorers = settings.scorers()
    quiet = {k: v for k, v in kwargs.items() if k != "verbose"}
    display = _progress(tuner, kwargs.get("verbose", 1))
    size = batch_size(workers, n_splits, tuner.oracle)
    if not tuner.oracle.hyperparameters.space and not tuner.oracle.trials:
        tuner._discover_space()  # build with defaults, as search_space_summary() does
    tuner.on_search_begin()
    trials: list[Trial] = []
    try:
        while True:
            trials = []
            # A define-by-run space is known only once a trial has built the hypermodel:
            # until then, one trial at a time (an oracle would see an empty space).
            limit = size if tuner.oracle.hyperparameters.space else 1
            while len(trials) < limit and (trial := tuner.oracle.ask(tuner.tuner_id)) is not None:
                trials.append(trial)
            if not trials:
                break
            ready: dict[bool, list[tuple[Trial, Any]]] = {}
            for trial in trials:
                if hasattr(display, "on_trial_begin"):
                    display.on_trial_begin(trial, (trial.number or 0) + 1)
                tuner.on_trial_begin(trial)
                try:
                    model = _build(tuner, trial, args, quiet)
                except FatalError as error:
                    tuner.oracle.tell(trial, error=error)
                    raise
                except Exception as error:
                    tuner.oracle.tell(trial, error=error)
                    continue
                # Folds are stratified for classifiers only: group the models by kind.
                ready.setdefault(is_classifier(model), []).append((trial, model))
            for group in ready.values():
                try:
                    splits = check_splits(settings.splitter(), data, group[0][1])
                except ValueError as error:
                    raise SearchInputError(str(error)) from None
                results = cross_validate_candidates(
                    [model for _, model in group],
                    data,
                    splits,
                    scorers,
                    n_jobs=settings.n_jobs,
                    return_train_score=settings.return_train_score,
                )
                for (trial, _), result in zip(group, results, strict=True):
                    _tell(tuner, trial, result, scorers)
            for trial in trials:
                tuner.on_trial_end(trial)
                display.on_trial_end(trial, (trial.number or 0) + 1)
            trials = []
    except KeyboardInterrupt:
        _release(tuner, trials)
        tuner._interrupted()
    except BaseException:
        _release(tuner, trials)
        raise
    finally:
        if hasattr(display, "close"):
            display.close()
    tuner.on_search_end()


def _progress(tuner: SklearnTuner, verbose: Any) -> Any:
    """The tuner's own progress display when it has one (the same lines as its loop), else
    the per-trial display."""
    make = getattr(tuner, "_progress", None)
    return make(verbose) if callable(make) else Display(tuner.oracle.objective, verbose)


def _release(tuner: SklearnTuner, trials: list[Trial]) -> None:
    """Give back the batch's unfinished trials: they run again when the search resumes."""
    for trial in trials:
        if trial.status not in TrialStatus.FINISHED:
            tuner.oracle.release(trial)
