"""`SklearnTuner` (``kt.tuners.Sklearn``): cross-validated search over scikit-learn models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import joblib

from tunelab.checks import check_int
from tunelab.errors import SearchSetupError
from tunelab.hyperparameters import HyperParameters
from tunelab.objective import DEFAULT_OBJECTIVE, Objective
from tunelab.oracles.base import Oracle
from tunelab.trial import Trial
from tunelab.tuner import BaseTuner
from tunelab_sklearn.backend import (
    CVSettings,
    NotAnEstimatorError,
    SearchInputError,
    check_objective,
    metric_names,
    search_data,
)
from tunelab_sklearn.cross_validation import SearchData, check_splits, is_estimator
from tunelab_sklearn.model_files import import_skops_soon
from tunelab_sklearn.parallel_trials import run_batched_search

__all__ = ["SklearnTuner", "UnsupportedDataError"]


class UnsupportedDataError(SearchSetupError, TypeError):
    """Search data that cannot be split into folds (a dict, a generator, a string...): the
    search stops before any trial, with KerasTuner's error type (TypeError)."""


def check_data_type(name: str, value: Any) -> None:
    """An `UnsupportedDataError` unless `value` can be split by rows into folds.

    KerasTuner's Sklearn tuner takes numpy arrays and pandas DataFrames; these are accepted,
    and so is anything with one entry per sample that scikit-learn indexes by rows (a list,
    a pandas Series, a scipy sparse matrix, an object with ``shape`` or ``__array__``).
    """
    if value is None or isinstance(value, (list, tuple)):
        return
    shape = getattr(value, "shape", None)
    if (shape is not None and len(shape) >= 1) or (
        hasattr(value, "__array__") and hasattr(value, "__len__")
    ):
        return
    kind = type(value)
    kind_name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    shown = " ".join(repr(value).split())  # one line, also for an array's repr
    raise UnsupportedDataError(
        f"search({name}=...): expected the data to be a numpy.ndarray or a pandas.DataFrame "
        "(or another array-like with one entry per sample: a list, a pandas Series, a scipy "
        f"sparse matrix); received a {kind_name}: {shown[:80]}"
    )


class SklearnTuner(BaseTuner):
    """Tuner for scikit-learn estimators and pipelines, scored by cross-validation.

    Each trial builds the hypermodel's estimator and cross-validates it (each fold fits its
    own clone; folds run in parallel with ``n_jobs``). The trial records ``score`` (the mean
    CV score), ``score_fold_<k>``, the mean and folds of each extra metric, ``fit_time`` and
    ``score_time``. When the search ends, the best configuration is refit on all the data
    and saved with skops, so `get_best_models()` returns a fitted estimator, also from a new
    tuner on the same project in another process.

    Parameters
    ----------
    oracle : kt.oracles.Oracle
        Decides what to try. Its objective must be ``Objective("score", "max")`` (or another
        metric the trials record); an oracle created without an objective gets
        ``Objective("score", "max")`` here, so ``RandomSearchOracle(max_trials=10)`` works.
    hypermodel : HyperModel or callable
        ``build(hp)`` returning an estimator (or a Pipeline); ``hp.Choice`` over model
        families with conditional hyperparameters works.
    scoring : str, callable or None
        A scorer name (``"accuracy"``, ``"neg_log_loss"``...), a scorer
        ``f(estimator, X, y)`` such as ``sklearn.metrics.make_scorer(...)``, or None for the
        estimator's own ``score`` method. Give one when the model families differ, so that
        every trial is scored alike.
    metrics : callable, list or dict, optional
        Extra metric functions ``f(y_true, y_pred)`` to record; they do not steer the search.
    cv : int, splitter or iterable, optional
        The folds; default ``KFold(n_splits=5, shuffle=True, random_state=1)``.
    directory, project_name, overwrite
        Where the project lives, and whether to start it anew (see `kt.BaseTuner`).
    refit : bool
        Refit the best configuration on all the data when the search ends (default True).
        With False, no model is saved and `get_best_models` raises.
    n_jobs : int, optional
        Fits in parallel (joblib; -1: all cores): the folds of a trial and, when the folds
        alone would leave workers idle (5 folds on 2 workers), several trials at once.
    error_score : "raise" or float
        "raise" (default): a fold whose fit fails fails the trial, with its traceback. A
        number: failed folds get that score (a trial whose score is then NaN ends INVALID).
    return_train_score : bool
        Also record ``train_score`` (and ``train_score_fold_<k>``).
    **kwargs
        Other `kt.BaseTuner` arguments (tuner_id, logger...).

    Examples
    --------
    >>> import tunelab as kt
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> def build(hp):
    ...     return LogisticRegression(C=hp.Float("C", 1e-2, 1e2, sampling="log"), max_iter=500)
    >>> tuner = kt.tuners.Sklearn(
    ...     oracle=kt.oracles.RandomSearchOracle(max_trials=3, seed=0), hypermodel=build,
    ...     cv=3, directory="/tmp/tunelab-doc", project_name="sklearn", overwrite=True)
    >>> X, y = load_iris(return_X_y=True)
    >>> tuner.search(X, y, verbose=0)
    >>> model = tuner.get_best_models(1)[0]
    >>> round(model.score(X, y), 2) > 0.9
    True
    """

    # Tells the backend that this tuner refits the best model itself, once, at the end.
    refits_at_search_end = True

    def __init__(
        self,
        oracle: Oracle,
        hypermodel: Any,
        scoring: Any = None,
        metrics: Any = None,
        cv: Any = None,
        directory: str | os.PathLike | None = None,
        project_name: str | None = None,
        overwrite: bool = False,
        refit: bool = True,
        n_jobs: int | None = None,
        error_score: Any = "raise",
        return_train_score: bool = False,
        **kwargs: Any,
    ) -> None:
        if not isinstance(oracle, Oracle):
            raise TypeError(f"oracle={oracle!r}: expected a kt.oracles.Oracle instance")
        if hypermodel is None:
            raise ValueError(
                "hypermodel=None: expected a function hp -> estimator or a kt.HyperModel"
            )
        backend_kwargs = {
            "scoring": scoring,
            "metrics": metrics,
            "cv": cv,
            "refit": refit,
            "n_jobs": n_jobs,
            "error_score": error_score,
            "return_train_score": return_train_score,
        }
        settings = CVSettings.from_options(backend_kwargs)
        if oracle.objective.name == DEFAULT_OBJECTIVE:
            oracle.objective = Objective("score", "max")
            if oracle.store is not None:  # the oracle has its own project: keep it in step
                oracle.store.set_meta("objective", oracle.objective.get_config())
        try:
            check_objective(oracle, metric_names(settings.scorers(), return_train_score))
        except SearchInputError as error:
            raise ValueError(str(error)) from None
        super().__init__(
            oracle,
            hypermodel,
            directory=directory,
            project_name=project_name,
            overwrite=overwrite,
            backend="sklearn",
            **backend_kwargs,
            **kwargs,
        )
        self.settings = settings
        self._search_args: tuple[tuple, dict[str, Any]] | None = None
        self._data: SearchData | None = None

    # ------------------------------------------------------------------------------------
    def search(
        self,
        X: Any,
        y: Any = None,
        sample_weight: Any = None,
        groups: Any = None,
        **fit_kwargs: Any,
    ) -> None:
        """Cross-validate trials until the oracle is done, then refit the best one.

        Parameters
        ----------
        X, y : array-like
            The training data and targets (y may be None for unsupervised estimators).
        sample_weight : array-like, optional
            Passed to each fold's ``fit`` and to the scorers (split with the folds).
        groups : array-like, optional
            Group labels for group-aware splitters (``GroupKFold``...).
        **fit_kwargs
            ``verbose`` for the progress display; anything else goes to ``fit`` (arrays with
            one entry per sample are split with the folds).

        An estimator whose ``fit`` does not take ``sample_weight`` (a Pipeline) is fitted
        without the weights and scored with them, as KerasTuner's Sklearn tuner does.

        Bad data (a type that cannot be split into folds: `UnsupportedDataError`, a
        TypeError; X and y of different lengths, a cv that cannot split y) and a hypermodel
        that does not return an estimator raise before any trial runs.
        """
        for name, value in (
            ("X", X),
            ("y", y),
            ("sample_weight", sample_weight),
            ("groups", groups),
        ):
            check_data_type(name, value)
        args = (X, y)
        kwargs = {"sample_weight": sample_weight, "groups": groups, **fit_kwargs}
        data = search_data(args, kwargs)
        probe = self._probe_estimator(args, kwargs)
        n_splits = 0
        if probe is not None:
            try:
                n_splits = len(check_splits(self.settings.splitter(), data, probe))
            except ValueError as error:
                raise SearchInputError(str(error)) from None
        self._search_args, self._data = (args, kwargs), data
        if self.settings.refit:
            import_skops_soon()  # the best model is saved with skops when the search ends
        workers = joblib.effective_n_jobs(self.settings.n_jobs)
        # Several trials at once keep all the workers busy (see parallel_trials); not with
        # a trial_timeout (which stops one trial), a subclass's own run_trial, or trials
        # sent to an executor (worker processes run them, not joblib here).
        executor = any(
            kwargs.get(name) is not None or getattr(self, name, None) is not None
            for name in ("executor", "max_parallel_trials")
        )
        if (
            workers > 1
            and n_splits
            and not executor
            and self.trial_timeout is None
            and type(self).run_trial is BaseTuner.run_trial
        ):
            run_batched_search(self, args, kwargs, workers, n_splits)
        else:
            super().search(*args, **kwargs)

    def _probe_estimator(self, args: tuple, kwargs: dict[str, Any]) -> Any:
        """Build the hypermodel once with default values, to check that it returns an
        estimator before any trial runs (None when it cannot be built with defaults)."""
        quiet = {k: v for k, v in kwargs.items() if k != "verbose"}
        try:
            model = self._build(HyperParameters(), args, quiet)
        except Exception:  # the trials will report it, with their own values
            return None
        if not is_estimator(model):
            raise NotAnEstimatorError(
                f"the hypermodel returned {type(model).__module__}."
                f"{type(model).__qualname__}; kt.tuners.Sklearn needs a scikit-learn "
                "estimator (an object with fit and get_params, e.g. a Pipeline)"
            )
        return model

    def on_search_end(self) -> None:
        """Refit the best configuration on all the data and save it (unless refit=False)."""
        if self.settings.refit:
            best = self.oracle.get_best_trials(1)
            if best and not self._model_path(best[0]).exists():
                self._refit(best[0])

    # ------------------------------------------------------------------------------------
    def get_trial_dir(self, trial_id: str) -> Path:
        """The folder of trial `trial_id`, created if needed (as KerasTuner's is), so that a
        subclass's `save_model` can write its own files there."""
        folder = super().get_trial_dir(trial_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _model_path(self, trial: Trial) -> Any:
        return self.get_trial_dir(trial.trial_id) / "model.skops"  # type: ignore[arg-type]

    def _refit(self, trial: Trial) -> Any:
        assert self._search_args is not None and self._data is not None
        args, kwargs = self._search_args
        quiet = {k: v for k, v in kwargs.items() if k != "verbose"}
        model = self._build(trial.hyperparameters, args, quiet)
        self._data.fit(model)
        self.save_model(trial.trial_id, model)  # type: ignore[arg-type]
        return model

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The best trials' estimators, refit on all the data, best first.

        The best one is refit when the search ends; others are refit on demand while the
        search's data is at hand (in the process that ran `search`).
        """
        if not self.settings.refit:
            raise RuntimeError(
                "this tuner has refit=False, so no model was fitted on all the data: build "
                "one with tuner.hypermodel.build(tuner.get_best_hyperparameters()[0]) and fit "
                "it, or create the tuner with refit=True"
            )
        num_models = check_int("num_models", num_models, 1)
        models = []
        for trial in self.oracle.get_best_trials(num_models):
            if self._model_path(trial).exists():
                models.append(self.load_model(trial))
            elif self._data is not None:
                models.append(self._refit(trial))
            elif type(self).load_model is not BaseTuner.load_model:
                models.append(self.load_model(trial))  # a subclass's own model files
            else:
                raise FileNotFoundError(
                    f"trial {trial.trial_id} has no saved model: only the best trial is refit "
                    "when a search ends. Call tuner.search(X, y) in this process first "
                    "(finished trials are not run again), then get_best_models()."
                )
        return models
