"""`TuneSearchCV`: scikit-learn's RandomizedSearchCV interface, driven by a tunelab oracle."""

from __future__ import annotations

import copy
import itertools
import numbers
import os
import time
import warnings
from typing import Any

import joblib
import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import check_scoring
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from tunelab.oracles.base import Oracle
from tunelab.oracles.grid import is_finite, iter_grid
from tunelab_sklearn.cross_validation import (
    SearchData,
    check_error_score,
    check_scoring_argument,
    check_splits,
    is_estimator,
)
from tunelab_sklearn.cv_results import format_cv_results
from tunelab_sklearn.resources import N_SAMPLES, resource_parameter
from tunelab_sklearn.search_loop import FINISHED, SearchOutcome, run_search
from tunelab_sklearn.search_oracle import make_oracle
from tunelab_sklearn.search_space import SearchSpace, build_search_space

__all__ = ["TuneSearchCV"]


def _check_refit(search: TuneSearchCV, attr: str) -> None:
    if not search.refit:
        raise AttributeError(
            f"This {type(search).__name__} instance was initialized with refit=False. "
            f"{attr} is available only after refitting on the best parameters."
        )


def _delegate(attr: str) -> Any:
    """available_if check: the refit estimator (or, unfitted, the estimator) has `attr`."""

    def check(self: TuneSearchCV) -> bool:
        _check_refit(self, attr)
        getattr(getattr(self, "best_estimator_", self.estimator), attr)
        return True

    return check


class TuneSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Cross-validated hyperparameter search with a tunelab oracle; a drop-in for
    scikit-learn's ``RandomizedSearchCV``.

    Parameters
    ----------
    estimator : estimator
        The estimator (or Pipeline) to tune; cloned for every fit.
    search_space : dict or kt.HyperParameters
        Parameter name -> tunelab hyperparameter, list of values, or scipy.stats
        distribution (as ``param_distributions``); see `tunelab_sklearn.search_space`.
        scikit-learn's names work too: ``param_distributions=`` or ``param_grid=`` (the
        latter runs a grid search unless `oracle` says otherwise). Give one of the three.
    n_trials : int, optional
        Configurations to try (a resumed project's trials count); ``n_iter=`` is
        scikit-learn's name for it. Default: the whole grid for a grid search (a grid cut
        short by a smaller number warns), else 10.
    oracle : {"random", "grid", "bayesian", "hyperband"} or Oracle, optional
        What picks the configurations: "grid" with ``param_grid``, else "random" by
        default (``"hyperband"``: see `resource`). An Oracle instance is copied for each
        fit (unless it already has a project store, which is then used as it is); its
        objective, if unset, becomes the refit scorer's mean test score, and ``n_trials``
        sets its max_trials.
    scoring : str, callable, list or dict, optional
        As in scikit-learn; None uses the estimator's ``score``.
    refit : bool, str or callable, default=True
        Refit the best configuration on all the data (the scorer's name for multi-metric
        scoring, or ``f(cv_results_) -> index``). The oracle maximizes the refit scorer (the
        first scorer when refit is not a name).
    cv : int, splitter or iterable, optional
        As in scikit-learn (default 5 folds, stratified for classifiers).
    n_jobs : int, optional
        Fits in parallel (joblib). With several workers, as many configurations are asked
        of a learning oracle (Bayesian, Hyperband) at once, and 8 per worker of random or
        grid search, so that all workers stay busy.
    return_train_score : bool, default=False
        Also compute the training scores.
    error_score : "raise" or float, default=np.nan
        The score of a fold whose fit fails; "raise" raises the error.
    random_state : int, RandomState or None
        Seeds the oracle.
    verbose : int, default=0
        Progress messages: 1 per fit, 2 per trial.
    directory, project_name : str, optional
        Keep the trials in a tunelab project (``directory/project_name``) and resume it on
        the next fit with the same data; without them the trials live in memory.
    storage : str, optional
        A PostgreSQL URL (``"postgresql://user:password@host:5432/database"``): keep the
        trials there, in the project `project_name`, so that fits on several hosts share
        them (``pip install 'psycopg[binary]>=3.1'``, or the core's ``postgres`` extra). Model files still go under `directory`.
    resource : str, optional
        With ``oracle="hyperband"``: what a trial's budget scales, ``"n_samples"`` (the
        default: a fraction of each training fold) or a parameter such as
        ``"n_estimators"`` (see `tunelab_sklearn.resources`). ``oracle="hyperband"`` runs
        one Hyperband iteration (factor 3) of at most about `n_trials` trials;
        `cv_results_` then has ``n_resources`` and the best configuration is chosen among
        those given the whole budget.
    resource_per_epoch : float, default=1
        Units of the resource parameter per Hyperband epoch.
    param_distributions, param_grid : dict, optional
        scikit-learn's names for `search_space` (``param_grid`` also means
        ``oracle="grid"`` unless `oracle` is given).
    n_iter : int, optional
        scikit-learn's name for `n_trials`.
    logger : optional
        A KerasTuner-style logger, called with each ended trial's state
        (``report_trial_state(trial_id, state)``), e.g.
        `tunelab.tensorboard_log.TensorBoardLogger` for TensorBoard's HParams dashboard.

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) arrays
        scikit-learn's layout (see ``RandomizedSearchCV``); one entry per trial.
    best_estimator_ : estimator
        The best configuration refit on all the data (when `refit`).
    best_score_ : float
        Mean CV score of the best configuration (not set when `refit` is callable).
    best_params_ : dict
        The best configuration's parameters.
    best_index_ : int
        Its index in `cv_results_`.
    scorer_ : callable or dict
        The scorer(s) used.
    n_splits_ : int
        Number of CV splits.
    refit_time_ : float
        Seconds spent refitting the best configuration.
    multimetric_ : bool
        Whether several scorers were used.
    n_resumed_trials_ : int
        How many rows of `cv_results_` (the first ones) are trials of earlier fits of the
        project (``directory``/``project_name``); a resumed fit says so in one line.

    Examples
    --------
    >>> from scipy.stats import loguniform
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> search = TuneSearchCV(LogisticRegression(max_iter=500), {"C": loguniform(1e-2, 1e2)},
    ...                       n_trials=4, cv=3, random_state=0).fit(X, y)
    >>> sorted(search.best_params_), len(search.cv_results_["params"])
    (['C'], 4)
    """

    def __init__(
        self,
        estimator: Any,
        search_space: Any = None,
        *,
        n_trials: int | None = None,
        oracle: Any = None,
        scoring: Any = None,
        refit: Any = True,
        cv: Any = None,
        n_jobs: int | None = None,
        return_train_score: bool = False,
        error_score: Any = np.nan,
        random_state: Any = None,
        verbose: int = 0,
        directory: str | os.PathLike | None = None,
        project_name: str | None = None,
        storage: str | None = None,
        resource: str | None = None,
        resource_per_epoch: float = 1,
        param_distributions: Any = None,
        param_grid: Any = None,
        n_iter: int | None = None,
        logger: Any = None,
    ) -> None:
        self.estimator = estimator
        self.search_space = search_space
        self.n_trials = n_trials
        self.oracle = oracle
        self.scoring = scoring
        self.refit = refit
        self.cv = cv
        self.n_jobs = n_jobs
        self.return_train_score = return_train_score
        self.error_score = error_score
        self.random_state = random_state
        self.verbose = verbose
        self.directory = directory
        self.project_name = project_name
        self.storage = storage
        self.resource = resource
        self.resource_per_epoch = resource_per_epoch
        self.param_distributions = param_distributions
        self.param_grid = param_grid
        self.logger = logger
        self.n_iter = n_iter

    # ------------------------------------------------------------------------------------
    # Checking the parameters
    # ------------------------------------------------------------------------------------
    def _scorers(self) -> tuple[dict[str, Any], bool, str]:
        """The scorers, whether multi-metric, and the scorer the oracle maximizes."""
        scorers, multimetric = check_scoring_argument(self.scoring)
        if not multimetric:
            return scorers, False, "score"
        if isinstance(self.refit, str) and self.refit in scorers:
            return scorers, True, self.refit
        if self.refit is not False and not callable(self.refit):
            raise ValueError(
                f"refit={self.refit!r}: with several scorers, refit must be one of their "
                f"names {list(scorers)}, a callable returning the best index, or False"
            )
        return scorers, True, next(iter(scorers))

    def _resolved(self) -> tuple[Any, int | None, Any]:
        """The search space, the number of trials and the oracle, from tunelab's names
        (search_space, n_trials) or scikit-learn's (param_distributions or param_grid,
        n_iter). A param_grid runs a grid search unless `oracle` says otherwise; a grid
        search runs the whole grid unless the number of trials is given."""
        spaces = {
            name: value
            for name in ("search_space", "param_distributions", "param_grid")
            if (value := getattr(self, name)) is not None
        }
        if not spaces:
            raise TypeError(
                "TuneSearchCV needs a search space: pass search_space= (or scikit-learn's "
                "param_distributions= or param_grid=)"
            )
        if len(spaces) > 1:
            raise ValueError(
                f"{' and '.join(spaces)} were all given: they are the same thing (the search "
                "space); pass one of them"
            )
        if self.n_trials is not None and self.n_iter is not None:
            raise ValueError(
                f"n_trials={self.n_trials!r} and n_iter={self.n_iter!r} were both given: they "
                "are the same thing (n_iter is scikit-learn's name for n_trials); pass one"
            )
        ((kind, space),) = spaces.items()
        oracle = self.oracle
        if oracle is None:
            oracle = "grid" if kind == "param_grid" else "random"
        n = self.n_trials if self.n_trials is not None else self.n_iter
        if n is None and oracle != "grid":
            n = 10
        return space, n, oracle

    def _check_params(self) -> SearchSpace:
        if not is_estimator(self.estimator):
            raise TypeError(
                f"estimator={self.estimator!r:.100}; expected a scikit-learn "
                "estimator (with fit and get_params)"
            )
        space = build_search_space(self._resolved()[0])
        valid = self.estimator.get_params(deep=True)
        unknown = [n for n in space.parameter_names if n not in valid]
        if unknown:
            raise ValueError(
                f"search_space: {unknown} are not parameters of {type(self.estimator).__name__}"
                f"; its parameters are {sorted(valid)}"
            )
        for name in ("n_trials", "n_iter"):
            n = getattr(self, name)
            if n is not None and (
                isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1
            ):
                raise ValueError(
                    f"{name}={n!r}; expected an int >= 1, or None (the whole grid with "
                    "oracle='grid', else 10 trials)"
                )
        if not isinstance(self.refit, (bool, str)) and not callable(self.refit):
            raise TypeError(f"refit={self.refit!r}; expected a bool, a scorer name or a callable")
        check_error_score(self.error_score)
        if self.logger is not None and not callable(
            getattr(self.logger, "report_trial_state", None)
        ):
            raise TypeError(
                f"logger={self.logger!r:.100}; expected None or an object with "
                "report_trial_state(trial_id, state), e.g. tunelab.tensorboard_log."
                "TensorBoardLogger(log_dir)"
            )
        if self.resource is not None and self.resource != N_SAMPLES:
            param = resource_parameter(self.estimator, self.resource)
            if param in space.parameter_names:
                raise ValueError(
                    f"resource={self.resource!r}: {param} is also in "
                    "search_space; the budget sets it, so remove it there"
                )
        per_epoch = self.resource_per_epoch
        if (
            isinstance(per_epoch, bool)
            or not isinstance(per_epoch, numbers.Real)
            or not per_epoch > 0
        ):
            raise ValueError(f"resource_per_epoch={per_epoch!r}; expected a number > 0")
        return space

    # ------------------------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, groups: Any = None, **fit_params: Any) -> TuneSearchCV:
        """Search the space, then refit the best configuration on all the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), optional
        groups : array-like of shape (n_samples,), optional
            Group labels for group-aware splitters.
        **fit_params
            Passed to the estimator's ``fit``; arrays with one entry per sample are split
            with the folds. ``sample_weight`` is also passed to the scorers that take it.

        Returns
        -------
        self
        """
        space = self._check_params()
        scorers, multimetric, objective = self._scorers()
        if y is None and get_tags(self.estimator).target_tags.required:
            raise ValueError(
                f"{type(self.estimator).__name__} requires y to be passed, but "
                "the target y is None."
            )
        if not multimetric and scorers["score"] is None:
            check_scoring(self.estimator)  # a TypeError now if it has no score method
        data = SearchData(
            X,
            y,
            sample_weight=fit_params.pop("sample_weight", None),
            groups=groups,
            fit_params=fit_params,
        )
        splits = check_splits(5 if self.cv is None else self.cv, data, self.estimator)
        _, n_trials, oracle_spec = self._resolved()
        _warn_truncated_grid(oracle_spec, n_trials, space)
        oracle = make_oracle(self, space, objective, n_trials, oracle_spec)
        earlier = 0
        try:
            self._check_project(oracle, data, splits, list(scorers))
            if oracle.project_dir is not None and oracle.store is not None:
                earlier = len(oracle.store.get_trials(FINISHED))
            if self.verbose > 0:
                print(f"Fitting {len(splits)} folds for each of up to {oracle.max_trials} trials")
            outcome = run_search(
                oracle,
                {
                    "estimator": self.estimator,
                    "space": space,
                    "data": data,
                    "splits": splits,
                    "scorers": scorers,
                    "n_jobs": self.n_jobs,
                    "error_score": self.error_score,
                    "verbose": self.verbose,
                    "return_train_score": bool(self.return_train_score),
                    "resource": self.resource,
                    "resource_per_epoch": self.resource_per_epoch,
                    "logger": self.logger,
                },
            )
        finally:
            if oracle is not oracle_spec and oracle.store is not None:
                oracle.store.close()
        self._finish(outcome, data, scorers, multimetric, objective, len(splits))
        self.n_resumed_trials_ = earlier
        if earlier:
            _say_resumed(oracle, earlier, len(outcome.params), n_trials)
        return self

    def _check_project(self, oracle: Oracle, data: SearchData, splits: list, names: list) -> None:
        """A resumed project must hold trials of the same data, folds and scorers."""
        if oracle.project_dir is None or oracle.store is None:
            return
        fingerprint = joblib.hash(
            [
                data.X,
                data.y,
                data.sample_weight,
                [(tr, te) for tr, te in splits],
                names,
                bool(self.return_train_score),
            ]
        )
        stored = oracle.store.get_meta("sklearn_search_fingerprint")
        if stored is None:
            oracle.store.set_meta("sklearn_search_fingerprint", fingerprint)
        elif stored != fingerprint:
            raise ValueError(
                f"the project {oracle.project_dir} holds trials cross-validated on other data "
                "(or other folds, scorers or return_train_score); use another project_name "
                "or delete the project to start afresh. In cross_val_score or another "
                "meta-estimator, which fits clones on other data, leave directory and "
                "project_name unset"
            )

    def _finish(
        self,
        outcome: SearchOutcome,
        data: SearchData,
        scorers: dict,
        multimetric: bool,
        objective: str,
        n_splits: int,
    ) -> None:
        params = outcome.params
        cv_results = format_cv_results(
            params, outcome.results, list(scorers), bool(self.return_train_score)
        )
        if outcome.resources:  # Hyperband: the resource of each row, as HalvingSearchCV
            cv_results["n_resources"] = np.array(outcome.resources)
        self.multimetric_ = multimetric
        if self.refit or not multimetric:
            if callable(self.refit):
                index = self.refit(cv_results)
                if isinstance(index, bool) or not isinstance(index, numbers.Integral):
                    raise TypeError(
                        f"refit={self.refit!r} returned {index!r}; expected "
                        "the index of the best candidate (an int)"
                    )
                if not 0 <= index < len(params):
                    raise IndexError(
                        f"refit={self.refit!r} returned {index}; expected an "
                        f"index in [0, {len(params)})"
                    )
            else:
                ranks = cv_results[f"rank_test_{objective}"]
                if any(outcome.full_budget):  # Hyperband: a configuration given everything
                    ranks = np.where(outcome.full_budget, ranks, np.iinfo(np.int32).max)
                index = int(np.argmin(ranks))
                self.best_score_ = float(cv_results[f"mean_test_{objective}"][index])
            self.best_index_ = int(index)
            self.best_params_ = params[self.best_index_]
        if self.refit:
            self.best_estimator_ = clone(self.estimator).set_params(
                **clone(self.best_params_, safe=False)
            )
            start = time.perf_counter()
            data.fit(self.best_estimator_)
            self.refit_time_ = time.perf_counter() - start
            if hasattr(self.best_estimator_, "feature_names_in_"):
                self.feature_names_in_ = self.best_estimator_.feature_names_in_
        if multimetric:
            self.scorer_ = dict(scorers)
        else:
            self.scorer_ = scorers["score"] or check_scoring(self.estimator)
        self.cv_results_ = cv_results
        self.n_splits_ = n_splits

    # ------------------------------------------------------------------------------------
    # Using the refit estimator
    # ------------------------------------------------------------------------------------
    def score(self, X: Any, y: Any = None, **params: Any) -> float:
        """The refit estimator's score on (X, y) with the refit scorer."""
        _check_refit(self, "score")
        check_is_fitted(self)
        scorer = self.scorer_[self.refit] if self.multimetric_ else self.scorer_
        return scorer(self.best_estimator_, X, y, **params)

    @available_if(_delegate("predict"))
    def predict(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.predict(X)

    @available_if(_delegate("predict_proba"))
    def predict_proba(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.predict_proba(X)

    @available_if(_delegate("predict_log_proba"))
    def predict_log_proba(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.predict_log_proba(X)

    @available_if(_delegate("decision_function"))
    def decision_function(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.decision_function(X)

    @available_if(_delegate("score_samples"))
    def score_samples(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.score_samples(X)

    @available_if(_delegate("transform"))
    def transform(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.transform(X)

    @available_if(_delegate("inverse_transform"))
    def inverse_transform(self, X: Any) -> Any:
        check_is_fitted(self)
        return self.best_estimator_.inverse_transform(X)

    @property
    def classes_(self) -> Any:
        _check_refit(self, "classes_")
        return self.best_estimator_.classes_

    @property
    def n_features_in_(self) -> int:
        try:
            check_is_fitted(self)
        except NotFittedError as error:
            raise AttributeError(
                f"{type(self).__name__} has no n_features_in_ before fit"
            ) from error
        return self.best_estimator_.n_features_in_

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        # A search is the kind of estimator it tunes, and takes the same inputs.
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = copy.deepcopy(inner.classifier_tags)
        tags.regressor_tags = copy.deepcopy(inner.regressor_tags)
        tags.transformer_tags = copy.deepcopy(inner.transformer_tags)
        tags.target_tags = copy.deepcopy(inner.target_tags)
        tags.input_tags.pairwise = inner.input_tags.pairwise
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        return tags


def _say_resumed(oracle: Oracle, earlier: int, total: int, n_trials: int | None) -> None:
    """One line: which rows of cv_results_ a resumed project's earlier fits made."""
    new = total - earlier
    rows = f"rows 0-{earlier - 1}" if earlier > 1 else "row 0"
    line = (
        f"Resumed project {oracle.project_dir}: cv_results_ holds {total} trials, "
        f"{earlier} from earlier fits ({rows}) and {new} run now"
    )
    if not new and n_trials is not None:
        line += f"; n_trials={n_trials} counts the earlier ones: raise it to search further"
    print(line + ".")


def _warn_truncated_grid(oracle: Any, n_trials: int | None, space: SearchSpace) -> None:
    """Say so when a grid search is told to run fewer trials than its grid has points."""
    if oracle != "grid" or n_trials is None:
        return
    definitions = space.hyperparameters.space
    if not is_finite(definitions):
        return
    points = sum(1 for _ in itertools.islice(iter_grid(definitions), n_trials + 1))
    if points > n_trials:
        total = sum(1 for _ in itertools.islice(iter_grid(definitions), 1_000_000))
        warnings.warn(
            f"oracle='grid' with {n_trials} trials runs {n_trials} of the grid's {total} "
            "points; leave n_trials (and n_iter) unset to run the whole grid",
            UserWarning,
            stacklevel=3,
        )
