"""Cross-validation of candidate estimators: the one piece of code behind the tuner backend
(`SklearnBackend.run_trial`) and `TuneSearchCV`.

Every (candidate, fold) pair is one joblib task: each fold fits its own clone of the
candidate, so folds (and, for `TuneSearchCV`, several candidates) run in parallel. A fold
never raises: a fit or scoring error is returned with its traceback and the caller decides,
following ``error_score``, whether it fails the trial or scores the fold.
"""

from __future__ import annotations

import inspect
import numbers
import time
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.metrics import check_scoring
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold, check_cv
from sklearn.utils import _safe_indexing, get_tags, indexable
from sklearn.utils.parallel import Parallel, delayed

from tunelab_sklearn.scoring import (
    Scorer,
    check_error_score,
    check_metrics,
    check_scoring_argument,
)
from tunelab_sklearn.worker_lifetime import workers_end_with_this_process

__all__ = [
    "CVJob",
    "CandidateResult",
    "FoldResult",
    "SearchData",
    "check_error_score",
    "check_metrics",
    "check_scoring_argument",
    "check_splits",
    "cross_validate_candidates",
    "cross_validate_each",
    "is_estimator",
]


def is_estimator(model: Any) -> bool:
    """Whether `model` looks like a scikit-learn estimator: it has `fit` and `get_params`."""
    return (
        not isinstance(model, type)
        and callable(getattr(model, "fit", None))
        and callable(getattr(model, "get_params", None))
    )


# --------------------------------------------------------------------------------------
# The data
# --------------------------------------------------------------------------------------
def _num_samples(value: Any) -> int | None:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) else None
    if isinstance(value, (str, bytes, dict)):
        return None
    if not hasattr(value, "__len__"):
        return len(np.asarray(value)) if hasattr(value, "__array__") else None
    return len(value)


@dataclass
class SearchData:
    """What a search fits on: X, y, the optional sample weights and groups, and any other
    fit parameters (arrays with one entry per sample are split along with X)."""

    X: Any
    y: Any = None
    sample_weight: Any = None
    groups: Any = None
    fit_params: dict[str, Any] = field(default_factory=dict)
    # The tuners follow KerasTuner's Sklearn tuner: an estimator whose fit does not name
    # sample_weight (a Pipeline) is fitted without the weights and still scored with them.
    # TuneSearchCV keeps scikit-learn's rule (False): the weights go to every fit.
    weights_only_where_named: bool = False

    def __post_init__(self) -> None:
        if self.X is None:
            raise ValueError("X=None: expected the training data (n_samples rows)")
        n = _num_samples(self.X)
        if n is None:
            raise TypeError(
                f"X of type {type(self.X).__name__} has no length; expected an "
                "array-like of shape (n_samples, n_features)"
            )
        for name in ("y", "sample_weight", "groups"):
            value = getattr(self, name)
            if value is not None and _num_samples(value) != n:
                raise ValueError(
                    f"{name} has {_num_samples(value)} entries but X has {n} samples; "
                    "expected one per sample"
                )
        # Sparse matrices of any format become CSR, which folds can index by rows.
        self.X, self.y, self.sample_weight, self.groups = indexable(
            self.X, self.y, self.sample_weight, self.groups
        )
        self.n_samples = n

    def fit_kwargs(self, indices: np.ndarray | None, estimator: Any = None) -> dict[str, Any]:
        """The fit parameters of `estimator` for the samples at `indices` (all when None)."""
        params = dict(self.fit_params)
        if self.sample_weight is not None and (
            not self.weights_only_where_named or _fit_names(estimator, "sample_weight")
        ):
            params["sample_weight"] = self.sample_weight
        if indices is None:
            return params
        return {
            k: _safe_indexing(v, indices) if _num_samples(v) == self.n_samples else v
            for k, v in params.items()
        }

    def fit(self, estimator: Any) -> Any:
        """Fit `estimator` on all the data."""
        if self.y is None:
            return estimator.fit(self.X, **self.fit_kwargs(None, estimator))
        return estimator.fit(self.X, self.y, **self.fit_kwargs(None, estimator))


def _fit_names(estimator: Any, parameter: str) -> bool:
    try:
        return parameter in inspect.signature(estimator.fit).parameters
    except (AttributeError, TypeError, ValueError):
        return True  # no signature to read: pass it, and let fit say if it objects


def check_splits(cv: Any, data: SearchData, estimator: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) index pairs of `cv` on `data`, with errors that name `cv`."""
    if isinstance(cv, bool) or (isinstance(cv, numbers.Integral) and cv < 2):
        raise ValueError(
            f"cv={cv!r}; expected an int >= 2, a splitter or an iterable of "
            "(train, test) index arrays"
        )
    try:
        splitter = check_cv(cv, data.y, classifier=is_classifier(estimator))
    except (TypeError, ValueError) as error:
        raise ValueError(f"cv={cv!r}: {error}") from None
    if data.y is not None and isinstance(splitter, (StratifiedKFold, RepeatedStratifiedKFold)):
        n_splits = getattr(splitter, "n_splits", None) or splitter.cvargs["n_splits"]
        labels, counts = np.unique(np.asarray(data.y), return_counts=True, axis=0)
        if counts.min() < n_splits:
            label = labels[counts.argmin()].tolist()  # a plain value in the message
            raise ValueError(
                f"cv={cv!r}: {n_splits} stratified folds, but class {label!r} has only "
                f"{counts.min()} sample(s); expected at least one per fold. Use fewer folds "
                "or drop the rare classes."
            )
    try:
        splits = [
            (np.asarray(train), np.asarray(test))
            for train, test in splitter.split(data.X, data.y, data.groups)
        ]
    except (TypeError, ValueError) as error:
        raise ValueError(f"cv={cv!r} cannot split the data: {error}") from error
    if not splits:
        raise ValueError(f"cv={cv!r} gave no (train, test) splits")
    return splits


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
@dataclass
class FoldResult:
    """One fold of one candidate. `error` holds the traceback of a failed fit or scoring
    (its scores are then NaN until the caller applies `error_score`)."""

    test_scores: dict[str, float]
    train_scores: dict[str, float]
    fit_time: float
    score_time: float
    error: str | None = None
    exception: BaseException | None = None
    estimator: Any = None  # the fitted estimator, when the caller keeps them


@dataclass
class CandidateResult:
    """The folds of one candidate, as arrays."""

    folds: list[FoldResult]

    @property
    def failed(self) -> list[FoldResult]:
        return [f for f in self.folds if f.error is not None]

    def test(self, name: str) -> np.ndarray:
        return np.array([f.test_scores[name] for f in self.folds], dtype=np.float64)

    def train(self, name: str) -> np.ndarray:
        return np.array([f.train_scores[name] for f in self.folds], dtype=np.float64)

    def times(self, kind: str) -> np.ndarray:
        return np.array([getattr(f, kind) for f in self.folds], dtype=np.float64)

    def apply_error_score(self, error_score: float) -> None:
        for fold in self.failed:
            fold.test_scores = dict.fromkeys(fold.test_scores, error_score)
            fold.train_scores = dict.fromkeys(fold.train_scores, error_score)

    # -- to and from a trial's metrics (so a stored trial rebuilds its CV results) --------
    def to_metrics(self, names: Iterable[str]) -> dict[str, float]:
        """``{name: mean, name_fold_k: fold k, train_name..., fit_time..., score_time...}``."""
        metrics: dict[str, float] = {}
        names = list(names)
        for name in names:
            _put(metrics, name, self.test(name))
        if self.folds and self.folds[0].train_scores:
            for name in names:
                _put(metrics, f"train_{name}", self.train(name))
        _put(metrics, "fit_time", self.times("fit_time"))
        _put(metrics, "score_time", self.times("score_time"))
        return metrics

    @classmethod
    def from_metrics(
        cls, metrics: dict[str, float], names: Sequence[str], n_splits: int, train: bool
    ) -> CandidateResult:
        def value(key: str) -> float:
            return float(metrics.get(key, np.nan))

        folds = [
            FoldResult(
                test_scores={n: value(f"{n}_fold_{k}") for n in names},
                train_scores={n: value(f"train_{n}_fold_{k}") for n in names} if train else {},
                fit_time=value(f"fit_time_fold_{k}"),
                score_time=value(f"score_time_fold_{k}"),
            )
            for k in range(n_splits)
        ]
        return cls(folds)


def _put(metrics: dict[str, float], name: str, values: np.ndarray) -> None:
    metrics[name] = float(np.mean(values))
    for k, v in enumerate(values):
        metrics[f"{name}_fold_{k}"] = float(v)


# --------------------------------------------------------------------------------------
# Running the folds
# --------------------------------------------------------------------------------------
def _accepts_sample_weight(scorer: Scorer | None, estimator: Any) -> bool:
    target = getattr(scorer, "_score_func", None)
    if target is None:
        target = getattr(estimator, "score", None) if scorer is None else scorer
    try:
        parameters = inspect.signature(target).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return "sample_weight" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _split(estimator: Any, data: SearchData, rows: np.ndarray, columns: np.ndarray) -> Any:
    X = _safe_indexing(data.X, rows)
    if get_tags(estimator).input_tags.pairwise:  # a precomputed kernel: columns too
        X = _safe_indexing(X, columns, axis=1)
    return X


def _scores(
    estimator: Any, X: Any, y: Any, weights: Any, scorers: dict[str, Scorer | None]
) -> dict[str, float]:
    out = {}
    for name, scorer in scorers.items():
        function = scorer or check_scoring(estimator)
        kwargs = (
            {"sample_weight": weights}
            if weights is not None and _accepts_sample_weight(scorer, estimator)
            else {}
        )
        value = function(estimator, X, y, **kwargs)
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, numbers.Number):
            raise TypeError(f"scorer {name!r} returned {value!r}; expected a number")
        out[name] = float(value)  # type: ignore[arg-type]
    return out


def _fit_and_score(
    estimator: Any,
    data: SearchData,
    train: np.ndarray,
    test: np.ndarray,
    scorers: dict[str, Scorer | None],
    return_train_score: bool,
    keep_model: bool = False,
) -> FoldResult:
    """Fit `estimator` on the train rows and score it on the test rows (a joblib task)."""
    X_train = _split(estimator, data, train, train)
    X_test = _split(estimator, data, test, train)
    y_train = None if data.y is None else _safe_indexing(data.y, train)
    y_test = None if data.y is None else _safe_indexing(data.y, test)
    w = data.sample_weight
    start = time.perf_counter()
    fit_time = score_time = 0.0
    try:
        fit_args = (X_train,) if y_train is None else (X_train, y_train)
        estimator.fit(*fit_args, **data.fit_kwargs(train, estimator))
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        test_scores = _scores(
            estimator, X_test, y_test, None if w is None else _safe_indexing(w, test), scorers
        )
        score_time = time.perf_counter() - start
        train_scores = (
            _scores(
                estimator,
                X_train,
                y_train,
                None if w is None else _safe_indexing(w, train),
                scorers,
            )
            if return_train_score
            else {}
        )
    except Exception as error:
        elapsed = time.perf_counter() - start
        fit_time = fit_time or elapsed
        nan = dict.fromkeys(scorers, np.nan)
        return FoldResult(
            nan,
            dict(nan) if return_train_score else {},
            fit_time,
            score_time,
            error=traceback.format_exc(),
            exception=error,
        )
    return FoldResult(
        test_scores, train_scores, fit_time, score_time, estimator=estimator if keep_model else None
    )


@dataclass
class CVJob:
    """One candidate's cross-validation: its folds, and optionally fitted fold models to fit
    again instead of clones (a warm start) and whether to return the fitted fold models."""

    candidate: Any
    splits: Sequence[tuple[np.ndarray, np.ndarray]]
    start_models: Sequence[Any] | None = None
    keep_models: bool = False


def _fit_fold(index: int, k: int, *args: Any) -> tuple[int, int, FoldResult]:
    return index, k, _fit_and_score(*args)


def cross_validate_each(
    jobs: Sequence[CVJob],
    data: SearchData,
    scorers: dict[str, Scorer | None],
    *,
    n_jobs: int | None = None,
    return_train_score: bool = False,
    verbose: int = 0,
) -> Iterator[tuple[int, CandidateResult]]:
    """Cross-validate every job's candidate, all folds of all jobs in one joblib call, and
    yield ``(job index, result)`` as soon as a job's last fold is in (in any order), so the
    caller can save each trial while the others' folds still run.

    Each fold fits its own clone (or its start model); the candidates are left unfitted.
    Closing the generator early stops the folds not yet started.
    """
    tasks = []
    for i, job in enumerate(jobs):
        if job.start_models is not None and len(job.start_models) != len(job.splits):
            raise ValueError(
                f"job {i} has {len(job.start_models)} start models for {len(job.splits)} folds"
            )
        for k, (train, test) in enumerate(job.splits):
            estimator = clone(job.candidate) if job.start_models is None else job.start_models[k]
            tasks.append((i, k, estimator, train, test, job.keep_models))
    folds: list[list[FoldResult | None]] = [[None] * len(job.splits) for job in jobs]
    missing = [len(job.splits) for job in jobs]
    # The backend is chosen when Parallel is made: the block need not outlive the call.
    with workers_end_with_this_process():
        outputs = Parallel(
            n_jobs=n_jobs, verbose=max(0, verbose - 1), return_as="generator_unordered"
        )(
            delayed(_fit_fold)(
                i, k, estimator, data, train, test, scorers, return_train_score, keep
            )
            for i, k, estimator, train, test, keep in tasks
        )
    for i, k, fold in outputs:
        folds[i][k] = fold
        missing[i] -= 1
        if missing[i] == 0:
            yield i, CandidateResult(folds[i])  # type: ignore[arg-type]


def cross_validate_candidates(
    candidates: Sequence[Any],
    data: SearchData,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    scorers: dict[str, Scorer | None],
    *,
    n_jobs: int | None = None,
    return_train_score: bool = False,
    verbose: int = 0,
    start_models: Sequence[Sequence[Any] | None] | None = None,
    keep_models: bool = False,
) -> list[CandidateResult]:
    """Cross-validate each candidate estimator on `splits`, all folds of all candidates in
    one joblib call (see `cross_validate_each`), and return the results in order.

    Failed folds carry their traceback and NaN scores (see `CandidateResult.failed`).
    `start_models`, one entry per candidate, gives fitted fold models to fit again instead
    of clones (a warm start); `keep_models` returns each fold's fitted estimator.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> data = SearchData(X, y)
    >>> splits = check_splits(3, data, LogisticRegression())
    >>> [result] = cross_validate_candidates([LogisticRegression(max_iter=500)], data,
    ...                                      splits, {"score": None})
    >>> result.test("score").shape
    (3,)
    """
    starts = list(start_models) if start_models is not None else [None] * len(candidates)
    if len(starts) != len(candidates):
        raise ValueError(f"start_models has {len(starts)} entries for {len(candidates)} candidates")
    jobs = [
        CVJob(c, splits, start, keep_models) for c, start in zip(candidates, starts, strict=True)
    ]
    results = dict(
        cross_validate_each(
            jobs,
            data,
            scorers,
            n_jobs=n_jobs,
            return_train_score=return_train_score,
            verbose=verbose,
        )
    )
    return [results[i] for i in range(len(jobs))]
