"""`cv_results_` in scikit-learn's layout, built from the candidates' CV results.

Keys, order and dtypes follow scikit-learn's search estimators: ``mean_fit_time``,
``std_fit_time``, ``mean_score_time``, ``std_score_time``, one masked ``param_<name>`` per
parameter, ``params``, then per scorer ``split<k>_test_<scorer>``, ``mean_test_<scorer>``,
``std_test_<scorer>``, ``rank_test_<scorer>`` (int32) and, when asked, the train scores.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.ma import MaskedArray
from scipy.stats import rankdata

from tunelab_sklearn.cross_validation import CandidateResult

__all__ = ["format_cv_results", "rank_scores"]


def rank_scores(means: np.ndarray) -> np.ndarray:
    """Rank 1 for the best mean; ties share the lowest rank; NaN ranks last (int32)."""
    if np.isnan(means).all():
        return np.ones(len(means), dtype=np.int32)
    filled = np.where(np.isnan(means), np.nanmin(means) - 1.0, means)
    return rankdata(-filled, method="min").astype(np.int32)


def _param_arrays(params: Sequence[dict[str, Any]]) -> dict[str, MaskedArray]:
    """One masked array per parameter; masked where a candidate does not set it."""
    names: dict[str, None] = {}
    for candidate in params:
        names.update(dict.fromkeys(candidate))
    out = {}
    for name in sorted(names):  # scikit-learn's searches list parameters by name
        present = [(i, c[name]) for i, c in enumerate(params) if name in c]
        values = [v for _, v in present]
        try:
            probe = np.array(values)
            # Strings and sequences stay objects, as scikit-learn keeps them.
            dtype = probe.dtype if probe.dtype.kind != "U" and probe.ndim == 1 else object
        except ValueError:
            dtype = np.dtype(object)
        array = MaskedArray(np.empty(len(params), dtype=dtype), mask=True)
        for index, value in present:
            array[index] = value
        out[f"param_{name}"] = array
    return out


def _store(results: dict[str, Any], key: str, array: np.ndarray, splits: bool, rank: bool) -> None:
    """Add split columns, mean, std (and rank) of a (candidates, splits) array."""
    if splits:
        for k in range(array.shape[1]):
            results[f"split{k}_{key}"] = array[:, k]
    means = array.mean(axis=1)
    results[f"mean_{key}"] = means
    if key.startswith(("train_", "test_")) and not np.isfinite(means).all():
        warnings.warn(
            f"One or more of the {key.split('_')[0]} scores are non-finite: {means}",
            UserWarning,
            stacklevel=3,
        )
    results[f"std_{key}"] = np.sqrt(((array - means[:, None]) ** 2).mean(axis=1))
    if rank:
        results[f"rank_{key}"] = rank_scores(means)


def format_cv_results(
    params: Sequence[dict[str, Any]],
    results: Sequence[CandidateResult],
    scorer_names: Sequence[str],
    return_train_score: bool,
) -> dict[str, Any]:
    """Build `cv_results_` from the candidates' parameters and CV results.

    Examples
    --------
    >>> from tunelab_sklearn.cross_validation import FoldResult
    >>> folds = [FoldResult({"score": s}, {}, 0.1, 0.01) for s in (0.8, 0.9)]
    >>> cv = format_cv_results([{"C": 1.0}], [CandidateResult(folds)], ["score"], False)
    >>> float(cv["mean_test_score"][0]), int(cv["rank_test_score"][0])
    (0.85, 1)
    """
    out: dict[str, Any] = {}
    for kind in ("fit_time", "score_time"):
        _store(
            out,
            kind,
            np.array([r.times(kind) for r in results], dtype=np.float64),
            splits=False,
            rank=False,
        )
    out.update(_param_arrays(params))
    out["params"] = [dict(p) for p in params]
    for name in scorer_names:
        test = np.array([r.test(name) for r in results], dtype=np.float64)
        _store(out, f"test_{name}", test, splits=True, rank=True)
        if return_train_score:
            train = np.array([r.train(name) for r in results], dtype=np.float64)
            _store(out, f"train_{name}", train, splits=True, rank=False)
    return out
