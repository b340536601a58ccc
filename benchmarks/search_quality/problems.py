"""The problems of the search-quality benchmark: test functions with a known minimum and
small tuning tasks on scikit-learn's bundled data sets.

A problem is a library-neutral list of `Param` (what each method's adapter turns into its own
search space) and a function from a dict of values to the number to minimize. Synthetic
problems know their minimum, so their regret is exact; the tuning tasks report the best
cross-validated error and use the lowest error any run found as their reference.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Param:
    """One hyperparameter: ``kind`` is "float", "int" or "choice"; ``when`` makes it active
    only when another parameter takes one of the given values (a conditional scope)."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple[Any, ...] = ()
    when: tuple[str, tuple[Any, ...]] | None = None


@dataclass
class Problem:
    """A function to minimize over a space of `Param`.

    ``optimum`` is the known minimum (None for tuning tasks); ``family`` is "synthetic" or
    "sklearn".
    """

    name: str
    params: list[Param]
    evaluate: Callable[[dict[str, Any]], float]
    optimum: float | None
    family: str
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _box(name: str, dim: int, low: float, high: float) -> list[Param]:
    return [Param(f"x{i}", "float", low, high) for i in range(dim)]


def _vector(values: dict[str, Any], dim: int) -> np.ndarray:
    return np.array([values[f"x{i}"] for i in range(dim)], dtype=float)


# -- synthetic functions (standard definitions and domains) -------------------------------
def branin(v: dict[str, Any]) -> float:
    x1, x2 = v["x0"], v["x1"]
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(v: dict[str, Any]) -> float:
    x = _vector(v, 6)
    return float(-_H6_ALPHA @ np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1)))


def ackley(dim: int) -> Callable[[dict[str, Any]], float]:
    def f(v: dict[str, Any]) -> float:
        x = _vector(v, dim)
        a = -20 * math.exp(-0.2 * math.sqrt(float(np.mean(x**2))))
        return a - math.exp(float(np.mean(np.cos(2 * math.pi * x)))) + 20 + math.e

    return f


def rosenbrock(v: dict[str, Any]) -> float:
    x = _vector(v, 4)
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def levy(dim: int) -> Callable[[dict[str, Any]], float]:
    def f(v: dict[str, Any]) -> float:
        w = 1 + (_vector(v, dim) - 1) / 4
        body = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
        tail = (w[-1] - 1) ** 2 * (1 + np.sin(2 * math.pi * w[-1]) ** 2)
        return float(np.sin(math.pi * w[0]) ** 2 + body + tail)

    return f


def mixed(v: dict[str, Any]) -> float:
    """A space like a model's: a log-scale rate, a float, a categorical choice with a
    hyperparameter that exists only under two of its values. Minimum 0 at kind="a",
    width=0.5, x=0.3, rate=1e-2."""
    base = (v["x"] - 0.3) ** 2 + 0.25 * (math.log10(v["rate"]) + 2) ** 2
    if v["kind"] == "a":
        return base + (v["width"] - 0.5) ** 2
    if v["kind"] == "b":
        return base + 0.3 + 0.02 * (v["depth"] - 7) ** 2
    return base + 0.6


MIXED_PARAMS = [
    Param("x", "float", 0.0, 1.0),
    Param("rate", "float", 1e-5, 1.0, log=True),
    Param("kind", "choice", choices=("a", "b", "c")),
    Param("width", "float", -2.0, 2.0, when=("kind", ("a",))),
    Param("depth", "int", 1, 12, when=("kind", ("b",))),
]


def synthetic_problems() -> dict[str, Problem]:
    return {
        "branin": Problem(
            "branin", [Param("x0", "float", -5, 10), Param("x1", "float", 0, 15)],
            branin, 0.39788735772973816, "synthetic",
        ),
        "hartmann6": Problem(
            "hartmann6", _box("x", 6, 0, 1), hartmann6, -3.32236801141551, "synthetic"
        ),
        "ackley5": Problem("ackley5", _box("x", 5, -32.768, 32.768), ackley(5), 0.0, "synthetic"),
        "ackley10": Problem(
            "ackley10", _box("x", 10, -32.768, 32.768), ackley(10), 0.0, "synthetic"
        ),
        "rosenbrock4": Problem("rosenbrock4", _box("x", 4, -5, 10), rosenbrock, 0.0, "synthetic"),
        "levy4": Problem("levy4", _box("x", 4, -10, 10), levy(4), 0.0, "synthetic"),
        "mixed": Problem("mixed", MIXED_PARAMS, mixed, 0.0, "synthetic"),
    }  # fmt: skip


# -- tuning tasks on bundled data -----------------------------------------------------------
@functools.cache
def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    from sklearn import datasets
    from sklearn.preprocessing import StandardScaler

    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    if name == "digits":  # 600 of 1797 images keep an SVC fit well under 0.1 s
        X, y = X[:600], y[:600]
    X = StandardScaler().fit_transform(X)
    if name == "diabetes":
        y = (y - y.mean()) / y.std()
    return X, y


def _cv_error(estimator: Any, dataset: str, regression: bool = False) -> float:
    """Three-fold cross-validated error: 1 - accuracy, or 1 - R^2 for regression."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    X, y = _data(dataset)
    folds = (
        KFold(3, shuffle=True, random_state=0)
        if regression
        else StratifiedKFold(3, shuffle=True, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MLP convergence warnings on short budgets
        scores = cross_val_score(estimator, X, y, cv=folds, scoring="r2" if regression else None)
    return float(1.0 - np.mean(scores))


def _memo(fn: Callable[[dict[str, Any]], float]) -> Callable[[dict[str, Any]], float]:
    """Cache a deterministic task by its values (methods often retry integer settings)."""
    cache: dict[tuple[Any, ...], float] = {}

    def wrapped(v: dict[str, Any]) -> float:
        key = tuple(sorted(v.items()))
        if key not in cache:
            cache[key] = fn(v)
        return cache[key]

    return wrapped


def svc_digits(v: dict[str, Any]) -> float:
    from sklearn.svm import SVC

    return _cv_error(SVC(C=v["C"], gamma=v["gamma"]), "digits")


def rf_breast_cancer(v: dict[str, Any]) -> float:
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(
        n_estimators=25,
        max_depth=v["max_depth"],
        min_samples_leaf=v["min_samples_leaf"],
        max_features=v["max_features"],
        criterion=v["criterion"],
        random_state=0,
    )
    return _cv_error(model, "breast_cancer")


def gb_wine(v: dict[str, Any], n_estimators: int | None = None) -> float:
    from sklearn.ensemble import GradientBoostingClassifier

    model = GradientBoostingClassifier(
        learning_rate=v["learning_rate"],
        n_estimators=n_estimators or v.get("n_estimators", 30),
        max_depth=v["max_depth"],
        min_samples_leaf=v["min_samples_leaf"],
        max_features=v["max_features"],
        random_state=0,
    )
    return _cv_error(model, "wine")


def mlp_diabetes(v: dict[str, Any]) -> float:
    from sklearn.neural_network import MLPRegressor

    model = MLPRegressor(
        hidden_layer_sizes=(v["units"],),
        alpha=v["alpha"],
        learning_rate_init=v["learning_rate_init"],
        activation=v["activation"],
        max_iter=60,
        random_state=0,
    )
    return _cv_error(model, "diabetes", regression=True)


GB_WINE_PARAMS = [
    Param("learning_rate", "float", 1e-3, 1.0, log=True),
    Param("max_depth", "int", 1, 5),
    Param("min_samples_leaf", "int", 1, 20),
    Param("max_features", "float", 0.1, 1.0),
]


def sklearn_problems() -> dict[str, Problem]:
    return {
        "svc_digits": Problem(
            "svc_digits",
            [Param("C", "float", 1e-2, 1e4, log=True), Param("gamma", "float", 1e-6, 1.0, log=True)],
            _memo(svc_digits), None, "sklearn", "SVC on 600 digits, 3-fold CV error",
        ),
        "rf_breast_cancer": Problem(
            "rf_breast_cancer",
            [
                Param("max_depth", "int", 1, 20),
                Param("min_samples_leaf", "int", 1, 30),
                Param("max_features", "float", 0.05, 1.0),
                Param("criterion", "choice", choices=("gini", "entropy")),
            ],
            _memo(rf_breast_cancer), None, "sklearn",
            "RandomForest (25 trees) on breast_cancer, 3-fold CV error",
        ),
        "gb_wine": Problem(
            "gb_wine", [*GB_WINE_PARAMS, Param("n_estimators", "int", 10, 60)],
            _memo(gb_wine), None, "sklearn", "GradientBoosting on wine, 3-fold CV error",
        ),
        "mlp_diabetes": Problem(
            "mlp_diabetes",
            [
                Param("units", "int", 4, 64, log=True),
                Param("alpha", "float", 1e-6, 10.0, log=True),
                Param("learning_rate_init", "float", 1e-4, 0.3, log=True),
                Param("activation", "choice", choices=("relu", "tanh")),
            ],
            _memo(mlp_diabetes), None, "sklearn", "MLPRegressor on diabetes, 3-fold CV 1 - R^2",
        ),
    }  # fmt: skip


def all_problems() -> dict[str, Problem]:
    return {**synthetic_problems(), **sklearn_problems()}
