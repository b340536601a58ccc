"""The multi-objective benchmark's problems: ZDT1, ZDT2 (2 objectives, known fronts),
DTLZ2 (3 objectives, front on the unit sphere) and a scikit-learn MLP on digits
(validation error against the number of weights, both minimized).

Each problem names its parameters (all in the unit interval for the test functions), its
objectives (all minimized) and the hypervolume reference point. The reference points are
those of the usual 2-3 objective studies, set so that a point counts once it beats the
worst of a random start: ZDT f2 <= g <= 10, DTLZ2 values <= 1 + g <= 2.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Param:
    name: str
    kind: str  # "float" or "int"
    low: float
    high: float
    log: bool = False


@dataclass
class Problem:
    name: str
    params: list[Param]
    objectives: list[str]
    reference: list[float]
    evaluate: Callable[[dict[str, Any]], list[float]]


def _unit_params(n: int) -> list[Param]:
    return [Param(f"x{i}", "float", 0.0, 1.0) for i in range(n)]


def _vector(values: dict[str, Any], n: int) -> np.ndarray:
    return np.array([values[f"x{i}"] for i in range(n)], dtype=float)


def zdt(which: int, n: int = 10) -> Problem:
    """ZDT1 (convex front f2 = 1 - sqrt(f1)) or ZDT2 (concave, f2 = 1 - f1^2), n variables."""

    def evaluate(values: dict[str, Any]) -> list[float]:
        x = _vector(values, n)
        f1 = x[0]
        g = 1.0 + 9.0 * x[1:].mean()
        ratio = f1 / g
        f2 = g * (1.0 - (math.sqrt(ratio) if which == 1 else ratio**2))
        return [float(f1), float(f2)]

    return Problem(f"zdt{which}", _unit_params(n), ["f1", "f2"], [1.1, 11.0], evaluate)


def dtlz2(n: int = 6, m: int = 3) -> Problem:
    """DTLZ2 with `m` objectives: the front is the positive part of the unit sphere."""

    def evaluate(values: dict[str, Any]) -> list[float]:
        x = _vector(values, n)
        g = float(np.sum((x[m - 1 :] - 0.5) ** 2))
        out = []
        for i in range(m):
            f = 1.0 + g
            for j in range(m - 1 - i):
                f *= math.cos(0.5 * math.pi * x[j])
            if i > 0:
                f *= math.sin(0.5 * math.pi * x[m - 1 - i])
            out.append(f)
        return out

    names = [f"f{i + 1}" for i in range(m)]
    return Problem(f"dtlz2_{m}obj", _unit_params(n), names, [2.2] * m, evaluate)


_DIGITS: Any = None


def mlp_digits() -> Problem:
    """A scikit-learn MLP on digits: validation error (1 - accuracy on a fixed 30% split)
    against log10 of the number of weights (biases included)."""
    params = [
        Param("layers", "int", 1, 3),
        Param("units", "int", 4, 128, log=True),
        Param("alpha", "float", 1e-6, 1e-1, log=True),
        Param("learning_rate_init", "float", 1e-4, 1e-1, log=True),
    ]

    def evaluate(values: dict[str, Any]) -> list[float]:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        global _DIGITS
        if _DIGITS is None:
            from sklearn.datasets import load_digits
            from sklearn.model_selection import train_test_split

            X, y = load_digits(return_X_y=True)
            _DIGITS = train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
        X_train, X_valid, y_train, y_valid = _DIGITS
        sizes = (int(values["units"]),) * int(values["layers"])
        model = MLPClassifier(
            hidden_layer_sizes=sizes,
            alpha=float(values["alpha"]),
            learning_rate_init=float(values["learning_rate_init"]),
            max_iter=40,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y_train)
        error = 1.0 - float(model.score(X_valid, y_valid))
        weights = sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)
        return [error, math.log10(weights)]

    # Error at most 1; log10 weights at most log10(64*128 + 2*128*128 + 128*10 + ...) < 4.7.
    return Problem("mlp_digits", params, ["error", "log10_weights"], [1.0, 4.8], evaluate)


PROBLEMS: dict[str, Callable[[], Problem]] = {
    "zdt1": lambda: zdt(1),
    "zdt2": lambda: zdt(2),
    "dtlz2": lambda: dtlz2(),
    "mlp_digits": mlp_digits,
}
