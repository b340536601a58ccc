"""The scoring arguments of a search, checked: ``scoring``, ``metrics`` and ``error_score``.

Each check turns what users pass (names, callables, lists, dicts) into named scorers, with
an error that names the argument and the bad value.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

from sklearn.metrics import get_scorer, make_scorer

__all__ = [
    "RESERVED_NAMES",
    "Scorer",
    "check_error_score",
    "check_metrics",
    "check_scoring_argument",
]

Scorer = Callable[..., Any]

# Names that the per-trial metrics use for timings; a scorer may not take them.
RESERVED_NAMES = frozenset({"fit_time", "score_time"})


# --------------------------------------------------------------------------------------
# Checking the arguments
# --------------------------------------------------------------------------------------
def _named_scorer(name: str, argument: str) -> Scorer:
    try:
        return get_scorer(name)
    except ValueError:
        raise ValueError(
            f"{argument}={name!r} is not a scikit-learn scorer name; expected one of "
            "sklearn.metrics.get_scorer_names() (e.g. 'accuracy', 'roc_auc', 'r2', "
            "'neg_mean_squared_error'), a callable scorer(estimator, X, y) or None"
        ) from None


def check_scoring_argument(
    scoring: Any, *, multimetric: bool = True
) -> tuple[dict[str, Scorer | None], bool]:
    """Turn `scoring` into ``({name: scorer}, is_multimetric)``.

    A single scorer is named ``"score"``; None stands for the estimator's own `score`
    method (resolved per candidate, which may change between trials).
    """
    if scoring is None:
        return {"score": None}, False
    if isinstance(scoring, str):
        return {"score": _named_scorer(scoring, "scoring")}, False
    if callable(scoring):
        return {"score": scoring}, False
    if not multimetric:
        raise TypeError(
            f"scoring={scoring!r}: expected a scorer name, a callable scorer(estimator, X, y) "
            "or None; to record more metrics use metrics=[...]"
        )
    if isinstance(scoring, (list, tuple, set, frozenset)):
        names = list(scoring)
        if not names or not all(isinstance(n, str) for n in names):
            raise ValueError(
                f"scoring={scoring!r}: a list of scorers must be a non-empty list of scorer names"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"scoring={scoring!r}: scorer names appear more than once")
        scorers = {name: _named_scorer(name, "scoring") for name in names}
    elif isinstance(scoring, dict):
        if not scoring:
            raise ValueError("scoring={}: expected at least one scorer")
        scorers = {}
        for name, scorer in scoring.items():
            if not isinstance(name, str):
                raise ValueError(f"scoring: key {name!r} is not a string")
            if isinstance(scorer, str):
                scorers[name] = _named_scorer(scorer, f"scoring[{name!r}]")
            elif callable(scorer):
                scorers[name] = scorer
            else:
                raise TypeError(
                    f"scoring[{name!r}]={scorer!r}: expected a scorer name or a "
                    "callable scorer(estimator, X, y)"
                )
    else:
        raise TypeError(
            f"scoring={scoring!r}: expected None, a scorer name, a callable, a "
            "list of names or a dict name -> scorer"
        )
    clash = sorted(RESERVED_NAMES & set(scorers))
    if clash:
        raise ValueError(f"scoring: the scorer name(s) {clash} are reserved for timings")
    return scorers, True


def check_metrics(metrics: Any) -> dict[str, Scorer]:
    """Extra metrics to record (they do not steer the search): metric functions
    ``f(y_true, y_pred)``, a list of them, or a dict name -> function."""
    if metrics is None:
        return {}
    if callable(metrics):
        metrics = [metrics]
    if isinstance(metrics, dict):
        items = list(metrics.items())
    elif isinstance(metrics, (list, tuple)):
        items = [(getattr(m, "__name__", None), m) for m in metrics]
    else:
        raise TypeError(
            f"metrics={metrics!r}: expected a metric function f(y_true, y_pred), "
            "a list of them or a dict name -> function"
        )
    out: dict[str, Scorer] = {}
    for name, function in items:
        if not callable(function):
            raise TypeError(
                f"metrics: {function!r} is not callable; expected a function "
                "f(y_true, y_pred) such as sklearn.metrics.accuracy_score"
            )
        if not isinstance(name, str) or not name or name == "<lambda>":
            raise ValueError(f"metrics: cannot name {function!r}; pass a dict name -> function")
        if name in out or name in RESERVED_NAMES or name == "score":
            raise ValueError(f"metrics: the name {name!r} is taken; pass a dict with other names")
        out[name] = make_scorer(function)
    return out


def check_error_score(error_score: Any) -> str | float:
    """``"raise"`` or the score (a float) that a failed fold gets."""
    if isinstance(error_score, str):
        if error_score == "raise":
            return "raise"
    elif isinstance(error_score, numbers.Real) and not isinstance(error_score, bool):
        return float(error_score)
    raise ValueError(f"error_score={error_score!r}; expected 'raise' or a number (e.g. numpy.nan)")
