"""Problems with known Pareto fronts, as hypermodels (importable by worker processes)."""

from __future__ import annotations

import math
import os

import numpy as np

ZDT_DIM = 4


def zdt1_values(x: np.ndarray) -> tuple[float, float]:
    """ZDT1: the front is x[1:] = 0, f2 = 1 - sqrt(f1)."""
    g = 1.0 + 9.0 * float(np.mean(x[1:]))
    return float(x[0]), g * (1.0 - math.sqrt(x[0] / g))


def zdt1(hp):
    x = np.array([hp.Float(f"x{i}", 0.0, 1.0) for i in range(ZDT_DIM)])
    f1, f2 = zdt1_values(x)
    return {"f1": f1, "f2": f2, "pid": os.getpid()}


def zdt1_front_hypervolume(reference=(1.1, 1.1), points: int = 20001) -> float:
    """Hypervolume of ZDT1's true front (a dense sample of it)."""
    from tunelab.pareto import hypervolume

    f1 = np.linspace(0.0, 1.0, points)
    return hypervolume(np.c_[f1, 1.0 - np.sqrt(f1)], reference)


def constrained(hp):
    """Both objectives prefer a small y, and 'latency' = 1 - y must stay at most 0.5: the
    unconstrained front is y = 0, the feasible one y = 0.5 (f1 = x + y / 2, f2 = 1 - x + y / 2).
    """
    x = hp.Float("x", 0.0, 1.0)
    y = hp.Float("y", 0.0, 1.0)
    return {"f1": x + 0.5 * y, "f2": 1.0 - x + 0.5 * y, "latency": 1.0 - y}
