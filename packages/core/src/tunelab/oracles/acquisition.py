"""Acquisition functions for Bayesian optimization and their maximization over [0, 1]^d.

All acquisition functions assume the objective is **minimized** and return values where
bigger is better; they take a model's posterior mean and standard deviation, so any model
with a ``predict(X) -> (mean, std)`` works (`tunelab.oracles.gaussian_process`).

Examples
--------
>>> import numpy as np
>>> def acq(Z):  # a posterior whose mean is lowest at 0.3 and whose std is flat
...     return log_expected_improvement(np.sum((Z - 0.3) ** 2, axis=1), np.full(len(Z), 0.1), 0.0)
>>> x = optimize_acquisition(acq, 2, rng=np.random.default_rng(0))
>>> np.round(x, 2).tolist()
[0.3, 0.3]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from scipy import optimize, special

__all__ = [
    "fantasize",
    "log_expected_improvement",
    "optimize_acquisition",
    "upper_confidence_bound",
]

_FD_STEP = 1e-6  # forward-difference step for acquisition gradients (acq is C^2 in x)


def log_expected_improvement(
    mean: np.ndarray, std: np.ndarray, best: float | np.ndarray
) -> np.ndarray:
    """Logarithm of expected improvement below ``best`` (minimization); bigger is better.

    Stays finite far into the tail where EI itself underflows to 0, so an optimizer
    still sees a slope (the log-EI idea of Ament et al., 2023).

    Examples
    --------
    >>> mean, std = np.array([0.0, 5.0]), np.array([1.0, 0.1])  # z = 0 and z = -50
    >>> np.round(log_expected_improvement(mean, std, 0.0), 3).tolist()
    [-0.919, -1261.047]
    """
    mean, std = np.broadcast_arrays(np.asarray(mean, float), np.asarray(std, float))
    std = np.maximum(std, 1e-12)  # a zero std would make z infinite
    z = (best - mean) / std
    out = np.empty_like(z)
    # EI = std * h(z) with h(z) = pdf(z) + z cdf(z).
    upper = z > -1.0
    zu = z[upper]
    out[upper] = np.log(np.exp(-0.5 * zu**2) / math.sqrt(2 * math.pi) + zu * special.ndtr(zu))
    # For z <= -1 write h(z) = pdf(z) * (1 - |z| cdf(z)/pdf(z)) with
    # cdf/pdf = sqrt(pi/2) * erfcx(|z|/sqrt2): no underflow and no cancellation.
    mid = (z <= -1.0) & (z > -1e8)
    zm = -z[mid]
    u = np.log(zm * special.erfcx(zm / math.sqrt(2))) + 0.5 * math.log(math.pi / 2)
    log1mexp = np.where(u > -math.log(2), np.log(-np.expm1(u)), np.log1p(-np.exp(u)))
    out[mid] = -0.5 * zm**2 - 0.5 * math.log(2 * math.pi) + log1mexp
    # Beyond that erfcx loses its last digits; use the asymptote h(z) ~ pdf(z) / z^2.
    far = z <= -1e8
    out[far] = -0.5 * z[far] ** 2 - 0.5 * math.log(2 * math.pi) - 2.0 * np.log(-z[far])
    return out + np.log(std)


def upper_confidence_bound(mean: np.ndarray, std: np.ndarray, beta: float = 2.6) -> np.ndarray:
    """Optimistic bound for minimization, ``-(mean - beta * std)``; bigger is better.

    Examples
    --------
    >>> upper_confidence_bound(np.array([1.0, 0.0]), np.array([0.0, 0.5]), beta=2.0)
    array([-1.,  1.])
    """
    return -(np.asarray(mean, float) - beta * np.asarray(std, float))


def _sobol(dim: int, n: int, rng: np.random.Generator) -> np.ndarray:
    from scipy.stats import qmc  # scipy.stats costs ~0.3 s to import; only needed here

    child = np.random.default_rng(rng.integers(2**63))
    try:  # SciPy >= 1.15 names the argument rng; older versions only know seed.
        engine = qmc.Sobol(dim, scramble=True, rng=child)
    except TypeError:
        engine = qmc.Sobol(dim, scramble=True, seed=child)
    # Draw a power of two so the balance properties hold, then keep the first n.
    return engine.random_base2(max(int(math.ceil(math.log2(n))), 0))[:n]


def optimize_acquisition(
    acq: Callable[[np.ndarray], np.ndarray],
    dim: int,
    *,
    rng: np.random.Generator,
    n_candidates: int = 2048,
    n_refine: int = 5,
    exclude: np.ndarray | None = None,
    discrete_dims: Sequence[int] = (),
    min_distance: float | np.ndarray = 1e-6,
    snap: Callable[[np.ndarray], np.ndarray] | None = None,
    extra_candidates: np.ndarray | None = None,
    box: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray | None:
    """Maximize an acquisition function over [0, 1]^dim, or over a box inside it.

    Scores a scrambled Sobol set, then refines the best ``n_refine`` candidates jointly
    with L-BFGS-B (forward-difference gradients, one vectorised ``acq`` call per step).
    Discrete dimensions keep their candidate value during refinement.

    Parameters
    ----------
    acq : callable
        Maps an (m, dim) array to m scores; bigger is better. Non-finite scores lose.
    dim : int
    rng : numpy.random.Generator
        Seeds the Sobol scrambling.
    n_candidates, n_refine : int
    exclude : ndarray of shape (k, dim), optional
        Tried or pending points; the result is farther than ``min_distance`` (max-norm)
        from each row.
    discrete_dims : sequence of int
        Columns not refined continuously (categorical, integer, boolean encodings).
    min_distance : float or ndarray of shape (k,)
        One distance for all excluded rows, or one per row.
    snap : callable, optional
        Maps (m, dim) points to the nearest valid encodings (e.g. bin centres of discrete
        columns). Applied before scoring and before the exclusion check, so exclusion
        compares what the oracle will actually try.
    extra_candidates : ndarray of shape (k, dim), optional
        Scored with the Sobol set, e.g. points near the best observations, so that the
        refinement can start from the incumbent's neighbourhood as well as from afar.
    box : (lower, upper), optional
        Arrays of shape (dim,) within [0, 1]: the Sobol set fills this box, and extra
        candidates and the refinement stay in it (a trust region).

    Returns
    -------
    x : ndarray of shape (dim,) or None
        The best allowed point, or None when every candidate is excluded (a small
        discrete space may be exhausted).
    """
    if int(dim) < 1 or int(n_candidates) < 1 or int(n_refine) < 0:
        raise ValueError(
            f"need dim >= 1, n_candidates >= 1, n_refine >= 0; got {dim}, {n_candidates}, {n_refine}"
        )
    fix = np.zeros(dim, dtype=bool)
    for j in discrete_dims:
        if not 0 <= int(j) < dim:
            raise ValueError(f"discrete_dims entry {j!r} is out of range for dim={dim}")
        fix[int(j)] = True
    ex = None if exclude is None or np.size(exclude) == 0 else np.asarray(exclude, float)
    if ex is not None and (ex.ndim != 2 or ex.shape[1] != dim):
        raise ValueError(f"exclude must have shape (k, {dim}), got {ex.shape}")

    lower, upper = (np.zeros(dim), np.ones(dim)) if box is None else map(np.asarray, box)
    if (
        lower.shape != (dim,)
        or upper.shape != (dim,)
        or not np.all((lower >= 0.0) & (lower <= upper) & (upper <= 1.0))
    ):
        raise ValueError(f"box must be two arrays of shape ({dim},) with 0 <= lower <= upper <= 1")

    def prepare(Z: np.ndarray) -> np.ndarray:
        Z = np.clip(Z, lower, upper)
        return np.clip(snap(Z), 0.0, 1.0) if snap is not None else Z

    def score(Z: np.ndarray) -> np.ndarray:
        v = np.asarray(acq(Z), dtype=float).reshape(len(Z))
        return np.where(np.isfinite(v), v, -np.inf)

    def allowed(x: np.ndarray) -> bool:
        return ex is None or bool(np.all(np.max(np.abs(ex - x), axis=1) > min_distance))

    cands = lower + (upper - lower) * _sobol(dim, int(n_candidates), rng)
    if extra_candidates is not None and np.size(extra_candidates):
        cands = np.vstack([cands, np.asarray(extra_candidates, float).reshape(-1, dim)])
    cands = prepare(cands)
    values = score(cands)
    picks: list[int] = []
    for i in np.argsort(-values, kind="stable"):
        if allowed(cands[i]):
            picks.append(int(i))
            if len(picks) >= max(int(n_refine), 1):
                break
    if not picks:
        return None
    best_x, best_v = cands[picks[0]], values[picks[0]]
    free = np.flatnonzero(~fix)
    if n_refine == 0 or len(free) == 0 or not np.isfinite(best_v):
        return best_x.copy()

    starts = cands[picks]
    k, f = len(starts), len(free)

    def neg_total(z: np.ndarray) -> tuple[float, np.ndarray]:
        # The k starting points are independent, so maximizing the sum of their scores
        # refines all of them at once with one acq call per step.
        base = starts.copy()
        base[:, free] = z.reshape(k, f)
        step = np.where(base[:, free] + _FD_STEP <= upper[free], _FD_STEP, -_FD_STEP)
        moved = np.repeat(base[:, None, :], f, axis=1)
        moved[:, np.arange(f), free] += step
        v = score(np.vstack([base, moved.reshape(k * f, dim)]))
        v = np.maximum(v, -1e300)  # keep L-BFGS-B arithmetic finite
        grad = (v[k:].reshape(k, f) - v[:k, None]) / step
        return -float(v[:k].sum()), -grad.ravel()

    res = optimize.minimize(
        neg_total, starts[:, free].ravel(), jac=True, method="L-BFGS-B",
        bounds=list(zip(np.tile(lower[free], k), np.tile(upper[free], k), strict=True)),
        options={"maxiter": 50},
    )  # fmt: skip
    refined = starts.copy()
    refined[:, free] = res.x.reshape(k, f)
    refined = prepare(refined)
    for x, v in zip(refined, score(refined), strict=True):
        if v > best_v and allowed(x):
            best_x, best_v = x, v
    return best_x.copy()


def fantasize(
    X: np.ndarray,
    y: np.ndarray,
    X_pending: np.ndarray | None,
    strategy: Literal["min", "mean", "max"] = "min",
) -> tuple[np.ndarray, np.ndarray]:
    """Append pending points with a constant "lie" so parallel workers spread out.

    Fit the GP on the real data first, then refit on ``(X_aug, y_aug)`` with
    ``optimize_hyperparameters=False``: the lie pins the posterior at each pending point
    (its std collapses), so the next acquisition maximum lands elsewhere.

    Parameters
    ----------
    X, y : ndarray of shape (n, d) and (n,)
        Observations (y is minimized).
    X_pending : ndarray of shape (k, d) or None
    strategy : {"min", "mean", "max"}, default="min"
        The lie: best, mean or worst observed y. "max" repels harder from pending
        points; "min" keeps the model optimistic around them.

    Returns
    -------
    X_aug, y_aug : ndarray of shape (n + k, d) and (n + k,)

    Examples
    --------
    >>> X_aug, y_aug = fantasize(np.zeros((2, 1)), np.array([1.0, 3.0]), np.ones((1, 1)))
    >>> y_aug.tolist()
    [1.0, 3.0, 1.0]
    """
    X = np.asarray(X, float)
    y = np.asarray(y, float)
    if strategy not in ("min", "mean", "max"):
        raise ValueError(f"strategy must be one of 'min', 'mean', 'max', got {strategy!r}")
    if len(y) == 0:
        raise ValueError("fantasize needs at least one observed value in y")
    if X_pending is None or len(X_pending) == 0:
        return X.copy(), y.copy()
    P = np.asarray(X_pending, float)
    if P.ndim != 2 or X.ndim != 2 or P.shape[1] != X.shape[1] or len(X) != len(y):
        raise ValueError(
            f"X_pending must have shape (k, {X.shape[-1]}) like X, got {P.shape} (X: {X.shape})"
        )
    lie = y.min() if strategy == "min" else y.max() if strategy == "max" else y.mean()
    return np.vstack([X, P]), np.r_[y, np.full(len(P), lie)]
