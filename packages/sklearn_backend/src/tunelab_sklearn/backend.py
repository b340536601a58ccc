"""The scikit-learn backend: cross-validates the estimators a hypermodel builds.

Any tuner (`kt.RandomSearch`, `kt.GridSearch`, `SklearnTuner`...) whose hypermodel returns a
scikit-learn estimator hands it here. `run_trial` cross-validates it and returns the trial's
metrics; the best configuration is refit on all the data and saved with skops, so that
`get_best_models()` returns a fitted estimator, also in a new process.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import KFold

from tunelab.backend import Backend
from tunelab.errors import InvalidTrialError, SearchSetupError
from tunelab.objective import DEFAULT_OBJECTIVE
from tunelab_sklearn.cross_validation import (
    CandidateResult,
    SearchData,
    check_error_score,
    check_metrics,
    check_scoring_argument,
    check_splits,
    cross_validate_candidates,
    is_estimator,
)
from tunelab_sklearn.model_files import load_estimator, save_estimator
from tunelab_sklearn.options import OPTIONS
from tunelab_sklearn.resources import N_SAMPLES, Budget, FoldModelCache

if TYPE_CHECKING:
    from tunelab.context import TrialContext

__all__ = ["CVSettings", "SearchInputError", "SklearnBackend", "default_cv"]


# Fitted fold models of Hyperband trials, continued by the next round (this process only).
FOLD_MODELS = FoldModelCache()


class SearchInputError(SearchSetupError, ValueError):
    """Bad data or settings: the search stops at once (it is a ValueError for callers)."""


class SettingsTypeError(SearchSetupError, TypeError):
    """A backend argument of the wrong type: the search stops at once."""


class NotAnEstimatorError(SearchSetupError, TypeError):
    """The hypermodel returned something that is not a scikit-learn estimator."""


def default_cv() -> KFold:
    """KerasTuner's default for the Sklearn tuner: 5 shuffled folds, seeded."""
    return KFold(n_splits=5, shuffle=True, random_state=1)


@dataclass(frozen=True)
class CVSettings:
    """The backend arguments of a tuner, checked.

    Parameters
    ----------
    scoring : str, callable or None
        A scorer name, a scorer ``f(estimator, X, y)``, or None for the estimator's `score`.
    metrics : callable, list or dict, optional
        Extra metric functions ``f(y_true, y_pred)`` to record (they do not steer the search).
    cv : int, splitter or iterable
        The folds; default ``KFold(5, shuffle=True, random_state=1)``.
    refit : bool
        Refit the best configuration on all the data and save it.
    n_jobs : int or None
        Folds fitted in parallel (joblib).
    error_score : "raise" or float
        "raise": a failing fold fails the trial (with its traceback). A number: failing folds
        get this score and the trial completes.
    return_train_score : bool
        Record the training scores too (``train_score``...).
    resource : str, optional
        What a Hyperband budget (``epochs``) scales: an estimator parameter such as
        ``"n_estimators"`` or ``"max_iter"``, or ``"n_samples"`` (see
        `tunelab_sklearn.resources`).
    resource_per_epoch : float
        Units of the resource parameter per epoch (``n_estimators = epochs * this``).
    """

    scoring: Any = None
    metrics: Any = None
    cv: Any = None
    refit: bool = True
    n_jobs: int | None = None
    error_score: Any = "raise"
    return_train_score: bool = False
    resource: str | None = None
    resource_per_epoch: float = 1

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> CVSettings:
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise TypeError(
                f"the sklearn backend does not accept the argument(s) {unknown}; "
                f"it accepts {sorted(OPTIONS)}"
            )
        settings = cls(**options)
        settings.scorers()  # checks scoring and metrics
        check_error_score(settings.error_score)
        for name in ("refit", "return_train_score"):
            if not isinstance(getattr(settings, name), (bool, np.bool_)):
                raise TypeError(f"{name}={getattr(settings, name)!r}; expected True or False")
        n_jobs = settings.n_jobs
        if n_jobs is not None and (
            isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0
        ):
            raise ValueError(f"n_jobs={n_jobs!r}; expected None, a positive int or -1 (all cores)")
        settings.check_resource()
        cv = settings.cv
        if cv is not None and (
            isinstance(cv, (bool, str))
            or not (isinstance(cv, int) or hasattr(cv, "split") or hasattr(cv, "__iter__"))
        ):
            raise ValueError(
                f"cv={cv!r}; expected an int >= 2, a splitter (e.g. "
                "KFold(5)) or an iterable of (train, test) index arrays"
            )
        return settings

    def check_resource(self) -> None:
        resource, per_epoch = self.resource, self.resource_per_epoch
        if resource is not None and (not isinstance(resource, str) or not resource):
            raise ValueError(
                f"resource={resource!r}; expected 'n_samples' or the name of an "
                "estimator parameter such as 'n_estimators' or 'max_iter'"
            )
        if (
            isinstance(per_epoch, bool)
            or not isinstance(per_epoch, (int, float))
            or not (math.isfinite(per_epoch) and per_epoch > 0)
        ):
            raise ValueError(f"resource_per_epoch={per_epoch!r}; expected a number > 0")
        if resource == N_SAMPLES and per_epoch != 1:
            raise ValueError(
                f"resource_per_epoch={per_epoch!r} with resource='n_samples': "
                "the subsample is epochs / max_epochs of the training rows; "
                "leave resource_per_epoch at 1"
            )

    def scorers(self) -> dict[str, Any]:
        scorers, _ = check_scoring_argument(self.scoring, multimetric=False)
        scorers.update(check_metrics(self.metrics))
        return scorers

    def splitter(self) -> Any:
        return default_cv() if self.cv is None else self.cv


def search_data(args: tuple, kwargs: dict[str, Any]) -> SearchData:
    """The data of ``search(X, y, sample_weight=None, groups=None, **fit_params)``."""
    kwargs = {k: v for k, v in kwargs.items() if k != "verbose"}
    names = ("X", "y", "sample_weight", "groups")
    if len(args) > len(names):
        raise TypeError(
            f"search() takes X, y, sample_weight and groups; got {len(args)} positional arguments"
        )
    values = dict(zip(names, args, strict=False))
    for name in names:
        if name in kwargs:
            if name in values:
                raise TypeError(f"search() got {name} twice (positional and keyword)")
            values[name] = kwargs.pop(name)
    if "X" not in values:
        raise TypeError("search() needs the training data: search(X, y)")
    try:
        return SearchData(fit_params=kwargs, weights_only_where_named=True, **values)
    except (TypeError, ValueError) as error:
        raise SearchInputError(str(error)) from None


def check_objective(oracle: Any, names: list[str]) -> None:
    """The objective must be one of the metrics the backend reports (checked before any
    fit, so that a wrong objective does not cost a trial's worth of fits). `oracle`:
    anything with the search's `objective` (an oracle, a TrialContext)."""
    objective = oracle.objective
    if objective.name == DEFAULT_OBJECTIVE:
        raise SearchInputError(
            "a search over scikit-learn estimators needs objective='score' (the mean "
            "cross-validated score, maximized): pass objective='score' to the tuner, or "
            "use kt.tuners.Sklearn, which sets it"
        )
    missing = [n for n in objective.names if n not in names and "_fold_" not in n]
    if missing:
        raise SearchInputError(
            f"objective {missing} is not among the metrics the sklearn backend records "
            f"({names}); use objective='score'"
        )


class SklearnBackend(Backend):
    """Cross-validates scikit-learn estimators for any tuner; saves models with skops.

    The tuner's backend arguments are those of `CVSettings`. A trial reports ``score``
    (the mean CV score), ``score_fold_<k>``, each extra metric's mean and folds,
    ``fit_time`` and ``score_time``.
    """

    name = "sklearn"
    options = frozenset(OPTIONS)
    model_filename = "model.skops"
    # Hyperband continues a trial's fold models (FOLD_MODELS), not its one refit model.
    loads_parent_model = False

    def owns(self, model: Any) -> bool:
        return is_estimator(model)

    def validate_options(self, options: dict[str, Any]) -> None:
        # Bad settings stop the search at once: no trial can run with them.
        try:
            CVSettings.from_options(options)
        except TypeError as error:
            raise SettingsTypeError(str(error)) from None
        except ValueError as error:
            raise SearchInputError(str(error)) from None

    def validate_search(
        self, context: TrialContext, model: Any, args: tuple, kwargs: dict[str, Any]
    ) -> None:
        """Before anything is fitted: the model is an estimator, X and y match, `cv` can
        split y (a stratified fold per class), and the objective is a recorded metric."""
        check_estimator_type(model)
        settings = CVSettings.from_options(context.options)
        data = search_data(args, kwargs)
        try:
            check_splits(settings.splitter(), data, model)
        except ValueError as error:
            raise SearchInputError(str(error)) from None
        check_objective(context, metric_names(settings.scorers(), settings.return_train_score))

    def run_trial(
        self, context: TrialContext, model: Any, *args: Any, **kwargs: Any
    ) -> dict[str, float]:
        check_estimator_type(model)
        trial = context.trial
        settings = CVSettings.from_options(context.options)
        epochs, initial_epoch = kwargs.pop("epochs", None), kwargs.pop("initial_epoch", 0)
        data = search_data(args, kwargs)
        max_epochs = context.max_epochs
        budget = None
        if epochs is not None:
            if settings.resource is None:
                raise SearchInputError(
                    f"this tuner budgets trials in epochs (epochs={epochs!r}), which "
                    "scikit-learn estimators do not have: pass resource='n_estimators' (or "
                    "'max_iter', or 'n_samples' for the training subsample size) to the tuner"
                )
            # A model without the resource parameter (one family of an hp.Choice) fails
            # this trial only, with an error that says so.
            budget = Budget.for_trial(
                model, settings.resource, settings.resource_per_epoch, epochs, max_epochs
            )
            budget.apply(model)
        try:
            splits = check_splits(settings.splitter(), data, model)
        except ValueError as error:
            raise SearchInputError(str(error)) from None
        scorers = settings.scorers()
        check_objective(context, metric_names(scorers, settings.return_train_score))
        start, keep = None, False
        if budget is not None:
            splits = budget.splits(splits, data.y, model)
            project = str(context.project_dir)
            # Only a trial below max_epochs may be continued by the next round.
            keep = budget.warm_start and max_epochs is not None and epochs < max_epochs
            parent = (
                FOLD_MODELS.take(project, trial) if budget.warm_start and initial_epoch else None
            )
            if parent is not None and len(parent) == len(splits):
                start = [budget.continue_from(parent)]
        [result] = cross_validate_candidates(
            [model],
            data,
            splits,
            scorers,
            n_jobs=settings.n_jobs,
            return_train_score=settings.return_train_score,
            start_models=start,
            keep_models=keep,
        )
        metrics = evaluate(result, scorers, settings.error_score)
        if keep and not result.failed:
            FOLD_MODELS.put(project, trial, [f.estimator for f in result.folds])
        # A tuner that refits at the end of its search (SklearnTuner) says so; any other
        # tuner has no end-of-search hook for backends, so the backend refits and saves
        # each new best as it appears (a few extra fits, and nothing lost on a crash).
        if settings.refit and not context.refits_at_search_end and is_new_best(context, metrics):
            context.save_model(data.fit(clone(model)))
        return metrics

    def save_model(self, model: Any, path: Path) -> None:
        save_estimator(model, path)

    def load_model(self, path: Path) -> Any:
        return load_estimator(path)


def check_estimator_type(model: Any) -> None:
    """A `NotAnEstimatorError` unless `model` is a scikit-learn estimator."""
    if not is_estimator(model):
        raise NotAnEstimatorError(
            f"the hypermodel returned {type(model).__module__}.{type(model).__qualname__}"
            f" ({model!r:.80}); the sklearn backend needs a scikit-learn estimator (an "
            "object with fit and get_params, e.g. a Pipeline or RandomForestClassifier)"
        )


def evaluate(
    result: CandidateResult, scorers: dict[str, Any], error_score: Any
) -> dict[str, float]:
    """A trial's metrics from its CV result, applying `error_score` to failed folds.

    With ``error_score="raise"`` a failed fold fails the trial with its traceback. With a
    number, failed folds get that score; a trial whose score is then not finite ends
    INVALID, with the first failure's traceback as its message.
    """
    error_score = check_error_score(error_score)
    failed = result.failed
    if not failed:
        return result.to_metrics(scorers)
    summary = f"{len(failed)} of {len(result.folds)} folds failed"
    if error_score == "raise":
        raise RuntimeError(f"{summary}; the first one's error:\n{failed[0].error}")
    result.apply_error_score(error_score)  # type: ignore[arg-type]
    metrics = result.to_metrics(scorers)
    if not math.isfinite(metrics["score"]):
        raise InvalidTrialError(
            f"{summary} (error_score={error_score}), so the score is not "
            f"finite; the first one's error:\n{failed[0].error}"
        )
    warnings.warn(
        f"{summary} and score error_score={error_score}; the first one's error:\n{failed[0].error}",
        FitFailedWarning,
        stacklevel=2,
    )
    return metrics


def metric_names(scorers: dict[str, Any], return_train_score: bool) -> list[str]:
    """The metric names a trial reports (without the per-fold ones)."""
    names = list(scorers)
    if return_train_score:
        names += [f"train_{n}" for n in scorers]
    return [*names, "fit_time", "score_time"]


def is_new_best(oracle: Any, metrics: dict[str, float]) -> bool:
    """Whether these metrics beat every finished trial of `oracle` (ties go to the first);
    `oracle` is anything with `objective` and `get_best_trials` (a TrialContext)."""
    objective = oracle.objective
    try:
        value = objective.get_value(metrics)
    except KeyError:
        return False
    if not np.isfinite(value):
        return False
    best = oracle.get_best_trials(1)
    return not best or best[0].score is None or objective.better_than(value, best[0].score)
